"""Measures (整改措施/任务) of a finding, and the evidence references actions carry."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models import MeasureStatus
from app.schemas.duty_lists import OrganisationBrief

Comment = Field(default=None, max_length=2000, description="A note kept on the history row.",
                examples=["已按计划完成"])
RequiredComment = Field(min_length=1, max_length=2000, description="Why (required; kept on the history row).",
                        examples=["佐证材料不足以证明已完成"])


class EvidenceKind(str, enum.Enum):
    document = "document"  # 文件: a document number or title
    attachment = "attachment"  # an uploaded file: `reference` is its id, attached to the finding
    link = "link"  # a published page


class EvidenceReference(BaseModel):
    """One piece of evidence (佐证材料), as a structured reference.

    An uploaded file is cited as `kind: attachment` with its id as `reference`; it must be
    attached to the finding (`POST /findings/{id}/attachments`), else 422."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: EvidenceKind = Field(description="What the reference points at.", examples=["document"])
    title: str = Field(min_length=1, max_length=300, description="What it is.",
                       examples=["《海南省生态环境厅内部审计工作规定(试行)》"])
    reference: str = Field(min_length=1, max_length=500, description="Document number, attachment id or URL.",
                           examples=["琼环规〔2021〕3号"])


EvidenceList = list[EvidenceReference]


class PlanMeasure(BaseModel):
    """A measure in a submitted plan: with `id`, a change to an open measure of this finding; without, a new one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = Field(default=None, description="An open measure of this finding to change.")
    title: str = Field(min_length=1, max_length=300, description="The task.",
                       examples=["制定《海南省生态环境厅内部审计工作规定(试行)》"])
    description: str | None = Field(default=None, max_length=10_000, description="What will be done, how.")
    phase: str | None = Field(default=None, max_length=50, description="A phase of the work (001 二(四)1).",
                              examples=["第一阶段"])
    deadline: date = Field(description="When it is due.", examples=["2020-12-31"])
    responsible_unit_id: uuid.UUID | None = Field(default=None, description="The unit (责任处室) doing it: the "
                                                                            "responsible organisation or below.")
    responsible_person: str | None = Field(default=None, max_length=100, description="The person (责任人).",
                                           examples=["王五"])


class MeasureRead(BaseModel):
    id: uuid.UUID
    finding_id: uuid.UUID
    position: int = Field(examples=[0])
    title: str = Field(examples=["制定《海南省生态环境厅内部审计工作规定(试行)》"])
    description: str | None
    phase: str | None
    deadline: date = Field(examples=["2020-12-31"])
    original_deadline: date | None = Field(description="The deadline as first approved.")
    overdue: bool = Field(description="Open (or awaiting confirmation) and past its deadline.")
    responsible_unit: OrganisationBrief | None
    responsible_person: str | None
    status: MeasureStatus = Field(examples=["open"])
    version: int = Field(description="Optimistic-concurrency version; the ETag is built from it.", examples=[1])
    approved_at: datetime | None = Field(description="When the plan that created or last changed it was "
                                                     "approved.")
    completed_on: date | None
    completion_note: str | None
    evidence: EvidenceList = Field(description="Evidence given on completion or with a cannot-complete claim.")
    verified_at: datetime | None
    verification_note: str | None
    cannot_complete_reason: str | None
    confirming_organisation: OrganisationBrief | None = Field(description="Who confirms it cannot be completed "
                                                                          "(001 二(四)2: 省财政厅).")
    confirmed_at: datetime | None
    allowed_actions: list[str] = Field(description="Actions you may take now.", examples=[["complete"]])
    created_at: datetime
    updated_at: datetime


class MeasurePage(BaseModel):
    items: list[MeasureRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class MeasureComplete(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    completed_on: date | None = Field(default=None, description="When it was done (default today; not in the "
                                                                "future).", examples=["2020-12-08"])
    completion_note: str | None = Field(default=None, max_length=2000, description="What was done.",
                                        examples=["2020年12月8日由省委办公厅、省政府办公厅印发实施"])
    evidence: EvidenceList = Field(default_factory=list, max_length=50, description="Evidence, if any.")
    comment: str | None = Comment


class MeasureVerify(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    verification_note: str | None = Field(default=None, max_length=2000, description="What was checked.",
                                          examples=["经核实,已印发实施"])
    comment: str | None = Comment


class MeasureCannotComplete(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=4000, description="Why it cannot be completed.",
                        examples=["经协调省财政厅,此类款项已上缴国库无法退还"])
    confirming_organisation_id: uuid.UUID = Field(description="The organisation that confirms it (an active "
                                                              "organisation of the same province).")
    evidence: EvidenceList = Field(min_length=1, max_length=50, description="At least one piece of evidence.")
    comment: str | None = Comment


class MeasureStep(BaseModel):
    """Body of confirm: an optional comment."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Comment


class MeasureReturn(BaseModel):
    """Body of reopen and reject_cannot_complete: why (required)."""

    model_config = ConfigDict(extra="forbid")

    comment: str = RequiredComment
