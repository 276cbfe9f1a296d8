"""Domain events: the outbox behind webhooks and the change feed (issue 7 items 1, 2).

`emit` adds the event, and one pending delivery per matching subscription, to the caller's session:
they commit with the change or not at all (no event for a rolled-back change, no change without its
event). Who may see an event follows the read permission of its kind (`EVENT_TYPES`) in the
organisation subtree it is filed under; a subscription only ever gets what its client could read.

Feed positions are handed out by `assign_positions` (run by the worker), never by `emit`: insert
ids commit out of order under concurrent writers, positions assigned over committed rows in one
serialised step do not.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import CLIENT_SCOPES, Permission
from app.authz.scoping import in_scope
from app.models import (
    Event,
    EventFeedHead,
    IntegrationClient,
    OrganisationClosure,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)
from app.schemas.webhooks import EventFeedFilter, EventPage, EventRead
from app.services import notifications
from app.services.audit import jsonable

# Every event type, with the permission that reading its subject needs.
EVENT_TYPES: dict[str, Permission] = {
    "finding.assigned": Permission.findings_read,
    "finding.closed": Permission.findings_read,
    "finding.overdue": Permission.findings_read,
    "report.submitted": Permission.reports_read,
    "report.returned": Permission.reports_read,
    "report.overdue": Permission.reports_read,
    "duty_list.published": Permission.duty_lists_read,
    "lead_decision.approved": Permission.lead_decisions_read,
}


def readable_types(permissions: frozenset[Permission] | set[Permission]) -> list[str]:
    return sorted(t for t, p in EVENT_TYPES.items() if p in permissions)


def client_permissions(client: IntegrationClient) -> set[Permission]:
    return {CLIENT_SCOPES[s] for s in client.scopes or [] if s in CLIENT_SCOPES}


async def emit(session: AsyncSession, type_: str, subject: tuple[str, Any], organisation_id: uuid.UUID | None,
               payload: dict[str, Any] | None = None, *, occurred_at: datetime | None = None) -> Event:
    """Write one event (and its deliveries) into the current transaction. `subject` = (type, id)."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    now = occurred_at or utcnow()
    event = Event(type=type_, subject_type=subject[0], subject_id=str(subject[1]), organisation_id=organisation_id,
                  payload=jsonable(payload or {}), occurred_at=now)
    session.add(event)
    await session.flush()
    if organisation_id is None:
        return event
    rows = (await session.execute(
        select(WebhookSubscription.id, WebhookSubscription.event_types, IntegrationClient.scopes)
        .join(IntegrationClient, IntegrationClient.id == WebhookSubscription.client_id)
        .where(WebhookSubscription.is_active.is_(True), IntegrationClient.is_active.is_(True),
               select(OrganisationClosure.depth).where(
                   OrganisationClosure.descendant_id == organisation_id,
                   OrganisationClosure.ancestor_id == IntegrationClient.organisation_id).exists()))).all()
    await notifications.for_event(session, type_, subject, organisation_id, event.payload, now)
    needed = EVENT_TYPES[type_]
    deliveries = [WebhookDelivery(event_id=event.id, subscription_id=sub_id, status="pending", attempts=0,
                                  next_attempt_at=now)
                  for sub_id, types, scopes in rows
                  if type_ in (types or []) and needed in {CLIENT_SCOPES.get(s) for s in scopes or []}]
    if deliveries:
        session.add_all(deliveries)
        await session.flush()
    return event


async def assign_positions(session: AsyncSession, *, batch: int = 500) -> int:
    """Give committed events without a feed position the next positions, in id order.

    The head row is locked first; a second assigner waits and then sees this one's work. Only rows
    that committed before this statement are seen, so a late commit gets a later position."""
    head = await session.scalar(select(EventFeedHead.position).where(EventFeedHead.id == 1).with_for_update())
    if head is None:
        session.add(EventFeedHead(id=1, position=0))
        await session.flush()
        head = 0
    ids = list((await session.scalars(select(Event.id).where(Event.position.is_(None))
                                      .order_by(Event.id).limit(batch))).all())
    for offset, event_id in enumerate(ids, start=1):
        await session.execute(update(Event).where(Event.id == event_id).values(position=head + offset)
                              .execution_options(synchronize_session=False))
    if ids:
        await session.execute(update(EventFeedHead).where(EventFeedHead.id == 1).values(position=head + len(ids)))
    return len(ids)


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: events the caller may read (type's permission, in that permission's scope)."""
    clauses = [(Event.type.in_([t for t, p in EVENT_TYPES.items() if p == permission]))
               & in_scope(Event.organisation_id, principal, permission)
               for permission in sorted(set(EVENT_TYPES.values()), key=lambda p: p.value)
               if principal.has(permission)]
    return or_(*clauses) if clauses else false()


async def feed(session: AsyncSession, principal: Principal, f: EventFeedFilter) -> EventPage:
    """Events after position `f.after` that the caller may read, in position order."""
    stmt = select(Event).where(Event.position.is_not(None), Event.position > f.after, visible(principal))
    if f.type is not None:
        stmt = stmt.where(Event.type == f.type.value)
    rows = list((await session.scalars(stmt.order_by(Event.position).limit(f.limit))).all())
    items = [EventRead(position=e.position or 0, id=e.event_id, type=e.type, subject_type=e.subject_type,
                       subject_id=e.subject_id, organisation_id=e.organisation_id, occurred_at=e.occurred_at,
                       data=e.payload or {}) for e in rows]
    return EventPage(items=items, next_after=items[-1].position if items else f.after)
