"""Reading the audit trail: scoped lists, single events and the chain check.

Who sees which event (Permission.audit_read):
- an event with an organisation is visible to callers whose scope contains that
  organisation (`scoping.in_scope`: admins of a subtree, an office over its
  body's member units, an integration client over its organisation);
- an event with no organisation (sign-ins, refused tokens, system jobs) is
  visible only to admins holding a membership on a root organisation (depth 0).
  Such events belong to no subtree, so no subtree scope can cover them; a
  province root admin answers for the whole installation's security. Design
  choice: a root admin of one province therefore also sees another province's
  unattributed events (e.g. sign-ins). Services that can name an organisation
  should pass it to `audit.record`, so the event is scoped like any record.
Outside that, an event is "not found" (404), so its existence does not leak.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz import scoping
from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import AuditEvent, Organisation, Role
from app.schemas.audit import AuditChainReport, AuditEventFilter
from app.services import audit

CURSOR_SCOPE = "audit_events:seq_desc"


async def sees_unattributed(session: AsyncSession, principal: Principal) -> bool:
    """Admin on a root organisation: may read events that carry no organisation."""
    admin_orgs = {g.organisation_id for g in principal.grants if g.role == Role.admin}
    if principal.kind != "user" or not admin_orgs:
        return False
    return bool(await session.scalar(select(exists().where(Organisation.id.in_(admin_orgs),
                                                           Organisation.depth == 0))))


async def _visible(session: AsyncSession, principal: Principal) -> ColumnElement[bool]:
    scoped = scoping.in_scope(AuditEvent.organisation_id, principal, Permission.audit_read)
    if await sees_unattributed(session, principal):
        return or_(scoped, AuditEvent.organisation_id.is_(None))
    return scoped


def _filtered(query: Select[Any], f: AuditEventFilter) -> Select[Any]:
    exact = {AuditEvent.action: f.action, AuditEvent.resource_type: f.resource_type,
             AuditEvent.resource_id: f.resource_id, AuditEvent.actor_id: f.actor_id,
             AuditEvent.outcome: f.outcome.value if f.outcome else None}
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if f.organisation_id is not None:
        query = query.where(scoping.within(AuditEvent.organisation_id, f.organisation_id))
    if f.occurred_from is not None:
        query = query.where(AuditEvent.occurred_at >= f.occurred_from)
    if f.occurred_to is not None:
        query = query.where(AuditEvent.occurred_at < f.occurred_to)
    return query


def _after_seq(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    values = decode_cursor(cursor, scope=CURSOR_SCOPE)
    if len(values) != 1 or type(values[0]) is not int:  # signed, so only a bug of ours could get here
        raise ValidationFailed("The cursor is not valid for this list; start again without it.")
    return values[0]


async def list_events(session: AsyncSession, principal: Principal, filters: AuditEventFilter, *, limit: int,
                      cursor: str | None, include_total: bool) -> tuple[list[AuditEvent], str | None, int | None]:
    """Events visible to the caller, newest first, keyset-paged on `seq` (unique, never reused).

    A seq is assigned when its transaction commits, so pages never shift: newer events only
    appear above the first page. 422 when `occurred_from` is not before `occurred_to` or the
    cursor is not one of ours."""
    if filters.occurred_from and filters.occurred_to and filters.occurred_from >= filters.occurred_to:
        raise ValidationFailed("occurred_from must be before occurred_to.", errors=[{
            "pointer": "query/occurred_to", "source": "query", "type": "invalid_range",
            "message": "must be after occurred_from"}])
    query = _filtered(select(AuditEvent).where(await _visible(session, principal)), filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) if include_total else None
    after = _after_seq(cursor)
    if after is not None:
        query = query.where(AuditEvent.seq < after)
    rows = list((await session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1))).all())
    next_cursor = encode_cursor([rows[limit - 1].seq], scope=CURSOR_SCOPE) if len(rows) > limit else None
    return rows[:limit], next_cursor, total


async def get_event(session: AsyncSession, principal: Principal, seq: int) -> AuditEvent:
    """One event by seq; 404 when it does not exist or is outside the caller's view."""
    event = await session.scalar(select(AuditEvent).where(AuditEvent.seq == seq,
                                                          await _visible(session, principal)))
    if event is None:
        raise NotFound("No such audit event in your scope.")
    return event


async def verify(session: AsyncSession) -> AuditChainReport:
    """Recompute the whole chain (admins only, enforced by the route). A broken chain is reported in
    the body (`ok: false`), not as an error status: the check itself succeeded."""
    report = await audit.verify_chain(session)
    return AuditChainReport(ok=report.ok, checked=report.checked, head_seq=report.head_seq,
                            head_hash=report.head_hash, first_broken_seq=report.first_broken_seq,
                            problem=report.problem)
