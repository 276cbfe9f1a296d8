"""Accountability cases (问责): DOMAIN.md "Accountability cases".

A case is opened by a handover escalation (移交问责) once it is issued. Two paths, from the
profile (`accountability.path`):

- two stages (Hainan, 000 §(十五)): the problem goes to the responsible 党委政府 or 省直部门, which
  establishes 原因、经过、后果、影响、整改, determines responsibility (界定责任), then transfers
  (移送) to the discipline body or the organisation department: `investigating --transfer-->
  transferred`; or it settles the matter itself (`conclude_internally`: 批评教育、提醒谈话、组织处理);
- direct (Henan 002 §(十八), Shandong 004 §十; Hubei, whose 003 §(十七) names no investigation
  stage): the case is created `transferred` to the receiving body.

Then `transferred --accept--> accepted --conclude(outcome)--> concluded`. Receiving bodies are
discipline bodies (纪检监察), organisation departments (组织人事) and, for suspected crimes, public
security or the procuratorate (000 §(十八), 003 §(十八)). A receiving body sees its cases, not others:
parties are the handing-over organisation, the responsible body and the receiving body.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class CaseStatus(str, enum.Enum):
    investigating = "investigating"
    transferred = "transferred"
    accepted = "accepted"
    concluded = "concluded"


class CasePath(str, enum.Enum):
    two_stage = "two_stage"
    direct = "direct"


class ReceivingBodyKind(str, enum.Enum):
    discipline = "discipline"  # 纪检监察机关
    organisation_department = "organisation_department"  # 组织(人事)部门
    public_security = "public_security"  # 公安机关 (涉嫌犯罪)
    procuratorate = "procuratorate"  # 人民检察院


class InternalMeasure(str, enum.Enum):
    criticism_education = "criticism_education"  # 批评教育
    reminder_talk = "reminder_talk"  # 提醒谈话
    organisational_handling = "organisational_handling"  # 组织处理


class CasePartyRole(str, enum.Enum):
    handing_over = "handing_over"  # the escalation's issuer (移交)
    responsible = "responsible"  # the 党委政府/省直部门 concerned; investigates on the two-stage path
    receiving = "receiving"  # the body the case is transferred to


class AccountabilityCase(TimestampMixin, Base):
    __tablename__ = "accountability_case"
    __table_args__ = (
        Index("ix_accountability_case_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    escalation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation.id"), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, 16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    path: Mapped[CasePath] = mapped_column(enum_column(CasePath, 16))
    clause: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    handing_over_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    responsible_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    receiving_body_kind: Mapped[ReceivingBodyKind | None] = mapped_column(enum_column(ReceivingBodyKind, 32))
    receiving_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    persons_concerned: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{name, title}]
    # 000 §(十五): 原因、经过、后果、影响、整改, 界定责任.
    cause: Mapped[str | None] = mapped_column(Text)
    course: Mapped[str | None] = mapped_column(Text)
    consequences: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[str | None] = mapped_column(Text)
    responsibility_determination: Mapped[str | None] = mapped_column(Text)
    transferred_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    internal_measure: Mapped[InternalMeasure | None] = mapped_column(enum_column(InternalMeasure, 32))


class CaseParty(Base):
    __tablename__ = "accountability_case_party"
    __table_args__ = (Index("ix_accountability_case_party_organisation_id_role", "organisation_id", "role"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accountability_case.id", ondelete="CASCADE"),
                                               primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    role: Mapped[CasePartyRole] = mapped_column(enum_column(CasePartyRole, 16), primary_key=True)
