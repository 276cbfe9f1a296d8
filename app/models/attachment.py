"""Evidence attachments (佐证材料) and the records they support (DOMAIN.md "Cross-cutting").

An `attachment` is one uploaded file: its checked type (sniffed from the bytes, never the
client's claim), size, SHA-256, the display name (sanitised from what the client sent) and who
uploaded it for which organisation. The bytes live in the blob store under their SHA-256
(app/core/storage.py), so the same bytes uploaded again are stored once.

One file may support several findings (and reports): each support is a link row
(`finding_attachment`, `report_attachment`) saying who linked it, when, and for what
(`purpose`, `label`). A record holds given bytes once: `(finding_id, sha256)` is unique, so
uploading the same file to the same finding again answers with the existing link.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow
from app.models.organisation import enum_column


class AttachmentPurpose(str, enum.Enum):
    """What a linked file is for on its record (a label, no rule hangs on it)."""

    evidence = "evidence"  # 佐证材料 in general
    plan = "plan"  # 整改方案
    progress = "progress"  # 进展情况
    closure = "closure"  # closure evidence (已完成待销号)
    verification = "verification"  # the office's 核验/销号 papers
    report = "report"  # the report document itself
    annex = "annex"  # 附件 of a report


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_organisation_id_created_at_id", "organisation_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # uploaded for it
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))  # sniffed from the content
    file_name: Mapped[str] = mapped_column(String(255))  # sanitised, shown and sent on download
    client_file_name: Mapped[str] = mapped_column(String(255))  # as sent (control characters replaced), for audit
    uploaded_by_id: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())


class FindingAttachment(Base):
    __tablename__ = "finding_attachment"
    __table_args__ = (
        UniqueConstraint("finding_id", "sha256"),  # the same bytes once per finding
        Index("ix_finding_attachment_finding_id_created_at_attachment_id", "finding_id", "created_at",
              "attachment_id"),
    )

    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachment.id"), primary_key=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[AttachmentPurpose] = mapped_column(enum_column(AttachmentPurpose, 16),
                                                       default=AttachmentPurpose.evidence)
    label: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # linked on its behalf
    linked_by_id: Mapped[str | None] = mapped_column(String(64))
    linked_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())


class ReportAttachment(Base):
    __tablename__ = "report_attachment"
    __table_args__ = (
        UniqueConstraint("report_id", "sha256"),
        Index("ix_report_attachment_report_id_created_at_attachment_id", "report_id", "created_at",
              "attachment_id"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachment.id"), primary_key=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[AttachmentPurpose] = mapped_column(enum_column(AttachmentPurpose, 16),
                                                       default=AttachmentPurpose.annex)
    label: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    linked_by_id: Mapped[str | None] = mapped_column(String(64))
    linked_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())
