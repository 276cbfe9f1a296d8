"""FastAPI dependencies shared by every router: the request's transaction, the
caller, permission checks, idempotency, list paging and If-Match."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, params
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.config import Settings, get_settings
from app.core.context import actor_var
from app.core.db import Database
from app.core.errors import (
    DomainError,
    NotAcceptable,
    PasswordChangeRequired,
    PermissionDenied,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.core.export import ExportFormat, NotAcceptableMedia, negotiate
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.security import AccessClaims, InvalidToken, decode_access_token
from app.core.storage import BlobStore
from app.services import audit
from app.services.export import Export, Language
from app.services.idempotency import IdempotencyGuard, UploadIdempotency, begin_idempotent
from app.services.principals import load_principal

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def require_json_media_type(request: Request) -> None:
    """415 for a body that is not JSON on a route that takes JSON (RFC 9110 §15.5.16).

    Installed app-wide; form routes (POST /auth/token) and multipart uploads are left alone."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None or isinstance(body_field.field_info, (params.Form, params.File)):
        return
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return
    if not content_type and request.headers.get("content-length", "0") == "0" \
            and "transfer-encoding" not in request.headers:
        return  # no body at all: validation reports what is missing
    raise UnsupportedMediaType(f"This route takes application/json, not {media_type or 'an untyped body'}.")


_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # a \u0000 escape whose backslash is not escaped


def _nul_pointer(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return (path or "/") if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = (path or "/") if isinstance(key, str) and "\x00" in key else _nul_pointer(item, f"{path}/{key}")
        if found:
            return found
    return None


def _nul_refused(pointer: str, source: str) -> ValidationFailed:
    return ValidationFailed("Text may not contain the NUL character (U+0000).", errors=[{
        "pointer": pointer, "source": source, "type": "nul_character", "message": "U+0000 is not allowed"}])


async def refuse_nul_characters(request: Request) -> None:
    """422 for U+0000 in the query or in a JSON or form body: PostgreSQL cannot store it in text
    (the driver raises, a 500) and SQLite would keep it silently. Valid input never holds it."""
    raw_query = request.scope.get("query_string", b"")
    # A NUL reaches a decoded parameter only as a raw byte or as %00: without either, nothing to scan.
    if b"\x00" in raw_query or b"%00" in raw_query:
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                raise _nul_refused(f"query/{name}", "query")
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # parsed and cached by FastAPI: the raw stream is gone by now
        for name, value in form.multi_items():
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                raise _nul_refused(f"/{name}", "body")
    elif media_type == "application/json" or media_type.endswith("+json"):
        body = await request.body()  # read and cached by FastAPI
        if not _ESCAPED_NUL.search(body):
            return
        try:
            pointer = _nul_pointer(json.loads(body)) or "/"
        except ValueError:
            pointer = "/"
        raise _nul_refused(pointer, "body")


async def screen_request(request: Request) -> None:
    """The app-wide checks as one dependency (one solve per request instead of two): 415 for a
    body that is not JSON, 422 for U+0000 anywhere in the input."""
    await require_json_media_type(request)
    await refuse_nul_characters(request)


def get_database(request: Request) -> Database:
    return request.app.state.database


READ_ONLY_ATTRIBUTE = "envduty_read_only"


def read_only(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET route that never writes: its session skips BEGIN/COMMIT on PostgreSQL
    (`Database.autocommit_reads`; app/core/db.py says why that changes no visibility under
    READ COMMITTED). Only for routes whose every path reads: a write there would commit
    statement by statement, so `get_session` refuses one that reaches the commit."""
    setattr(endpoint, READ_ONLY_ATTRIBUTE, True)
    return endpoint


def _is_read_only(request: Request) -> bool:
    if request.method not in SAFE_METHODS:
        return False
    return getattr(getattr(request.scope.get("route"), "endpoint", None), READ_ONLY_ATTRIBUTE, False)


def _refuse_writes(session: AsyncSession) -> None:
    """A route marked `read_only` that flushes ORM changes or audit events is a bug: without a
    transaction they would not be atomic, and the audit chain head's row lock would not hold."""
    if session.new or session.dirty or session.deleted or session.info.get(audit.PENDING_KEY):
        raise RuntimeError("a route marked read_only tried to write; remove the marker")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one transaction: commit on success, roll back on any error.

    Audit events flagged `keep_on_failure` (a failed login) survive the rollback. Routes
    marked `read_only` get a session without a transaction on PostgreSQL (one round trip
    less at each end of the request)."""
    database: Database = request.app.state.database
    if _is_read_only(request):
        async with database.autocommit_reads() as session:
            yield session
            _refuse_writes(session)
        return
    async with database.sessions(write=request.method not in SAFE_METHODS)() as session:
        try:
            yield session
            await audit.flush_pending(session)
            await session.commit()
        except BaseException as exc:
            await session.rollback()
            if isinstance(exc, DomainError) and any(e.keep_on_failure for e in
                                                     session.info.get(audit.PENDING_KEY, [])):
                await audit.flush_pending(session, only_kept=True)
                await session.commit()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

# OAuth2 password flow, so Swagger's Authorize button signs in with a demo account.
# Only the Authorization header is read: a token in the query string is ignored (ASVS 14.2.1).
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                                     description="Sign in with username and password; clients use "
                                                 "grant_type=client_credentials on the same URL.")


PASSWORD_CHANGE_PATHS = frozenset({"/me", "/me/password", "/auth/logout"})

# Verified claims of recently seen access tokens. Verifying a token (header rules, HMAC, claim
# checks) is a pure function of the token, the key ring and the clock, ~80-110 µs per request
# (BENCHMARKS.md "Token check"); a hit repeats only the clock check (exp, with the same leeway)
# and is dropped when the settings or key ring changed. It caches no authority: the caller is
# still loaded from the database on every request, so deactivation, logout and membership
# changes bite at once (RELIABILITY.md API2-d). Only tokens that verified are kept, so junk
# cannot fill it; the oldest entries go first.
_CLAIMS_CACHE: OrderedDict[str, tuple[Settings, dict[str, str], AccessClaims]] = OrderedDict()
_CLAIMS_CACHE_SIZE = 4096


def verified_claims(token: str) -> AccessClaims:
    """`decode_access_token(token)`, from the cache when this token verified before."""
    settings = get_settings()
    hit = _CLAIMS_CACHE.get(token)
    if hit is not None:
        cached_settings, keys, claims = hit
        if cached_settings is settings and keys == settings.jwt_keys and datetime.now(UTC) <= \
                claims.expires_at + timedelta(seconds=settings.jwt_leeway_seconds):
            return claims
        del _CLAIMS_CACHE[token]
    claims = decode_access_token(token)
    _CLAIMS_CACHE[token] = (settings, dict(settings.jwt_keys), claims)
    if len(_CLAIMS_CACHE) > _CLAIMS_CACHE_SIZE:
        _CLAIMS_CACHE.popitem(last=False)
    return claims


async def get_principal(request: Request, session: SessionDep,
                        token: Annotated[str | None, Depends(bearer_scheme)]) -> Principal:
    if not token:
        raise Unauthenticated()
    try:
        claims = verified_claims(token)
    except InvalidToken:
        raise Unauthenticated() from None
    principal = await load_principal(session, claims)
    actor_var.set(principal.actor)
    if principal.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        # AUTH-5: a reset or bootstrap password must be replaced before anything else is done.
        raise PasswordChangeRequired("Change your password (POST /me/password) before using the API.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class PolicyMarker:
    """Tagged onto each route's dependencies so a test can prove every route has a policy."""

    def __init__(self, policy: str) -> None:
        self.policy = policy


def require(permission: Permission) -> Any:
    """Route dependency: 401 without a valid token, 403 without `permission` in any membership."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(permission):
            raise PermissionDenied(f"Your roles do not include the permission {permission.value}.")
        return principal

    _check.policy = PolicyMarker(permission.value)  # type: ignore[attr-defined]
    return Depends(_check)


def authenticated() -> Any:
    """Route dependency for routes any signed-in caller may use (e.g. GET /me)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        return principal

    _check.policy = PolicyMarker("authenticated")  # type: ignore[attr-defined]
    return Depends(_check)


def public() -> Any:
    """Route dependency for anonymous routes (health, public disclosure, login)."""

    async def _check() -> None:
        return None

    _check.policy = PolicyMarker("public")  # type: ignore[attr-defined]
    return Depends(_check)


def policy_of(dependency: Callable[..., Any]) -> str | None:
    marker = getattr(dependency, "policy", None)
    return marker.policy if isinstance(marker, PolicyMarker) else None


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]
        = None,
        include_total: Annotated[bool, Query(description="Also count every matching row (slower).")] = False,
    ) -> None:
        self.limit = limit
        self.cursor = cursor
        self.include_total = include_total


