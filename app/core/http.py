"""ASGI middleware for what every request needs before any route runs.

- `RequestContext`: request id (kept if the caller sent a sane one), client
  address (the socket peer, or X-Forwarded-For only from a trusted proxy),
  security headers, one JSON access-log line.
- `BodySizeLimit`: uvicorn has no body limit (RELIABILITY.md finding 9); both a
  declared Content-Length and a chunked body past the limit get a 413 problem.
  Upload routes (`large`: path patterns with their own, larger limit) are never buffered:
  their body is counted while the route reads it, and the first byte past the limit
  aborts the read with a 413 (a `BodyTooLarge`, rendered as a problem like any HTTP error).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException

from app.core.context import client_address_var, request_id_var
from app.core.errors import unexpected_error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("envduty.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContext:
    def __init__(self, app: ASGIApp, trusted_proxies: list[str] | None = None) -> None:
        self.app = app
        self.trusted_proxies = set(trusted_proxies or [])

    def _client_address(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        address = peer[0] if peer else None
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded and address in self.trusted_proxies:  # ASVS 15.3.4: trust only our proxy
            return forwarded.split(",")[0].strip()[:64]
        return address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        addr_token = client_address_var.set(self._client_address(scope))
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}
        path = scope.get("path", "")
        public = path.startswith(("/public/", "/docs", "/redoc", "/static/", "/openapi.json"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names and not public:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if status_holder.get("started"):
                raise
            response = unexpected_error_response(exc, path)
            await response(scope, receive, send_with_headers)
        finally:
            # At LOG_LEVEL=WARNING (a deployment whose proxy keeps the access log) the line's
            # fields are not even built: isEnabledFor is cached per level by the logging module.
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("request", extra={"fields": {
                    "method": scope.get("method"), "path": path, "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client_address_var.get()}})
            request_id_var.reset(rid_token)
            client_address_var.reset(addr_token)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request bodies on this route are limited to {limit} bytes.",
                         headers={"Connection": "close"})


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int,
                 large: Sequence[tuple[re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large = tuple(large)

    def _limit_for(self, scope: Scope) -> tuple[int, bool]:
        path = scope.get("path", "")
        for pattern, limit in self.large:
            if pattern.match(path):
                return limit, True
        return self.max_bytes, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, streamed = self._limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit() or int(declared) > limit:
                await self._reject(scope, send, limit)
                return
            await self.app(scope, receive, send)  # the server holds the body to its declared length
            return
        if streamed:
            await self.app(scope, self._counting(receive, limit), send)
            return
        if scope.get("method") in _BODILESS_METHODS and _header(scope, b"transfer-encoding") is None:
            # Neither Content-Length nor Transfer-Encoding: the request has no body (RFC 9112 §6.3),
            # so a GET need not be read and replayed here.
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(scope, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _counting(receive: Receive, limit: int) -> Receive:
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps({
            "type": "https://envduty.example/problems/payload-too-large", "title": "Content too large",
            "status": 413, "detail": f"Request bodies are limited to {limit} bytes.",
            "code": "payload_too_large", "instance": scope.get("path"),
            "request_id": request_id_var.get()}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
