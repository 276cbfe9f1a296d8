"""Historical import of a findings ledger (issue 6 item 9; DOMAIN.md "Export": import with row-level errors).

An admin (`findings:import`, admins only) whose scope covers the inspection's rectification
office brings in findings already worked, with their real states and dates: one batch
(`finding_import_batch`) whose id every finding and measure it creates carries, and history rows
dated on the recorded days (noon in the jurisdiction's zone, a second apart within a day, so
their order is kept) and marked with the batch id. The live workflow is never run: no guard,
no notification, no "now". Statistics as of a past day then count these findings as they stood
(app/services/findings/buckets.py).

What is checked, so the history tells a story the workflow could have told
(app/workflows/findings.py): each step's day is given for the state the finding ended in, and no
step beyond it; the steps follow the workflow from `registered` (a look-back only on closed or
sustained work; a rebound reopens it; an extension only while a deadline matters); days never go
backwards and none is after today; measures exist once a plan is approved, their own steps
likewise, and a closure is requested only when every measure is settled (done, verified, or
confirmed impossible, 001 二(四)2). Every organisation is active and of the inspection's province
(as live assignment requires); the category is the campaign's;
codes are unique in the campaign. Any error → 422 with every row's errors
(`/findings/{i}/…`) and nothing written. An inspection outside the caller's scope is 422 (a body
reference, as for `POST /findings`); a batch outside it 404.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import can_reach
from app.core.calendar import DEFAULT_TIMEZONE, today_in_zone
from app.core.errors import FieldErrors, NotFound
from app.models import (
    Finding,
    FindingImportBatch,
    FindingLookback,
    FindingParty,
    FindingPartyRole,
    FindingStatus,
    Inspection,
    InspectionCategory,
    LookbackOutcome,
    LookbackPerformer,
    Measure,
    MeasureStatus,
    Organisation,
    TransitionHistory,
)
from app.schemas.imports import (
    FindingImportRead,
    FindingLedgerImport,
    ImportedFinding,
    ImportedFindingRead,
    ImportedMeasure,
)
from app.services import audit
from app.services.inspections import access as inspections_access

IMPORT = Permission.findings_import
RESOURCE = "finding_import_batch"
R = FindingPartyRole
S = FindingStatus
_ZONE = ZoneInfo(DEFAULT_TIMEZONE)

# The steps a finding may have taken, in the order they can happen: (action, day field, from states, to).
_STEPS = [("assign", "assigned_on", {S.registered}, S.assigned),
          ("submit_plan", "plan_submitted_on", {S.assigned}, S.plan_submitted),
          ("approve_plan", "plan_approved_on", {S.plan_submitted}, S.in_progress),
          ("sustain", "sustained_on", {S.in_progress}, S.sustained),
          ("request_closure", "closure_requested_on", {S.in_progress, S.sustained}, S.closure_requested),
          ("close", "closed_on", {S.closure_requested}, S.closed),
          ("declare_unrectifiable", "unrectifiable_requested_on", {S.in_progress}, S.unrectifiable_requested),
          ("approve_unrectifiable", "unrectifiable_on", {S.unrectifiable_requested}, S.unrectifiable)]
_BASE = ("assigned_on", "plan_approved_on")
_REQUIRED = {S.registered: (), S.assigned: ("assigned_on",), S.plan_submitted: ("assigned_on", "plan_submitted_on"),
             S.in_progress: _BASE, S.closure_requested: (*_BASE, "closure_requested_on"),
             S.closed: (*_BASE, "closure_requested_on", "closed_on"), S.sustained: (*_BASE, "sustained_on"),
             S.unrectifiable_requested: (*_BASE, "unrectifiable_requested_on"),
             S.unrectifiable: (*_BASE, "unrectifiable_requested_on", "unrectifiable_on")}
_MOVABLE = {S.assigned, S.plan_submitted, S.in_progress, S.unrectifiable_requested, S.sustained}
M = MeasureStatus
# Measure steps: (action, day field, to), each needing the one before.
_MEASURE_STEPS = {M.open: [], M.done: [("complete", "completed_on", M.done)],
                  M.verified: [("complete", "completed_on", M.done), ("verify", "verified_on", M.verified)],
                  M.cannot_complete_requested: [("declare_cannot_complete", "declared_on",
                                                 M.cannot_complete_requested)],
                  M.cannot_complete: [("declare_cannot_complete", "declared_on", M.cannot_complete_requested),
                                      ("confirm", "confirmed_on", M.cannot_complete)]}
_MEASURE_DAYS = ("completed_on", "verified_on", "declared_on", "confirmed_on")
_SETTLED = {M.done, M.verified, M.cannot_complete}


def at(day: date, second: int = 0) -> datetime:
    """Noon of the recorded day in the jurisdiction's zone, `second`s later for the n-th step of that day."""
    return datetime.combine(day, time(12), _ZONE) + timedelta(seconds=second)


