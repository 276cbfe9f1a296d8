"""Webhook subscriptions (per integration client) and their deliveries, managed by admins with
clients:manage for clients of organisations in their scope (out of scope: 404).

Rules: the URL passes the SSRF check (app.services.ssrf) when saved, else 422 on `/url`; every
event type must be readable with the client's scopes (else 422 on `/event_types/i`), because
deliveries only ever carry what the client could read. The signing secret is shown once, at
creation and rotation; after a rotation the previous secret keeps signing alongside the new one
for WEBHOOK_SECRET_OVERLAP_HOURS, so receivers can switch without losing a delivery.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.config import get_settings
from app.core.errors import FieldErrors, NotFound, StaleResource
from app.core.etag import check_if_match, make_etag
from app.models import Event, IntegrationClient, WebhookDelivery, WebhookSubscription, utcnow
from app.schemas.webhooks import (
    WebhookDeliveryFilter,
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPage,
    WebhookSubscriptionRead,
    WebhookSubscriptionSecretRead,
    WebhookSubscriptionUpdate,
)
from app.services import audit, ssrf
from app.services.events import EVENT_TYPES, client_permissions
from app.services.paging import keyset_page
from app.services.users import PageParams
from app.services.webhook_delivery import new_secret

MANAGE = Permission.clients_manage
RESOURCE = "webhook_subscription"


def _snapshot(sub: WebhookSubscription) -> dict[str, Any]:
    return {"client_id": sub.client_id, "url": sub.url, "event_types": list(sub.event_types or []),
            "description": sub.description, "is_active": sub.is_active}


def _read(sub: WebhookSubscription) -> WebhookSubscriptionRead:
    return WebhookSubscriptionRead.model_validate(sub, from_attributes=True)


def etag(read: WebhookSubscriptionRead) -> str:
    return make_etag(read.id, read.version)


async def _client(session: AsyncSession, principal: Principal, client_id: uuid.UUID) -> IntegrationClient:
    client = await session.scalar(select(IntegrationClient).where(
        IntegrationClient.id == client_id, in_scope(IntegrationClient.organisation_id, principal, MANAGE)))
    if client is None:
        raise NotFound("No such integration client in your scope.")
    return client


async def _load(session: AsyncSession, principal: Principal,
                sub_id: uuid.UUID) -> tuple[WebhookSubscription, IntegrationClient]:
    row = (await session.execute(
        select(WebhookSubscription, IntegrationClient)
        .join(IntegrationClient, IntegrationClient.id == WebhookSubscription.client_id)
        .where(WebhookSubscription.id == sub_id, in_scope(IntegrationClient.organisation_id, principal, MANAGE))
    )).one_or_none()
    if row is None:
        raise NotFound("No such webhook subscription in your scope.")
    return row[0], row[1]


async def _check(errors: FieldErrors, client: IntegrationClient, url: str | None,
                 event_types: list[Any] | None) -> None:
    if url is not None:
        try:
            await ssrf.check_target(url, get_settings().webhook_allowed_hosts)
        except ssrf.TargetRefused as exc:
            errors.add("/url", "target_refused", str(exc))
    if event_types is not None:
        held = client_permissions(client)
        for i, event_type in enumerate(event_types):
            if EVENT_TYPES[event_type.value] not in held:
                errors.add(f"/event_types/{i}", "scope_missing",
                           f"the client's scopes do not cover {event_type.value} ({EVENT_TYPES[event_type.value].value})")


async def create_subscription(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                              body: WebhookSubscriptionCreate) -> WebhookSubscriptionSecretRead:
    client = await _client(session, principal, client_id)
    errors = FieldErrors()
    await _check(errors, client, body.url, body.event_types)
    errors.raise_if_any()
    secret = new_secret()
    sub = WebhookSubscription(client_id=client.id, url=body.url, event_types=sorted(t.value for t in body.event_types),
                              description=body.description, secret=secret, is_active=True, version=1)
    session.add(sub)
    await session.flush()
    audit.record(session, action=f"{RESOURCE}.create", resource_type=RESOURCE, resource_id=sub.id,
                 organisation_id=client.organisation_id, after=_snapshot(sub))
    return WebhookSubscriptionSecretRead(**_read(sub).model_dump(), secret=secret)


async def list_subscriptions(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                             page: PageParams) -> WebhookSubscriptionPage:
    client = await _client(session, principal, client_id)
    stmt = select(WebhookSubscription).where(WebhookSubscription.client_id == client.id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=[WebhookSubscription.created_at, WebhookSubscription.id], kinds=["ts", "id"],
        scope="webhook_subscriptions", limit=page.limit, cursor=page.cursor, include_total=page.include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    return WebhookSubscriptionPage(items=[_read(r[0]) for r in rows], next_cursor=next_cursor, total=total)


async def get_subscription(session: AsyncSession, principal: Principal,
                           sub_id: uuid.UUID) -> WebhookSubscriptionRead:
    return _read((await _load(session, principal, sub_id))[0])


async def _bump(session: AsyncSession, sub: WebhookSubscription, **values: Any) -> None:
    result = await session.execute(
        update(WebhookSubscription).where(WebhookSubscription.id == sub.id,
                                          WebhookSubscription.version == sub.version)
        .values(**values, version=sub.version + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(WebhookSubscription.version).where(WebhookSubscription.id == sub.id))
        raise StaleResource("The subscription changed since you read it; reload it and try again.",
                            current_etag=make_etag(sub.id, current or sub.version))
    await session.refresh(sub)


async def update_subscription(session: AsyncSession, principal: Principal, sub_id: uuid.UUID,
                              body: WebhookSubscriptionUpdate, if_match: str | None) -> WebhookSubscriptionRead:
    sub, client = await _load(session, principal, sub_id)
    check_if_match(if_match, sub.id, sub.version)
    fields = body.model_dump(exclude_unset=True)
    errors = FieldErrors()
    await _check(errors, client, fields.get("url"), body.event_types if "event_types" in fields else None)
    errors.raise_if_any()
    if "event_types" in fields:
        fields["event_types"] = sorted(t.value for t in body.event_types or [])
    before = _snapshot(sub)
    await _bump(session, sub, **fields)
    audit.record(session, action=f"{RESOURCE}.update", resource_type=RESOURCE, resource_id=sub.id,
                 organisation_id=client.organisation_id, before=before, after=_snapshot(sub))
    return _read(sub)


async def rotate_secret(session: AsyncSession, principal: Principal, sub_id: uuid.UUID,
                        if_match: str | None) -> WebhookSubscriptionSecretRead:
    sub, client = await _load(session, principal, sub_id)
    check_if_match(if_match, sub.id, sub.version)
    secret = new_secret()
    overlap = timedelta(hours=get_settings().webhook_secret_overlap_hours)
    await _bump(session, sub, secret=secret, previous_secret=sub.secret,
                previous_secret_expires_at=utcnow() + overlap)
    audit.record(session, action=f"{RESOURCE}.rotate_secret", resource_type=RESOURCE, resource_id=sub.id,
                 organisation_id=client.organisation_id)
    return WebhookSubscriptionSecretRead(**_read(sub).model_dump(), secret=secret)


# ------------------------------------------------------------------------------------ deliveries


def _delivery_read(delivery: WebhookDelivery, event: Event) -> WebhookDeliveryRead:
    return WebhookDeliveryRead(id=delivery.id, subscription_id=delivery.subscription_id, event_id=event.event_id,
                               event_type=event.type, status=delivery.status, attempts=delivery.attempts,
                               next_attempt_at=delivery.next_attempt_at, last_status_code=delivery.last_status_code,
                               last_error=delivery.last_error, delivered_at=delivery.delivered_at,
                               created_at=delivery.created_at)


def _deliveries(principal: Principal) -> Any:
    return (select(WebhookDelivery, Event)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(IntegrationClient, IntegrationClient.id == WebhookSubscription.client_id)
            .where(in_scope(IntegrationClient.organisation_id, principal, MANAGE)))


async def list_deliveries(session: AsyncSession, principal: Principal, f: WebhookDeliveryFilter,
                          page: PageParams) -> WebhookDeliveryPage:
    stmt = _deliveries(principal)
    if f.subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == f.subscription_id)
    if f.status is not None:
        stmt = stmt.where(WebhookDelivery.status == f.status.value)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=[WebhookDelivery.created_at, WebhookDelivery.id], kinds=["ts", "id"],
        scope="webhook_deliveries", limit=page.limit, cursor=page.cursor, include_total=page.include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    return WebhookDeliveryPage(items=[_delivery_read(d, e) for d, e in rows], next_cursor=next_cursor, total=total)


async def replay(session: AsyncSession, principal: Principal, delivery_id: uuid.UUID) -> WebhookDeliveryRead:
    """Due again now with a fresh attempt budget, whatever its state (a delivered one is sent again,
    same `webhook-id`). A worker holding it in flight loses its claim: its result is not recorded."""
    row = (await session.execute(_deliveries(principal).add_columns(IntegrationClient.organisation_id)
                                 .where(WebhookDelivery.id == delivery_id))).one_or_none()
    if row is None:
        raise NotFound("No such webhook delivery in your scope.")
    delivery, event, organisation_id = row
    before = {"status": delivery.status, "attempts": delivery.attempts}
    now = utcnow()
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(
        status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None, updated_at=now)
        .execution_options(synchronize_session=False))
    await session.refresh(delivery)
    audit.record(session, action="webhook_delivery.replay", resource_type="webhook_delivery",
                 resource_id=delivery.id, organisation_id=organisation_id, before=before,
                 after={"status": "pending", "attempts": 0})
    return _delivery_read(delivery, event)
