"""app.core.security: the forged-token suite (RELIABILITY API2-a), key rotation (AUTH-4),
password storage and policy (AUTH-1, AUTH-2, API2-c), opaque secrets."""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core import security
from app.core.config import get_settings
from app.core.security import (
    InvalidToken,
    constant_time_equals,
    decode_access_token,
    digest_secret,
    hash_password,
    hash_password_async,
    issue_access_token,
    new_client_secret,
    new_opaque_secret,
    password_problems,
    verify_dummy_password,
    verify_dummy_password_async,
    verify_password,
    verify_password_async,
)

K1 = "k1-" + "a" * 45
K2 = "k2-" + "b" * 45
ISSUER, AUDIENCE, LEEWAY = "envduty-test", "envduty-api-test", 30
APP_DIR = Path(__file__).resolve().parents[2] / "app"


def use_keyring(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], current: str) -> None:
    monkeypatch.setenv("JWT_KEYS", json.dumps(keys))
    monkeypatch.setenv("JWT_CURRENT_KID", current)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("JWT_LEEWAY_SECONDS", str(LEEWAY))
    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "900")
    monkeypatch.setenv("CLIENT_TOKEN_TTL_SECONDS", "600")
    use_keyring(monkeypatch, {"k1": K1}, "k1")
    yield get_settings()
    get_settings.cache_clear()  # monkeypatch restores the env after this; next call re-reads it


# ------------------------------------------------------------------ forging helpers


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def good_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "nbf": now, "exp": now + 600,
        "jti": "j" * 32, "token_use": "access", "sk": "user", "tv": 0,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not DROP}


DROP = object()


def forge(claims: dict | None = None, *, header: dict | None = None, key: bytes | str = K1,
          raw_payload: str | None = None) -> str:
    """HS256 by hand: base64url(JSON) segments + HMAC-SHA256 over them with `key`."""
    head = {"alg": "HS256", "typ": "at+jwt", "kid": "k1"} if header is None else header
    h = b64(json.dumps(head).encode())
    p = b64((raw_payload if raw_payload is not None else json.dumps(claims or good_claims())).encode())
    secret = key.encode() if isinstance(key, str) else key
    sig = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


def refused(token) -> str:
    with pytest.raises(InvalidToken) as info:
        decode_access_token(token)
    return info.value.reason


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_hand_forged_token_with_the_right_key_is_accepted():
    """Guards the suite: every refusal below is caused by the one thing each case changes."""
    assert decode_access_token(forge()).subject == "user-1"


# ------------------------------------------------------------ forged-token suite (API2-a)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(alg):
    header = {"alg": alg, "typ": "at+jwt", "kid": "k1"}
    unsigned = forge(header=header).rsplit(".", 1)[0]
    refused(unsigned + ".")
    refused(unsigned + "." + b64(b"x" * 32))


@pytest.mark.parametrize("form", ["pem", "der", "openssh"])
def test_hs256_signed_with_rsa_public_key_is_refused(rsa_key, form):
    """Algorithm confusion (RELIABILITY finding 1): the public key used as HMAC secret."""
    public = rsa_key.public_key()
    encoded = {
        "pem": lambda: public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "der": lambda: public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "openssh": lambda: public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
    }[form]()
    refused(forge(key=encoded))


