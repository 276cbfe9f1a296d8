"""Reports (报告) and the obligations they start as (DOMAIN.md "Reports").

A row of `report` is one obligation generated from a jurisdiction profile's calendar
— who must report what, to whom, for which period, by when — and, once work starts,
the report itself moving through the workflow (app/workflows/reports.py).
Obligations exist before anyone writes a word, so the compliance view (who filed,
who is late, who is missing) is one query over this table.

`uq_report_rule_id_organisation_id_period` (profile rule, principal filer, period)
is what makes generation idempotent, even when two runs race: every insert is
`ON CONFLICT DO NOTHING` on it. Ad hoc reports (及时, no schedule: 004 §八) have no
period (NULL), so any number of them can be filed; NULLs never collide.

`report_party` names every organisation a report concerns, by role: the filer(s)
(a region's 党委和政府 file jointly), the recipient(s) (省委、省政府 jointly, or the
government whose leader in charge is the recipient person), and the copies
(抄报 upward / 抄送 sideways, sent by the filer or forwarded by the recipient).
Visibility is read from it (app/services/reports/access.py).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class ReportKind(str, enum.Enum):
    """DOMAIN.md's kinds; the profile's rule says which one an obligation is."""

    annual_duty_report = "annual_duty_report"  # 年度报告 / 专题报告: 000 §(十二), 002 §(十二), 003 §(十一), 004 §七
    semiannual_duty_report = "semiannual_duty_report"  # 每半年 to the vice-governor: 000 §(十二)
    annual_work_plan = "annual_work_plan"  # 年度工作计划: 000 §(十), 002 §(十)
    task_decomposition = "task_decomposition"  # 任务分解情况: 000 §(九)
    hearing_record = "hearing_record"  # the meeting that heard the work: 000 §(二)(三), 004 §九
    rectification_progress = "rectification_progress"  # findings' progress reports (issue 7)
    ad_hoc = "ad_hoc"  # 及时, no schedule: 004 §八


class ReportStatus(str, enum.Enum):
    pending = "pending"  # the obligation exists; nobody has started
    draft = "draft"
    submitted = "submitted"
    received = "received"  # final for a filing (备案)
    accepted = "accepted"
    published = "published"


UNFILED_STATUSES = ("pending", "draft")
FILED_STATUSES = ("submitted", "received", "accepted", "published")
RECEIVED_STATUSES = ("received", "accepted", "published")


class RecipientKind(str, enum.Enum):
    organisation = "organisation"  # 省委、省政府; 同级党委和政府; a coordination office
    person = "person"  # 省政府分管领导同志: a leadership member of the government (000 §(十二), 004 §八)
    none = "none"  # a hearing record: the meeting itself is what is recorded


class ReportPartyRole(str, enum.Enum):
    filer = "filer"
    recipient = "recipient"
    copy_up = "copy_up"  # 抄报
    copy_across = "copy_across"  # 抄送


class Report(TimestampMixin, Base):
    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("rule_id", "organisation_id", "period"),
        Index("ix_report_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
        Index("ix_report_organisation_id_period_year", "organisation_id", "period_year"),
        Index("ix_report_period_year_status", "period_year", "status"),
        Index("ix_report_status_published_at", "status", "published_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # the principal filer
    # The profile the obligation was generated under: a later profile version never rewrites it.
    profile_code: Mapped[str] = mapped_column(String(32))
    profile_version: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(64))  # reports.<id> or hearings.<id> of the profile
    clause: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind))
    period: Mapped[str | None] = mapped_column(String(16))  # "2024", "2024-H1", "2024-Q3", "once"; NULL: ad hoc
    period_year: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), default=ReportStatus.pending)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The due date as the profile's calendar rule gives it, in the jurisdiction's zone; never moved
    # off a rest day (flagged instead); NULL when the text sets none (undated, with its cadence).
    due_date: Mapped[date | None] = mapped_column(Date)
    undated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on_rest_day: Mapped[bool] = mapped_column(Boolean, default=False)
    due_calendar_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_rule_text: Mapped[str] = mapped_column(String(200))
    due_rule_text_zh: Mapped[str] = mapped_column(String(200))
    due_cadence: Mapped[str | None] = mapped_column(String(32))
    # DOMAIN.md: where the text gives no date, "an office can set one by hand; the API shows which".
    due_set_at: Mapped[datetime | None]
    due_set_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    recipient_kind: Mapped[RecipientKind] = mapped_column(enum_column(RecipientKind, 16))
    recipient_label: Mapped[str] = mapped_column(String(300))  # names, or the person's title
    filing_only: Mapped[bool] = mapped_column(Boolean, default=False)  # 备案: received is final
    recipient_arranges_approval: Mapped[bool] = mapped_column(Boolean, default=False)  # 统筹报批: 000 §(十)
    publication_where: Mapped[str | None] = mapped_column(String(32))  # None: the text asks no publication
    publication_clause: Mapped[str | None] = mapped_column(String(64))
    content_required: Mapped[list[str]] = mapped_column(JSON, default=list)  # the rule's `content`
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Roles the generator could not resolve (no designation, no superior department): the API says so.
    unresolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Duties of another department this filer reports for (002 closing line: 能源 → 发展改革委).
    covers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None]
    submitted_on: Mapped[date | None] = mapped_column(Date)  # in the jurisdiction's zone
    submitted_late: Mapped[bool] = mapped_column(Boolean, default=False)  # once true, kept forever
    received_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_on: Mapped[date | None] = mapped_column(Date)
    portal_url: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(64))


class ReportParty(Base):
    """One organisation a report concerns, and how (filer, recipient, 抄报, 抄送)."""

    __tablename__ = "report_party"
    __table_args__ = (Index("ix_report_party_organisation_id_role", "organisation_id", "role"),)

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    role: Mapped[ReportPartyRole] = mapped_column(enum_column(ReportPartyRole, 16), primary_key=True)
    # Copies only: who sends it — the filer (readable once submitted) or the recipient, forwarding
    # what it received (readable once received: 000 §(十) "并将相关情况抄送").
    sent_by: Mapped[str] = mapped_column(String(16), default="filer")
    position: Mapped[int] = mapped_column(Integer, default=0)