@dataclass
class Event:
    day: date
    kind: str  # step | extension | lookback
    action: str
    index: int = 0  # the look-back's position
    to: FindingStatus | None = None


def _plan_events(f: ImportedFinding, errors: FieldErrors, p: str) -> list[Event]:
    days = {name: getattr(f, name) for _, name, _, _ in _STEPS}
    if days["plan_submitted_on"] is None and days["plan_approved_on"] is not None:
        days["plan_submitted_on"] = days["plan_approved_on"]  # submitted at the latest the day it was approved
    for name in _REQUIRED[f.status]:
        if days[name] is None:
            errors.add(f"{p}/{name}", "missing", f"required for a finding that ended {f.status.value}")
    events = [Event(days[name], "step", action, to=to) for action, name, _, to in _STEPS if days[name] is not None]
    if f.deadline_extended_on is not None:
        events.append(Event(f.deadline_extended_on, "extension", "extend_deadline"))
    events += [Event(lb.performed_on, "lookback", "rebound" if lb.outcome is LookbackOutcome.rebounded
                     else "look_back", index=j) for j, lb in enumerate(f.lookbacks)]
    return sorted(events, key=lambda e: (e.day, e.kind != "step"))  # stable: the steps keep their order


def _walk(f: ImportedFinding, events: list[Event], errors: FieldErrors, p: str, today: date) -> None:
    status, last = S.registered, f.registered_on
    if f.registered_on > today:
        errors.add(f"{p}/registered_on", "future_date", "after today")
    froms = {action: (name, sources) for action, name, sources, _ in _STEPS}
    for e in events:
        where = f"{p}/lookbacks/{e.index}/performed_on" if e.kind == "lookback" else (
            f"{p}/deadline_extended_on" if e.kind == "extension" else f"{p}/{froms[e.action][0]}")
        if e.day > today:
            errors.add(where, "future_date", "after today")
        if e.day < last:
            errors.add(where, "out_of_order", f"before the step it follows ({last.isoformat()})")
        last = max(last, e.day)
        if e.kind == "step":
            if status not in froms[e.action][1]:
                errors.add(where, "not_for_status", f"a finding in {status.value} cannot {e.action}")
                return
            status = e.to or status
        elif e.kind == "extension":
            if status not in _MOVABLE:
                errors.add(where, "not_for_status", f"no deadline to extend while {status.value}")
        elif status not in (S.closed, S.sustained):
            errors.add(where, "not_for_status", f"nothing finished to look back on while {status.value}")
            return
        elif e.action == "rebound":
            status = S.in_progress
    if status is not f.status:
        errors.add(f"{p}/status", "not_reached", f"the steps given end in {status.value}, not {f.status.value}")


class _Organisations:
    """The organisations a ledger names, judged as live assignment judges them
    (app/services/findings/steps.py check_organisations): active, and of the inspection's province."""

    def __init__(self, active: dict[uuid.UUID, Organisation], jurisdiction_id: uuid.UUID) -> None:
        self.active, self.jurisdiction_id = active, jurisdiction_id

    def check(self, errors: FieldErrors, pointer: str, org_id: uuid.UUID | None) -> None:
        if org_id is None:
            return
        org = self.active.get(org_id)
        if org is None:
            errors.add(pointer, "unknown_organisation", "not an active organisation")
        elif org.jurisdiction_id != self.jurisdiction_id:
            errors.add(pointer, "other_province", "not an organisation of the inspection's province")


