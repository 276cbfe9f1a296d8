"""Request and response bodies of `/escalations` and `/findings/{id}/escalations` (DOMAIN.md "Escalations")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.models import EscalationKind, EscalationStatus, ReceivingBodyKind, SummonsForm
from app.schemas.duty_lists import OrganisationBrief

Comment = Field(default=None, max_length=2000, description="A note kept on the history row.", examples=["同意"])


class NamedPerson(BaseModel):
    """A person addressed or concerned (约谈 of a 市长, 问责 of a 责任人): name and title, as text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, description="Name.", examples=["张三"])
    title: str | None = Field(default=None, max_length=200, description="Post (职务).", examples=["某市副市长"])
    organisation_id: uuid.UUID | None = Field(default=None, description="Their organisation, if known.")


class HandoverDetails(BaseModel):
    """What a handover (移交问责) hands over: the body concerned and, on the direct path, the receiver."""

    model_config = ConfigDict(extra="forbid")

    responsible_organisation_id: uuid.UUID = Field(
        description="The 党委政府 or department the problem belongs to; it investigates on the two-stage path "
                    "(000 §(十五)).")
    receiving_body_kind: ReceivingBodyKind | None = Field(
        default=None, description="Direct path only (002 §(十八), 004 §十): the kind of receiving body.")
    receiving_organisation_id: uuid.UUID | None = Field(
        default=None, description="Direct path only: the receiving body (by cadre-management authority).")
    persons_concerned: list[NamedPerson] = Field(default_factory=list, max_length=50,
                                                 description="Persons whose responsibility is in question.")


class EscalationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: EscalationKind = Field(description="预警 / 督办 / 约谈 / 通报 / 移交问责.", examples=["urge"])
    title: str = Field(min_length=1, max_length=300, description="The letter or measure in a line.",
                       examples=["关于督促加快城镇内河湖水环境整治的函"])
    content: str | None = Field(default=None, max_length=20_000, description="Its text.")
    issuing_organisation_id: uuid.UUID = Field(
        description="The organisation issuing it (or proposing it, where the profile splits the two); you hold "
                    "office, leader or leadership there.")
    addressee_organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50,
                                                        description="Organisations addressed (one or many).")
    addressee_persons: list[NamedPerson] = Field(default_factory=list, max_length=50,
                                                 description="Named persons addressed.")
    finding_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50,
                                         description="Findings it is about (ones you can see).")
    report_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Reports it is about (ones you can see), such as a late "
                                                         "annual duty report (000 §(十二)).")
    duty_list_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Duty-list versions it is about (ones you can see), such "
                                                         "as a list not yet published.")
    reply_deadline: date | None = Field(default=None, description="Urge only, and required there: reply by.")
    summons_form: SummonsForm | None = Field(default=None, description="Summons only: collective or individual.")
    public: bool = Field(default=False, description="Summons or circular: made public (公开) or internal.")
    handover: HandoverDetails | None = Field(default=None, description="Handover only, and required there.")


class EscalationDecide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Comment


class EscalationReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=2000, description="Why (required; kept on the history row).",
                         examples=["情况尚需核实"])


