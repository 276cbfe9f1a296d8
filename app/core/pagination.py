"""Keyset pagination with opaque, signed cursors (CONVENTIONS.md "Lists"; RELIABILITY.md REL-12).

A cursor carries the sort values of the last row served plus its id. It is
signed, so a tampered or foreign cursor is a clean 422, never a 500 or a
query on attacker-chosen values. Ordering always ends on the unique id, which
keeps pages stable while rows are inserted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from app.core.config import get_settings
from app.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 512


def _key() -> bytes:
    settings = get_settings()
    return hashlib.sha256(b"cursor:" + settings.signing_keys[settings.signing_kid].encode()).digest()


def encode_cursor(values: list[Any], *, scope: str) -> str:
    """`scope` binds the cursor to one list (route + sort), so it cannot be replayed on another."""
    payload = json.dumps([scope, values], separators=(",", ":"), default=str).encode()
    sig = hmac.new(_key(), payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(sig + payload).decode().rstrip("=")


def _invalid() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid for this list; start again without it.",
                            errors=[{"pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                                     "message": "invalid cursor"}])


def decode_cursor(cursor: str, *, scope: str) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        raise _invalid() from None
    sig, payload = raw[:12], raw[12:]
    if not hmac.compare_digest(sig, hmac.new(_key(), payload, hashlib.sha256).digest()[:12]):
        raise _invalid()
    try:
        found_scope, values = json.loads(payload)
    except (ValueError, TypeError):
        raise _invalid() from None
    if found_scope != scope or not isinstance(values, list):
        raise _invalid()
    return values
