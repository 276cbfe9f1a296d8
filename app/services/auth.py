"""Signing in and staying signed in: the password, client-credentials and refresh-token
grants, refresh rotation with reuse detection, and logout (RELIABILITY API2-b..e, §2.3).

- A sign-in is a `RefreshSession`; every access token of it carries its id (`sid`) and
  `load_principal` checks the session per request, so logout or reuse detection ends
  the sign-in's access tokens at once, not at expiry (API2-d).
- Refresh tokens are opaque, stored as SHA-256 digests, single-use. Presenting a used
  one again revokes the whole sign-in, the newest token included (RFC 9700 §4.14.2).
  There is no grace period: two concurrent refreshes with one token end the sign-in
  (the loser sees the token already used). A client must serialise its refreshes.
- Wrong password, unknown user and disabled account give the same 401 body after the
  same argon2 work (API2-c). Failures are throttled (login_throttle) and audited with
  `keep_on_failure`, so the row survives the request's rollback (LOG-1). No password,
  token or hash ever reaches an audit row or a log line (LOG-2).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.config import get_settings
from app.core.context import ANONYMOUS, Actor, actor_var, client_address_var
from app.core.db import Database
from app.core.errors import DomainError, InvalidCredentials, PermissionDenied, ValidationFailed
from app.core.security import (
    constant_time_equals,
    digest_secret,
    hash_password_async,
    issue_access_token,
    new_opaque_secret,
    password_problems,
    verify_dummy_password_async,
    verify_password_async,
)
from app.models import IntegrationClient, Membership, RefreshSession, RefreshToken, User, new_id, utcnow
from app.schemas.auth import PasswordChange, TokenRead
from app.services import audit
from app.services.login_throttle import LoginThrottle, default_throttle

WWW_AUTHENTICATE = 'Bearer realm="envduty"'
GRANT_TYPES = ("password", "client_credentials", "refresh_token")
# Compared against when the client_id is unknown, so that path costs the same compare.
_NO_CLIENT_DIGEST = digest_secret("no such client")


class InvalidRefreshToken(DomainError):
    status, code, title = 401, "invalid_refresh_token", "Invalid refresh token"

    def __init__(self) -> None:
        super().__init__("The refresh token is unknown, used, expired or revoked; sign in again.",
                         headers={"WWW-Authenticate": WWW_AUTHENTICATE})


class RefreshTokenReused(InvalidRefreshToken):
    """The sign-in was revoked in this transaction: the router must let it commit, then answer 401."""


class UnsupportedGrantType(DomainError):
    status, code, title = 400, "unsupported_grant_type", "Unsupported grant type"


class InvalidScope(DomainError):
    status, code, title = 400, "invalid_scope", "Invalid scope"


def bad_credentials() -> InvalidCredentials:
    """One body for every wrong username, password, disabled account or client secret (API2-c)."""
    return InvalidCredentials("Wrong username or password.", headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def _record_as(session: AsyncSession, actor: Actor, **event: Any) -> None:
    token = actor_var.set(actor)  # the audit row captures the actor when recorded
    try:
        audit.record(session, **event)
    finally:
        actor_var.reset(token)


def _user_actor(user: User) -> Actor:
    return Actor("user", str(user.id), user.display_name)


async def home_organisation(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    """The organisation an account's audit rows are filed under (its oldest membership),
    so auditors scoped to it see the account's sign-ins."""
    return await session.scalar(select(Membership.organisation_id).where(Membership.user_id == user_id)
                                .order_by(Membership.created_at, Membership.id).limit(1))


def password_error(password: str, pointer: str) -> ValidationFailed | None:
    """422 with one field error per broken rule of the password policy (AUTH-1), or None."""
    problems = password_problems(password)
    if not problems:
        return None
    return ValidationFailed("The password does not meet the policy; see errors.", errors=[
        {"pointer": pointer, "source": "body", "type": "password_policy", "message": f"password {p}"}
        for p in problems])


def _missing(*names: str) -> ValidationFailed:
    return ValidationFailed("Required fields are missing for this grant type; see errors.",
                            errors=[{"pointer": f"/{n}", "source": "body", "type": "missing",
                                     "message": "Field required"} for n in names])


