"""The token check's cache of verified claims (app/dependencies.verified_claims): a hit returns
the same claims without verifying again, and a changed key ring is never served from it."""

from __future__ import annotations

import json

import pytest

from app import dependencies
from app.core.config import get_settings
from app.core.security import InvalidToken, issue_access_token

K1, K2 = "k1-" + "a" * 45, "k2-" + "b" * 45


def use_keyring(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], current: str) -> None:
    monkeypatch.setenv("JWT_KEYS", json.dumps(keys))
    monkeypatch.setenv("JWT_CURRENT_KID", current)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    get_settings.cache_clear()


def test_a_token_seen_before_is_not_verified_again(monkeypatch):
    use_keyring(monkeypatch, {"k1": K1}, "k1")
    token = issue_access_token(subject="u-1", subject_kind="user", token_version=3).token
    first = dependencies.verified_claims(token)
    calls = []
    monkeypatch.setattr(dependencies, "decode_access_token", lambda t: calls.append(t))
    assert dependencies.verified_claims(token) is first
    assert calls == []


def test_a_cached_token_is_refused_once_its_key_leaves_the_ring(monkeypatch):
    use_keyring(monkeypatch, {"k1": K1, "k2": K2}, "k1")
    token = issue_access_token(subject="u-2", subject_kind="user", token_version=0).token
    assert dependencies.verified_claims(token).subject == "u-2"
    use_keyring(monkeypatch, {"k2": K2}, "k2")  # k1 retired
    with pytest.raises(InvalidToken):
        dependencies.verified_claims(token)
