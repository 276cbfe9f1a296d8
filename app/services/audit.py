"""Writing and checking the audit trail.

Services call `record(...)` as they change things; the events wait in the
session and are chained and inserted by `flush_pending` just before commit, so
the chain-head row lock is held for the shortest possible time. Events marked
`keep_on_failure` (failed logins, refused refresh tokens) are written even when
the request's own work is rolled back: that is what the session dependency
does with `persist_after_rollback`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import actor_var, client_address_var, request_id_var
from app.models import GENESIS_HASH, AuditChainHead, AuditEvent, new_id, utcnow

PENDING_KEY = "audit_pending"


@dataclass
class PendingEvent:
    action: str
    resource_type: str
    resource_id: str | None
    organisation_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    outcome: str
    detail: str | None
    keep_on_failure: bool
    occurred_at: datetime = field(default_factory=utcnow)
    id: uuid.UUID = field(default_factory=new_id)
    actor_type: str = field(default_factory=lambda: actor_var.get().type)
    actor_id: str | None = field(default_factory=lambda: actor_var.get().id)
    actor_name: str | None = field(default_factory=lambda: actor_var.get().name)
    request_id: str | None = field(default_factory=request_id_var.get)
    client_address: str | None = field(default_factory=client_address_var.get)


def jsonable(value: Any) -> Any:
    """Before/after snapshots as plain JSON (UUIDs, dates and enums as strings)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False)) if value is not None else None


def record(session: AsyncSession, *, action: str, resource_type: str, resource_id: Any = None,
           organisation_id: uuid.UUID | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, outcome: str = "success", detail: str | None = None,
           keep_on_failure: bool = False) -> None:
    pending: list[PendingEvent] = session.info.setdefault(PENDING_KEY, [])
    pending.append(PendingEvent(action=action, resource_type=resource_type,
                                resource_id=str(resource_id) if resource_id is not None else None,
                                organisation_id=organisation_id, before=jsonable(before), after=jsonable(after),
                                outcome=outcome, detail=(detail or None) and detail[:500],
                                keep_on_failure=keep_on_failure))


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, seq: int, fields: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON of the event: the same bytes on SQLite and PostgreSQL."""
    canonical = json.dumps({**fields, "seq": seq, "prev_hash": prev_hash}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(row: AuditEvent | PendingEvent) -> dict[str, Any]:
    return {
        "id": str(row.id), "occurred_at": _ts(row.occurred_at), "actor_type": row.actor_type,
        "actor_id": row.actor_id, "actor_name": row.actor_name, "action": row.action, "outcome": row.outcome,
        "resource_type": row.resource_type, "resource_id": row.resource_id,
        "organisation_id": str(row.organisation_id) if row.organisation_id else None,
        "before": row.before, "after": row.after, "detail": row.detail, "request_id": row.request_id,
        "client_address": row.client_address,
    }


async def flush_pending(session: AsyncSession, *, only_kept: bool = False) -> int:
    """Chain and insert this session's pending events. Call right before commit."""
    pending: list[PendingEvent] = session.info.pop(PENDING_KEY, [])
    if only_kept:
        pending = [e for e in pending if e.keep_on_failure]
    if not pending:
        return 0
    # The head row is the lock and the counter: concurrent writers queue here (finding 7).
    head = (await session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1).with_for_update())).one()
    seq, prev = head.seq, head.hash
    rows = []
    for event in pending:
        seq += 1
        fields = hashed_fields(event)
        digest = event_hash(prev, seq, fields)
        rows.append({"seq": seq, "id": event.id, "occurred_at": event.occurred_at,
                     "actor_type": event.actor_type, "actor_id": event.actor_id, "actor_name": event.actor_name,
                     "action": event.action, "outcome": event.outcome, "resource_type": event.resource_type,
                     "resource_id": event.resource_id, "organisation_id": event.organisation_id,
                     "before": event.before, "after": event.after, "detail": event.detail,
                     "request_id": event.request_id, "client_address": event.client_address,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    await session.execute(insert(AuditEvent), rows)
    await session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=seq, hash=prev))
    return len(rows)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None
    problem: str | None


async def verify_chain(session: AsyncSession, *, batch: int = 2000) -> ChainReport:
    """Recompute every link in seq order; report the first event whose stored data or link is wrong.

    Safe while others write: it checks the chain up to the head it read first. Under PostgreSQL's
    READ COMMITTED every statement sees newer commits, so without that bound events committed
    during the scan would be counted against the old head and look like tampering."""
    head = (await session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                                  .where(AuditChainHead.id == 1))).one()
    prev, expected_seq, checked, after = GENESIS_HASH, 1, 0, 0
    while True:
        rows = (await session.scalars(select(AuditEvent).where(AuditEvent.seq > after, AuditEvent.seq <= head.seq)
                                      .order_by(AuditEvent.seq).limit(batch))).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(False, checked, head.seq, head.hash, expected_seq, "missing event")
            if row.prev_hash != prev or row.hash != event_hash(prev, row.seq, hashed_fields(row)):
                return ChainReport(False, checked, head.seq, head.hash, row.seq, "event altered")
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
        after = rows[-1].seq
        session.expunge_all()
    if checked != head.seq or prev != head.hash:
        return ChainReport(False, checked, head.seq, head.hash, checked + 1, "chain head does not match the events")
    # Rows above the head were not written by flush_pending. Newest event first, then the head again:
    # events and head commit together, so a genuine event seen here has its head move visible below.
    newest = await session.scalar(select(func.max(AuditEvent.seq)))
    head_now = await session.scalar(select(AuditChainHead.seq).where(AuditChainHead.id == 1))
    if newest is not None and head_now is not None and newest > head_now:
        return ChainReport(False, checked, head.seq, head.hash, head_now + 1, "event beyond the chain head")
    return ChainReport(True, checked, head.seq, head.hash, None, None)
