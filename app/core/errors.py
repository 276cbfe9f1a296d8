"""Domain errors and their rendering as RFC 9457 problem documents.

Services raise the classes below, never HTTPException. `install_error_handlers`
renders them, FastAPI's validation errors, Starlette's HTTP errors (keeping
`Allow` and `WWW-Authenticate`), database outages (503) and anything
unexpected (a generic 500 with the request id, no stack trace) the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.context import request_id_var
from app.core.routes import allowed_methods

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://envduty.example/problems/"
log = logging.getLogger("envduty.errors")


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str = "A valid bearer token is required.", **kw: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="envduty"'}, **kw)


class InvalidCredentials(DomainError):
    status, code, title = 401, "invalid_credentials", "Invalid credentials"


class PermissionDenied(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class PasswordChangeRequired(PermissionDenied):
    code, title = "password_change_required", "Password change required"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class TransitionNotAllowed(DomainError):
    """The action is not possible from the record's state (409) or for the caller (403).
    `allowed_actions` tells the client what it may do instead."""

    status, code, title = 409, "transition_not_allowed", "Action not allowed in this state"

    def __init__(self, detail: str, *, allowed_actions: Sequence[str], forbidden: bool = False) -> None:
        super().__init__(detail, allowed_actions=list(allowed_actions))
        if forbidden:
            self.status, self.code, self.title = 403, "action_forbidden", "Action not allowed for you"


class StaleResource(DomainError):
    status, code, title = 412, "stale_resource", "Precondition failed"


class PreconditionRequired(DomainError):
    status, code, title = 428, "if_match_required", "Precondition required"


class BusinessRuleViolation(DomainError):
    status, code, title = 422, "business_rule_violation", "Request breaks a rule"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_failed", "Request is not valid"


class FieldErrors:
    """Collects every bad field of a request body, so the client sees them all in one 422.

    `add(pointer, type, message)` per field (a JSON pointer into the body), then `raise_if_any()`."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, pointer: str, type_: str, message: str) -> None:
        self.errors.append({"pointer": pointer, "source": "body", "type": type_, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed("One or more fields are invalid; see errors.", errors=self.errors)


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class NotAcceptable(DomainError):
    status, code, title = 406, "not_acceptable", "Not acceptable"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Content too large"


class TooManyRequests(DomainError):
    status, code, title = 429, "too_many_requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"

    def __init__(self, detail: str = "The database is unavailable; retry shortly.", retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


HTTP_TITLES = {400: "Bad request", 401: "Authentication required", 403: "Not allowed", 404: "Not found",
               405: "Method not allowed", 406: "Not acceptable", 409: "Conflict", 412: "Precondition failed",
               413: "Content too large", 415: "Unsupported media type", 422: "Request is not valid",
               428: "Precondition required", 429: "Too many requests", 500: "Internal server error",
               503: "Service unavailable"}
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable", 400: "bad_request",
              401: "unauthenticated", 403: "forbidden", 413: "payload_too_large", 415: "unsupported_media_type"}


def problem_body(status: int, *, code: str, title: str, detail: str | None = None,
                 instance: str | None = None, **extensions: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code.replace("_", "-"), "title": title, "status": status,
                            "detail": detail or title, "code": code}
    if instance:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return body


def problem_response(status: int, *, code: str, title: str, detail: str | None = None,
                     instance: str | None = None, headers: dict[str, str] | None = None,
                     **extensions: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, code=code, title=title, detail=detail, instance=instance,
                                     **extensions),
                        status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _pointer(loc: Sequence[Any]) -> str:
    """`("body", "parent_id")` → `/parent_id`; query/header/path keep their source as prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        return "/" + "/".join(parts[1:])
    return "/".join(parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = err.get("loc", ())
        out.append({"pointer": _pointer(loc), "source": str(loc[0]) if loc else "body",
                    "type": err.get("type", "invalid"), "message": str(err.get("msg", "invalid"))[:300]})
    return out[:50]


def _is_missing_if_match(exc: RequestValidationError) -> bool:
    """FastAPI reports a missing header under its declared alias (`If-Match`): compare case-blind."""
    return any(len(loc := tuple(e.get("loc", ()))) >= 2 and loc[0] == "header"
               and str(loc[1]).lower() == "if-match" and e.get("type") == "missing" for e in exc.errors())


# SQLSTATEs that mean "the server cannot take you right now", whichever driver class carries them:
# 08xxx connection exceptions, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
# ("the database system is starting up / shutting down"), 53300 too_many_connections,
# 57014 query_canceled (statement_timeout under overload: retry later, not a 500).
OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300", "57014")


def _is_database_outage(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        # asyncpg's CannotConnectNowError at connect time arrives as a bare DBAPIError, not invalidated
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if exc.connection_invalidated or (isinstance(sqlstate, str) and sqlstate.startswith(OUTAGE_SQLSTATES)):
            return True
    if isinstance(exc, (ConnectionError, OSError)) and not isinstance(exc, FileNotFoundError):
        return True
    name = type(exc).__name__
    # asyncpg raises its own classes when the server goes away mid-query
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                    "InterfaceError", "AdminShutdownError", "QueryCanceledError"}


def unexpected_error_response(exc: BaseException, path: str) -> JSONResponse:
    """503 for a database outage, else a generic 500: no stack trace, SQL or message text leaves."""
    if _is_database_outage(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(503, code="service_unavailable", title="Service unavailable",
                                detail="The database is unavailable; retry shortly.", instance=path,
                                headers={"Retry-After": "5"})
    if isinstance(exc, IntegrityError):
        # A race the service could not see coming (two creates of one unique value at once):
        # the transaction rolled back, nothing was written; the client may retry.
        log.warning("integrity conflict: %s", type(exc.orig).__name__ if exc.orig else "unknown")
        return problem_response(409, code="conflict", title="Conflict", instance=path,
                                detail="A concurrent change conflicts with this request; nothing was written.")
    log.error("unhandled error", exc_info=exc)
    return problem_response(500, code="internal_error", title="Internal server error",
                            detail="Something went wrong on our side. Quote the request id when reporting it.",
                            instance=path)


def _allowed_methods(request: Request) -> str:
    """Every method any route serves at this path: Starlette's 405 names only the first route's
    methods when GET and POST on one path are separate routes (RFC 9110 §15.5.6 wants them all)."""
    return ", ".join(sorted(allowed_methods(request.app.router.routes, request.scope["path"])))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, code=exc.code, title=exc.title, detail=exc.detail,
                                instance=request.url.path, headers=exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _is_missing_if_match(exc):
            return problem_response(428, code="if_match_required", title="Precondition required",
                                    detail="Send If-Match with the ETag from your last read of this record.",
                                    instance=request.url.path)
        return problem_response(422, code="validation_failed", title="Request is not valid",
                                detail="One or more fields are invalid; see errors.",
                                instance=request.url.path, errors=validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else None
        if status == 400 and detail and "parsing the body" in detail:
            return problem_response(422, code="malformed_body", title="Request is not valid",
                                    detail="The request body could not be parsed.", instance=request.url.path)
        headers = dict(exc.headers or {})
        if status == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem_response(status, code=HTTP_CODES.get(status, f"http_{status}"),
                                title=HTTP_TITLES.get(status, "Error"), detail=detail,
                                instance=request.url.path, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc, request.url.path)
