"""Request and response bodies of `/reports` (DOMAIN.md "Reports").

Content is structured by kind: an annual work plan (000 §(十), 002 §(十)) has goals,
quarterly goals, key tasks and measures with their responsible units; a hearing record
(000 §(二)(三), 004 §九) names the meeting; every other report is sections, one per
topic the profile asks for (`content_required`). Attachments (issue 6) will be a
sub-collection, `/reports/{id}/attachments`; nothing here refers to files yet.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.models import RecipientKind, ReportKind, ReportStatus
from app.profiles.schema import CopyMode
from app.schemas.dates import CalendarDate

ID_EXAMPLE = "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"


class SectionTopic(str, enum.Enum):
    """What a section reports on: the profile's content items (plus `other`)."""

    duty_performance = "duty_performance"  # 生态环境保护职责履行情况
    work_situation = "work_situation"  # 生态环境保护工作情况 (003 §(十一) cities)
    lead_item_implementation = "lead_item_implementation"  # 牵头负责的具体事项落实情况
    inspection_rectification = "inspection_rectification"  # 督察整改 (004 §七)
    pollution_battle = "pollution_battle"  # 污染防治攻坚战 (004 §七)
    four_reductions_four_increases = "four_reductions_four_increases"  # 四减四增 (004 §七)
    decomposition = "decomposition"  # 任务分解情况 (000 §(九))
    other = "other"


class ComplianceStanding(str, enum.Enum):
    """Where one obligation stands; exactly one per report."""

    filed_on_time = "filed_on_time"
    filed_late = "filed_late"
    overdue = "overdue"  # not filed, past its due date
    not_yet_due = "not_yet_due"  # not filed, due later or undated


class ComplianceBucket(str, enum.Enum):
    """The compliance view's counts, each equal to `GET /reports?compliance=<bucket>` with the same filters."""

    filed = "filed"  # submitted or beyond
    filed_late = "filed_late"  # ⊆ filed
    missing = "missing"  # pending or draft
    overdue = "overdue"  # ⊆ missing


def _input() -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True)


Line = Annotated[str, Field(min_length=1, max_length=1000)]


class ReportSection(BaseModel):
    model_config = _input()
    topic: SectionTopic = Field(description="What the section reports on.", examples=["duty_performance"])
    heading: str = Field(min_length=1, max_length=200, description="Section heading.",
                         examples=["一、生态环境保护职责履行情况"])
    body: str = Field(min_length=1, max_length=20000, description="The text.", examples=["2024年，本部门……"])


class QuarterGoals(BaseModel):
    model_config = _input()
    quarter: int = Field(ge=1, le=4, description="Quarter 1–4.", examples=[1])
    goals: list[Line] = Field(min_length=1, max_length=50, description="季度目标.", examples=[["完成方案编制"]])


class ResponsibleUnit(BaseModel):
    model_config = _input()
    name: str = Field(min_length=1, max_length=200, description="责任单位, as the plan names it.",
                      examples=["水生态环境处"])
    organisation_id: uuid.UUID | None = Field(default=None, description="The unit's organisation, when it is one "
                                              "in the same jurisdiction (422 otherwise).", examples=[ID_EXAMPLE])


class PlanMeasure(BaseModel):
    model_config = _input()
    text: str = Field(min_length=1, max_length=2000, description="推进措施.", examples=["开展入河排污口排查整治"])
    responsible_units: list[ResponsibleUnit] = Field(default=[], max_length=20, description="责任单位.",
                                                     examples=[[{"name": "水生态环境处"}]])
    due_date: date | None = Field(default=None, description="When the measure is due.", examples=["2025-06-30"])


class WorkPlan(BaseModel):
    """年度工作计划: 000 §(十) 全年目标、季度目标、推进措施、责任单位; 002 §(十) 目标、重点任务、措施."""

    model_config = _input()
    annual_goals: list[Line] = Field(default=[], max_length=50, description="全年目标.", examples=[["水质优良率98%"]])
    quarterly_goals: list[QuarterGoals] = Field(default=[], max_length=4, description="季度目标 (Hainan).",
                                                examples=[[{"quarter": 1, "goals": ["完成方案编制"]}]])
    key_tasks: list[Line] = Field(default=[], max_length=100, description="重点任务 (Henan).",
                                  examples=[["推进黄河流域生态保护"]])
    measures: list[PlanMeasure] = Field(default=[], max_length=200, description="推进措施 with 责任单位.",
                                        examples=[[{"text": "开展入河排污口排查整治"}]])


