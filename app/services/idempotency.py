"""Idempotency-Key for POSTs (draft-ietf-httpapi-idempotency-key-header; RELIABILITY.md REL-06).

The key is claimed by inserting its row at the start of the request, in the
request's own transaction. A concurrent request with the same key waits on
that row's unique index (PostgreSQL) or on the write lock (SQLite), then
finds the committed first response and replays it. The same key with a
different body is a 422. If the first request fails, its transaction rolls
back and the key is free again: only committed effects are remembered.

A multipart upload (the spreadsheet imports) is fingerprinted by its file's bytes, not the raw
body: the body's part boundary is picked afresh by the client on every send, so a retry of the
same file would never match. The route claims the key once it has read the file
(`UploadIdempotency.claim`), still before any work, in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import get_settings
from app.core.errors import Conflict, IdempotencyKeyReused, ValidationFailed
from app.models import IdempotencyRecord, utcnow

PENDING_STATUS = 0


class ReplayResponse(Exception):
    """Raised to short-circuit a request whose key already has a stored response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("idempotent replay")
        self.response = Response(content=record.body, status_code=record.status_code,
                                 headers={**record.headers, "Idempotent-Replayed": "true"},
                                 media_type="application/json")


class IdempotencyGuard:
    def __init__(self, session: AsyncSession, record: IdempotencyRecord | None) -> None:
        self._session = session
        self._record = record

    def respond(self, body: BaseModel | list[Any] | dict[str, Any], *, status_code: int = 200,
                headers: dict[str, str] | None = None) -> Response:
        """Build the response and, when a key was sent, store it with the effect."""
        if isinstance(body, BaseModel):
            text = body.model_dump_json()
        else:
            text = json.dumps(body, default=str, ensure_ascii=False)
        headers = dict(headers or {})
        if self._record is not None:
            self._record.status_code = status_code
            self._record.headers = headers
            self._record.body = text
        return Response(content=text, status_code=status_code, headers=headers, media_type="application/json")


def _fingerprint(request: Request, body: bytes, query: str | None = None) -> str:
    """A keyed digest: bodies can hold passwords (POST /users), and a plain SHA-256 stored in the
    database would let its reader test guesses at hash speed, bypassing argon2."""
    settings = get_settings()
    key = hashlib.sha256(b"idempotency:" + settings.signing_keys[settings.signing_kid].encode()).digest()
    digest = hmac.new(key, digestmod=hashlib.sha256)
    digest.update(request.method.encode())
    query = request.url.query if query is None else query
    digest.update(b"\0" + request.url.path.encode() + b"\0" + query.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > 255 or not key.isprintable() or not key.isascii():
        raise ValidationFailed("Idempotency-Key must be 1–255 printable ASCII characters.",
                               errors=[{"pointer": "header/idempotency-key", "source": "header",
                                        "type": "invalid", "message": "invalid idempotency key"}])


async def _existing(session: AsyncSession, principal_key: str, route: str, key: str) -> IdempotencyRecord | None:
    return await session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.principal == principal_key, IdempotencyRecord.route == route,
        IdempotencyRecord.key == key).execution_options(populate_existing=True))


def _replay_or_refuse(record: IdempotencyRecord, fingerprint: str) -> ReplayResponse:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
    if record.status_code == PENDING_STATUS:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    return ReplayResponse(record)


async def begin_idempotent(session: AsyncSession, request: Request, *, principal_key: str,
                           key: str | None, content: bytes | None = None, options: str | None = None
                           ) -> IdempotencyGuard:
    """Claim `key` for this principal and route, or replay/refuse. `content` and `options`: what
    identifies the request instead of its raw body and query string (an upload's file, and its
    parsed options, so `?mode=all` and no `mode` are the same request)."""
    if key is None:
        return IdempotencyGuard(session, None)
    _check_key(key)
    route_obj = request.scope.get("route")
    route = f"{request.method} {getattr(route_obj, 'path', request.url.path)}"
    fingerprint = (_fingerprint(request, await request.body()) if content is None else
                   _fingerprint(request, content, options or ""))
    retention = timedelta(hours=get_settings().idempotency_retention_hours)

    existing = await _existing(session, principal_key, route, key)
    if existing is not None and existing.created_at < utcnow() - retention:
        await session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal_key, IdempotencyRecord.route == route,
            IdempotencyRecord.key == key))
        existing = None
    if existing is not None:
        raise _replay_or_refuse(existing, fingerprint)

    record = IdempotencyRecord(principal=principal_key, route=route, key=key, fingerprint=fingerprint,
                               status_code=PENDING_STATUS, headers={}, body="", created_at=utcnow())
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        # Another request claimed the key and has committed by now (we waited on its row).
        winner = await _existing(session, principal_key, route, key)
        if winner is None:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.") \
                from None
        raise _replay_or_refuse(winner, fingerprint) from None
    return IdempotencyGuard(session, record)


class UploadIdempotency:
    """Idempotency-Key for a multipart upload, claimed by the route once it holds the file's bytes
    (the request's body stream is spent by then: FastAPI parsed the form)."""

    def __init__(self, session: AsyncSession, request: Request, *, principal_key: str, key: str | None) -> None:
        self._session, self._request, self._principal_key, self._key = session, request, principal_key, key

    async def claim(self, content: bytes, options: str) -> IdempotencyGuard:
        """The same key with the same file and options (`mode=partial`) → ReplayResponse; another → 422."""
        return await begin_idempotent(self._session, self._request, principal_key=self._principal_key,
                                      key=self._key, content=content, options=options)

    def skip(self) -> IdempotencyGuard:
        """Answer without remembering (a dry run); a malformed key is still 422."""
        if self._key is not None:
            _check_key(self._key)
        return IdempotencyGuard(self._session, None)
