"""Rectification plans: submitting, amending, approving and returning them.

001 一(三): "将整改任务分解到有关责任处室,明确责任领导、责任部门、责任人和整改时限…督促责任单位进一步
细化工作计划,明确时间节点". The responsible organisation's leader submits a plan of measures, each
with a deadline and people; the rectification office approves it or sends it back.

A submitted plan waits on the finding (`proposed_plan`); its measures become rows only when
the office approves it, so a returned plan or a refused amendment never touches the measures
in force. An amendment (001 二(四)1: one measure split into two phases) lists what changes:
an entry with `id` changes that open measure (its original deadline stays on record), one
without adds a measure; measures not listed stay as they are.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import Conflict, FieldErrors
from app.models import Finding, Measure, MeasureStatus, utcnow
from app.schemas.findings import FindingPlanSubmit, FindingRead
from app.services import audit
from app.services.findings import steps
from app.services.findings.queries import to_read

_MEASURE_FIELDS = ("title", "description", "phase", "deadline", "responsible_unit_id", "responsible_person")


class PlanOutdated(Conflict):
    code, title = "plan_outdated", "The plan changes a measure that has moved on"


async def submit(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, body: FindingPlanSubmit,
                 if_match: str | None, *, action: str) -> FindingRead:
    """submit_plan (assigned → plan_submitted) or amend_plan (in_progress → plan_submitted), by the leader
    of the responsible organisation. 422 for a measure id that is not an open measure of this finding
    (a first plan names none), a repeated id, or a unit outside the responsible organisation."""
    step = await steps.prepare(session, principal, finding_id, action, if_match, body.comment)
    finding, errors = step.finding, FieldErrors()
    existing = {m.id: m for m in (await session.scalars(select(Measure).where(
        Measure.finding_id == finding.id))).all()}
    seen: set[uuid.UUID] = set()
    for i, m in enumerate(body.measures):
        if m.id is not None:
            if m.id not in existing or m.id in seen:
                errors.add(f"/measures/{i}/id", "unknown_measure", "not a measure of this finding (or repeated)")
            elif existing[m.id].status != MeasureStatus.open:
                errors.add(f"/measures/{i}/id", "measure_not_open", "only an open measure is changed")
            seen.add(m.id)
        await steps.check_unit(session, errors, f"/measures/{i}/responsible_unit_id", m.responsible_unit_id,
                               finding.responsible_organisation_id)
    errors.raise_if_any()
    now = utcnow()
    plan = {"amendment": action == "amend_plan", "summary": body.summary, "submitted_at": now.isoformat(),
            "measures": [m.model_dump(mode="json") for m in body.measures]}
    moved = await steps.apply(session, principal, step, action, body.comment,
                              extra={"proposed_plan": plan, "plan_submitted_at": now}, payload={"plan": plan})
    return await to_read(session, principal, moved)


async def approve(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, if_match: str | None,
                  comment: str | None) -> FindingRead:
    """plan_submitted → in_progress, by the rectification office: the plan's measures become rows (or
    change), and the first approval starts rectification (the progress schedule's anchor).

    409 `plan_outdated` when an amendment changes a measure that is no longer open (done meanwhile)."""
    step = await steps.prepare(session, principal, finding_id, "approve_plan", if_match, comment)
    finding = step.finding
    plan = finding.proposed_plan or {"measures": [], "amendment": False}
    changed = {uuid.UUID(m["id"]): m for m in plan["measures"] if m.get("id")}
    if changed:
        statuses = dict((await session.execute(select(Measure.id, Measure.status).where(
            Measure.id.in_(changed)))).all())
        stale = [str(i) for i in changed if statuses.get(i) != MeasureStatus.open]
        if stale:
            raise PlanOutdated("The amendment changes measures that are no longer open; return it with "
                               "return_amendment and submit a new one.", measure_ids=stale)
    now = utcnow()
    extra: dict[str, Any] = {"proposed_plan": None, "plan_approved_at": now,
                             "plan_summary": plan.get("summary") or finding.plan_summary}
    if finding.rectification_started_on is None:
        extra["rectification_started_on"] = today_in_zone()
    moved = await steps.apply(session, principal, step, "approve_plan", comment, extra=extra, payload={"plan": plan})
    await _materialise(session, moved, plan, changed, now)
    return await to_read(session, principal, moved)


async def _materialise(session: AsyncSession, finding: Finding, plan: dict[str, Any],
                       changed: dict[uuid.UUID, dict[str, Any]], now: Any) -> None:
    position = await session.scalar(select(func.max(Measure.position)).where(Measure.finding_id == finding.id))
    position = -1 if position is None else position
    for measure_id, m in changed.items():
        values = {k: m.get(k) for k in _MEASURE_FIELDS}
        values["deadline"] = _date(values["deadline"])
        values["responsible_unit_id"] = uuid.UUID(values["responsible_unit_id"]) if values[
            "responsible_unit_id"] else None
        await session.execute(update(Measure).where(Measure.id == measure_id).values(
            version=Measure.version + 1, approved_at=now, updated_at=now, **values)
            .execution_options(synchronize_session=False))
        audit.record(session, action="measure.update", resource_type="measure", resource_id=measure_id,
                     organisation_id=finding.responsible_organisation_id, after=values)
    for m in plan["measures"]:
        if m.get("id"):
            continue
        position += 1
        deadline = _date(m["deadline"])
        measure = Measure(finding_id=finding.id, jurisdiction_id=finding.jurisdiction_id, position=position,
                          title=m["title"], description=m.get("description"), phase=m.get("phase"),
                          deadline=deadline, original_deadline=deadline, approved_at=now,
                          responsible_unit_id=uuid.UUID(m["responsible_unit_id"]) if m.get("responsible_unit_id")
                          else None, responsible_person=m.get("responsible_person"),
                          status=MeasureStatus.open)
        session.add(measure)
        await session.flush()
        audit.record(session, action="measure.create", resource_type="measure", resource_id=measure.id,
                     organisation_id=finding.responsible_organisation_id,
                     after={"finding_id": finding.id, "title": measure.title, "deadline": deadline})
    await session.flush()


def _date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


async def send_back(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, action: str,
                    if_match: str | None, comment: str | None) -> FindingRead:
    """return (a first plan → assigned) or return_amendment (→ in_progress, the plan in force runs on), by
    the rectification office with a comment; the refused plan is kept on the history row."""
    step = await steps.prepare(session, principal, finding_id, action, if_match, comment)
    moved = await steps.apply(session, principal, step, action, comment, extra={"proposed_plan": None},
                              payload={"plan": step.finding.proposed_plan})
    return await to_read(session, principal, moved)