class MeetingRecord(BaseModel):
    """The meeting that heard the work (000 §(二)(三) 听取汇报, 004 §九 专题研究)."""

    model_config = _input()
    held_on: date = Field(description="The meeting's date; inside the report's period.", examples=["2025-03-20"])
    forum: str = Field(min_length=1, max_length=200, description="Which meeting.", examples=["省委常委会会议"])
    summary: str = Field(min_length=1, max_length=20000, description="What was heard and decided.",
                         examples=["听取了各分管领域生态环境保护责任落实情况汇报"])


class ReportContent(BaseModel):
    """Work plans take `work_plan`, hearing records `meeting`; sections go with any kind."""

    model_config = _input()
    sections: list[ReportSection] = Field(default=[], max_length=30, description="Sections, by topic.",
                                          examples=[[{"topic": "duty_performance", "heading": "一、职责履行情况",
                                                      "body": "2024年，本部门……"}]])
    work_plan: WorkPlan | None = Field(default=None, description="Annual work plans only.")
    meeting: MeetingRecord | None = Field(default=None, description="Hearing records only.")


class ReportUpdate(BaseModel):
    """Replace the content while the report is a draft (staff or leader of the filer)."""

    model_config = _input()
    content: ReportContent = Field(description="The whole content; what is left out is removed.",
                                   examples=[{"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况",
                                                            "body": "2024年，本部门……"}]}])


class ReportCreate(BaseModel):
    """An ad hoc report (及时, 004 §八), opened by staff of the filer in `draft`."""

    model_config = _input()
    organisation_id: uuid.UUID = Field(description="The filing organisation (you are its staff).",
                                       examples=[ID_EXAMPLE])
    rule_id: str = Field(max_length=64, pattern=r"^reports\.[a-z_.]+$",
                         description="The profile's ad hoc rule.", examples=["reports.ad_hoc_to_vice_governor"])
    title: str = Field(min_length=1, max_length=300, description="What it reports.",
                       examples=["关于黄河流域入河排污口排查整治进展的报告"])
    content: ReportContent | None = Field(default=None, description="Content to start from.")


class ReportAction(BaseModel):
    model_config = _input()
    comment: str | None = Field(default=None, max_length=2000, description="Kept on the history row.",
                                examples=["请审阅"])


class ReportReturn(BaseModel):
    model_config = _input()
    comment: str = Field(min_length=1, max_length=2000, description="Why it goes back (required).",
                         examples=["请补充牵头事项落实情况"])


class ReportPublish(BaseModel):
    model_config = _input()
    portal_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$",
                                   description="Where the filer published it (本部门门户网站: 000 §(十二)).",
                                   examples=["https://hnsthb.hainan.gov.cn/xxgk/2025/report.html"])
    comment: str | None = Field(default=None, max_length=2000, description="Kept on the history row.",
                                examples=[None])


class ReportDueDateSet(BaseModel):
    """A due date for an obligation the text leaves undated (定期, 及时, 每年 without a day)."""

    model_config = _input()
    due_date: CalendarDate = Field(description="The day it is due, in the jurisdiction's zone.",
                                   examples=["2025-03-31"])
    comment: str | None = Field(default=None, max_length=2000, description="Kept in the audit trail.",
                                examples=["按省环委办通知，一季度末前报送"])


class ReportGenerate(BaseModel):
    model_config = _input()
    jurisdiction_id: uuid.UUID = Field(description="The province (a root organisation with a profile).",
                                       examples=[ID_EXAMPLE])
    year: int = Field(ge=2000, le=2100, description="The period year: the year reported on (上年度 reports are "
                                                   "due the year after), the plan's own year.", examples=[2024])


class OrganisationName(BaseModel):
    id: uuid.UUID = Field(description="Organisation id.", examples=[ID_EXAMPLE])
    name: str = Field(description="Its name.", examples=["海南省生态环境厅"])


class ReportCopyRead(OrganisationName):
    mode: CopyMode = Field(description="抄报 (copy_up) or 抄送 (copy_across).", examples=["copy_across"])
    sent_by: str = Field(description="`filer` (readable once submitted) or `recipient` (once received).",
                         examples=["filer"])


class DueRead(BaseModel):
    due_date: date | None = Field(description="As the text writes it; null when it sets none.",
                                  examples=["2025-01-31"])
    undated: bool = Field(description="The text gives no date (定期, 及时, 每年/每半年 without a day).")
    falls_on_rest_day: bool = Field(description="A weekend or statutory holiday: flagged, never moved.")
    calendar_estimated: bool = Field(description="The holiday library does not cover that year yet.")
    rule_text: str = Field(description="The rule in English.", examples=["by the end of Jan of the following year"])
    rule_text_zh: str = Field(description="The rule in Chinese.", examples=["次年1月底前"])
    cadence: str | None = Field(description="For undated obligations: how often.", examples=[None])
    set_by_hand: bool = Field(default=False, description="The text gives no date and an office set this one "
                                                         "(`PUT /reports/{id}/due-date`).")
    set_by_organisation_id: uuid.UUID | None = Field(default=None, description="The office's organisation.")


