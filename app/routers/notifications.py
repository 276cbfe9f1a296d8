"""Your notifications (`/me/notifications`) and how often you want to be told (`/me/notification-settings`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.authz.principal import Principal
from app.core.openapi import problem_responses
from app.dependencies import PageDep, SessionDep, authenticated
from app.schemas.webhooks import (
    DigestRead,
    NotificationFilter,
    NotificationPage,
    NotificationRead,
    NotificationSettings,
)
from app.services import notifications as service

router = APIRouter(tags=["me"])
SignedIn = Annotated[Principal, authenticated()]


@router.get("/me/notifications", response_model=NotificationPage, responses=problem_responses(403))
async def list_my_notifications(session: SessionDep, page: PageDep, principal: SignedIn,
                                filters: Annotated[NotificationFilter, Query()]) -> NotificationPage:
    """Your notifications (assignments, returns, approvals, deadlines approaching and passed), oldest
    first; `unread=true` for the ones still to look at. Users only (403 for integration clients)."""
    return await service.list_mine(session, principal, filters, page)


@router.get("/me/notifications/digest", response_model=DigestRead, responses=problem_responses(403))
async def get_my_digest(session: SessionDep, principal: SignedIn) -> DigestRead:
    """What your next daily digest would hold: unread notifications not yet summarised, counted per
    kind. Users only."""
    return await service.my_digest(session, principal)


@router.post("/me/notifications/{notification_id}/read", response_model=NotificationRead,
             responses=problem_responses(403, 404))
async def mark_notification_read(notification_id: uuid.UUID, session: SessionDep,
                                 principal: SignedIn) -> NotificationRead:
    """Mark one of your notifications read (again: no change). 404 for anyone else's. Users only."""
    return await service.mark_read(session, principal, notification_id)


@router.get("/me/notification-settings", response_model=NotificationSettings, responses=problem_responses(403))
async def get_my_notification_settings(session: SessionDep, principal: SignedIn) -> NotificationSettings:
    """Your digest setting: `immediate` (default) or `daily`. Users only."""
    return await service.get_settings(session, principal)


@router.put("/me/notification-settings", response_model=NotificationSettings, responses=problem_responses(403))
async def put_my_notification_settings(body: NotificationSettings, session: SessionDep,
                                       principal: SignedIn) -> NotificationSettings:
    """Choose `daily` so a night of reminders arrives as one digest, or `immediate`. Users only."""
    return await service.put_settings(session, principal, body)