def _check_measures(f: ImportedFinding, errors: FieldErrors, p: str, today: date, orgs: _Organisations) -> None:
    if f.measures and f.plan_approved_on is None:
        errors.add(f"{p}/measures", "no_plan", "measures exist once a plan is approved (plan_approved_on)")
        return
    for j, m in enumerate(f.measures):
        q = f"{p}/measures/{j}"
        steps = _MEASURE_STEPS[m.status]
        wanted = {name for _, name, _ in steps}
        last = f.plan_approved_on or f.registered_on
        for name in _MEASURE_DAYS:
            day = getattr(m, name)
            if name in wanted and day is None:
                errors.add(f"{q}/{name}", "missing", f"required for a measure that ended {m.status.value}")
            elif name not in wanted and day is not None:
                errors.add(f"{q}/{name}", "not_for_status", f"a measure that ended {m.status.value} has no {name}")
        for _, name, _ in steps:
            day = getattr(m, name)
            if day is None:
                continue
            if day > today:
                errors.add(f"{q}/{name}", "future_date", "after today")
            if day < last:
                errors.add(f"{q}/{name}", "out_of_order", f"before the step it follows ({last.isoformat()})")
            last = max(last, day)
        if m.status in (M.cannot_complete_requested, M.cannot_complete):
            if not m.cannot_complete_reason:
                errors.add(f"{q}/cannot_complete_reason", "missing", "say why it cannot be completed")
            if m.confirming_organisation_id is None:
                errors.add(f"{q}/confirming_organisation_id", "missing", "who confirms it cannot be completed")
        orgs.check(errors, f"{q}/confirming_organisation_id", m.confirming_organisation_id)
        if f.closure_requested_on is not None:
            settled_on = m.completed_on or m.declared_on
            if m.status not in _SETTLED or (settled_on and settled_on > f.closure_requested_on):
                errors.add(f"{q}/status", "measures_outstanding",
                           "closure was requested while this measure was not settled")


async def _validate(session: AsyncSession, principal: Principal, body: FindingLedgerImport
                    ) -> Inspection:
    errors = FieldErrors()
    inspection = await session.scalar(select(Inspection).where(Inspection.id == body.inspection_id,
                                                               inspections_access.visible(principal)))
    if inspection is None or not await can_reach(session, principal, IMPORT, inspection.rectification_office_id):
        errors.add("/inspection_id", "unknown_inspection", "not an inspection you may import into")
        errors.raise_if_any()
    refs = {o for f in body.findings for o in (f.responsible_organisation_id, *f.lead_organisation_ids,
                                               *f.cooperating_organisation_ids,
                                               *(m.confirming_organisation_id for m in f.measures)) if o}
    orgs = _Organisations(await inspections_access.active_organisations(session, refs), inspection.jurisdiction_id)
    categories = set((await session.scalars(select(InspectionCategory.id).where(
        InspectionCategory.inspection_id == inspection.id))).all())
    taken = set((await session.scalars(select(Finding.code).where(Finding.inspection_id == inspection.id,
                                                                  Finding.code.is_not(None)))).all())
    codes = Counter(f.code for f in body.findings if f.code)
    today = today_in_zone()
    for i, f in enumerate(body.findings):
        p = f"/findings/{i}"
        if f.code and (f.code in taken or codes[f.code] > 1):
            errors.add(f"{p}/code", "finding_code_exists", "already used in this inspection or this import")
        if f.category_id is not None and f.category_id not in categories:
            errors.add(f"{p}/category_id", "unknown_category", "not a category of the inspection")
        if f.status is not S.registered and f.responsible_organisation_id is None:
            errors.add(f"{p}/responsible_organisation_id", "missing", "required once assigned")
        for name, ids in (("responsible_organisation_id", [f.responsible_organisation_id]),
                          ("lead_organisation_ids", f.lead_organisation_ids),
                          ("cooperating_organisation_ids", f.cooperating_organisation_ids)):
            for k, o in enumerate(ids):
                orgs.check(errors, f"{p}/{name}" if name == "responsible_organisation_id" else f"{p}/{name}/{k}", o)
        if len({f.responsible_organisation_id, *f.lead_organisation_ids, *f.cooperating_organisation_ids} - {None}) \
                != len([o for o in (f.responsible_organisation_id, *f.lead_organisation_ids,
                                    *f.cooperating_organisation_ids) if o]):
            errors.add(f"{p}/cooperating_organisation_ids", "duplicate", "an organisation has one part only")
        original = f.original_deadline or f.deadline
        if f.deadline is not None and original is not None and original != f.deadline:
            if f.deadline_extended_on is None:
                errors.add(f"{p}/deadline_extended_on", "missing", "the deadline differs from the original one")
        elif f.deadline_extended_on is not None:
            errors.add(f"{p}/deadline_extended_on", "not_extended", "the deadline was not moved")
        if f.deadline is None and f.original_deadline is not None:
            errors.add(f"{p}/deadline", "missing", "the deadline in force (the original one if never moved)")
        _walk(f, _plan_events(f, errors, p), errors, p, today)
        _check_measures(f, errors, p, today, orgs)
    errors.raise_if_any()
    return inspection