PageDep = Annotated[PageParams, Depends()]

IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=200,
    description="ETag from your last read of the record; required (428 without it, 412 when stale).")]


# What _check_key enforces (printable ASCII, outer spaces trimmed), stated in the schema.
_KEY_PATTERN = {"pattern": "^[!-~]([ -~]{0,253}[!-~])?$"}


async def idempotency_guard(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                      json_schema_extra=_KEY_PATTERN,
                                      description="Repeat-safe POST: the same key and body replay the first "
                                                  "response for 48 h; a different body is 422.")] = None,
) -> IdempotencyGuard:
    return await begin_idempotent(session, request, principal_key=f"{principal.kind}:{principal.id}", key=key)


IdempotencyDep = Annotated[IdempotencyGuard, Depends(idempotency_guard)]


async def upload_idempotency(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                      json_schema_extra=_KEY_PATTERN,
                                      description="Repeat-safe upload: the same key, file and `mode` replay the "
                                                  "first response for 48 h; another file or mode is 422. "
                                                  "Ignored on a dry run.")] = None,
) -> UploadIdempotency:
    return UploadIdempotency(session, request, principal_key=f"{principal.kind}:{principal.id}", key=key)


UploadIdempotencyDep = Annotated[UploadIdempotency, Depends(upload_idempotency)]


def get_blob_store(request: Request) -> BlobStore:
    """Where attachment bytes live (app/core/storage.py; built once by create_app)."""
    return request.app.state.blob_store


BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]
async def export_choice(
    request: Request,
    fmt: Annotated[ExportFormat | None, Query(
        alias="format", description="Export the whole filtered list as a ledger file instead of a JSON page "
                                    "(`Accept: text/csv` or the XLSX media type does the same); `limit` "
                                    "and `include_total` do not apply, `cursor` starts after that row.")] = None,
    headers: Annotated[Language, Query(description="Ledger file only: `zh` (default) Chinese column headers "
                                                   "and enum labels, `en` English headers and the API's codes.")]
    = "zh",
) -> Export | None:
    """The ledger export a list request asks for, or None for the JSON page; 406 for an Accept we
    cannot serve (issue 7 item 4)."""
    try:
        chosen = negotiate(fmt.value if fmt else None, request.headers.get("accept"))
    except NotAcceptableMedia:
        raise NotAcceptable("This list is served as application/json, text/csv or "
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.") from None
    return Export(chosen, headers, request.app.state.database) if chosen else None


ExportDep = Annotated[Export | None, Depends(export_choice)]