# ------------------------------------------------------------------ token endpoint


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """client_id and secret from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded, then base64)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_credentials() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise bad_credentials()
    return unquote_plus(client_id), unquote_plus(secret)


async def grant(session: AsyncSession, database: Database, *, grant_type: str | None, username: str | None,
                password: str | None, scope: str | None, client_id: str | None, client_secret: str | None,
                refresh_token: str | None, authorization: str | None) -> TokenRead:
    """`POST /auth/token`. An omitted grant_type is read as `password`, as Swagger UI and
    FastAPI's own form do; RFC 6749 requires it, so send it."""
    grant_type = grant_type or "password"
    if grant_type == "password":
        missing = [n for n, v in (("username", username), ("password", password)) if not v]
        if missing:
            raise _missing(*missing)
        return await login(session, database, username=username or "", password=password or "")
    if grant_type == "client_credentials":
        basic = basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = basic
        missing = [n for n, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
        if missing:
            raise _missing(*missing)
        return await client_token(session, client_id=client_id or "", client_secret=client_secret or "",
                                  scope=scope)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise _missing("refresh_token")
        return await refresh(session, refresh_token)
    raise UnsupportedGrantType(f"grant_type must be one of {', '.join(GRANT_TYPES)}.")


# --------------------------------------------------------------------- password


async def login(session: AsyncSession, database: Database, *, username: str, password: str,
                throttle: LoginThrottle | None = None) -> TokenRead:
    """The password grant. 429 before any hashing when throttled; 401 `invalid_credentials`."""
    throttle = throttle or default_throttle()
    address = client_address_var.get()
    account = username.strip().lower()  # usernames are stored lower-case
    throttle.check(account, address)
    # Look up and verify outside the request's write transaction: on SQLite that one holds
    # the database's write lock, which must not wait ~100 ms for argon2.
    async with database.transaction(write=False) as reader:
        found = (await reader.execute(select(User.id, User.password_hash, User.is_active)
                                      .where(User.username == account))).one_or_none()
    if found is None:
        await verify_dummy_password_async(password)  # same cost as a real account (API2-c)
        ok, new_hash = False, None
    else:
        ok, new_hash = await verify_password_async(password, found.password_hash)
    user = await session.get(User, found.id) if found is not None and ok else None
    if user is None or not user.is_active or user.password_hash != found.password_hash:
        throttle.record_failure(account, address)
        reason = ("unknown username" if found is None else "wrong password" if not ok
                  else "account inactive" if user is None or not user.is_active else "password changed meanwhile")
        _record_as(session, ANONYMOUS, action="auth.login_failed", resource_type="user",
                   resource_id=found.id if found else None,
                   organisation_id=await home_organisation(session, found.id) if found else None,
                   outcome="failure", detail=reason, keep_on_failure=True)
        raise bad_credentials()
    now = utcnow()
    if new_hash:
        user.password_hash = new_hash  # stored with weaker parameters than today's (AUTH-2)
    user.last_login_at = now
    throttle.clear(account, address)
    tokens, sign_in = await _start_sign_in(session, user, now)
    _record_as(session, _user_actor(user), action="auth.login", resource_type="user", resource_id=user.id,
               organisation_id=await home_organisation(session, user.id),
               after={"session_id": sign_in.id, "rehashed": bool(new_hash)})
    return tokens


async def _start_sign_in(session: AsyncSession, user: User, now: datetime) -> tuple[TokenRead, RefreshSession]:
    settings = get_settings()
    sign_in = RefreshSession(id=new_id(), user_id=user.id, created_at=now,
                             absolute_expires_at=now + timedelta(seconds=settings.refresh_token_absolute_seconds))
    session.add(sign_in)
    await session.flush()
    return await _issue_pair(session, user, sign_in, now), sign_in


async def _issue_pair(session: AsyncSession, user: User, sign_in: RefreshSession, now: datetime) -> TokenRead:
    """A new refresh token in the sign-in (idle expiry, capped by the absolute one) + an access token."""
    idle = timedelta(seconds=get_settings().refresh_token_idle_seconds)
    raw = new_opaque_secret()
    expires_at = min(now + idle, sign_in.absolute_expires_at)
    session.add(RefreshToken(session_id=sign_in.id, token_digest=digest_secret(raw), issued_at=now,
                             expires_at=expires_at))
    await session.flush()
    access = issue_access_token(subject=str(user.id), subject_kind="user", token_version=user.token_version,
                                session_id=str(sign_in.id))
    return TokenRead(access_token=access.token, expires_in=access.expires_in, refresh_token=raw,
                     refresh_expires_in=max(0, int((expires_at - now).total_seconds())))


# -------------------------------------------------------------- refresh rotation


async def refresh(session: AsyncSession, raw_token: str) -> TokenRead:
    """Exchange a refresh token for a new pair in the same sign-in. 401 `invalid_refresh_token`
    when unknown, expired, revoked or the user is inactive; RefreshTokenReused on reuse."""
    now = utcnow()
    token = await session.scalar(select(RefreshToken).where(RefreshToken.token_digest == digest_secret(raw_token)))
    sign_in = await session.get(RefreshSession, token.session_id) if token else None
    user = await session.get(User, sign_in.user_id) if sign_in else None
    if token is None or sign_in is None or user is None:
        raise _refusal(session, None, "unknown refresh token")
    if sign_in.revoked_at is not None:
        raise _refusal(session, user, f"sign-in already ended ({sign_in.revoked_reason})")
    if token.rotated_at is not None:
        raise await _revoke_for_reuse(session, user, sign_in, now)
    if token.expires_at <= now or sign_in.absolute_expires_at <= now:
        raise _refusal(session, user, "refresh token expired")
    if not user.is_active:
        raise _refusal(session, user, "account inactive")
    # Conditional: of two concurrent exchanges of one token exactly one wins; the other is reuse.
    won = await session.execute(update(RefreshToken).where(RefreshToken.id == token.id,
                                                           RefreshToken.rotated_at.is_(None))
                                .values(rotated_at=now).execution_options(synchronize_session=False))
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise await _revoke_for_reuse(session, user, sign_in, now)
    tokens = await _issue_pair(session, user, sign_in, now)
    _record_as(session, _user_actor(user), action="auth.refresh", resource_type="user", resource_id=user.id,
               organisation_id=await home_organisation(session, user.id), after={"session_id": sign_in.id})
    return tokens


def _refusal(session: AsyncSession, user: User | None, reason: str) -> InvalidRefreshToken:
    _record_as(session, _user_actor(user) if user else ANONYMOUS, action="auth.refresh", resource_type="user",
               resource_id=user.id if user else None, outcome="failure", detail=reason, keep_on_failure=True)
    return InvalidRefreshToken()


async def _revoke_for_reuse(session: AsyncSession, user: User, sign_in: RefreshSession,
                            now: datetime) -> RefreshTokenReused:
    await session.execute(update(RefreshSession).where(RefreshSession.id == sign_in.id,
                                                       RefreshSession.revoked_at.is_(None))
                          .values(revoked_at=now, revoked_reason="reuse"))
    _record_as(session, _user_actor(user), action="auth.refresh_reuse", resource_type="user", resource_id=user.id,
               organisation_id=await home_organisation(session, user.id), outcome="failure",
               detail="a used refresh token was presented again; the sign-in was revoked",
               after={"session_id": sign_in.id}, keep_on_failure=True)
    return RefreshTokenReused()


# ------------------------------------------------------------ client credentials


async def client_token(session: AsyncSession, *, client_id: str, client_secret: str, scope: str | None,
                       throttle: LoginThrottle | None = None) -> TokenRead:
    """The client-credentials grant: scopes = requested ∩ the client's (all of them when none
    are requested); 400 `invalid_scope` when that leaves nothing. No refresh token."""
    throttle = throttle or default_throttle()
    address, account = client_address_var.get(), f"client:{client_id}"
    throttle.check(account, address)
    client = await session.scalar(select(IntegrationClient).where(IntegrationClient.client_id == client_id))
    presented = digest_secret(client_secret)
    matches = constant_time_equals(presented, client.secret_hash if client else _NO_CLIENT_DIGEST)
    if client is None or not matches or not client.is_active:
        throttle.record_failure(account, address)
        reason = "unknown client_id" if client is None else "wrong secret" if not matches else "client inactive"
        _record_as(session, ANONYMOUS, action="auth.client_token", resource_type="integration_client",
                   resource_id=client.id if client else None,
                   organisation_id=client.organisation_id if client else None,
                   outcome="failure", detail=reason, keep_on_failure=True)
        raise bad_credentials()
    throttle.clear(account, address)
    allowed = list(client.scopes or [])
    requested = list(dict.fromkeys(scope.split())) if scope and scope.strip() else allowed
    granted = [s for s in requested if s in allowed]
    if not granted:
        raise InvalidScope(f"None of the requested scopes is granted to this client; it has: {' '.join(allowed)}.")
    access = issue_access_token(subject=str(client.id), subject_kind="client", token_version=client.token_version,
                                scopes=granted, organisation_id=str(client.organisation_id))
    _record_as(session, Actor("client", str(client.id), client.name), action="auth.client_token",
               resource_type="integration_client", resource_id=client.id, organisation_id=client.organisation_id,
               after={"scopes": granted})
    return TokenRead(access_token=access.token, expires_in=access.expires_in, scope=" ".join(granted))


# ------------------------------------------------------------------- ending sessions


async def logout(session: AsyncSession, principal: Principal, raw_refresh_token: str | None) -> None:
    """End the caller's sign-in (the token's `sid`) and, if given, the sign-in of a refresh
    token of the caller's own. Access tokens of those sign-ins fail from the next request."""
    ended: set[uuid.UUID] = {principal.session_id} if principal.session_id else set()
    if raw_refresh_token and principal.kind == "user":
        token = await session.scalar(select(RefreshToken).where(
            RefreshToken.token_digest == digest_secret(raw_refresh_token)))
        sign_in = await session.get(RefreshSession, token.session_id) if token else None
        if sign_in is not None and sign_in.user_id == principal.id:  # someone else's: ignored, not revealed
            ended.add(sign_in.id)
    if ended:
        await session.execute(update(RefreshSession).where(RefreshSession.id.in_(ended),
                                                           RefreshSession.revoked_at.is_(None))
                              .values(revoked_at=utcnow(), revoked_reason="logout"))
    user = principal.kind == "user"
    audit.record(session, action="auth.logout", resource_type="user" if user else "integration_client",
                 resource_id=principal.id,
                 organisation_id=(await home_organisation(session, principal.id) if user
                                  else principal.client_organisation_id),
                 after={"session_ids": sorted(str(s) for s in ended)})


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID, reason: str) -> None:
    """End every sign-in of a user (deactivation, password change or reset)."""
    await session.execute(update(RefreshSession).where(RefreshSession.user_id == user_id,
                                                       RefreshSession.revoked_at.is_(None))
                          .values(revoked_at=utcnow(), revoked_reason=reason))


