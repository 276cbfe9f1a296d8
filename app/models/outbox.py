"""The outbox: domain events, webhook subscriptions and their deliveries, and people's notifications.

`event` rows are written in the same transaction as the change they describe (app.services.events),
so an event exists exactly when its change committed. `position` is the change feed's cursor: it is
NOT the insert id, because with concurrent writers ids commit out of order (a poller reading
`after=N` would skip a row with a smaller id committed later). The worker hands out positions in
one serialised step over committed rows only (`event_feed_head` is the lock and the counter), so a
position, once visible, is never followed by a smaller one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_organisation_id_position", "organisation_id", "position"),
        Index("ix_event_type_position", "type", "position"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    # The public id: the `webhook-id` header and the feed's `id`; stable across retries and replays.
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    # Who may read it (the feed and subscriptions are scoped by organisation subtree). No foreign key:
    # like the audit trail, the outbox outlives reorganisations.
    organisation_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]
    position: Mapped[int | None] = mapped_column(BIGINT, unique=True)


class EventFeedHead(Base):
    """One row (id 1): the last feed position handed out; locked by the step that assigns them."""

    __tablename__ = "event_feed_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(BIGINT, default=0)


class WebhookSubscription(TimestampMixin, Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integration_client.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(String(200))
    # Standard Webhooks secrets (`whsec_<base64>`), kept in the clear: signing needs them. During a
    # rotation the previous one keeps signing (both signatures are sent) until it expires.
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class WebhookDelivery(TimestampMixin, Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription_id_created_at", "subscription_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("event.id"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscription.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|in_flight|delivered|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class Notification(Base):
    """An in-app message for one person. (user, subject, kind, day) is unique, which makes the
    reminder sweep idempotent: a second run on the same day inserts nothing."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "subject_type", "subject_id", "kind", "day"),
        Index("ix_notification_user_id_created_at", "user_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    day: Mapped[date]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    digested_at: Mapped[datetime | None]  # included in a daily digest


class NotificationPreference(Base):
    __tablename__ = "notification_preference"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(16), default="immediate")  # immediate | daily
