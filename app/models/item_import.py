"""A spreadsheet import of responsibility items into one duty-list version (issue 7 item 5).

Findings imported from a spreadsheet reuse `finding_import_batch` (their `import_batch_id` already
points there and it is filed at the inspection's rectification office, which is the scope an
import of findings needs). Items get their own batch table rather than a general one: a batch is
filed where its records live for scope (the list's organisation), and a general table would
need a polymorphic target and the finding/measure foreign keys moved for no reader that wants it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow


class DutyListImportBatch(Base):
    __tablename__ = "duty_list_import_batch"
    __table_args__ = (Index("ix_duty_list_import_batch_duty_list_id_created_at", "duty_list_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    duty_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duty_list.id", ondelete="CASCADE"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # the list's owner (scope)
    source: Mapped[str | None] = mapped_column(String(500))  # the uploaded file's name, as shown only
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The import's answer (SheetImportRead, row errors included), to read it again; null for batches
    # imported before revision 0013.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
