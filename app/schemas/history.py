"""`GET /{resource}/{id}/history`: the transition history every workflow record keeps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class HistoryEntryRead(BaseModel):
    id: uuid.UUID = Field(description="History row id.")
    action: str = Field(description="The action taken (`submit`, `publish`, …; `supersede` when a newer "
                                    "version replaced this one).", examples=["publish"])
    from_status: str = Field(description="State before.", examples=["approved"])
    to_status: str = Field(description="State after.", examples=["published"])
    actor_id: str | None = Field(description="Who acted (user or client id).")
    actor_name: str | None = Field(description="Their display name then.", examples=["李四"])
    acting_organisation_id: uuid.UUID | None = Field(description="The organisation they acted for, when a "
                                                                 "profile step names one.")
    comment: str | None = Field(description="The comment given with the action.", examples=["依据不全"])
    payload: dict[str, Any] | None = Field(description="What the action carried (a portal address, a new "
                                                       "version's id, a proposal).")
    occurred_at: datetime = Field(description="When (UTC).")
    imported_batch_id: str | None = Field(description="Set when the row came from a historical import.")


class HistoryPage(BaseModel):
    items: list[HistoryEntryRead] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
