"""Passwords and tokens: the only module that imports python-jose and pwdlib.

Access tokens are HS256 JWTs checked here and nowhere else (CONVENTIONS "Tokens and
passwords"). Refresh tokens and client secrets are opaque random strings stored as
SHA-256 digests, so they can never validate as access tokens (RFC 8725 §3.12).
Passwords are argon2id through pwdlib (RELIABILITY finding 10, AUTH-2).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

import anyio.to_thread
from jose import jwk, jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import get_settings

# --------------------------------------------------------------------------- passwords

PASSWORD_MIN_LENGTH = 8  # ASVS 6.2.1
PASSWORD_MAX_LENGTH = 128  # ASVS 6.2.9 wants >= 64 accepted; never truncated (AUTH-1)
HASH_CONCURRENCY = 4  # each argon2 call holds 64 MiB (RELIABILITY §2.4 "Operational")

# The most common passwords of >= 8 characters (shorter ones already fail the length
# rule); compared case-insensitively. A breached-password service can come later.
COMMON_PASSWORDS = frozenset(
    p.casefold()
    for p in (
        "password", "password1", "password123", "passw0rd", "passw0rd!", "p@ssw0rd",
        "12345678", "123456789", "1234567890", "87654321", "987654321", "12341234",
        "123123123", "11111111", "00000000", "88888888", "66666666", "a1234567",
        "aa123456", "abc12345", "abcd1234", "qq123456", "qwertyui", "qwertyuiop",
        "qwerty123", "1q2w3e4r", "1qaz2wsx", "asdfghjkl", "iloveyou", "woaini1314",
        "sunshine", "football", "princess", "welcome1", "admin123", "changeme",
        "letmein1", "envduty123",
    )
)

_password_hash = PasswordHash((Argon2Hasher(),))  # argon2-cffi defaults: t=3, m=64 MiB, p=4
_hash_slots = threading.BoundedSemaphore(HASH_CONCURRENCY)  # caps sync and async callers
_hash_threads = anyio.CapacityLimiter(HASH_CONCURRENCY)  # waiters queue in the loop, not in threads


def password_problems(plain: str) -> list[str]:
    """Problems with a new password, [] if none (AUTH-1). No composition rules (ASVS 6.2.5)."""
    problems = []
    if len(plain) < PASSWORD_MIN_LENGTH:
        problems.append(f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(plain) > PASSWORD_MAX_LENGTH:
        problems.append(f"must be at most {PASSWORD_MAX_LENGTH} characters")
    if plain.casefold() in COMMON_PASSWORDS:
        problems.append("is one of the most commonly used passwords")
    return problems


def hash_password(plain: str) -> str:
    """argon2id hash string (`$argon2id$v=19$m=65536,t=3,p=4$...`), AUTH-2."""
    with _hash_slots:
        return _password_hash.hash(plain)


def verify_password(plain: str, stored_hash: str) -> tuple[bool, str | None]:
    """(matches, new hash or None). A new hash is returned when the stored one used
    weaker parameters; the caller saves it (pwdlib verify_and_update, AUTH-2).
    An unrecognised hash format fails closed and costs as much as a real verify."""
    with _hash_slots:
        try:
            return _password_hash.verify_and_update(plain, stored_hash)
        except UnknownHashError:
            pass
    verify_dummy_password(plain)
    return False, None


@cache
def _dummy_hash() -> str:
    # Made once per process with the current hasher, so it costs exactly what a real
    # stored hash costs even after the argon2 defaults change.
    return hash_password(secrets.token_urlsafe(16))


def verify_dummy_password(plain: str) -> None:
    """Spend one full argon2 verify for an unknown or disabled account, so timing does
    not reveal which usernames exist (API2-c)."""
    dummy = _dummy_hash()
    with _hash_slots:
        _password_hash.verify(plain, dummy)


async def hash_password_async(plain: str) -> str:
    """hash_password off the event loop: ~120 ms of CPU must not stall other requests."""
    return await anyio.to_thread.run_sync(hash_password, plain, limiter=_hash_threads)


async def verify_password_async(plain: str, stored_hash: str) -> tuple[bool, str | None]:
    return await anyio.to_thread.run_sync(verify_password, plain, stored_hash, limiter=_hash_threads)


async def verify_dummy_password_async(plain: str) -> None:
    await anyio.to_thread.run_sync(verify_dummy_password, plain, limiter=_hash_threads)


# ------------------------------------------------------------------- opaque secrets

CLIENT_SECRET_PREFIX = "edcs_"  # lets secret scanners and log scrubbers spot a leak (LOG-2)


def new_opaque_secret(nbytes: int = 32) -> str:
    """Refresh tokens and similar: 256 random bits by default (RELIABILITY §2.3)."""
    if nbytes < 16:
        raise ValueError("opaque secrets need at least 128 random bits")
    return secrets.token_urlsafe(nbytes)


def new_client_secret() -> str:
    """Secret for an integration client; show it once, store only digest_secret()."""
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def digest_secret(raw: str) -> str:
    """SHA-256 hex. Enough for >= 112-bit random secrets (ASVS 6.5.2); never for passwords."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Comparison whose time does not depend on where the inputs first differ."""
    a_bytes = a.encode("utf-8") if isinstance(a, str) else a
    b_bytes = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