def test_rs256_signed_token_is_refused(rsa_key):
    """The keyring holds only HMAC secrets; an RS256 token is refused whatever it says."""
    h = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "k1"}).encode())
    p = b64(json.dumps(good_claims()).encode())
    sig = rsa_key.sign(f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert "alg" in refused(f"{h}.{p}.{b64(sig)}")


def test_wrong_key_is_refused():
    refused(forge(key="some-other-secret-of-at-least-32-bytes!!"))


def test_expired_beyond_leeway_is_refused():
    now = int(time.time())
    refused(forge(good_claims(iat=now - 1000, nbf=now - 1000, exp=now - LEEWAY - 30)))


def test_nbf_in_the_future_is_refused():
    refused(forge(good_claims(nbf=int(time.time()) + LEEWAY + 60)))


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sub", "iat", "jti"])
def test_missing_required_claim_is_refused(claim):
    refused(forge(good_claims(**{claim: DROP})))


def test_wrong_audience_is_refused():
    refused(forge(good_claims(aud="another-api")))


def test_wrong_issuer_is_refused():
    refused(forge(good_claims(iss="https://evil.example")))


@pytest.mark.parametrize("use", ["refresh", "id", DROP])
def test_token_use_other_than_access_is_refused(use):
    refused(forge(good_claims(token_use=use)))


@pytest.mark.parametrize("typ", [DROP, "JWT", "at+JWT", "refresh+jwt"])
def test_typ_missing_or_not_at_jwt_is_refused(typ):
    header = {"alg": "HS256", "typ": typ, "kid": "k1"}
    refused(forge(header={k: v for k, v in header.items() if v is not DROP}))


@pytest.mark.parametrize(
    "kid", ["k9", "../../etc/passwd", "' OR 1=1 --", "", ["k1"], {"k1": 1}, 1, None, DROP],
    ids=["unknown", "path-traversal", "sql-injection", "empty", "list", "object", "int", "null", "missing"],
)
def test_kid_outside_the_keyring_is_refused(kid):
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    refused(forge(header={k: v for k, v in header.items() if v is not DROP}))


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c", "crit", "cty"])
def test_key_pointing_or_extra_headers_are_refused(name):
    """RFC 8725 §3.4: keys come only from our ring; nothing is fetched or embedded."""
    value = {"jwk": {"kty": "oct", "k": b64(b"attacker-key-" * 3)}, "x5c": ["MIIB"], "crit": ["exp"]}.get(
        name, "https://evil.example/keys"
    )
    assert "unexpected header" in refused(forge(header={"alg": "HS256", "typ": "at+jwt", "kid": "k1", name: value}))


def test_10kb_token_is_refused_even_when_correctly_signed():
    assert "4096" in refused(forge(good_claims(pad="x" * 10_000)))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h, p, s: f"{h}!.{p}.{s}",  # character outside base64url
        lambda h, p, s: f"{h}.{p}.{s}=",  # padding (jose itself accepts it)
        lambda h, p, s: f"{h}.{p}.{s[:5]}!!{s[5:]}",  # jose skips stray characters
        lambda h, p, s: f"{h}.{p}.",  # empty signature
        lambda h, p, s: f"a.{p}.{s}",  # header of impossible length (1 mod 4)
        lambda h, p, s: f"{b64(b'not json')}.{p}.{s}",
        lambda h, p, s: f"{b64(b'[1,2]')}.{p}.{s}",
        lambda h, p, s: f" {h}.{p}.{s}",
    ],
    ids=["bad-char", "padding", "stray-chars", "empty-sig", "bad-length", "header-not-json",
         "header-not-object", "whitespace"],
)
def test_bad_base64_or_malformed_segments_are_refused(mangle):
    refused(mangle(*forge().split(".")))


@pytest.mark.parametrize("shape", ["two", "four", "one", "empty"])
def test_wrong_segment_count_is_refused(shape):
    h, p, s = forge().split(".")
    refused({"two": f"{h}.{p}", "four": f"{h}.{p}.{s}.{s}", "one": h, "empty": ""}[shape])


@pytest.mark.parametrize("token", [None, 42, b"abc.def.ghi"], ids=["none", "int", "bytes"])
def test_non_string_token_is_refused(token):
    refused(token)


@pytest.mark.parametrize("tv", ["0", True, False, -1, 1.0, None, DROP], ids=repr)
def test_token_version_must_be_a_non_negative_int(tv):
    refused(forge(good_claims(tv=tv)))


@pytest.mark.parametrize("sub", [123, "", ["user-1"], None])
def test_subject_must_be_a_non_empty_string(sub):
    refused(forge(good_claims(sub=sub)))


@pytest.mark.parametrize("sk", ["admin", "", ["user"], None, DROP], ids=repr)
def test_subject_kind_must_be_user_or_client(sk):
    refused(forge(good_claims(sk=sk)))


