"""Webhook subscriptions, deliveries, the change feed and people's notifications (issue 7)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EventType(str, Enum):
    finding_assigned = "finding.assigned"
    finding_closed = "finding.closed"
    finding_overdue = "finding.overdue"
    report_submitted = "report.submitted"
    report_returned = "report.returned"
    report_overdue = "report.overdue"
    duty_list_published = "duty_list.published"
    lead_decision_approved = "lead_decision.approved"


class DeliveryStatus(str, Enum):
    pending = "pending"
    in_flight = "in_flight"
    delivered = "delivered"
    dead = "dead"


class DigestMode(str, Enum):
    immediate = "immediate"
    daily = "daily"


WebhookUrl = Annotated[str, Field(min_length=8, max_length=2048, description="https URL the events are POSTed to; "
                                  "must resolve to public addresses (422 otherwise).",
                                  examples=["https://hooks.monitor.hainan.gov.cn/envduty"])]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType),
                                              description="Event types to receive; each must be readable with the "
                                                          "client's scopes.",
                                              examples=[["finding.assigned", "finding.closed"]])]


def _unique(types: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(types))  # input order kept, so an error's /event_types/i points at the input


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    event_types: EventTypes
    description: str | None = Field(default=None, max_length=200, description="What receives it.",
                                    examples=["监测平台问题台账同步"])

    @field_validator("event_types")
    @classmethod
    def _dedupe(cls, value: list[EventType]) -> list[EventType]:
        return _unique(value)


class WebhookSubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: str | None = Field(default=None, max_length=200, description="What receives it.",
                                    examples=["监测平台问题台账同步"])
    is_active: bool | None = Field(default=None, description="False stops new deliveries.", examples=[False])

    @field_validator("url", "event_types", "is_active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return _unique(value) if isinstance(value, list) else value


class WebhookSubscriptionRead(BaseModel):
    id: uuid.UUID = Field(description="Subscription id.", examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b21"])
    client_id: uuid.UUID = Field(description="The integration client's record id.",
                                 examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f63"])
    url: str = Field(max_length=2048, description="Target URL.", examples=["https://hooks.monitor.hainan.gov.cn/envduty"])
    event_types: list[str] = Field(max_length=len(EventType), description="Subscribed event types.",
                                   examples=[["finding.assigned"]])
    description: str | None = Field(max_length=200, description="What receives it.", examples=["监测平台问题台账同步"])
    is_active: bool = Field(description="Deliveries are made only while active.", examples=[True])
    previous_secret_expires_at: datetime | None = Field(
        description="While set and in the future, deliveries carry a second signature with the previous secret.",
        examples=[None])
    created_at: datetime = Field(description="Created.", examples=["2026-12-01T01:02:03Z"])
    updated_at: datetime = Field(description="Last changed.", examples=["2026-12-01T01:02:03Z"])
    version: int = Field(description="Bumped on every change; the ETag is derived from it.", examples=[1])


class WebhookSubscriptionSecretRead(WebhookSubscriptionRead):
    """Returned by create and rotate-secret only: the signing secret is shown this once."""

    secret: str = Field(max_length=128, description="Standard Webhooks secret (`whsec_<base64>`); verify "
                                                    "`webhook-signature` with it.",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class WebhookSubscriptionPage(BaseModel):
    items: list[WebhookSubscriptionRead] = Field(max_length=200, description="Subscriptions, oldest first.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[1])


class WebhookDeliveryFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscription_id: uuid.UUID | None = Field(default=None, description="One subscription's deliveries.",
                                              examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b21"])
    status: DeliveryStatus | None = Field(default=None, description="Only deliveries in this state.",
                                          examples=["dead"])


class WebhookDeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Delivery id.", examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b31"])
    subscription_id: uuid.UUID = Field(description="Subscription.", examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b21"])
    event_id: uuid.UUID = Field(description="The event's id (the `webhook-id` header).",
                                examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b41"])
    event_type: str = Field(max_length=64, description="Event type.", examples=["finding.assigned"])
    status: DeliveryStatus = Field(description="pending, in_flight, delivered or dead.", examples=["delivered"])
    attempts: int = Field(description="Attempts made so far.", examples=[1])
    next_attempt_at: datetime = Field(description="When the next attempt is due (pending).",
                                      examples=["2026-12-01T01:02:03Z"])
    last_status_code: int | None = Field(description="HTTP status of the last attempt.", examples=[200])
    last_error: str | None = Field(max_length=500, description="Why the last attempt failed.", examples=[None])
    delivered_at: datetime | None = Field(description="When a 2xx came back.", examples=["2026-12-01T01:02:04Z"])
    created_at: datetime = Field(description="Created (with the event).", examples=["2026-12-01T01:02:03Z"])


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryRead] = Field(max_length=200, description="Deliveries, oldest first.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[1])


class EventFeedFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(default=0, ge=0, le=2**62, description="The `position` of the last event you processed "
                                                               "(`next_after` of the previous page); 0 from the start.",
                       examples=[0])
    limit: int = Field(default=100, ge=1, le=200, description="Page size.", examples=[100])
    type: EventType | None = Field(default=None, description="Only events of this type.",
                                   examples=["finding.closed"])


class EventRead(BaseModel):
    position: int = Field(description="Feed position: strictly increasing, never reused, no gaps skipped later.",
                          examples=[42])
    id: uuid.UUID = Field(description="Event id (the `webhook-id` of its deliveries).",
                          examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b41"])
    type: str = Field(max_length=64, description="Event type.", examples=["finding.closed"])
    subject_type: str = Field(max_length=32, description="Kind of record.", examples=["finding"])
    subject_id: str = Field(max_length=64, description="The record's id.",
                            examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b51"])
    organisation_id: uuid.UUID | None = Field(description="Organisation it is filed under.",
                                              examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])
    occurred_at: datetime = Field(description="When the change committed its transaction.",
                                  examples=["2026-12-01T01:02:03Z"])
    data: dict[str, Any] = Field(description="Type-specific fields.", examples=[{"status": "closed"}])


class EventPage(BaseModel):
    items: list[EventRead] = Field(max_length=200, description="Events in feed order.")
    next_after: int = Field(description="Pass as `after` next time (the last position served, or yours).",
                            examples=[42])


class NotificationRead(BaseModel):
    id: uuid.UUID = Field(description="Notification id.", examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b61"])
    kind: str = Field(max_length=32, description="assigned, returned, approved, deadline_approaching, "
                                                 "deadline_passed.", examples=["assigned"])
    subject_type: str = Field(max_length=32, description="Kind of record.", examples=["finding"])
    subject_id: str = Field(max_length=64, description="The record's id.",
                            examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b51"])
    title: str = Field(max_length=200, description="What happened.", examples=["问题已交办：黄河滩区违建"])
    day: date = Field(description="Day it is about (one per subject, kind and day).", examples=["2026-12-01"])
    created_at: datetime = Field(description="Created.", examples=["2026-12-01T01:02:03Z"])
    read_at: datetime | None = Field(description="When you marked it read.", examples=[None])


class NotificationPage(BaseModel):
    items: list[NotificationRead] = Field(max_length=200, description="Your notifications, oldest first.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[3])


class NotificationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unread: bool | None = Field(default=None, description="true: only unread ones.", examples=[True])


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: DigestMode = Field(description="immediate: each notification as it comes; daily: one digest a day.",
                               examples=["daily"])


class DigestRead(BaseModel):
    digest: DigestMode = Field(description="Your setting.", examples=["daily"])
    day: date = Field(description="The day summarised.", examples=["2026-12-01"])
    counts: dict[str, int] = Field(description="Unread notifications per kind.", examples=[{"assigned": 2}])
    items: list[NotificationRead] = Field(max_length=200, description="The unread ones (at most 200).")