class ReportRead(BaseModel):
    id: uuid.UUID = Field(description="Report id.", examples=[ID_EXAMPLE])
    jurisdiction_id: uuid.UUID = Field(description="The province it belongs to.", examples=[ID_EXAMPLE])
    organisation_id: uuid.UUID = Field(description="The (principal) filer.", examples=[ID_EXAMPLE])
    filers: list[OrganisationName] = Field(description="Every filer (a region's 党委和政府 file jointly).")
    recipient_kind: RecipientKind = Field(description="An organisation, a person in one, or none (hearings).")
    recipient_label: str = Field(description="Who it goes to, in words.", examples=["中共海南省委、海南省人民政府"])
    recipients: list[OrganisationName] = Field(description="The recipient organisations (for a person: the "
                                                           "government whose leadership member it is). Until "
                                                           "the report is submitted they follow the region's "
                                                           "designations (a change re-addresses it, see its "
                                                           "history); once submitted they stay as sent.")
    copies: list[ReportCopyRead] = Field(description="抄报 / 抄送 recipients: they read, they cannot act.")
    unresolved: list[dict[str, Any]] = Field(description="Recipients or copies the profile names that no "
                                                         "organisation fills yet, and why.")
    covers: list[dict[str, Any]] = Field(description="Other departments' duties this filer reports for "
                                                     "(002: 能源 → 发展改革委).")
    profile_code: str = Field(examples=["hainan"])
    profile_version: int = Field(examples=[1])
    rule_id: str = Field(description="The profile rule it comes from; `reports.<id>.local` is that rule followed by "
                                     "analogy in a city or county (参照落实, 002 §(十二)).",
                         examples=["reports.annual_duty_report"])
    clause: str = Field(description="The clause.", examples=["000 §(十二)"])
    kind: ReportKind = Field(examples=["annual_duty_report"])
    period: str | None = Field(description="`2024`, `2024-H1`, `2024-Q3`, `once`; null for ad hoc reports.",
                               examples=["2024"])
    period_year: int = Field(examples=[2024])
    period_start: date | None = Field(examples=["2024-01-01"])
    period_end: date | None = Field(examples=["2024-12-31"])
    title: str = Field(examples=["海南省生态环境厅2024年度生态环境保护职责履行情况报告"])
    status: ReportStatus = Field(examples=["pending"])
    version: int = Field(description="Bumped on every change; the ETag is derived from it.", examples=[1])
    due: DueRead
    overdue: bool = Field(description="Not submitted and past its due date (today in the jurisdiction's zone).")
    submitted_late: bool = Field(description="Submitted after its due date; kept for ever.")
    filing_only: bool = Field(description="备案: `received` is final (002 §(十)).")
    needs_acceptance: bool = Field(description="The recipient's leadership accepts it after receipt.")
    recipient_arranges_approval: bool = Field(description="统筹报批: the receiving office puts it to approval "
                                                          "(000 §(十)).")
    publication_where: str | None = Field(description="Where the text says it is published; null: not published.",
                                          examples=["own_portal"])
    publication_clause: str | None = Field(examples=["000 §(十二)"])
    content_required: list[str] = Field(description="What the profile says it must contain.",
                                        examples=[["duty_performance"]])
    content: ReportContent | None = Field(description="Null for callers outside the filer while it is unsubmitted.")
    submitted_at: datetime | None = Field(examples=[None])
    received_at: datetime | None = Field(examples=[None])
    accepted_at: datetime | None = Field(examples=[None])
    published_at: datetime | None = Field(examples=[None])
    published_on: date | None = Field(examples=[None])
    portal_url: str | None = Field(examples=[None])
    allowed_actions: list[str] = Field(description="What you may do now.", examples=[["start"]])
    created_at: datetime
    updated_at: datetime


class ReportPage(BaseModel):
    items: list[ReportRead] = Field(description="This page, oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.", examples=[None])
    total: int | None = Field(default=None, description="Only with include_total=true.", examples=[16])


class GenerationRuleRead(BaseModel):
    rule_id: str = Field(examples=["reports.annual_duty_report"])
    clause: str = Field(examples=["000 §(十二)"])
    kind: ReportKind = Field(examples=["annual_duty_report"])
    periods: list[str] = Field(examples=[["2024"]])
    due: DueRead
    obligations: int = Field(description="Filers × periods.", examples=[18])
    created: int = Field(description="New in this run.", examples=[18])


