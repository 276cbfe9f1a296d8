"""Request and response bodies of `/accountability-cases` (DOMAIN.md "Accountability cases")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.models import CasePath, CaseStatus, InternalMeasure, ReceivingBodyKind
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.escalations import PersonRead

Comment = Field(default=None, max_length=2000, description="A note kept on the history row.", examples=["同意"])


class Investigation(BaseModel):
    """000 §(十五): 查明问题发生的原因、经过、后果、影响、整改等情况, 界定责任."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cause: str = Field(min_length=1, max_length=20_000, description="原因.", examples=["监管不到位"])
    course: str | None = Field(default=None, max_length=20_000, description="经过.")
    consequences: str | None = Field(default=None, max_length=20_000, description="后果.")
    impact: str | None = Field(default=None, max_length=20_000, description="影响.")
    rectification: str | None = Field(default=None, max_length=20_000, description="整改.")
    responsibility_determination: str = Field(min_length=1, max_length=20_000, description="界定责任.",
                                              examples=["某局分管副局长负主要领导责任"])


class CaseTransfer(Investigation):
    receiving_body_kind: ReceivingBodyKind = Field(description="Kind of receiving body.", examples=["discipline"])
    receiving_organisation_id: uuid.UUID = Field(description="The receiving body (by cadre-management authority).")
    comment: str | None = Comment


class CaseConcludeInternally(Investigation):
    measure: InternalMeasure = Field(description="批评教育 / 提醒谈话 / 组织处理.", examples=["reminder_talk"])
    comment: str | None = Comment


class CaseAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Comment


class CaseConclude(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: str = Field(min_length=1, max_length=20_000, description="The outcome (问责结果).",
                         examples=["给予党内警告处分"])
    comment: str | None = Comment


class CaseRead(BaseModel):
    id: uuid.UUID = Field(description="Case id.")
    jurisdiction_id: uuid.UUID = Field(description="The province.")
    escalation_id: uuid.UUID = Field(description="The handover that opened it.")
    status: CaseStatus = Field(description="State.")
    version: int = Field(description="Version (the ETag).")
    path: CasePath = Field(description="two_stage (investigate, then transfer) or direct.")
    clause: str | None = Field(description="The profile rule of its path.")
    title: str = Field(description="Title (the handover's).")
    handing_over_organisation: OrganisationBrief = Field(description="Who handed it over.")
    responsible_organisation: OrganisationBrief = Field(description="The body concerned (investigates on the "
                                                                    "two-stage path).")
    receiving_body_kind: ReceivingBodyKind | None = Field(description="Kind of receiving body, once transferred.")
    receiving_organisation: OrganisationBrief | None = Field(description="The receiving body, once transferred.")
    persons_concerned: list[PersonRead] = Field(description="Persons concerned.")
    finding_ids: list[uuid.UUID] = Field(description="Findings of the handover.")
    cause: str | None = Field(description="原因.")
    course: str | None = Field(description="经过.")
    consequences: str | None = Field(description="后果.")
    impact: str | None = Field(description="影响.")
    rectification: str | None = Field(description="整改.")
    responsibility_determination: str | None = Field(description="界定责任.")
    internal_measure: InternalMeasure | None = Field(description="The measure when concluded internally.")
    outcome: str | None = Field(description="The receiving body's outcome.")
    transferred_at: datetime | None = Field(description="When transferred.")
    accepted_at: datetime | None = Field(description="When accepted.")
    concluded_at: datetime | None = Field(description="When concluded.")
    allowed_actions: list[str] = Field(description="Actions you may take now.")
    created_at: datetime = Field(description="Opened.")
    updated_at: datetime = Field(description="Last changed.")


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class CaseFilter:
    """Query filters of `GET /accountability-cases`."""

    def __init__(
        self,
        status: Annotated[CaseStatus | None, Query(description="Only this state.")] = None,
        organisation_id: Annotated[uuid.UUID | None, Query(
            description="A party (handing over, responsible, receiving) is this organisation or below it.")] = None,
        receiving_body_kind: Annotated[ReceivingBodyKind | None, Query(description="Only this kind of receiver.")]
        = None,
    ) -> None:
        self.status, self.organisation_id, self.receiving_body_kind = status, organisation_id, receiving_body_kind
