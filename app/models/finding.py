"""Findings (督察/巡视/审计发现问题), their measures, progress updates, look-backs and extensions.

A finding belongs to one inspection and moves through the workflow of DOMAIN.md
(app/workflows/findings.py). Every organisation a finding touches is a party row
(`finding_party`): the rectification office and the inspecting body from registration,
the responsible (主责), lead (牵头) and cooperating (配合) organisations from assignment.
Who may read a finding is one EXISTS over its parties (app/services/findings/access.py).

A measure (整改措施/任务) has its own deadline and status because 001 closes work at that
granularity ("8项牵头任务…3项已完成并销号,1项已完成待销号", 001 二(五)2(3)); one may be
confirmed as impossible to complete (001 二(四)2 "该事项无法继续整改落实").

The deadline moves only through an approved extension request; `original_deadline` keeps
the first one given on assignment, so statistics can report against both (DOMAIN.md).
A look-back that finds the problem back (反弹) reopens the finding and counts it:
`rebounded` stays true and `rebound_count` goes up (001 一(三) "确保问题不反弹").
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id, utcnow
from app.models.organisation import enum_column


class FindingStatus(str, enum.Enum):
    registered = "registered"
    assigned = "assigned"
    plan_submitted = "plan_submitted"
    in_progress = "in_progress"
    closure_requested = "closure_requested"  # 已完成待销号
    closed = "closed"  # 已完成并销号
    unrectifiable_requested = "unrectifiable_requested"
    unrectifiable = "unrectifiable"
    sustained = "sustained"  # 长期整改: periodic updates continue


# Not finished: a deadline past while in one of these makes the finding overdue (滞后).
# closure_requested is finished work awaiting 销号; sustained long-term work has no end date to miss.
OPEN_STATUSES = ("registered", "assigned", "plan_submitted", "in_progress", "unrectifiable_requested")


class RectificationType(str, enum.Enum):
    immediate = "immediate"  # 立行立改
    time_limited = "time_limited"  # 限期整改
    long_term = "long_term"  # 长期整改


class FindingPartyRole(str, enum.Enum):
    rectification_office = "rectification_office"
    inspecting_body = "inspecting_body"
    responsible = "responsible"  # 主责: the organisation scored on it (DOMAIN.md "Statistics")
    lead = "lead"  # 牵头
    cooperating = "cooperating"  # 配合


class FindingRelation(str, enum.Enum):
    same_problem = "same_problem"  # the same problem found by another channel
    follow_up = "follow_up"  # 举一反三: a follow-up drawn from this one


class Finding(TimestampMixin, Base):
    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint("inspection_id", "code"),
        # Keyset pages of a province (ORDER BY created_at, id) and of one campaign.
        Index("ix_finding_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
        Index("ix_finding_inspection_id_created_at_id", "inspection_id", "created_at", "id"),
        # status + overdue (deadline < today) filters across every province (no organisation asked for).
        Index("ix_finding_status_deadline", "status", "deadline"),
        # An organisation subtree (`subtree_of=`, the statistics): the closure gives the subtree's
        # organisations, each probes this index, so the cost is the subtree's findings, not the nation's;
        # status and `overdue` (deadline < today) narrow the probe inside the index, not after the heap.
        Index("ix_finding_responsible_organisation_id_status_deadline", "responsible_organisation_id", "status",
              "deadline"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_category.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[FindingStatus] = mapped_column(enum_column(FindingStatus), default=FindingStatus.registered)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Copied from the inspection at registration (the finding's office and inspector never change under it).
    rectification_office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    inspecting_body_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    responsible_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    # 责任领导、责任部门、责任人 (001 一(三)): a person, a unit inside the responsible organisation, a person.
    responsible_leader: Mapped[str | None] = mapped_column(String(100))
    responsible_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    rectification_type: Mapped[RectificationType] = mapped_column(enum_column(RectificationType, 16),
                                                                  default=RectificationType.time_limited)
    deadline: Mapped[date | None] = mapped_column(Date)
    original_deadline: Mapped[date | None] = mapped_column(Date)
    key_problem: Mapped[bool] = mapped_column(Boolean, default=False)  # 重点督办
    key_problem_handler: Mapped[str | None] = mapped_column(String(100))  # 专人办理
    plan_summary: Mapped[str | None] = mapped_column(Text)  # of the plan in force
    # The plan (or amendment) awaiting the office: {summary, measures: [...], amendment}. Measures exist as
    # rows only once a plan is approved, so a refused plan or amendment leaves the measures in force alone.
    proposed_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    plan_submitted_at: Mapped[datetime | None]
    plan_approved_at: Mapped[datetime | None]
    rectification_started_on: Mapped[date | None] = mapped_column(Date)  # first plan approval: schedule anchor
    closure_requested_at: Mapped[datetime | None]
    closure_summary: Mapped[str | None] = mapped_column(Text)
    closure_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None]
    closed_on: Mapped[date | None] = mapped_column(Date)
    verification_note: Mapped[str | None] = mapped_column(String(2000))
    unrectifiable_reason: Mapped[str | None] = mapped_column(Text)
    # Who confirms it cannot be rectified (declare_unrectifiable).
    confirming_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    unrectifiable_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sustained_at: Mapped[datetime | None]
    rebounded: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rebound_count: Mapped[int] = mapped_column(Integer, default=0)
    last_lookback_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # Set when the finding came from a historical import (app/models/finding_import.py).
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("finding_import_batch.id"), index=True)


class FindingParty(Base):
    __tablename__ = "finding_party"
    __table_args__ = (Index("ix_finding_party_organisation_id_role", "organisation_id", "role"),)

    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    role: Mapped[FindingPartyRole] = mapped_column(enum_column(FindingPartyRole, 24), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FindingLink(Base):
    """A related finding (the same problem from another channel; a 举一反三 follow-up)."""

    __tablename__ = "finding_link"

    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True)
    related_finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"),
                                                          primary_key=True, index=True)
    relation: Mapped[FindingRelation] = mapped_column(enum_column(FindingRelation, 16))


class MeasureStatus(str, enum.Enum):
    open = "open"
    done = "done"  # 已完成 (待销号)
    verified = "verified"  # 销号 of the task
    cannot_complete_requested = "cannot_complete_requested"
    cannot_complete = "cannot_complete"  # 001 二(四)2 "无法继续整改落实", confirmed


SETTLED_MEASURE_STATUSES = ("done", "verified", "cannot_complete")  # closure may be requested


class Measure(TimestampMixin, Base):
    __tablename__ = "measure"
    __table_args__ = (
        Index("ix_measure_finding_id_position_id", "finding_id", "position", "id"),
        Index("ix_measure_status_deadline", "status", "deadline"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    phase: Mapped[str | None] = mapped_column(String(50))  # 001 二(四)1: "第一阶段", "第二阶段"
    deadline: Mapped[date] = mapped_column(Date)
    original_deadline: Mapped[date | None] = mapped_column(Date)  # as first approved
    responsible_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[MeasureStatus] = mapped_column(enum_column(MeasureStatus), default=MeasureStatus.open)
    version: Mapped[int] = mapped_column(Integer, default=1)
    approved_at: Mapped[datetime | None]  # when the plan that created or last changed it was approved
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None]
    completion_note: Mapped[str | None] = mapped_column(String(2000))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    verified_at: Mapped[datetime | None]
    verification_note: Mapped[str | None] = mapped_column(String(2000))
    cannot_complete_reason: Mapped[str | None] = mapped_column(Text)
    confirming_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    confirmed_at: Mapped[datetime | None]
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("finding_import_batch.id"), index=True)


class ProgressUpdate(Base):
    """One progress report (进展情况) at the campaign's dispatch cadence; append-only."""

    __tablename__ = "progress_update"
    __table_args__ = (Index("ix_progress_update_finding_id_reported_on_id", "finding_id", "reported_on", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    reported_on: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)  # the schedule period it counts for
    summary: Mapped[str] = mapped_column(Text)
    difficulties: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    reported_by_id: Mapped[str | None] = mapped_column(String(64))
    reported_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())


