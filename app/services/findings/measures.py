"""Measures (整改措施/任务): reading them and their own workflow (app/workflows/measures.py).

A measure is visible to whoever may read its finding (404 otherwise). The responsible
organisation's leader completes it or declares it cannot be completed (with the
confirming organisation and evidence, 001 二(四)2); the rectification office verifies it
(销号 of the task) or confirms the claim, and may reopen either with a comment. Every
step needs the measure's If-Match (428/412); 403 wrong person, 409 wrong state or a
finding that is not being rectified.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import FieldErrors, NotFound
from app.core.etag import check_if_match
from app.models import Finding, FindingStatus, Measure, MeasureStatus, Organisation, utcnow
from app.schemas.history import HistoryPage
from app.schemas.measures import (
    EvidenceReference,
    MeasureCannotComplete,
    MeasureComplete,
    MeasurePage,
    MeasureRead,
    MeasureVerify,
)
from app.services import history
from app.services.attachments.evidence import ATTACHMENT, check_evidence
from app.services.findings import access, steps
from app.services.inspections.access import briefs
from app.services.paging import keyset_page
from app.services.transitions import apply_transition
from app.workflows.engine import allowed_actions, check
from app.workflows.measures import MEASURE_WORKFLOW, MeasureContext

RESOURCE = "measure"
_LATE = (MeasureStatus.open, MeasureStatus.cannot_complete_requested)


def not_found() -> NotFound:
    return NotFound("No such measure.")


async def load_visible(session: AsyncSession, principal: Principal, measure_id: uuid.UUID) -> tuple[Measure,
                                                                                                    Finding]:
    row = (await session.execute(select(Measure, Finding).join(Finding, Finding.id == Measure.finding_id)
                                 .where(Measure.id == measure_id, access.visible(principal))
                                 .execution_options(populate_existing=True))).first()
    if row is None:
        raise not_found()
    return row[0], row[1]


def context_for(principal: Principal, finding: Finding, office_name: str = "the rectification office"
                ) -> tuple[MeasureContext, frozenset[str]]:
    rectifying = access.rectifying(finding)
    ctx = MeasureContext(roles_at_office=access.roles_at(principal, finding.rectification_office_id),
                         roles_at_responsible=access.roles_at(principal, finding.responsible_organisation_id),
                         finding_rectifying=rectifying,
                         finding_verifiable=rectifying or finding.status == FindingStatus.closure_requested,
                         office_name=office_name)
    return ctx, ctx.roles_at_office | ctx.roles_at_responsible


async def to_reads(session: AsyncSession, principal: Principal, rows: Sequence[Measure],
                   findings: dict[uuid.UUID, Finding]) -> list[MeasureRead]:
    names = await briefs(session, {*(m.responsible_unit_id for m in rows), *(m.confirming_organisation_id
                                                                            for m in rows)})
    today = today_in_zone()
    reads = []
    for m in rows:
        ctx, roles = context_for(principal, findings[m.finding_id])
        reads.append(MeasureRead(
            id=m.id, finding_id=m.finding_id, position=m.position, title=m.title, description=m.description,
            phase=m.phase, deadline=m.deadline, original_deadline=m.original_deadline,
            overdue=m.status in _LATE and m.deadline < today,
            responsible_unit=names.get(m.responsible_unit_id) if m.responsible_unit_id else None,
            responsible_person=m.responsible_person, status=m.status, version=m.version, approved_at=m.approved_at,
            completed_on=m.completed_on, completion_note=m.completion_note,
            evidence=[EvidenceReference.model_validate(e) for e in m.evidence or []], verified_at=m.verified_at,
            verification_note=m.verification_note, cannot_complete_reason=m.cannot_complete_reason,
            confirming_organisation=names.get(m.confirming_organisation_id) if m.confirming_organisation_id
            else None, confirmed_at=m.confirmed_at,
            allowed_actions=allowed_actions(MEASURE_WORKFLOW, m.status, roles, ctx),
            created_at=m.created_at, updated_at=m.updated_at))
    return reads


async def get_measure(session: AsyncSession, principal: Principal, measure_id: uuid.UUID) -> MeasureRead:
    measure, finding = await load_visible(session, principal, measure_id)
    return (await to_reads(session, principal, [measure], {finding.id: finding}))[0]


async def list_measures(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *, limit: int,
                        cursor: str | None, include_total: bool) -> MeasurePage:
    """A finding's measures in plan order, for anyone who may read the finding (404 otherwise)."""
    finding = await access.load_visible(session, principal, finding_id)
    rows, next_cursor, total = await keyset_page(
        session, select(Measure).where(Measure.finding_id == finding.id), keys=(Measure.position, Measure.id),
        kinds=("int", "id"), scope=f"measures/{finding.id}", limit=limit, cursor=cursor,
        include_total=include_total, key_values=lambda r: (r[0].position, r[0].id))
    return MeasurePage(items=await to_reads(session, principal, [r[0] for r in rows], {finding.id: finding}),
                       next_cursor=next_cursor, total=total)


