"""Strong ETags over (id, version) and the If-Match check (RFC 9110 §8.8.3, §13.1.1)."""

from __future__ import annotations

import hashlib
import uuid

from app.core.errors import PreconditionRequired, StaleResource


def make_etag(resource_id: uuid.UUID | str, version: int) -> str:
    digest = hashlib.sha256(f"{resource_id}:{version}".encode()).hexdigest()[:20]
    return f'"{version}-{digest}"'


def check_if_match(if_match: str | None, resource_id: uuid.UUID | str, version: int) -> None:
    """428 without If-Match, 412 when no listed tag matches the current version; `*` matches."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired("Send If-Match with the ETag from your last read of this record.")
    current = make_etag(resource_id, version)
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags:
        return
    normalised = {t.removeprefix("W/") for t in tags}
    if current not in normalised:
        raise StaleResource("The record changed since you read it; reload it and try again.",
                            current_etag=current)
