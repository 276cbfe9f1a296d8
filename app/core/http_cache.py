"""Cheap polling for the public portal: a strong ETag over the exact body, `If-None-Match` → 304,
and a short shared cache lifetime (RFC 9110 §8.8.3, §13.1.2; RFC 9111 §5.2.2).

Public routes (`/public/...`) call `cached_json`; the body is rendered once, hashed, and either
sent or replaced by an empty 304 when the caller already holds that version.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

PUBLIC_MAX_AGE_SECONDS = 60


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def cached_json(request: Request, model: BaseModel | Any, *, max_age: int = PUBLIC_MAX_AGE_SECONDS) -> Response:
    """The model as JSON with ETag and Cache-Control, or 304 when `If-None-Match` already names it."""
    response = JSONResponse(jsonable_encoder(model))
    etag = _etag(response.body)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
