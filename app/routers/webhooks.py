"""Webhook subscriptions of integration clients, their deliveries, and the change feed (`/events`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.openapi import problem_responses
from app.dependencies import IfMatch, PageDep, SessionDep, authenticated, require
from app.schemas.webhooks import (
    EventFeedFilter,
    EventPage,
    WebhookDeliveryFilter,
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPage,
    WebhookSubscriptionRead,
    WebhookSubscriptionSecretRead,
    WebhookSubscriptionUpdate,
)
from app.services import events as event_service
from app.services import webhooks as webhook_service

router = APIRouter(tags=["webhooks"])
ClientAdmin = Annotated[Principal, require(Permission.clients_manage)]
SignedIn = Annotated[Principal, authenticated()]


@router.post("/integration-clients/{integration_client_id}/webhook-subscriptions", status_code=201,
             response_model=WebhookSubscriptionSecretRead, responses=problem_responses(404))
async def create_webhook_subscription(integration_client_id: uuid.UUID, body: WebhookSubscriptionCreate,
                                      session: SessionDep, response: Response,
                                      principal: ClientAdmin) -> WebhookSubscriptionSecretRead:
    """Subscribe a client's https endpoint to event types; the response holds the signing `secret`, shown
    this once. Admins (clients:manage) in scope, 404 otherwise. 422 on `/url` for a target that is not
    https or resolves to a loopback, private, link-local or otherwise non-public address (unless its
    host is on WEBHOOK_ALLOWED_HOSTS), and on `/event_types/i` for a type the client's scopes cannot read."""
    sub = await webhook_service.create_subscription(session, principal, integration_client_id, body)
    response.headers["ETag"] = webhook_service.etag(sub)
    response.headers["Location"] = f"/webhook-subscriptions/{sub.id}"
    return sub


@router.get("/integration-clients/{integration_client_id}/webhook-subscriptions",
            response_model=WebhookSubscriptionPage, responses=problem_responses(404))
async def list_webhook_subscriptions(integration_client_id: uuid.UUID, session: SessionDep, page: PageDep,
                                     principal: ClientAdmin) -> WebhookSubscriptionPage:
    """A client's subscriptions, oldest first, without secrets. Admins in scope."""
    return await webhook_service.list_subscriptions(session, principal, integration_client_id, page)


@router.get("/webhook-subscriptions/{webhook_subscription_id}", response_model=WebhookSubscriptionRead,
            responses=problem_responses(404))
async def get_webhook_subscription(webhook_subscription_id: uuid.UUID, session: SessionDep, response: Response,
                                   principal: ClientAdmin) -> WebhookSubscriptionRead:
    """One subscription, without its secret. Admins in scope of its client; 404 otherwise."""
    sub = await webhook_service.get_subscription(session, principal, webhook_subscription_id)
    response.headers["ETag"] = webhook_service.etag(sub)
    return sub


@router.patch("/webhook-subscriptions/{webhook_subscription_id}", response_model=WebhookSubscriptionRead,
              responses=problem_responses(404, 412, 428))
async def update_webhook_subscription(webhook_subscription_id: uuid.UUID, body: WebhookSubscriptionUpdate,
                                      session: SessionDep, response: Response, principal: ClientAdmin,
                                      if_match: IfMatch = None) -> WebhookSubscriptionRead:
    """Change the URL (checked again), the event types or the description, or pause it
    (`is_active: false`: no deliveries are created or attempted). Admins in scope; If-Match."""
    sub = await webhook_service.update_subscription(session, principal, webhook_subscription_id, body, if_match)
    response.headers["ETag"] = webhook_service.etag(sub)
    return sub


@router.post("/webhook-subscriptions/{webhook_subscription_id}/rotate-secret",
             response_model=WebhookSubscriptionSecretRead, responses=problem_responses(404, 412, 428))
async def rotate_webhook_secret(webhook_subscription_id: uuid.UUID, session: SessionDep, response: Response,
                                principal: ClientAdmin, if_match: IfMatch = None) -> WebhookSubscriptionSecretRead:
    """A new signing secret (shown this once). For WEBHOOK_SECRET_OVERLAP_HOURS (default 24) every
    delivery carries two signatures, new and previous secret, so the receiver can switch at leisure.
    Admins in scope; If-Match."""
    sub = await webhook_service.rotate_secret(session, principal, webhook_subscription_id, if_match)
    response.headers["ETag"] = webhook_service.etag(sub)
    return sub


@router.get("/webhook-deliveries", response_model=WebhookDeliveryPage, responses=problem_responses(422))
async def list_webhook_deliveries(session: SessionDep, page: PageDep, principal: ClientAdmin,
                                  filters: Annotated[WebhookDeliveryFilter, Query()]) -> WebhookDeliveryPage:
    """Deliveries of subscriptions of clients in your scope, oldest first; filter by subscription or
    status (`dead` ones are the ones to look at). Admins."""
    return await webhook_service.list_deliveries(session, principal, filters, page)


@router.post("/webhook-deliveries/{webhook_delivery_id}/replay", response_model=WebhookDeliveryRead,
             responses=problem_responses(404))
async def replay_webhook_delivery(webhook_delivery_id: uuid.UUID, session: SessionDep,
                                  principal: ClientAdmin) -> WebhookDeliveryRead:
    """Send a delivery again (a dead one, or one the receiver lost): due now, attempts reset, same
    `webhook-id`. Admins in scope; 404 otherwise."""
    return await webhook_service.replay(session, principal, webhook_delivery_id)


@router.get("/events", response_model=EventPage, responses=problem_responses(422))
async def list_events(session: SessionDep, principal: SignedIn,
                      filters: Annotated[EventFeedFilter, Query()]) -> EventPage:
    """The change feed, for integrators who poll: events after `after` in position order, only those
    you may read (each type needs its read permission or client scope, in your organisation subtree).
    Keep `next_after` and pass it next time. Positions are assigned by the worker shortly after the
    change commits (about a second), in commit order, so a later poll never misses an event that
    committed late. Any signed-in caller."""
    return await event_service.feed(session, principal, filters)
