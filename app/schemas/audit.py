"""The audit trail over HTTP: events, their filters, pages and the chain check."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.core.pagination import MAX_LIMIT

EXAMPLE_HASH = "9f2c4e1ab0d3" + "0" * 52
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_8601_only(value: Any) -> Any:
    """Pydantic would also read "1700000000" as a Unix time; the contract says ISO 8601 date-time."""
    if isinstance(value, str) and not _ISO_INSTANT.match(value):
        raise ValueError("must be an ISO 8601 date-time with a time zone, e.g. 2026-11-01T00:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only)]


class AuditOutcome(str, Enum):
    success = "success"
    failure = "failure"


class AuditEventFilter(BaseModel):
    """Query filters of `GET /audit-events`; all optional, combined with AND."""

    action: str | None = Field(default=None, max_length=64, description="Exact action name.",
                               examples=["organisation.update"])
    resource_type: str | None = Field(default=None, max_length=64, description="Kind of record touched.",
                                      examples=["organisation"])
    resource_id: str | None = Field(default=None, max_length=64, description="Id of the record touched.",
                                    examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    actor_id: str | None = Field(default=None, max_length=64, description="Id of the user or client who acted.",
                                 examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    organisation_id: uuid.UUID | None = Field(
        default=None, description="Only events of this organisation and the units below it (within your scope: "
                                  "a foreign organisation gives an empty list).",
        examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    outcome: AuditOutcome | None = Field(default=None, description="success or failure.", examples=["failure"])
    occurred_from: Instant | None = Field(default=None, description="Events at or after this instant "
                                                "(with a time zone).", examples=["2026-11-01T00:00:00Z"])
    occurred_to: Instant | None = Field(default=None, description="Events before this instant "
                                              "(with a time zone).", examples=["2026-12-01T00:00:00Z"])


class AuditEventRead(BaseModel):
    """One audit event (留痕): who did what, to which record, when, from where; before and after."""

    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in the chain; newest has the highest.", examples=[1042])
    id: uuid.UUID = Field(description="Event id.", examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    occurred_at: datetime = Field(description="When it happened (UTC).", examples=["2026-11-21T05:22:51.004581Z"])
    actor_type: str = Field(max_length=16, description="user, client, anonymous or system.", examples=["user"])
    actor_id: str | None = Field(max_length=64, description="User or client id.",
                                 examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    actor_name: str | None = Field(max_length=100, description="Display name at the time.", examples=["王芳"])
    action: str = Field(max_length=64, description="`<resource>.<action>`.", examples=["finding.approve_plan"])
    outcome: str = Field(max_length=16, description="success or failure.", examples=["success"])
    resource_type: str = Field(max_length=64, description="Kind of record touched.", examples=["finding"])
    resource_id: str | None = Field(max_length=64, description="Id of the record touched.",
                                    examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    organisation_id: uuid.UUID | None = Field(description="Organisation the record belongs to; none for "
                                              "sign-ins and other events of no organisation.",
                                              examples=["0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b11"])
    before: dict[str, Any] | None = Field(description="Changed fields before.",
                                          examples=[{"status": "plan_submitted", "version": 3}])
    after: dict[str, Any] | None = Field(description="Changed fields after.",
                                         examples=[{"status": "in_progress", "version": 4}])
    detail: str | None = Field(max_length=500, description="Comment or reason.", examples=["措施已落实"])
    request_id: str | None = Field(max_length=64, description="Request id (X-Request-Id) of the call.",
                                   examples=["5f0c8e3b9d2a4f7e8c1b6a0d3e9f2c4b"])
    client_address: str | None = Field(max_length=64, description="Caller's IP address.",
                                       examples=["203.0.113.7"])
    prev_hash: str = Field(max_length=64, description="Hash of the previous event.", examples=[EXAMPLE_HASH])
    hash: str = Field(max_length=64, description="SHA-256 over this event and `prev_hash`.",
                      examples=[EXAMPLE_HASH])


class AuditEventPage(BaseModel):
    items: list[AuditEventRead] = Field(max_length=MAX_LIMIT, description="Newest first (by `seq`).")
    next_cursor: str | None = Field(max_length=512, description="Pass as `cursor` for the next page; "
                                    "null on the last page.", examples=[None])
    total: int | None = Field(default=None, description="Matching events in your scope "
                              "(only with include_total=true).", examples=[None])


class AuditChainReport(BaseModel):
    """The result of recomputing the whole hash chain. `ok: false` is a finding, not an error."""

    ok: bool = Field(description="Every event and link recomputes and the head matches.", examples=[True])
    checked: int = Field(description="Events verified before stopping.", examples=[1042])
    head_seq: int = Field(description="Last seq the chain head records.", examples=[1042])
    head_hash: str = Field(max_length=64, description="Hash the chain head records (export it off-box).",
                           examples=[EXAMPLE_HASH])
    first_broken_seq: int | None = Field(description="First seq that fails; null when ok.", examples=[None])
    problem: str | None = Field(max_length=100, description="`event altered`, `missing event`, "
                                "`chain head does not match the events` or `event beyond the chain head`.",
                                examples=[None])