@pytest.mark.parametrize(
    "claim,value",
    [("exp", None), ("exp", [1]), ("iat", {}), ("nbf", None), ("exp", "9999999999"), ("iat", True),
     ("exp", 10**30)],
    ids=["exp-null", "exp-list", "iat-object", "nbf-null", "exp-numeric-string", "iat-bool", "exp-huge"],
)
def test_malformed_numeric_dates_are_refused(claim, value):
    """jose raises bare TypeError for null/list/object and accepts numeric strings."""
    refused(forge(good_claims(**{claim: value})))


def test_exp_overflowing_to_infinity_is_refused():
    """JSON 1e400 parses to inf; jose raises a bare OverflowError on it."""
    payload = json.dumps(good_claims()).replace('"exp": ', '"exp": 1e400, "x": ')
    refused(forge(raw_payload=payload))


def test_iat_in_the_future_is_refused():
    refused(forge(good_claims(iat=int(time.time()) + LEEWAY + 120)))


def test_user_token_with_scope_or_org_is_refused():
    refused(forge(good_claims(scope="admin")))
    refused(forge(good_claims(org="org-1")))


def test_client_token_without_scope_is_refused():
    refused(forge(good_claims(sk="client")))


@pytest.mark.parametrize("payload", ["[1, 2]", "null", "not json"])
def test_payload_that_is_not_a_json_object_is_refused(payload):
    refused(forge(raw_payload=payload))


def test_public_key_in_the_keyring_is_never_used_as_hmac_secret(monkeypatch, rsa_key):
    """Operator mistake: a PEM public key configured as the secret. jose refuses the key."""
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    use_keyring(monkeypatch, {"k1": pem.decode()}, "k1")
    refused(forge(key=pem))


def test_secret_that_parses_as_json_is_used_verbatim(monkeypatch):
    """Given a str key, jose's verify json.loads() it: '"abc"' would verify as abc."""
    quoted = '"' + K2 + '"'
    use_keyring(monkeypatch, {"k1": quoted}, "k1")
    refused(forge(key=K2))
    assert decode_access_token(forge(key=quoted)).subject == "user-1"


# ----------------------------------------------------------------- key rotation (AUTH-4)


def test_token_from_previous_key_verifies_while_that_key_stays_in_the_ring(monkeypatch):
    old = issue_access_token(subject="u1", subject_kind="user", token_version=0)
    use_keyring(monkeypatch, {"k2": K2, "k1": K1}, "k2")
    new = issue_access_token(subject="u1", subject_kind="user", token_version=0)
    assert security.jwt.get_unverified_header(new.token)["kid"] == "k2"
    assert decode_access_token(old.token).subject == "u1"
    assert decode_access_token(new.token).subject == "u1"


def test_token_from_previous_key_is_refused_once_the_key_is_removed(monkeypatch):
    old = issue_access_token(subject="u1", subject_kind="user", token_version=0)
    use_keyring(monkeypatch, {"k2": K2}, "k2")
    assert "kid" in refused(old.token)
    relabelled = forge(header={"alg": "HS256", "typ": "at+jwt", "kid": "k2"}, key=K1)
    assert "Signature verification failed" in refused(relabelled)


# ------------------------------------------------------------------ issuing round trips


def test_user_token_round_trip(settings):
    issued = issue_access_token(subject="user-42", subject_kind="user", token_version=3)
    header = security.jwt.get_unverified_header(issued.token)
    claims = security.jwt.get_unverified_claims(issued.token)
    assert header == {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}
    assert set(claims) == {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "token_use", "sk", "tv"}
    assert (claims["iss"], claims["aud"], claims["jti"]) == (ISSUER, AUDIENCE, issued.jti)
    assert re.fullmatch(r"[0-9a-f]{32}", issued.jti)
    assert issued.expires_in == 900 == claims["exp"] - claims["iat"]
    decoded = decode_access_token(issued.token)
    assert (decoded.subject, decoded.subject_kind, decoded.token_version) == ("user-42", "user", 3)
    assert (decoded.scopes, decoded.organisation_id, decoded.jti) == ((), None, issued.jti)
    assert decoded.expires_at - decoded.issued_at == timedelta(seconds=900)
    assert decoded.issued_at.tzinfo is UTC
    assert issued.token not in repr(issued)