class ReportGenerationRead(BaseModel):
    jurisdiction_id: uuid.UUID = Field(examples=[ID_EXAMPLE])
    profile_code: str = Field(examples=["hainan"])
    profile_version: int = Field(examples=[1])
    year: int = Field(examples=[2024])
    created: int = Field(description="Obligations created by this run (0 when run again).", examples=[40])
    existing: int = Field(description="Obligations that already existed.", examples=[0])
    rules: list[GenerationRuleRead]
    skipped: list[dict[str, Any]] = Field(description="Rules or filers not generated, and why (ad hoc reports, "
                                                      "cadences with no count, regions without 党委/政府).")


class ComplianceRowRead(BaseModel):
    report_id: uuid.UUID = Field(examples=[ID_EXAMPLE])
    organisation_id: uuid.UUID = Field(examples=[ID_EXAMPLE])
    organisation_name: str = Field(examples=["海南省水务厅"])
    rule_id: str = Field(examples=["reports.annual_duty_report"])
    kind: ReportKind = Field(examples=["annual_duty_report"])
    period: str | None = Field(examples=["2024"])
    status: ReportStatus = Field(examples=["submitted"])
    due_date: date | None = Field(examples=["2025-01-31"])
    submitted_at: datetime | None = Field(examples=[None])
    standing: ComplianceStanding = Field(examples=["filed_on_time"])


class ComplianceRead(BaseModel):
    organisation_id: uuid.UUID | None = Field(description="The subtree asked for.", examples=[ID_EXAMPLE])
    period_year: int = Field(examples=[2024])
    as_of: date = Field(description="Today in the jurisdiction's zone: what `overdue` is judged against.")
    total: int = Field(description="Every obligation in view.", examples=[18])
    counts: dict[ComplianceBucket, int] = Field(description="Per bucket; each equals its list query's length.")
    links: dict[ComplianceBucket, str] = Field(description="The list query behind each count.")
    items: list[ComplianceRowRead] = Field(description="One row per obligation, this page.")
    next_cursor: str | None = Field(examples=[None])


class ReportFilter:
    """Query filters of `GET /reports` (and the compliance view)."""

    def __init__(
        self,
        organisation_id: Annotated[uuid.UUID | None, Query(description="Filers in this organisation's subtree.")]
        = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this province.")] = None,
        addressed_to: Annotated[uuid.UUID | None, Query(description="Only reports to this recipient.")] = None,
        kind: Annotated[ReportKind | None, Query(description="Only this kind.")] = None,
        rule_id: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$",
                                             description="Only this profile rule.")] = None,
        period_year: Annotated[int | None, Query(ge=2000, le=2100, description="Only this period year.")] = None,
        period: Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z-]+$",
                                            description="Only this period (`2024-H1`).")] = None,
        status: Annotated[ReportStatus | None, Query(description="Only this state.")] = None,
        overdue: Annotated[bool | None, Query(description="Only overdue (or only not overdue) ones.")] = None,
        submitted_late: Annotated[bool | None, Query(description="Only late (or on-time) submissions.")] = None,
        compliance: Annotated[ComplianceBucket | None, Query(description="Only one compliance bucket.")] = None,
    ) -> None:
        self.organisation_id, self.jurisdiction_id, self.addressed_to = organisation_id, jurisdiction_id, addressed_to
        self.kind, self.rule_id, self.period_year, self.period = kind, rule_id, period_year, period
        self.status, self.overdue, self.submitted_late, self.compliance = status, overdue, submitted_late, compliance

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for the compliance view's links)."""
        out = {}
        for name, value in vars(self).items():
            if isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif value is not None:
                out[name] = str(value.value if isinstance(value, enum.Enum) else value)
        return out


class ComplianceFilter(ReportFilter):
    """Query of the compliance view: a subtree (optional) and a period year (required)."""

    def __init__(
        self,
        period_year: Annotated[int, Query(ge=2000, le=2100, description="The period year: 2024 for the reports "
                                                                       "on 2024 due in early 2025.")],
        organisation_id: Annotated[uuid.UUID | None, Query(description="Filers in this organisation's subtree.")]
        = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this province.")] = None,
        addressed_to: Annotated[uuid.UUID | None, Query(description="Only reports to this recipient.")] = None,
        kind: Annotated[ReportKind | None, Query(description="Only this kind.")] = None,
        rule_id: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$",
                                             description="Only this profile rule.")] = None,
        period: Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z-]+$",
                                            description="Only this period (`2024-H1`).")] = None,
    ) -> None:
        super().__init__(organisation_id=organisation_id, jurisdiction_id=jurisdiction_id, addressed_to=addressed_to,
                         kind=kind, rule_id=rule_id, period_year=period_year, period=period)
