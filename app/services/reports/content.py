"""What a report may and must contain, by kind and by what its profile rule asks (`content_required`).

- An annual work plan (000 §(十) 全年目标、季度目标、推进措施、责任单位; 002 §(十) 目标、重点任务、措施)
  carries `work_plan`; submitting needs each part the rule names: goals, all four quarters'
  goals where `quarterly_goals` is asked (Hainan), key tasks (Henan), measures, and a
  responsible unit on every measure where `responsible_units` is asked.
- A hearing record (000 §(二)(三), 004 §九) carries `meeting`, held inside the report's period.
- Every other report is sections: one per topic the rule names (000 §(十二) 职责履行情况; 002
  §(十二) and 003 §(十一) + 牵头事项落实情况; 004 §七 + 督察整改、攻坚战、"四减四增"; 000 §(九)
  分解情况). Sections may be added to any kind.
Saving a draft checks only the shape (422 on a part the kind does not take, or a responsible
unit that is not an organisation of the jurisdiction); completeness is checked on `submit`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BusinessRuleViolation, ValidationFailed
from app.models import Organisation, Report, ReportKind
from app.schemas.reports import ReportContent, SectionTopic

_PLAN_PARTS = {"annual_goals", "quarterly_goals", "key_tasks", "measures", "responsible_units"}


def _error(pointer: str, type_: str, message: str) -> dict[str, str]:
    return {"pointer": pointer, "source": "body", "type": type_, "message": message}


async def check_shape(session: AsyncSession, report: Report, content: ReportContent) -> None:
    """422 `validation_failed` with pointers for parts this kind does not take and unknown units."""
    errors = []
    if content.work_plan is not None and report.kind != ReportKind.annual_work_plan:
        errors.append(_error("/content/work_plan", "not_for_this_kind", "only annual work plans have a work plan"))
    if content.meeting is not None and report.kind != ReportKind.hearing_record:
        errors.append(_error("/content/meeting", "not_for_this_kind", "only hearing records name a meeting"))
    for i, measure in enumerate(content.work_plan.measures if content.work_plan else []):
        for j, unit in enumerate(measure.responsible_units):
            if unit.organisation_id is None:
                continue
            found = await session.scalar(select(Organisation.id).where(
                Organisation.id == unit.organisation_id, Organisation.jurisdiction_id == report.jurisdiction_id,
                Organisation.is_active.is_(True)))
            if found is None:
                errors.append(_error(f"/content/work_plan/measures/{i}/responsible_units/{j}/organisation_id",
                                     "unknown_organisation", "not an active organisation of this jurisdiction"))
    quarters = [q.quarter for q in content.work_plan.quarterly_goals] if content.work_plan else []
    if len(quarters) != len(set(quarters)):
        errors.append(_error("/content/work_plan/quarterly_goals", "duplicate_quarter", "each quarter once"))
    if errors:
        raise ValidationFailed("One or more fields are invalid; see errors.", errors=errors)


def missing_parts(report: Report, content: ReportContent) -> list[dict[str, str]]:
    """What the profile asks that the content lacks (empty when it may be submitted)."""
    required = set(report.content_required)
    errors: list[dict[str, str]] = []
    if report.kind == ReportKind.annual_work_plan:
        plan = content.work_plan
        lacks = {
            "annual_goals": not (plan and plan.annual_goals),
            "quarterly_goals": not (plan and {q.quarter for q in plan.quarterly_goals} == {1, 2, 3, 4}),
            "key_tasks": not (plan and plan.key_tasks),
            "measures": not (plan and plan.measures),
            "responsible_units": not (plan and plan.measures and all(m.responsible_units for m in plan.measures)),
        }
        for part in sorted(required & _PLAN_PARTS, key=list(lacks).index):
            if lacks[part]:
                errors.append(_error(f"/content/work_plan/{part}", "required_content",
                                     f"the profile asks for {part} ({report.clause})"))
    if report.kind == ReportKind.hearing_record:
        meeting = content.meeting
        if meeting is None:
            errors.append(_error("/content/meeting", "required_content", "name the meeting that heard the work"))
        elif report.period_start and report.period_end and not (
                report.period_start <= meeting.held_on <= report.period_end):
            errors.append(_error("/content/meeting/held_on", "outside_period",
                                 f"the meeting must fall in {report.period_start} – {report.period_end}"))
    topics = {s.topic.value for s in content.sections}
    for topic in [t.value for t in SectionTopic if t.value in required]:
        if topic not in topics:
            errors.append(_error("/content/sections", "required_content",
                                 f"a section on {topic} is required ({report.clause})"))
    return errors


def require_complete(report: Report) -> None:
    """Before `submit`: 422 `report_incomplete` listing every missing part."""
    errors = missing_parts(report, ReportContent.model_validate(report.content or {}))
    if errors:
        raise ReportIncomplete("The report lacks what its profile asks for; see errors.", errors=errors)


class ReportIncomplete(BusinessRuleViolation):
    code, title = "report_incomplete", "Report is incomplete"


def stored(content: ReportContent) -> dict[str, Any]:
    return content.model_dump(mode="json", exclude_none=True)