def test_client_token_round_trip():
    issued = issue_access_token(subject="client-7", subject_kind="client", token_version=0,
                                scopes=["findings:read", "reports:write"], organisation_id="org-3")
    claims = security.jwt.get_unverified_claims(issued.token)
    assert claims["scope"] == "findings:read reports:write" and claims["org"] == "org-3"
    assert issued.expires_in == 600
    decoded = decode_access_token(issued.token)
    assert decoded.subject_kind == "client"
    assert decoded.scopes == ("findings:read", "reports:write")
    assert decoded.organisation_id == "org-3"


def test_expired_within_leeway_is_accepted():
    now = datetime.now(UTC) - timedelta(seconds=900 + LEEWAY - 10)
    issued = issue_access_token(subject="u", subject_kind="user", token_version=0, now=now)
    assert decode_access_token(issued.token).expires_at < datetime.now(UTC)


def test_issuer_clock_ahead_within_leeway_is_accepted():
    now = datetime.now(UTC) + timedelta(seconds=LEEWAY - 10)
    issued = issue_access_token(subject="u", subject_kind="user", token_version=0, now=now)
    assert decode_access_token(issued.token).subject == "u"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subject": "", "subject_kind": "user", "token_version": 0},
        {"subject": "u", "subject_kind": "admin", "token_version": 0},
        {"subject": "u", "subject_kind": "user", "token_version": -1},
        {"subject": "u", "subject_kind": "user", "token_version": True},
        {"subject": "u", "subject_kind": "user", "token_version": 0, "scopes": ["a"]},
        {"subject": "u", "subject_kind": "user", "token_version": 0, "organisation_id": "o"},
        {"subject": "c", "subject_kind": "client", "token_version": 0, "scopes": ["a b"]},
        {"subject": "c", "subject_kind": "client", "token_version": 0, "scopes": [""]},
        {"subject": "u", "subject_kind": "user", "token_version": 0, "ttl_seconds": 0},
        {"subject": "u", "subject_kind": "user", "token_version": 0, "now": datetime(2026, 1, 1)},
    ],
)
def test_issuing_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        issue_access_token(**kwargs)


# ---------------------------------------------------------------- passwords (AUTH-1/2)


def test_hash_is_argon2id_at_or_above_the_asvs_floor():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$")
    params = dict(kv.split("=") for kv in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert verify_password("correct horse battery staple", stored) == (True, None)
    assert verify_password("correct horse battery stapl", stored) == (False, None)


@pytest.mark.parametrize("length", [64, 128])
def test_long_passwords_verify_exactly_without_truncation(length):
    plain = "".join(chr(ord("a") + i % 26) for i in range(length - 1)) + "Z"
    stored = hash_password(plain)
    assert verify_password(plain, stored) == (True, None)
    assert verify_password(plain[:-1] + "Y", stored) == (False, None)
    assert verify_password(plain[:-1], stored) == (False, None)


def test_unicode_password_verifies_and_is_not_case_folded():
    plain = "Grüße 环境 督察 🔐 пароль"
    stored = hash_password(plain)
    assert verify_password(plain, stored) == (True, None)
    assert verify_password(plain.upper(), stored) == (False, None)


def test_hash_with_weaker_parameters_is_upgraded_on_verify():
    weak = Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1).hash("upgrade me please")
    ok, updated = verify_password("upgrade me please", weak)
    assert ok and updated is not None and updated != weak
    assert "m=65536,t=3,p=4" in updated
    assert verify_password("upgrade me please", updated) == (True, None)
    assert verify_password("wrong password", weak) == (False, None)


def test_unrecognised_hash_format_fails_closed():
    assert verify_password("whatever1", "$2b$12$" + "a" * 53) == (False, None)
    assert verify_password("whatever1", "") == (False, None)


