"""Lead-department decisions (牵头部门认定): 000 §(八), 002 §(六), 003 §(七), 004 §五.

A matter with no lead department is raised by a department or a city (or opened
by the convenor), consulted on with the participating organisations, proposed,
decided and published. Who convenes and who decides come from the profile and are
resolved to organisations when the decision is opened (`lead_decision_party`
rows), so a later change of designations never rewrites who decided a matter.

Every organisation a decision touches is a party row (requester, convenor,
decider, participant, and after a proposal the lead and cooperating ones): the
scope test of a decision is one EXISTS over its parties.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class LeadDecisionStatus(str, enum.Enum):
    requested = "requested"
    consulting = "consulting"
    proposed = "proposed"
    approved = "approved"
    published = "published"
    withdrawn = "withdrawn"


class DecisionLevel(str, enum.Enum):
    provincial = "provincial"  # 属于省级事项
    sub_provincial = "sub_provincial"  # 属于省级以下事项: decided at that level


class PartyRole(str, enum.Enum):
    requester = "requester"
    convenor = "convenor"
    decider = "decider"
    participant = "participant"
    lead = "lead"
    cooperating = "cooperating"


class OpinionStance(str, enum.Enum):
    agree = "agree"
    disagree = "disagree"


class LeadDecision(TimestampMixin, Base):
    __tablename__ = "lead_decision"
    __table_args__ = (Index("ix_lead_decision_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # the level that decides
    level: Mapped[DecisionLevel] = mapped_column(enum_column(DecisionLevel, 16))
    status: Mapped[LeadDecisionStatus] = mapped_column(enum_column(LeadDecisionStatus))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    scope_tests: Mapped[list[str]] = mapped_column(JSON, default=list)  # the profile's LeadScope values claimed
    profile_code: Mapped[str] = mapped_column(String(32))
    profile_version: Mapped[int] = mapped_column(Integer)
    convenor_decides: Mapped[bool] = mapped_column(Boolean, default=False)  # Hubei; every sub-provincial matter
    # The proposal (提出明确牵头部门意见和任务分解意见, 000 §(八)); lead and cooperating orgs are party rows.
    first_lead_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    task_split: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rationale: Mapped[str | None] = mapped_column(Text)
    proposed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    published_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None]
    portal_url: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(64))


class LeadDecisionParty(Base):
    __tablename__ = "lead_decision_party"
    __table_args__ = (Index("ix_lead_decision_party_organisation_id_role", "organisation_id", "role"),)

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_decision.id", ondelete="CASCADE"),
                                                   primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole, 16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class LeadDecisionOpinion(Base):
    """One participating organisation's opinion (会商意见), recorded by its leader; one per participant."""

    __tablename__ = "lead_decision_opinion"
    __table_args__ = (UniqueConstraint("decision_id", "organisation_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_decision.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    stance: Mapped[OpinionStance] = mapped_column(enum_column(OpinionStance, 16))
    reason: Mapped[str | None] = mapped_column(String(2000))
    recorded_by_id: Mapped[str | None] = mapped_column(String(64))
    recorded_by_name: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


class LeadDecisionItem(Base):
    """Responsibility items the decision settles; on approval they take the decided lead (by lineage)."""

    __tablename__ = "lead_decision_item"

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_decision.id", ondelete="CASCADE"),
                                                   primary_key=True)
    lineage_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    item_id: Mapped[uuid.UUID]  # the item as linked (no FK: a draft item may be deleted; the lineage stays)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # its list's owner
