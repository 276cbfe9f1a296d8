"""Progress updates (进展情况) at the campaign's dispatch cadence, and the missed-update flags.

001 一(三) "定期对进展情况进行调度"; 二(五)2(1) "按月进行调度". Staff or the leader of the
responsible organisation report while the finding is being rectified (in_progress,
sustained, or an amendment under review once a plan was approved: the `report_progress`
step of app/workflows/findings.py); 403/409 otherwise.

The schedule (a design choice; the texts give a cadence, not a calendar): periods of
the campaign's cadence counted from the day rectification started (the first plan
approval), so every period is whole: monthly from 3 March runs 3 March–2 April, … A
period that has ended with no update dated inside it is missed; the read model lists
them, and flags the finding while the period that ended last is one of them. The flags
are computed while the finding is being rectified; afterwards nothing more is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import add_months, today_in_zone
from app.core.errors import FieldErrors
from app.models import DispatchCadence, Finding, Inspection, ProgressUpdate
from app.schemas.findings import (
    ProgressSchedule,
    ProgressUpdateCreate,
    ProgressUpdatePage,
    ProgressUpdateRead,
)
from app.services import audit
from app.services.findings import access
from app.services.inspections.access import briefs
from app.services.paging import keyset_page
from app.workflows.engine import check
from app.workflows.findings import FINDING_WORKFLOW

_DAYS = {DispatchCadence.weekly: 7, DispatchCadence.biweekly: 14}
_MONTHS = {DispatchCadence.monthly: 1, DispatchCadence.quarterly: 3, DispatchCadence.semiannual: 6}
MAX_LISTED = 24


def period_start(anchor: date, cadence: DispatchCadence, k: int) -> date:
    if cadence in _DAYS:
        return anchor + timedelta(days=_DAYS[cadence] * k)
    return add_months(anchor, _MONTHS[cadence] * k)


def period_index(anchor: date, cadence: DispatchCadence, day: date) -> int:
    """The period `day` falls in (negative before the anchor)."""
    if cadence in _DAYS:
        return (day - anchor).days // _DAYS[cadence]
    k = ((day.year - anchor.year) * 12 + day.month - anchor.month) // _MONTHS[cadence]
    while period_start(anchor, cadence, k) > day:
        k -= 1
    while period_start(anchor, cadence, k + 1) <= day:
        k += 1
    return k


def schedule(finding: Finding, cadence: DispatchCadence, reported: Iterable[date], today: date) -> ProgressSchedule:
    """The read model's schedule for one finding, given the days its updates report on."""
    days = sorted(reported)
    last = days[-1] if days else None
    anchor = finding.rectification_started_on
    if not access.rectifying(finding) or anchor is None or anchor > today:
        return ProgressSchedule(cadence=cadence, active=False, last_reported_on=last, current_period_start=None,
                                next_due_on=None, missed_period_count=0, missed_periods=[], last_period_missed=False)
    current = period_index(anchor, cadence, today)
    covered = {period_index(anchor, cadence, d) for d in days if d >= anchor}
    missed = [k for k in range(current) if k not in covered]
    return ProgressSchedule(
        cadence=cadence, active=True, last_reported_on=last, current_period_start=period_start(anchor, cadence, current),
        next_due_on=period_start(anchor, cadence, current + 1) - timedelta(days=1),
        missed_period_count=len(missed), missed_periods=[period_start(anchor, cadence, k) for k in missed[-MAX_LISTED:]],
        last_period_missed=bool(missed) and missed[-1] == current - 1)


async def reported_days(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[date]]:
    out: dict[uuid.UUID, list[date]] = {i: [] for i in ids}
    if ids:
        for finding_id, day in (await session.execute(select(ProgressUpdate.finding_id, ProgressUpdate.reported_on)
                                                       .where(ProgressUpdate.finding_id.in_(ids)))).all():
            out[finding_id].append(day)
    return out


async def _reads(session: AsyncSession, rows: Sequence[ProgressUpdate]) -> list[ProgressUpdateRead]:
    names = await briefs(session, {r.organisation_id for r in rows})
    return [ProgressUpdateRead(id=r.id, finding_id=r.finding_id, reported_on=r.reported_on,
                               period_start=r.period_start, summary=r.summary, difficulties=r.difficulties,
                               next_steps=r.next_steps, organisation=names[r.organisation_id],
                               reported_by_name=r.reported_by_name, created_at=r.created_at) for r in rows]


async def create_progress_update(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                                 body: ProgressUpdateCreate) -> ProgressUpdateRead:
    """Staff or the leader of the responsible organisation report (403 others; 409 when the finding is not
    being rectified). 422 for a day in the future or before rectification started."""
    finding = await access.load_visible(session, principal, finding_id)
    facts = (await access.facts_for(session, [finding]))[finding.id]
    ctx, roles = access.context_for(principal, finding, facts)
    check(FINDING_WORKFLOW, "report_progress", finding.status, roles, ctx)
    today = today_in_zone()
    reported_on = body.reported_on or today
    errors = FieldErrors()
    if reported_on > today:
        errors.add("/reported_on", "future_date", "a report cannot be dated in the future")
    elif finding.rectification_started_on and reported_on < finding.rectification_started_on:
        errors.add("/reported_on", "before_start", "rectification started later")
    errors.raise_if_any()
    anchor = finding.rectification_started_on
    cadence = await session.scalar(select(Inspection.dispatch_cadence).where(Inspection.id == finding.inspection_id))
    update = ProgressUpdate(
        finding_id=finding.id, reported_on=reported_on, summary=body.summary, difficulties=body.difficulties,
        next_steps=body.next_steps, organisation_id=finding.responsible_organisation_id,
        period_start=period_start(anchor, cadence, period_index(anchor, cadence, reported_on)) if anchor else None,
        reported_by_id=str(principal.id), reported_by_name=principal.name)
    session.add(update)
    await session.flush()
    audit.record(session, action="progress_update.create", resource_type="progress_update", resource_id=update.id,
                 organisation_id=finding.responsible_organisation_id,
                 after={"finding_id": finding.id, "reported_on": reported_on, "period_start": update.period_start})
    return (await _reads(session, [update]))[0]


async def list_progress_updates(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *, limit: int,
                                cursor: str | None, include_total: bool) -> ProgressUpdatePage:
    """A finding's updates, oldest first, for anyone who may read the finding (404 otherwise)."""
    await access.load_visible(session, principal, finding_id)
    stmt = select(ProgressUpdate).where(ProgressUpdate.finding_id == finding_id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(ProgressUpdate.reported_on, ProgressUpdate.created_at, ProgressUpdate.id),
        kinds=("date", "ts", "id"), scope=f"progress/{finding_id}", limit=limit, cursor=cursor,
        include_total=include_total, key_values=lambda r: (r[0].reported_on, r[0].created_at, r[0].id))
    return ProgressUpdatePage(items=await _reads(session, [r[0] for r in rows]), next_cursor=next_cursor, total=total)
