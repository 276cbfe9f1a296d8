"""Inspections (督察 / 巡视 / 审计 / 自查 campaigns) and the category tree of their findings.

An inspection is one campaign (DOMAIN.md "Inspections and findings"): who inspected
(`inspecting_body_id`, national bodies allowed: 中央生态环境保护督察组), whom
(`inspection_organisation` rows, enterprises allowed: 003 §(十六) 中央在鄂企业), when
(on-site dates, the feedback date 反馈 from which rectification runs), how often
rectification is dispatched (调度, the cadence of progress updates), and the inspected
side's plan for the whole campaign (整改工作方案: 001 一(二) "9月25日,印发《…整改工作方案》").

`rectification_office_id` is the organisation whose `office` members assign, approve
plans, verify and close (销号) the campaign's findings: 001 一(三) "厅巡视整改工作领导小组
办公室认真梳理整改台账…将整改任务分解到有关责任处室". The service resolves a default
when the registrar names none (app/services/inspections/commands.py).

Categories are rows (方面 → topic, as 001 groups its 36 items under five 方面); `path`
is the materialised chain of ids from the root, so "findings under this node" is one
prefix match, on both databases, with no recursive walk.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class InspectionKind(str, enum.Enum):
    central_inspection = "central_inspection"  # 中央生态环境保护督察 (and 国家海洋督察)
    provincial_routine = "provincial_routine"  # 省级例行督察
    provincial_special = "provincial_special"  # 专项督察
    daily = "daily"  # 日常督察
    party_inspection = "party_inspection"  # 巡视 (001)
    audit = "audit"  # 审计
    self_inspection = "self_inspection"  # 自查
    complaint_transfer = "complaint_transfer"  # 信访举报移交


# Campaigns the inspected organisation rectifies itself (its own 整改工作领导小组办公室, 001 一(二)):
# the default rectification office is the inspected organisation. The others are environmental
# inspections whose rectification the region's 督察办 coordinates.
SELF_RECTIFIED_KINDS = frozenset({InspectionKind.party_inspection, InspectionKind.audit,
                                  InspectionKind.self_inspection})


class DispatchCadence(str, enum.Enum):
    """How often rectification is dispatched (调度): the period of the progress-update schedule."""

    weekly = "weekly"
    biweekly = "biweekly"
    monthly = "monthly"  # 001 二(五)2(1) "按月进行调度"
    quarterly = "quarterly"
    semiannual = "semiannual"


class Inspection(TimestampMixin, Base):
    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The province of the inspected organisations (and of the rectification office): the tenant key.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[InspectionKind] = mapped_column(enum_column(InspectionKind))
    title: Mapped[str] = mapped_column(String(300))
    code: Mapped[str | None] = mapped_column(String(64))  # the round / batch as the documents name it
    inspecting_body_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    rectification_office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    onsite_start_date: Mapped[date | None] = mapped_column(Date)
    onsite_end_date: Mapped[date | None] = mapped_column(Date)
    feedback_date: Mapped[date | None] = mapped_column(Date)  # 反馈: rectification runs from it
    dispatch_cadence: Mapped[DispatchCadence] = mapped_column(enum_column(DispatchCadence, 16),
                                                              default=DispatchCadence.monthly)
    plan_issued_date: Mapped[date | None] = mapped_column(Date)  # 整改工作方案 印发
    plan_document_number: Mapped[str | None] = mapped_column(String(100))
    plan_document_title: Mapped[str | None] = mapped_column(String(300))
    plan_leading_group: Mapped[str | None] = mapped_column(Text)  # 整改工作领导小组: its make-up, as written
    note: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(64))


class InspectionOrganisation(Base):
    """An inspected organisation (被督察/被巡视单位) of a campaign."""

    __tablename__ = "inspection_organisation"

    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"),
                                                     primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


MAX_CATEGORY_DEPTH = 4  # 方面 → topic → sub-topic → …; 001 needs two levels


class InspectionCategory(TimestampMixin, Base):
    __tablename__ = "inspection_category"
    __table_args__ = (Index("ix_inspection_category_inspection_id_path", "inspection_id", "path"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_category.id", ondelete="CASCADE"))
    # "<root hex>/<child hex>/…/": this node's chain; a node's subtree is every path starting with it.
    path: Mapped[str] = mapped_column(String(200))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str | None] = mapped_column(String(32))  # "(一)", "1." as the ledger numbers it
    title: Mapped[str] = mapped_column(String(300))
