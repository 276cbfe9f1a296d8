"""Optimistic concurrency for plain edits: the one conditional UPDATE every non-workflow write uses.

If-Match is checked against the version the caller read (`app.core.etag.check_if_match`); this
write then only lands if the row still has that version (and any further condition, such as the
state it was edited in), so of two writers with the same ETag exactly one wins and the other gets
412 with the current ETag (RELIABILITY.md REL-01/02). Workflow steps use
`app.services.transitions.apply_transition`, which does the same with the status.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import StaleResource
from app.core.etag import make_etag
from app.models import utcnow


async def update_if_current(session: AsyncSession, record: Any, *conditions: ColumnElement[bool], noun: str,
                            **values: Any) -> None:
    """UPDATE `record` with `values` (version + 1, updated_at now) where its version is unchanged and
    `conditions` hold; 412 `StaleResource` naming the `noun` otherwise. Refreshes `record`."""
    model = type(record)
    result = await session.execute(
        update(model).where(model.id == record.id, model.version == record.version, *conditions)
        .values(**values, version=record.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(model.version).where(model.id == record.id))
        raise StaleResource(f"The {noun} changed since you read it; reload it and try again.",
                            current_etag=make_etag(record.id, current or record.version))
    await session.refresh(record)
