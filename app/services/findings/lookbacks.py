"""Look-backs (回头看) on finished work: 001 一(三) "对整改完成的,及时组织开展'回头看',确保问题不反弹".

By the inspecting body's inspectors, the rectification office, or the responsible
organisation's leader (the rectifying organisation itself), on a closed or sustained
finding (`look_back` / `rebound` in app/workflows/findings.py); 403/409 otherwise.

- passed: recorded (a look-back row, and a `look_back` history row on the finding);
- rebounded (反弹): the finding returns to in_progress, `rebounded` becomes true for good and
  `rebound_count` goes up; it is no longer closed (the history keeps when it was).

No If-Match: a look-back is a new record (Idempotency-Key makes it repeat-safe). Two
simultaneous rebounds cannot both count: the first moves the finding out of the states a
rebound starts from, so the second is refused (409).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import FieldErrors
from app.models import Finding, FindingLookback, LookbackOutcome, LookbackPerformer, Role
from app.schemas.findings import LookbackCreate, LookbackPage, LookbackRead
from app.services import audit
from app.services.findings import access, steps
from app.services.inspections.access import briefs
from app.services.paging import keyset_page

RESOURCE = "finding_lookback"


def _performer(principal: Principal, finding: Finding) -> tuple[LookbackPerformer, uuid.UUID]:
    if Role.office in principal.roles_at(finding.rectification_office_id):
        return LookbackPerformer.rectification_office, finding.rectification_office_id
    if Role.inspector in principal.roles_at(finding.inspecting_body_id):
        return LookbackPerformer.inspector, finding.inspecting_body_id
    return LookbackPerformer.rectifying_organisation, finding.responsible_organisation_id  # the guard checked it


async def _reads(session: AsyncSession, rows: list[FindingLookback], findings: dict[uuid.UUID, Finding]
                 ) -> list[LookbackRead]:
    names = await briefs(session, {r.organisation_id for r in rows})
    return [LookbackRead(id=r.id, finding_id=r.finding_id, outcome=r.outcome, performer=r.performer,
                         organisation=names[r.organisation_id], performed_on=r.performed_on, note=r.note,
                         finding_status=r.finding_status, finding_status_after=findings[r.finding_id].status,
                         finding_version=findings[r.finding_id].version, recorded_by_name=r.recorded_by_name,
                         created_at=r.created_at) for r in rows]


async def create_lookback(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                          body: LookbackCreate) -> LookbackRead:
    """Record a look-back; a rebound reopens the finding. 422 for a day in the future."""
    rebound = body.outcome == LookbackOutcome.rebounded
    action = "rebound" if rebound else "look_back"
    step = await steps.prepare(session, principal, finding_id, action, None, None, needs_if_match=False)
    finding = step.finding
    performed_on = body.performed_on or today_in_zone()
    if performed_on > today_in_zone():
        errors = FieldErrors()
        errors.add("/performed_on", "future_date", "a look-back cannot be dated in the future")
        errors.raise_if_any()
    performer, organisation_id = _performer(principal, finding)
    before = finding.status.value
    extra: dict[str, Any] = {"last_lookback_on": performed_on}
    if rebound:  # the count cannot move under us: only a rebound changes it, and it leaves closed/sustained
        extra.update(rebounded=True, rebound_count=finding.rebound_count + 1, closed_at=None, closed_on=None,
                     sustained_at=None)
    moved = await steps.apply(session, principal, step, action, body.note, extra=extra, payload={
        "outcome": body.outcome.value, "performer": performer.value, "performed_on": performed_on.isoformat()})
    row = FindingLookback(finding_id=moved.id, outcome=body.outcome, performer=performer,
                          organisation_id=organisation_id, performed_on=performed_on, note=body.note,
                          finding_status=before, recorded_by_id=str(principal.id), recorded_by_name=principal.name)
    session.add(row)
    await session.flush()
    audit.record(session, action="finding_lookback.create", resource_type=RESOURCE, resource_id=row.id,
                 organisation_id=access.audit_organisation(moved),
                 after={"finding_id": moved.id, "outcome": body.outcome.value, "performer": performer.value})
    return (await _reads(session, [row], {moved.id: moved}))[0]


async def list_lookbacks(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *, limit: int,
                         cursor: str | None, include_total: bool) -> LookbackPage:
    """A finding's look-backs, oldest first, for anyone who may read it (404 otherwise)."""
    finding = await access.load_visible(session, principal, finding_id)
    stmt = select(FindingLookback).where(FindingLookback.finding_id == finding.id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(FindingLookback.performed_on, FindingLookback.created_at, FindingLookback.id),
        kinds=("date", "ts", "id"), scope=f"lookbacks/{finding.id}", limit=limit, cursor=cursor,
        include_total=include_total, key_values=lambda r: (r[0].performed_on, r[0].created_at, r[0].id))
    return LookbackPage(items=await _reads(session, [r[0] for r in rows], {finding.id: finding}),
                        next_cursor=next_cursor, total=total)
