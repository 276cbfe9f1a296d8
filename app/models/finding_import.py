"""A historical import of a findings ledger (DOMAIN.md "Export": import with row-level errors).

An admin brings in a campaign already worked (a ledger like 001's, rectified 2020-2022) with its
real states and dates. Each import is one batch: the findings, measures and look-backs it created
carry its id, and so do the history rows, written with the recorded dates rather than now, so
statistics as of a past day (app/services/findings/buckets.py) count them as they stood then.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow


class FindingImportBatch(Base):
    __tablename__ = "finding_import_batch"
    __table_args__ = (Index("ix_finding_import_batch_inspection_id_created_at", "inspection_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    # Where it is filed for scope: the inspection's rectification office.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    source: Mapped[str | None] = mapped_column(String(500))  # the ledger it came from
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A spreadsheet import's answer (SheetImportRead, row errors included), to read it again; null for
    # a JSON ledger import (finding_import_batch) and for batches imported before revision 0013.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
