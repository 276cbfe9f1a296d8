"""Reading the transition history of one workflow record (DOMAIN.md: `GET /{resource}/{id}/history`).

The caller's service has already checked that the record is visible (404 otherwise);
this module only pages its rows, oldest first, keyed on (occurred_at, id).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import TransitionHistory
from app.schemas.history import HistoryEntryRead, HistoryPage


async def history_page(session: AsyncSession, resource_type: str, resource_id: uuid.UUID, *, limit: int,
                       cursor: str | None) -> HistoryPage:
    scope = f"history/{resource_type}/{resource_id}"
    stmt = select(TransitionHistory).where(TransitionHistory.resource_type == resource_type,
                                           TransitionHistory.resource_id == resource_id)
    if cursor:
        values = decode_cursor(cursor, scope=scope)
        try:
            at, row_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (ValueError, TypeError, IndexError):
            raise ValidationFailed("The cursor is not valid for this list; start again without it.", errors=[{
                "pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                "message": "invalid cursor"}]) from None
        stmt = stmt.where(or_(TransitionHistory.occurred_at > at,
                              and_(TransitionHistory.occurred_at == at, TransitionHistory.id > row_id)))
    rows = list((await session.scalars(stmt.order_by(TransitionHistory.occurred_at, TransitionHistory.id)
                                       .limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].occurred_at.isoformat(), str(rows[-1].id)], scope=scope)
    return HistoryPage(items=[HistoryEntryRead.model_validate(r, from_attributes=True) for r in rows],
                       next_cursor=next_cursor)