# --------------------------------------------------------------------- access tokens

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1; RFC 8725 §3.11 explicit typing
TOKEN_USE = "access"
MAX_TOKEN_LENGTH = 4096
SUBJECT_KINDS = frozenset({"user", "client"})
_HEADER_KEYS = frozenset({"alg", "typ", "kid"})
_BASE64URL_SEGMENTS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token


class InvalidToken(Exception):
    """Any refused token. `reason` is for the auth log only, never for the client:
    every refusal looks the same from outside (API2-a)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str = field(repr=False)  # keep tokens out of logs and tracebacks (LOG-2)
    expires_in: int
    jti: str


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    subject_kind: Literal["user", "client"]
    token_version: int
    scopes: tuple[str, ...]
    organisation_id: str | None
    jti: str
    issued_at: datetime
    expires_at: datetime
    session_id: str | None = None  # `sid`: the sign-in (refresh family) a user token belongs to


def _hmac_key(secret: str) -> Any:
    # A Key object, not the raw string: given a str, jose's verify path json.loads() it
    # first (a secret that parses as JSON becomes a different key than the one signing
    # used) and would let the token's alg pick the hash. jose also refuses PEM/SSH here.
    return jwk.construct(secret, ALGORITHM)


def _is_version(value: object) -> bool:
    return type(value) is int and value >= 0  # bool is an int subclass: excluded


def _require(ok: bool, problem: str) -> None:
    if not ok:
        raise ValueError(problem)


def _refuse_unless(ok: bool, reason: str) -> None:
    if not ok:
        raise InvalidToken(reason)


def issue_access_token(
    *,
    subject: str,
    subject_kind: Literal["user", "client"],
    token_version: int,
    scopes: list[str] | None = None,
    organisation_id: str | None = None,
    ttl_seconds: int | None = None,
    now: datetime | None = None,
    session_id: str | None = None,
) -> IssuedToken:
    """Sign an access token with the current key (settings.signing_kid, AUTH-4).

    User tokens carry no roles, scopes or organisation: those are looked up per request
    (RFC 8725 §3.10). Client tokens carry `scope` and `org`. Raises ValueError on bad input.
    """
    settings = get_settings()
    client = subject_kind == "client"
    default_ttl = settings.client_token_ttl_seconds if client else settings.access_token_ttl_seconds
    ttl = default_ttl if ttl_seconds is None else ttl_seconds
    now = now or datetime.now(UTC)
    _require(subject_kind in SUBJECT_KINDS, f"unknown subject kind {subject_kind!r}")
    _require(isinstance(subject, str) and bool(subject), "subject must be a non-empty string")
    _require(_is_version(token_version), "token_version must be an int >= 0")
    _require(client or (scopes is None and organisation_id is None), "user tokens carry no scopes or org")
    _require(type(ttl) is int and ttl > 0, "ttl_seconds must be a positive int")
    _require(now.tzinfo is not None, "now must be timezone-aware")
    issued_at = int(now.timestamp())
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": subject,
        "iat": issued_at, "nbf": issued_at, "exp": issued_at + ttl, "jti": jti,
        "token_use": TOKEN_USE, "sk": subject_kind, "tv": token_version,
    }
    if session_id is not None:
        _require(not client and isinstance(session_id, str) and bool(session_id), "bad session_id")
        claims["sid"] = session_id
    if client:
        scopes = list(dict.fromkeys(scopes or ()))
        _require(all(isinstance(s, str) and _SCOPE_TOKEN.fullmatch(s) for s in scopes), "bad scope")
        claims["scope"] = " ".join(scopes)
        if organisation_id is not None:
            _require(isinstance(organisation_id, str) and bool(organisation_id), "bad organisation_id")
            claims["org"] = organisation_id
    kid = settings.signing_kid
    token = jwt.encode(
        claims, _hmac_key(settings.signing_keys[kid]), algorithm=ALGORITHM,
        headers={"typ": TOKEN_TYPE, "kid": kid},
    )
    return IssuedToken(token=token, expires_in=ttl, jti=jti)


def decode_access_token(token: str) -> AccessClaims:
    """Verify an access token or raise InvalidToken. Every step is needed (API2-a):

    - size and shape first: cheap, and jose's base64 decoding silently skips stray
      characters and padding, so one token would have many spellings;
    - the header is untrusted (RFC 8725 §3.1): only alg/typ/kid may appear, so
      jku/x5u/jwk/x5c/crit are refused, never fetched (§3.4, AUTH-4); alg must be HS256
      and jose is also given exactly ["HS256"], since 3.5.0 still accepts HS256 signed
      with a DER public key when a list mixes families (finding 1); typ must be at+jwt
      (§3.11); kid picks a key from our ring only, so rotation works (AUTH-4);
    - jose checks signature, exp/nbf with leeway, aud, iss, and only *requires* claims
      when told (finding 2): exp, iat, aud, iss, sub, jti are required (§3.8, §3.9);
    - jose raises bare TypeError/OverflowError for null or huge NumericDates, so every
      exception from it is caught, and our own checks follow (_claims_from).
    """
    _refuse_unless(isinstance(token, str), "token is not a string")
    _refuse_unless(len(token) <= MAX_TOKEN_LENGTH, "token longer than 4096 characters")
    _refuse_unless(token.count(".") == 2, "token does not have exactly three segments")
    _refuse_unless(bool(_BASE64URL_SEGMENTS.fullmatch(token)), "token segments are not unpadded base64url")
    try:
        header = jwt.get_unverified_header(token)
    except Exception as exc:  # any failure to parse is a refusal
        raise InvalidToken(f"unreadable header: {type(exc).__name__}") from exc
    unexpected = sorted(set(header) - _HEADER_KEYS)
    _refuse_unless(not unexpected, f"unexpected header parameters {unexpected}")
    _refuse_unless(header.get("alg") == ALGORITHM, "header alg is not HS256")
    _refuse_unless(header.get("typ") == TOKEN_TYPE, "header typ is not at+jwt")
    settings = get_settings()
    keys, kid = settings.signing_keys, header.get("kid")
    _refuse_unless(isinstance(kid, str) and kid in keys, "kid is not in the keyring")
    try:
        claims = jwt.decode(
            token, _hmac_key(keys[kid]), algorithms=[ALGORITHM],
            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            options={
                "require_exp": True, "require_iat": True, "require_aud": True,
                "require_iss": True, "require_sub": True, "require_jti": True,
                "leeway": settings.jwt_leeway_seconds,
            },
        )
    except Exception as exc:  # JWTError, and bare TypeError/OverflowError alike
        raise InvalidToken(f"rejected by jose: {type(exc).__name__}: {str(exc)[:120]}") from exc
    return _claims_from(claims, settings.jwt_leeway_seconds)


def _claims_from(claims: dict[str, Any], leeway: int) -> AccessClaims:
    """Our own rules after the signature checks out (RFC 8725 §3.10-3.12)."""
    kind, subject, jti = claims.get("sk"), claims.get("sub"), claims.get("jti")
    scope, org = claims.get("scope"), claims.get("org")
    _refuse_unless(claims.get("token_use") == TOKEN_USE, "token_use is not access")  # §3.12
    _refuse_unless(isinstance(kind, str) and kind in SUBJECT_KINDS, "sk is not user or client")
    _refuse_unless(_is_version(claims.get("tv")), "tv is not an int >= 0")
    _refuse_unless(isinstance(subject, str) and bool(subject), "sub is not a non-empty string")
    _refuse_unless(isinstance(jti, str) and bool(jti), "jti is not a non-empty string")
    # NumericDates are JSON numbers (RFC 7519 §2); jose's int() also takes "1700000000".
    times = [claims[name] for name in ("iat", "exp", "nbf") if name in claims]
    _refuse_unless(all(type(value) is int for value in times), "iat/exp/nbf is not an integer")
    _refuse_unless(claims["iat"] <= datetime.now(UTC).timestamp() + leeway, "iat is in the future")
    _refuse_unless(kind == "client" or (scope is None and org is None), "user token carries scope or org")
    _refuse_unless(kind == "user" or isinstance(scope, str), "client token without a scope string")
    _refuse_unless(org is None or (isinstance(org, str) and bool(org)), "org is not a non-empty string")
    sid = claims.get("sid")
    _refuse_unless(sid is None or (kind == "user" and isinstance(sid, str) and bool(sid)), "bad sid")
    try:
        issued_at = datetime.fromtimestamp(claims["iat"], UTC)
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken("iat/exp out of range") from exc
    return AccessClaims(
        subject=subject, subject_kind=kind, token_version=claims["tv"],
        scopes=tuple(scope.split()) if scope else (), organisation_id=org,
        jti=jti, issued_at=issued_at, expires_at=expires_at, session_id=sid,
    )
