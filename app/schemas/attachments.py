"""Evidence attachments (佐证材料): what is read about a file and its links to findings and reports."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models import AttachmentPurpose


class AttachedTo(str, enum.Enum):
    finding = "finding"
    report = "report"


class AttachmentRead(BaseModel):
    id: uuid.UUID = Field(description="Attachment id; cite it as evidence (`kind: attachment`, `reference`).")
    sha256: str = Field(description="SHA-256 of the content, hex; also the download's ETag.",
                        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    size: int = Field(description="Bytes.", examples=[184320])
    media_type: str = Field(description="The type found in the content (never the type the client claimed).",
                            examples=["application/pdf"])
    file_name: str = Field(description="The display name: the client's name, cleaned (no path, no control "
                                       "characters), with the extension of the real type.",
                           examples=["整改完成情况报告.pdf"])
    organisation_id: uuid.UUID = Field(description="The organisation it was uploaded for.")
    uploaded_by_name: str | None = Field(description="Who uploaded it.", examples=["张三"])
    created_at: datetime = Field(description="When it was uploaded.")
    content_url: str = Field(description="Where to download it.", examples=["/attachments/…/content"])


class AttachmentLinkRead(BaseModel):
    """One file supporting one record."""

    record_type: AttachedTo = Field(description="What kind of record it supports.", examples=["finding"])
    record_id: uuid.UUID = Field(description="The finding or report.")
    purpose: AttachmentPurpose = Field(description="What the file is for on this record.", examples=["closure"])
    label: str | None = Field(description="A caption given when it was linked.", examples=["销号佐证材料"])
    linked_by_name: str | None = Field(description="Who linked it.", examples=["张三"])
    linked_at: datetime = Field(description="When it was linked.")
    attachment: AttachmentRead


class AttachmentLinkPage(BaseModel):
    items: list[AttachmentLinkRead] = Field(description="Oldest link first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class AttachmentLinkBrief(BaseModel):
    record_type: AttachedTo = Field(description="What kind of record it supports.", examples=["finding"])
    record_id: uuid.UUID = Field(description="The finding or report.")
    purpose: AttachmentPurpose = Field(description="What the file is for there.", examples=["evidence"])
    label: str | None = Field(description="Its caption there.", examples=["整改方案"])
    linked_at: datetime = Field(description="When it was linked.")


class AttachmentDetail(AttachmentRead):
    links: list[AttachmentLinkBrief] = Field(description="The records it supports that you may read.")


class AttachmentLinkCreate(BaseModel):
    """Link a file you can read to another record (one file, several findings)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: AttachmentPurpose | None = Field(default=None, description="What it is for here (default: "
                                              "`evidence` on a finding, `annex` on a report).",
                                              examples=["evidence"])
    label: str | None = Field(default=None, max_length=200, description="A caption.", examples=["举一反三佐证"])
