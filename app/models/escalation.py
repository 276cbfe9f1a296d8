"""Escalations (督办、预警、约谈、通报、移交): DOMAIN.md "Escalations".

An escalation is addressed to one or many organisations and named persons and linked to
zero or more findings, reports and duty lists: `warning` 预警函 (001 sent one to eleven cities at once), `urge` 督办
with a reply deadline, `summons` 约谈 (collective or individual, public or not), `circular`
通报 (public or internal), `handover` 移交问责, which opens an accountability case
(app/models/accountability_case.py). Where the profile splits proposing from deciding
(Hainan: 省生态环境厅 提请, 省委、省政府 实施约谈或责任追究 — 000 §(十二)) the escalation is
`proposed` and the decider issues or rejects it; elsewhere (002 §(十一) 省生态环境厅 视情采取约谈、
通报、移交问责) it is `issued` when created.

Every organisation an escalation touches is a party row (issuer, decider, addressee): who
may read it is one EXISTS over them (app/services/escalations/access.py), as for findings.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class EscalationKind(str, enum.Enum):
    warning = "warning"  # 预警函
    urge = "urge"  # 督办 (reply deadline)
    summons = "summons"  # 约谈
    circular = "circular"  # 通报
    handover = "handover"  # 移交问责


class EscalationStatus(str, enum.Enum):
    proposed = "proposed"  # 提请: awaiting the decider (Hainan)
    issued = "issued"
    rejected = "rejected"
    replied = "replied"  # an urge (督办) answered by an addressee


class SummonsForm(str, enum.Enum):
    collective = "collective"  # 集体约谈
    individual = "individual"  # 个别约谈


class EscalationPartyRole(str, enum.Enum):
    issuer = "issuer"  # issues, or proposes where the profile splits the two
    decider = "decider"  # decides a proposal (省委、省政府)
    addressee = "addressee"


class Escalation(TimestampMixin, Base):
    __tablename__ = "escalation"
    __table_args__ = (
        Index("ix_escalation_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
        Index("ix_escalation_kind_status", "kind", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[EscalationKind] = mapped_column(enum_column(EscalationKind, 16))
    status: Mapped[EscalationStatus] = mapped_column(enum_column(EscalationStatus, 16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str | None] = mapped_column(Text)
    issuing_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Named persons addressed (约谈 of a 市长, 督办 to a 责任人): [{name, title, organisation_id}].
    addressee_persons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reply_deadline: Mapped[date | None] = mapped_column(Date)  # urge only
    summons_form: Mapped[SummonsForm | None] = mapped_column(enum_column(SummonsForm, 16))  # summons only
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # summons, circular: 公开 or internal
    # The handover's case data, until the case exists (kept for a proposal the decider has not yet issued).
    handover: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    profile_code: Mapped[str | None] = mapped_column(String(32))
    profile_version: Mapped[int | None] = mapped_column(Integer)
    clause: Mapped[str | None] = mapped_column(String(64))  # the profile rule it followed
    proposed_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decision_comment: Mapped[str | None] = mapped_column(String(2000))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replying_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    created_by: Mapped[str | None] = mapped_column(String(64))


class EscalationParty(Base):
    __tablename__ = "escalation_party"
    __table_args__ = (Index("ix_escalation_party_organisation_id_role", "organisation_id", "role"),)

    escalation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation.id", ondelete="CASCADE"),
                                                     primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    role: Mapped[EscalationPartyRole] = mapped_column(enum_column(EscalationPartyRole, 16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class EscalationFinding(Base):
    """A finding the escalation is about (`/findings/{id}/escalations`)."""

    __tablename__ = "escalation_finding"

    escalation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation.id", ondelete="CASCADE"),
                                                     primary_key=True)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True,
                                                  index=True)


class EscalationReport(Base):
    """A report the escalation is about (a 督办 to a department whose annual duty report is late,
    000 §(十二))."""

    __tablename__ = "escalation_report"

    escalation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation.id", ondelete="CASCADE"),
                                                     primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True,
                                                 index=True)


class EscalationDutyList(Base):
    """A duty-list version the escalation is about (a 通报 on bodies that have not published their list:
    002 §(十一) 视情采取约谈、通报, §(十七) 督察检查)."""

    __tablename__ = "escalation_duty_list"

    escalation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation.id", ondelete="CASCADE"),
                                                     primary_key=True)
    duty_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duty_list.id", ondelete="CASCADE"),
                                                    primary_key=True, index=True)