class LookbackOutcome(str, enum.Enum):
    passed = "passed"
    rebounded = "rebounded"  # 反弹


class LookbackPerformer(str, enum.Enum):
    """Who looked back (001 一(三)): the inspector, the office, or the rectifying organisation itself."""

    inspector = "inspector"
    rectification_office = "rectification_office"
    rectifying_organisation = "rectifying_organisation"


class FindingLookback(Base):
    __tablename__ = "finding_lookback"
    __table_args__ = (Index("ix_finding_lookback_finding_id_performed_on_id", "finding_id", "performed_on", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    outcome: Mapped[LookbackOutcome] = mapped_column(enum_column(LookbackOutcome, 16))
    performer: Mapped[LookbackPerformer] = mapped_column(enum_column(LookbackPerformer, 32))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    performed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    finding_status: Mapped[str] = mapped_column(String(32))  # the state it was looked back on in
    recorded_by_id: Mapped[str | None] = mapped_column(String(64))
    recorded_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())


class ExtensionStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


_PENDING_SQL = "status = 'pending'"


class ExtensionRequest(TimestampMixin, Base):
    """申请延期: the responsible organisation's leader asks, the rectification office decides."""

    __tablename__ = "extension_request"
    __table_args__ = (
        Index("ix_extension_request_finding_id_created_at_id", "finding_id", "created_at", "id"),
        # One open request per finding: two simultaneous requests cannot both be pending.
        Index("uq_extension_request_one_pending", "finding_id", unique=True,
              sqlite_where=text(_PENDING_SQL), postgresql_where=text(_PENDING_SQL)),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    status: Mapped[ExtensionStatus] = mapped_column(enum_column(ExtensionStatus, 16), default=ExtensionStatus.pending)
    version: Mapped[int] = mapped_column(Integer, default=1)
    requested_deadline: Mapped[date] = mapped_column(Date)
    previous_deadline: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[str | None] = mapped_column(String(64))
    requested_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decision_comment: Mapped[str | None] = mapped_column(String(2000))