async def change_own_password(session: AsyncSession, principal: Principal, data: PasswordChange) -> None:
    """Users only (403 for clients). A wrong current password is 422 on `/current_password`,
    not 401: the caller is signed in, and a 401 would make clients drop the session. It is
    throttled like a sign-in (API2-b). Success ends every sign-in, this one included
    (token_version bump): the client signs in again with the new password."""
    if principal.kind != "user":
        raise PermissionDenied("Integration clients have no password.")
    user = await session.get(User, principal.id)
    assert user is not None  # load_principal found the active user this request
    if (error := password_error(data.new_password, "/new_password")) is not None:
        raise error
    if data.new_password == data.current_password:
        raise ValidationFailed("Choose a password different from the current one.", errors=[{
            "pointer": "/new_password", "source": "body", "type": "unchanged",
            "message": "must differ from the current password"}])
    throttle, address = default_throttle(), client_address_var.get()
    throttle.check(user.username, address)
    ok, _ = await verify_password_async(data.current_password, user.password_hash)
    organisation_id = await home_organisation(session, user.id)
    if not ok:
        throttle.record_failure(user.username, address)
        audit.record(session, action="user.password_change", resource_type="user", resource_id=user.id,
                     organisation_id=organisation_id, outcome="failure", detail="wrong current password",
                     keep_on_failure=True)
        raise ValidationFailed("The current password is wrong.", errors=[{
            "pointer": "/current_password", "source": "body", "type": "invalid_password",
            "message": "is not your current password"}])
    throttle.clear(user.username, address)
    new_hash = await hash_password_async(data.new_password)
    await session.execute(update(User).where(User.id == user.id).values(
        password_hash=new_hash, must_change_password=False, token_version=User.token_version + 1,
        version=User.version + 1, updated_at=utcnow()))
    await revoke_user_sessions(session, user.id, "password_change")
    audit.record(session, action="user.password_change", resource_type="user", resource_id=user.id,
                 organisation_id=organisation_id)
