"""One transition history table for every workflow resource (DOMAIN.md: `GET /{resource}/{id}/history`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id


class TransitionHistory(Base):
    __tablename__ = "transition_history"
    __table_args__ = (Index("ix_transition_history_resource", "resource_type", "resource_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(64))
    to_status: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    acting_organisation_id: Mapped[uuid.UUID | None]
    comment: Mapped[str | None] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    imported_batch_id: Mapped[str | None] = mapped_column(String(64))