async def measure_history(session: AsyncSession, principal: Principal, measure_id: uuid.UUID, *, limit: int,
                          cursor: str | None) -> HistoryPage:
    await load_visible(session, principal, measure_id)
    return await history.history_page(session, RESOURCE, measure_id, limit=limit, cursor=cursor)


async def take_step(session: AsyncSession, principal: Principal, measure_id: uuid.UUID, action: str,
                    if_match: str | None, comment: str | None, *, extra: dict[str, Any] | None = None,
                    payload: dict[str, Any] | None = None, confirming: uuid.UUID | None = None) -> MeasureRead:
    """One measure step: load (404), If-Match (428/412), the table (403/409/422), then the body's
    reference (the confirming organisation: 422 unless an active organisation of the province)."""
    measure, finding = await load_visible(session, principal, measure_id)
    check_if_match(if_match, measure.id, measure.version)
    office_name = await session.scalar(select(Organisation.name).where(
        Organisation.id == finding.rectification_office_id))
    ctx, roles = context_for(principal, finding, office_name or "the rectification office")
    check(MEASURE_WORKFLOW, action, measure.status, roles, ctx, comment)
    if confirming is not None:
        errors = FieldErrors()
        await steps.check_organisations(session, errors, finding.jurisdiction_id,
                                        [("/confirming_organisation_id", confirming)])
        errors.raise_if_any()
    acting = finding.rectification_office_id if action in ("verify", "confirm", "reopen", "reject_cannot_complete") \
        else finding.responsible_organisation_id
    moved = await apply_transition(
        session, table=MEASURE_WORKFLOW, model=Measure, record_id=measure.id, action=action, principal=principal,
        caller_roles=roles, expected_version=measure.version, comment=comment, ctx=ctx,
        organisation_id=finding.responsible_organisation_id, acting_organisation_id=acting, extra_values=extra,
        payload=payload)
    return (await to_reads(session, principal, [moved], {finding.id: finding}))[0]


async def _check_cited_files(session: AsyncSession, principal: Principal, measure_id: uuid.UUID,
                             evidence: Sequence[Any]) -> None:
    """422 for evidence citing a file not attached to the measure's finding (only a finding the caller can
    read is looked at: otherwise the step's own 404 follows)."""
    if not any(e.kind.value == ATTACHMENT for e in evidence):
        return
    finding_id = await session.scalar(select(Measure.finding_id).where(Measure.id == measure_id))
    if finding_id is None or await session.scalar(select(Finding.id).where(
            Finding.id == finding_id, access.visible(principal))) is None:
        return
    errors = FieldErrors()
    await check_evidence(session, errors, finding_id, evidence)
    errors.raise_if_any()


async def complete(session: AsyncSession, principal: Principal, measure_id: uuid.UUID, body: MeasureComplete,
                   if_match: str | None) -> MeasureRead:
    """open → done, by the responsible leader; 422 for a completion day in the future."""
    completed_on = body.completed_on or today_in_zone()
    if completed_on > today_in_zone():
        errors = FieldErrors()
        errors.add("/completed_on", "future_date", "a task cannot be completed in the future")
        errors.raise_if_any()
    await _check_cited_files(session, principal, measure_id, body.evidence)
    evidence = [e.model_dump(mode="json") for e in body.evidence]
    return await take_step(session, principal, measure_id, "complete", if_match, body.comment, extra={
        "completed_on": completed_on, "completed_at": utcnow(), "completion_note": body.completion_note,
        "evidence": evidence}, payload={"completed_on": completed_on.isoformat(), "evidence": evidence})


async def verify(session: AsyncSession, principal: Principal, measure_id: uuid.UUID, body: MeasureVerify,
                 if_match: str | None) -> MeasureRead:
    """done → verified (销号 of the task), by the rectification office."""
    return await take_step(session, principal, measure_id, "verify", if_match, body.comment, extra={
        "verified_at": utcnow(), "verification_note": body.verification_note})


async def declare_cannot_complete(session: AsyncSession, principal: Principal, measure_id: uuid.UUID,
                                  body: MeasureCannotComplete, if_match: str | None) -> MeasureRead:
    """open → cannot_complete_requested, by the responsible leader: reason, confirming organisation,
    evidence (001 二(四)2: "经协调省财政厅,该厅表示此类款项已上缴国库无法退还")."""
    await _check_cited_files(session, principal, measure_id, body.evidence)
    evidence = [e.model_dump(mode="json") for e in body.evidence]
    return await take_step(session, principal, measure_id, "declare_cannot_complete", if_match, body.comment,
                           extra={"cannot_complete_reason": body.reason,
                                  "confirming_organisation_id": body.confirming_organisation_id,
                                  "evidence": evidence},
                           payload={"reason": body.reason, "evidence": evidence,
                                    "confirming_organisation_id": str(body.confirming_organisation_id)},
                           confirming=body.confirming_organisation_id)


async def office_step(session: AsyncSession, principal: Principal, measure_id: uuid.UUID, action: str,
                      if_match: str | None, comment: str | None) -> MeasureRead:
    """confirm, reopen, reject_cannot_complete: the rectification office (the last two with a comment)."""
    extra = {"confirmed_at": utcnow()} if action == "confirm" else None
    return await take_step(session, principal, measure_id, action, if_match, comment, extra=extra)
