"""RELIABILITY.md API2-a over HTTP: every forged, expired or misused token gets the same 401.

The unit suite (tests/core/test_security.py) covers each refusal inside the token
module; this proves the API answers all of them identically, with
`WWW-Authenticate: Bearer`, and never a 5xx."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.conftest import TEST_KEYS
from tests.factories import token_for


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header: dict, claims: dict, key: str = TEST_KEYS["test-1"]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_for(user_id: str, **overrides) -> dict:
    now = int(time.time())
    base = {"iss": "envduty", "aud": "envduty-api", "sub": user_id, "iat": now, "nbf": now, "exp": now + 600,
            "jti": "j" * 32, "token_use": "access", "sk": "user", "tv": 0}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


HEADER = {"alg": "HS256", "typ": "at+jwt", "kid": "test-1"}


def forged_tokens(user_id: str) -> dict[str, str]:
    ok = claims_for(user_id)
    return {
        "alg_none": f"{b64(json.dumps({'alg': 'none', 'typ': 'at+jwt', 'kid': 'test-1'}).encode())}."
                    f"{b64(json.dumps(ok).encode())}.",
        "wrong_key": sign(HEADER, ok, key="w" * 48),
        "expired": sign(HEADER, claims_for(user_id, iat=int(time.time()) - 4000, nbf=int(time.time()) - 4000,
                                           exp=int(time.time()) - 3000)),
        "not_yet_valid": sign(HEADER, claims_for(user_id, nbf=int(time.time()) + 3000)),
        "missing_exp": sign(HEADER, claims_for(user_id, exp=None)),
        "missing_aud": sign(HEADER, claims_for(user_id, aud=None)),
        "missing_iss": sign(HEADER, claims_for(user_id, iss=None)),
        "missing_sub": sign(HEADER, claims_for(user_id, sub=None)),
        "wrong_aud": sign(HEADER, claims_for(user_id, aud="someone-else")),
        "wrong_iss": sign(HEADER, claims_for(user_id, iss="https://evil.example")),
        "refresh_used_as_access": sign(HEADER, claims_for(user_id, token_use="refresh")),
        "typ_jwt": sign({**HEADER, "typ": "JWT"}, ok),
        "unknown_kid": sign({**HEADER, "kid": "nope"}, ok),
        "kid_traversal": sign({**HEADER, "kid": "../../etc/passwd"}, ok),
        "kid_sql": sign({**HEADER, "kid": "' OR 1=1 --"}, ok),
        "jku_header": sign({**HEADER, "jku": "https://evil.example/jwks.json"}, ok),
        "jwk_header": sign({**HEADER, "jwk": {"kty": "oct", "k": "AAAA"}}, ok),
        "huge": "a" * 10_000,
        "bad_base64": "!!!.???.***",
        "two_segments": "abc.def",
        "stale_token_version": sign(HEADER, claims_for(user_id, tv=7)),
        "unknown_subject": sign(HEADER, claims_for("018f0000-0000-7000-8000-000000000000")),
        "subject_not_uuid": sign(HEADER, claims_for("admin")),
    }


CASES = list(forged_tokens("x").keys())


def comparable(response) -> dict:
    body = response.json()
    return {k: v for k, v in body.items() if k not in ("request_id",)}


class TestForgedTokens:
    @pytest.mark.parametrize("case", CASES)
    async def test_forged_token_is_refused_like_no_token(self, client, world, case):
        token = forged_tokens(str(world.users["admin"].id))[case]
        anonymous = await client.get("/me")
        forged = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert forged.status_code == 401
        assert forged.headers["www-authenticate"].startswith("Bearer")
        assert forged.headers["content-type"].startswith("application/problem+json")
        assert comparable(forged) == comparable(anonymous)

    async def test_the_genuine_token_works(self, client, world):
        r = await client.get("/me", headers={"Authorization": f"Bearer {token_for(world.users['admin'])}"})
        assert r.status_code == 200

    async def test_valid_token_of_a_deactivated_user_is_refused(self, client, world):
        r = await client.get("/me", headers={"Authorization": f"Bearer {token_for(world.users['inactive'])}"})
        assert r.status_code == 401
