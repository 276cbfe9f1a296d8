"""Keyset pages over any SELECT (CONVENTIONS.md "Lists"; RELIABILITY.md REL-12).

The sort keys end on a unique id, so pages are stable while rows are inserted; the
cursor is signed and bound to one list (`scope`), so a foreign or tampered cursor is
a clean 422. Never OFFSET: page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor

_PARSERS: dict[str, Callable[[Any], Any]] = {"int": int, "ts": datetime.fromisoformat, "id": uuid.UUID,
                                             "date": date.fromisoformat, "str": str}


def _after(keys: Sequence[ColumnElement[Any]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the lexicographic order of `keys` (all ascending)."""
    return or_(*(and_(*(keys[j] == values[j] for j in range(i)), keys[i] > values[i]) for i in range(len(keys))))


def _invalid() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid for this list; start again without it.",
                            errors=[{"pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                                     "message": "invalid cursor"}])


def _decode(cursor: str, scope: str, kinds: Sequence[str]) -> list[Any]:
    values = decode_cursor(cursor, scope=scope)
    if len(values) != len(kinds):
        raise _invalid()
    try:
        return [_PARSERS[k](v) for k, v in zip(kinds, values, strict=True)]
    except (ValueError, TypeError):  # signed by us: only a cursor of an older format lands here
        raise _invalid() from None


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value) if isinstance(
        value, uuid.UUID) else value


async def keyset_page(session: AsyncSession, stmt: Select[Any], *, keys: Sequence[ColumnElement[Any]],
                      kinds: Sequence[str], scope: str, limit: int, cursor: str | None, include_total: bool,
                      key_values: Callable[[Any], Sequence[Any]]) -> tuple[list[Any], str | None, int | None]:
    """One page of `stmt` ordered by `keys`; `key_values(row)` gives a row's sort values for the cursor.

    Returns (rows, next_cursor, total-or-None). `stmt` must not be ordered or limited yet."""
    total = None
    if include_total:
        total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if cursor:
        stmt = stmt.where(_after(keys, _decode(cursor, scope, kinds)))
    rows = list((await session.execute(stmt.order_by(*keys).limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([_encode(v) for v in key_values(rows[-1])], scope=scope)
    return rows, next_cursor, total
