"""Reading findings: one, pages with the ledger's filters, history.

Any role with `findings:read` that may see the finding (`access.visible`); 404 otherwise.
Lists are keyset pages over (created_at, id), never OFFSET; the filters a 1,000,000-row
nation needs are index-backed: `ix_finding_jurisdiction_id_created_at_id` for a province's
page order, `ix_finding_status_deadline` for status + overdue across provinces, and for an
organisation subtree the closure's organisations each probing
`ix_finding_responsible_organisation_id_status_deadline` (status and overdue inside the
probe), so a subtree's page costs that subtree's matching findings, not the nation's.
A page's read models cost a fixed number of statements whatever its size (parties, names,
measures, extensions, progress days, links, categories).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, false, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import can_reach, within
from app.core.calendar import today_in_zone
from app.models import (
    DispatchCadence,
    Finding,
    FindingLink,
    FindingPartyRole,
    Inspection,
    InspectionCategory,
)
from app.models.finding import OPEN_STATUSES, FindingStatus
from app.schemas.findings import (
    CategoryBrief,
    FindingFilter,
    FindingPage,
    FindingRead,
    InspectionBrief,
    MeasureCounts,
    ProgressSchedule,
    ProposedPlanRead,
    RelatedFindingRead,
)
from app.schemas.history import HistoryPage
from app.schemas.measures import EvidenceReference, PlanMeasure
from app.services import history
from app.services.findings import access, buckets, progress, stats
from app.services.inspections.access import briefs
from app.services.paging import keyset_page
from app.workflows.engine import allowed_actions
from app.workflows.findings import FINDING_WORKFLOW

R = FindingPartyRole


def overdue_clause(today: date, status: FindingStatus | None = None) -> ColumnElement[bool]:
    """Not finished (closure requested counts as finished) and past the deadline in force.

    With the state already fixed by the `status=` filter the state test is decided here, so the
    database sees a plain deadline range (sargable in the status + deadline indexes)."""
    if status is None:
        return and_(Finding.deadline < today, Finding.status.in_(OPEN_STATUSES))
    return Finding.deadline < today if FindingStatus(status).value in OPEN_STATUSES else false()


def _counts(facts: access.Facts) -> MeasureCounts:
    c = facts.counts
    return MeasureCounts(total=facts.total, open=c.get("open", 0), done=c.get("done", 0),
                         verified=c.get("verified", 0), cannot_complete_requested=c.get("cannot_complete_requested", 0),
                         cannot_complete=c.get("cannot_complete", 0), overdue=facts.overdue_measures)


def _proposed(finding: Finding) -> ProposedPlanRead | None:
    plan = finding.proposed_plan
    if not plan:
        return None
    return ProposedPlanRead(amendment=plan["amendment"], summary=plan.get("summary"),
                            measures=[PlanMeasure.model_validate(m) for m in plan["measures"]],
                            submitted_at=plan["submitted_at"])


async def to_reads(session: AsyncSession, principal: Principal, rows: Sequence[Finding]) -> list[FindingRead]:
    if not rows:
        return []
    ids = [f.id for f in rows]
    parties = await access.parties_of(session, ids)
    facts = await access.facts_for(session, rows)
    days = await progress.reported_days(session, ids)
    inspections = {i.id: i for i in (await session.scalars(select(Inspection).where(
        Inspection.id.in_({f.inspection_id for f in rows})))).all()}
    categories = {c.id: c for c in (await session.scalars(select(InspectionCategory).where(
        InspectionCategory.id.in_({f.category_id for f in rows if f.category_id})))).all()}
    links: dict[uuid.UUID, list[RelatedFindingRead]] = {i: [] for i in ids}
    for link in (await session.scalars(select(FindingLink).where(FindingLink.finding_id.in_(ids)))).all():
        links[link.finding_id].append(RelatedFindingRead(finding_id=link.related_finding_id, relation=link.relation))
    names = await briefs(session, {*(o for p in parties.values() for orgs in p.values() for o in orgs),
                                   *(f.rectification_office_id for f in rows), *(f.inspecting_body_id for f in rows),
                                   *(f.responsible_organisation_id for f in rows), *(f.responsible_unit_id for f in rows),
                                   *(f.confirming_organisation_id for f in rows)})
    today = today_in_zone()
    # A page's findings mostly share a campaign and its start day: one schedule per distinct input
    # (schedule() reads only these) instead of a calendar walk per finding.
    schedules: dict[tuple[object, ...], ProgressSchedule] = {}

    def schedule_of(f: Finding, cadence: DispatchCadence) -> ProgressSchedule:
        key = (access.rectifying(f), f.rectification_started_on, cadence, tuple(sorted(days[f.id])))
        if key not in schedules:
            schedules[key] = progress.schedule(f, cadence, days[f.id], today)
        return schedules[key]

    reads = []
    for f in rows:
        p, inspection = parties[f.id], inspections[f.inspection_id]
        office = names[f.rectification_office_id]
        ctx, roles = access.context_for(principal, f, facts[f.id], office.name)
        category = categories.get(f.category_id) if f.category_id else None
        reads.append(FindingRead(
            id=f.id, jurisdiction_id=f.jurisdiction_id,
            inspection=InspectionBrief(id=inspection.id, title=inspection.title, kind=inspection.kind,
                                       dispatch_cadence=inspection.dispatch_cadence),
            category=CategoryBrief(id=category.id, code=category.code, title=category.title) if category else None,
            code=f.code, title=f.title, description=f.description, status=f.status, version=f.version,
            rectification_type=f.rectification_type, rectification_office=office,
            inspecting_body=names[f.inspecting_body_id],
            responsible_organisation=names.get(f.responsible_organisation_id) if f.responsible_organisation_id
            else None,
            lead_organisations=[names[o] for o in p.get(R.lead, [])],
            cooperating_organisations=[names[o] for o in p.get(R.cooperating, [])],
            responsible_leader=f.responsible_leader,
            responsible_unit=names.get(f.responsible_unit_id) if f.responsible_unit_id else None,
            responsible_person=f.responsible_person, deadline=f.deadline, original_deadline=f.original_deadline,
            deadline_extended=bool(f.deadline and f.original_deadline and f.deadline != f.original_deadline),
            overdue=bool(f.deadline and f.deadline < today and f.status.value in OPEN_STATUSES),
            key_problem=f.key_problem, key_problem_handler=f.key_problem_handler, related=links[f.id],
            plan_summary=f.plan_summary, proposed_plan=_proposed(f),
            rectification_started_on=f.rectification_started_on, closure_requested_at=f.closure_requested_at,
            closure_summary=f.closure_summary,
            closure_evidence=[EvidenceReference.model_validate(e) for e in f.closure_evidence or []],
            closed_on=f.closed_on, closed_at=f.closed_at, verification_note=f.verification_note,
            unrectifiable_reason=f.unrectifiable_reason,
            unrectifiable_confirming_organisation=names.get(f.confirming_organisation_id)
            if f.confirming_organisation_id else None,
            sustained_at=f.sustained_at, rebounded=f.rebounded, rebound_count=f.rebound_count,
            last_lookback_on=f.last_lookback_on, measures=_counts(facts[f.id]),
            progress=schedule_of(f, inspection.dispatch_cadence),
            allowed_actions=allowed_actions(FINDING_WORKFLOW, f.status, roles, ctx),
            created_at=f.created_at, updated_at=f.updated_at))
    return reads


async def to_read(session: AsyncSession, principal: Principal, finding: Finding) -> FindingRead:
    return (await to_reads(session, principal, [finding]))[0]


async def get_finding(session: AsyncSession, principal: Principal, finding_id: uuid.UUID) -> FindingRead:
    return await to_read(session, principal, await access.load_visible(session, principal, finding_id))


async def _scoped_by_filter(session: AsyncSession, principal: Principal, f: FindingFilter) -> bool:
    """The responsible organisation the filter asks for (exactly, or a subtree) lies in the caller's
    scope, so every finding it matches is readable: its responsible (主责) party row, written with
    the organisation on assignment and import, is in scope. `visible()` is then left out: a
    semi-join over the parties and the closure per candidate row that can only say yes (as in
    app/services/findings/stats.py)."""
    wanted = f.subtree_of or f.responsible_organisation_id
    return wanted is not None and await can_reach(session, principal, access.READ, wanted)


async def list_findings(session: AsyncSession, principal: Principal, f: FindingFilter, *, limit: int,
                        cursor: str | None, include_total: bool) -> FindingPage:
    """Findings the caller may read, oldest first, filtered; a foreign filter simply matches nothing."""
    stmt = select(Finding)
    if not await _scoped_by_filter(session, principal, f):
        stmt = stmt.where(access.visible(principal))
    for column, value in ((Finding.inspection_id, f.inspection_id), (Finding.jurisdiction_id, f.jurisdiction_id),
                          (Finding.responsible_organisation_id, f.responsible_organisation_id),
                          (Finding.status, f.status), (Finding.rectification_type, f.rectification_type),
                          (Finding.key_problem, f.key_problem), (Finding.rebounded, f.rebounded)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.subtree_of is not None:
        stmt = stmt.where(within(Finding.responsible_organisation_id, f.subtree_of))
    if f.category_id is not None:
        path = await session.scalar(select(InspectionCategory.path).where(InspectionCategory.id == f.category_id))
        stmt = stmt.where(Finding.category_id.in_(select(InspectionCategory.id).where(
            InspectionCategory.path.startswith(path, autoescape=True))) if path else false())
    if f.overdue is not None:
        late = overdue_clause(today_in_zone(), f.status)
        stmt = stmt.where(late if f.overdue else not_(late) | Finding.deadline.is_(None))
    if f.as_of is not None or f.bucket is not None:
        stats.check_as_of(f.as_of)
        moment = buckets.moment(f.as_of)
        stmt = stmt.where(buckets.finding_exists(moment))
        if f.bucket is not None:
            stmt = stmt.where(buckets.bucket_clause(f.bucket, moment))
    if f.q:
        stmt = stmt.where(or_(Finding.title.icontains(f.q, autoescape=True),
                              Finding.code.icontains(f.q, autoescape=True)))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(Finding.created_at, Finding.id), kinds=("ts", "id"), scope="findings", limit=limit,
        cursor=cursor, include_total=include_total, key_values=lambda r: (r[0].created_at, r[0].id))
    return FindingPage(items=await to_reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                       total=total)


async def finding_history(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *, limit: int,
                          cursor: str | None) -> HistoryPage:
    """Every step taken on a finding the caller may read, oldest first (deadline extensions included)."""
    await access.load_visible(session, principal, finding_id)
    return await history.history_page(session, access.RESOURCE, finding_id, limit=limit, cursor=cursor)