async def import_ledger(session: AsyncSession, principal: Principal, body: FindingLedgerImport
                        ) -> FindingImportRead:
    inspection = await _validate(session, principal, body)
    actor = principal.actor
    batch = FindingImportBatch(inspection_id=inspection.id, jurisdiction_id=inspection.jurisdiction_id,
                               organisation_id=inspection.rectification_office_id, source=body.source,
                               created_by_id=str(principal.id), created_by_name=principal.name)
    session.add(batch)
    await session.flush()
    tag = str(batch.id)
    counts = Counter()
    history: list[TransitionHistory] = []

    def row(resource: str, record_id: uuid.UUID, action: str, before: str, after: str, when: datetime,
            payload: dict[str, Any] | None = None, organisation: uuid.UUID | None = None) -> None:
        history.append(TransitionHistory(
            resource_type=resource, resource_id=record_id, action=action, from_status=before, to_status=after,
            actor_id=actor.id, actor_name=actor.name, acting_organisation_id=organisation,
            comment="imported", payload=audit.jsonable({"imported": True, **(payload or {})}), occurred_at=when,
            imported_batch_id=tag))

    for f in body.findings:
        finding = _finding(inspection, batch.id, f)
        session.add(finding)
        await session.flush()
        session.add_all(_parties(inspection, finding.id, f))
        status, per_day = S.registered.value, Counter()
        for e in _plan_events(f, FieldErrors(), ""):
            per_day[e.day] += 1
            when = at(e.day, per_day[e.day])
            if e.kind == "step":
                payload = {"deadline": f.original_deadline or f.deadline} if e.action == "assign" else None
                row("finding", finding.id, e.action, status, e.to.value, when, payload)
                status = e.to.value
            elif e.kind == "extension":
                row("finding", finding.id, "extend_deadline", status, status, when,
                    {"previous_deadline": f.original_deadline, "deadline": f.deadline})
            else:
                lb = f.lookbacks[e.index]
                after = S.in_progress.value if e.action == "rebound" else status
                row("finding", finding.id, e.action, status, after, when, {
                    "outcome": lb.outcome.value, "performer": lb.performer.value,
                    "performed_on": lb.performed_on})
                session.add(FindingLookback(
                    finding_id=finding.id, outcome=lb.outcome, performer=lb.performer,
                    organisation_id=_performer_org(inspection, f, lb.performer), performed_on=lb.performed_on,
                    note=lb.note, finding_status=status, recorded_by_id=actor.id, recorded_by_name=actor.name,
                    created_at=when))
                counts["lookbacks"] += 1
                status = after
        for position, m in enumerate(f.measures):
            measure = _measure(finding, batch.id, position, m, f.plan_approved_on)
            session.add(measure)
            await session.flush()
            current = M.open.value
            for k, (action, name, to) in enumerate(_MEASURE_STEPS[m.status]):
                row("measure", measure.id, action, current, to.value, at(getattr(m, name), 100 + k))
                current = to.value
            counts["measures"] += 1
        counts["findings"] += 1
    session.add_all(history)
    counts["history"] = len(history)
    batch.counts = dict(counts)
    await session.flush()
    audit.record(session, action=f"{RESOURCE}.create", resource_type=RESOURCE, resource_id=batch.id,
                 organisation_id=inspection.rectification_office_id,
                 after={"inspection_id": inspection.id, "source": body.source, **counts})
    return await _read(session, batch)


def _finding(inspection: Inspection, batch_id: uuid.UUID, f: ImportedFinding) -> Finding:
    rebounds = sum(1 for lb in f.lookbacks if lb.outcome is LookbackOutcome.rebounded)
    finished = f.status in (S.closed, S.sustained)  # a rebound clears the closure (lookbacks.py)
    return Finding(
        jurisdiction_id=inspection.jurisdiction_id, inspection_id=inspection.id, category_id=f.category_id,
        code=f.code, title=f.title, description=f.description, status=f.status,
        rectification_office_id=inspection.rectification_office_id, inspecting_body_id=inspection.inspecting_body_id,
        responsible_organisation_id=f.responsible_organisation_id, responsible_leader=f.responsible_leader,
        responsible_person=f.responsible_person, rectification_type=f.rectification_type,
        deadline=f.deadline, original_deadline=f.original_deadline or f.deadline, key_problem=f.key_problem,
        plan_submitted_at=at(f.plan_submitted_on or f.plan_approved_on) if (
            f.plan_submitted_on or f.plan_approved_on) else None,
        plan_approved_at=at(f.plan_approved_on) if f.plan_approved_on else None,
        rectification_started_on=f.plan_approved_on,
        closure_requested_at=at(f.closure_requested_on) if f.closure_requested_on else None,
        closed_at=at(f.closed_on) if f.closed_on and finished else None,
        closed_on=f.closed_on if finished else None,
        sustained_at=at(f.sustained_on) if f.sustained_on and finished else None,
        unrectifiable_reason=f.unrectifiable_reason, rebounded=rebounds > 0, rebound_count=rebounds,
        last_lookback_on=max((lb.performed_on for lb in f.lookbacks), default=None),
        created_by="import", import_batch_id=batch_id, created_at=datetime.combine(f.registered_on, time(9), _ZONE))