def test_dummy_verify_runs_a_full_argon2_verify(monkeypatch):
    seen = []
    real_verify = security._password_hash.verify
    monkeypatch.setattr(security._password_hash, "verify", lambda p, h: seen.append(h) or real_verify(p, h))
    assert verify_dummy_password("nobody's password") is None
    assert len(seen) == 1 and seen[0].startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    "plain,expected",
    [
        ("abcdefg", ["must be at least 8 characters"]),
        ("abcdefgh", []),
        ("password", ["is one of the most commonly used passwords"]),
        ("PASSWORD", ["is one of the most commonly used passwords"]),
        ("Passw0rd!", ["is one of the most commonly used passwords"]),
        ("qwertyuiop", ["is one of the most commonly used passwords"]),
        ("12345678", ["is one of the most commonly used passwords"]),
        ("x" * 64, []),
        ("x" * 128, []),
        ("x" * 129, ["must be at most 128 characters"]),
        ("环境督察密码长一点", []),
    ],
    ids=["7-chars", "8-chars", "common", "common-upper", "common-symbols", "qwertyuiop", "digits",
         "64-chars", "128-chars", "129-chars", "unicode"],
)
def test_password_problems(plain, expected):
    assert password_problems(plain) == expected


# ------------------------------------------------------- async wrappers and the hash cap


class SlowHasher:
    """Stands in for pwdlib: records how many hashes run at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.active, self.peak, self.lock = seconds, 0, 0, threading.Lock()

    def _work(self, result):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.seconds)
        with self.lock:
            self.active -= 1
        return result

    def hash(self, plain):
        return self._work("$argon2id$fake")

    def verify(self, plain, stored):
        return self._work(False)

    def verify_and_update(self, plain, stored):
        return self._work((False, None))


async def test_async_wrappers_round_trip():
    stored = await hash_password_async("async password 1")
    assert await verify_password_async("async password 1", stored) == (True, None)
    assert await verify_password_async("async password 2", stored) == (False, None)
    assert await verify_dummy_password_async("async password 1") is None


async def test_concurrent_hashing_is_capped_at_four(monkeypatch):
    fake = SlowHasher(0.05)
    monkeypatch.setattr(security, "_password_hash", fake)
    monkeypatch.setattr(security, "_dummy_hash", lambda: "$argon2id$fake")
    await asyncio.gather(*(verify_password_async("p", "h") for _ in range(8)),
                         *(hash_password_async("p") for _ in range(4)),
                         *(verify_dummy_password_async("p") for _ in range(4)))
    threads = [threading.Thread(target=hash_password, args=("p",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 < fake.peak <= security.HASH_CONCURRENCY


async def test_hashing_does_not_block_the_event_loop(monkeypatch):
    monkeypatch.setattr(security, "_password_hash", SlowHasher(0.3))
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await hash_password_async("p")
    task.cancel()
    assert ticks >= 10


# -------------------------------------------------------------------- opaque secrets


def test_opaque_secrets_are_random_urlsafe_and_long_enough():
    values = {new_opaque_secret() for _ in range(100)}
    assert len(values) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", v) for v in values)  # 32 bytes
    with pytest.raises(ValueError):
        new_opaque_secret(8)


def test_client_secret_is_prefixed_and_random():
    a, b = new_client_secret(), new_client_secret()
    assert a != b and a.startswith(security.CLIENT_SECRET_PREFIX) and len(a) >= 43


def test_digest_is_sha256_hex():
    raw = new_opaque_secret()
    assert digest_secret(raw) == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest_secret(raw)) and digest_secret(raw) != raw


def test_constant_time_equals():
    assert constant_time_equals("abc", "abc") and constant_time_equals(b"abc", "abc")
    assert not constant_time_equals("abc", "abd") and not constant_time_equals("abc", "abcd")
    assert constant_time_equals("密钥", "密钥") and not constant_time_equals("密钥", "密码")


# ------------------------------------------------------------------------ boundaries


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_core_security_imports_jose_and_pwdlib():
    offenders = [
        str(path.relative_to(APP_DIR))
        for path in APP_DIR.rglob("*.py")
        if path.name != "security.py" or path.parent.name != "core"
        if any(name.split(".")[0] in {"jose", "jwt", "pwdlib", "passlib"} for name in _imports(path))
    ]
    assert offenders == []


def test_core_security_imports_only_config_from_app():
    from_app = {n for n in _imports(APP_DIR / "core" / "security.py") if n.split(".")[0] == "app"}
    assert from_app == {"app.core.config"}