class EscalationReply(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reply: str = Field(min_length=1, max_length=20_000, description="The answer to the urge (督办回复).",
                       examples=["已完成整治方案,正在实施"])
    organisation_id: uuid.UUID | None = Field(default=None, description="The addressed organisation you reply "
                                                                        "for, when you belong to several.")
    comment: str | None = Comment


class PersonRead(BaseModel):
    name: str = Field(description="Name.")
    title: str | None = Field(description="Post.")
    organisation_id: uuid.UUID | None = Field(description="Their organisation.")


class EscalationRead(BaseModel):
    id: uuid.UUID = Field(description="Escalation id.")
    jurisdiction_id: uuid.UUID = Field(description="The province.")
    kind: EscalationKind = Field(description="Kind.")
    status: EscalationStatus = Field(description="State.")
    version: int = Field(description="Version (the ETag).")
    title: str = Field(description="Title.")
    content: str | None = Field(description="Text.")
    issuing_organisation: OrganisationBrief = Field(description="Issuer (or proposer).")
    deciding_organisations: list[OrganisationBrief] = Field(description="Who decides a proposal (else empty).")
    addressee_organisations: list[OrganisationBrief] = Field(description="Organisations addressed.")
    addressee_persons: list[PersonRead] = Field(description="Named persons addressed.")
    finding_ids: list[uuid.UUID] = Field(description="Findings it is about.")
    report_ids: list[uuid.UUID] = Field(description="Reports it is about.")
    duty_list_ids: list[uuid.UUID] = Field(description="Duty-list versions it is about.")
    reply_deadline: date | None = Field(description="Urge: reply by.")
    overdue: bool = Field(description="An urge not replied to by its deadline.")
    summons_form: SummonsForm | None = Field(description="Summons: collective or individual.")
    public: bool = Field(description="Public or internal.")
    clause: str | None = Field(description="The profile rule it followed.")
    proposed_at: datetime | None = Field(description="When proposed.")
    issued_at: datetime | None = Field(description="When issued.")
    decided_at: datetime | None = Field(description="When the decider decided.")
    decision_comment: str | None = Field(description="The decider's comment.")
    reply: str | None = Field(description="The answer to an urge.")
    replied_at: datetime | None = Field(description="When answered.")
    accountability_case_id: uuid.UUID | None = Field(description="The case a handover opened.")
    allowed_actions: list[str] = Field(description="Actions you may take now.")
    created_at: datetime = Field(description="Created.")
    updated_at: datetime = Field(description="Last changed.")


class EscalationPage(BaseModel):
    items: list[EscalationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class EscalationFilter:
    """Query filters of `GET /escalations`."""

    def __init__(
        self,
        kind: Annotated[EscalationKind | None, Query(description="Only this kind.")] = None,
        status: Annotated[EscalationStatus | None, Query(description="Only this state.")] = None,
        organisation_id: Annotated[uuid.UUID | None, Query(
            description="Issued by, decided by or addressed to this organisation or one below it.")] = None,
        finding_id: Annotated[uuid.UUID | None, Query(description="Linked to this finding.")] = None,
        report_id: Annotated[uuid.UUID | None, Query(
            description="Linked to this report (one you can see; 404 otherwise).")] = None,
        duty_list_id: Annotated[uuid.UUID | None, Query(
            description="Linked to this duty-list version (one you can see; 404 otherwise).")] = None,
    ) -> None:
        self.kind, self.status, self.organisation_id, self.finding_id = kind, status, organisation_id, finding_id
        self.report_id, self.duty_list_id = report_id, duty_list_id


class FindingEscalationFilter:
    """Query filters of `GET /findings/{id}/escalations`."""

    def __init__(
        self,
        kind: Annotated[EscalationKind | None, Query(description="Only this kind.")] = None,
        status: Annotated[EscalationStatus | None, Query(description="Only this state.")] = None,
    ) -> None:
        self.kind, self.status, self.organisation_id, self.finding_id = kind, status, None, None
        self.report_id, self.duty_list_id = None, None


class PublicEscalationRead(BaseModel):
    """A published summons (公开约谈) or circular (公开通报): what the public sees."""

    id: uuid.UUID = Field(description="Escalation id.")
    jurisdiction_id: uuid.UUID = Field(description="The province.")
    kind: EscalationKind = Field(description="summons or circular.")
    title: str = Field(description="Title.")
    content: str | None = Field(description="Text.")
    issuing_organisation: OrganisationBrief = Field(description="Issuer.")
    addressee_organisations: list[OrganisationBrief] = Field(description="Organisations addressed.")
    summons_form: SummonsForm | None = Field(description="Summons: collective or individual.")
    issued_at: datetime = Field(description="When issued.")


class PublicEscalationPage(BaseModel):
    items: list[PublicEscalationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class PublicEscalationFilter:
    """Query filters of `GET /public/escalations`."""

    def __init__(
        self,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="One province.")] = None,
        kind: Annotated[EscalationKind | None, Query(description="summons or circular.")] = None,
    ) -> None:
        self.jurisdiction_id, self.kind = jurisdiction_id, kind