def _parties(inspection: Inspection, finding_id: uuid.UUID, f: ImportedFinding) -> list[FindingParty]:
    parties = [FindingParty(finding_id=finding_id, organisation_id=inspection.rectification_office_id,
                            role=R.rectification_office),
               FindingParty(finding_id=finding_id, organisation_id=inspection.inspecting_body_id,
                            role=R.inspecting_body)]
    if f.responsible_organisation_id:
        parties.append(FindingParty(finding_id=finding_id, organisation_id=f.responsible_organisation_id,
                                    role=R.responsible))
    parties += [FindingParty(finding_id=finding_id, organisation_id=o, role=R.lead, position=k)
                for k, o in enumerate(f.lead_organisation_ids)]
    parties += [FindingParty(finding_id=finding_id, organisation_id=o, role=R.cooperating, position=k)
                for k, o in enumerate(f.cooperating_organisation_ids)]
    return parties


def _performer_org(inspection: Inspection, f: ImportedFinding, performer: LookbackPerformer) -> uuid.UUID:
    if performer is LookbackPerformer.inspector:
        return inspection.inspecting_body_id
    if performer is LookbackPerformer.rectifying_organisation and f.responsible_organisation_id:
        return f.responsible_organisation_id
    return inspection.rectification_office_id


def _measure(finding: Finding, batch_id: uuid.UUID, position: int, m: ImportedMeasure, approved: date | None
             ) -> Measure:
    created = at(approved or today_in_zone(), 50)
    return Measure(
        finding_id=finding.id, jurisdiction_id=finding.jurisdiction_id, position=position, title=m.title,
        phase=m.phase, deadline=m.deadline, original_deadline=m.original_deadline or m.deadline,
        responsible_person=m.responsible_person, status=m.status, approved_at=created,
        completed_on=m.completed_on, completed_at=at(m.completed_on) if m.completed_on else None,
        verified_at=at(m.verified_on) if m.verified_on else None, cannot_complete_reason=m.cannot_complete_reason,
        confirming_organisation_id=m.confirming_organisation_id,
        confirmed_at=at(m.confirmed_on) if m.confirmed_on else None, import_batch_id=batch_id,
        created_at=created, updated_at=created)


async def _read(session: AsyncSession, batch: FindingImportBatch) -> FindingImportRead:
    findings = (await session.scalars(select(Finding).where(Finding.import_batch_id == batch.id)
                                      .order_by(Finding.created_at, Finding.id))).all()
    ids = [f.id for f in findings]
    measures = dict((await session.execute(select(Measure.finding_id, func.count()).where(
        Measure.finding_id.in_(ids)).group_by(Measure.finding_id))).all()) if ids else {}
    lookbacks = dict((await session.execute(select(FindingLookback.finding_id, func.count()).where(
        FindingLookback.finding_id.in_(ids)).group_by(FindingLookback.finding_id))).all()) if ids else {}
    return FindingImportRead(
        id=batch.id, inspection_id=batch.inspection_id, source=batch.source, counts=batch.counts or {},
        created_by_name=batch.created_by_name, created_at=batch.created_at,
        findings=[ImportedFindingRead(id=f.id, code=f.code, title=f.title, status=f.status,
                                      measures=measures.get(f.id, 0), lookbacks=lookbacks.get(f.id, 0))
                  for f in findings])


async def get_import(session: AsyncSession, principal: Principal, batch_id: uuid.UUID) -> FindingImportRead:
    batch = await session.get(FindingImportBatch, batch_id)
    if batch is None or not await can_reach(session, principal, IMPORT, batch.organisation_id):
        raise NotFound("No such import.")
    return await _read(session, batch)
