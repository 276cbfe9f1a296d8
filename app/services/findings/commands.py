"""Registering and changing findings, and the workflow steps that carry data of their own.

Who may do what (app/workflows/findings.py says it for each step):
- register: inspectors AT the inspection's inspecting body, or the office AT its
  rectification office (DOMAIN.md "registered (inspector|office)"); 422 for an inspection
  the caller cannot see, 403 for others;
- edit the descriptive fields (PATCH): the rectification office, until the finding is
  closed or found unrectifiable;
- assign, close, reject, approve: the rectification office; submit and amend plans,
  request closure, declare unrectifiable: the responsible organisation's leader.
Every step needs If-Match (428/412); refusals are 403 (wrong person) and 409 (wrong state).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import Conflict, FieldErrors, PermissionDenied
from app.core.etag import check_if_match
from app.models import (
    Finding,
    FindingLink,
    FindingParty,
    FindingPartyRole,
    FindingStatus,
    Inspection,
    InspectionCategory,
    Measure,
    MeasureStatus,
    Role,
    utcnow,
)
from app.schemas.findings import (
    FindingAssign,
    FindingClose,
    FindingClosureRequest,
    FindingCreate,
    FindingRead,
    FindingUnrectifiable,
    FindingUpdate,
    RelatedFinding,
)
from app.services import audit, events
from app.services.attachments.evidence import check_evidence
from app.services.findings import access, steps
from app.services.findings.queries import to_read
from app.services.inspections import access as inspections_access

R = FindingPartyRole
_FINAL = (FindingStatus.closed, FindingStatus.unrectifiable)


class FindingCodeExists(Conflict):
    code, title = "finding_code_exists", "The inspection already has a finding with this code"


class FindingNotEditable(Conflict):
    code, title = "finding_not_editable", "The finding is no longer edited"


class MeasuresOutstanding(Conflict):
    code, title = "measures_outstanding", "Measures are still open"


async def _check_category(session: AsyncSession, errors: FieldErrors, inspection_id: uuid.UUID,
                          category_id: uuid.UUID | None) -> None:
    if category_id is not None and await session.scalar(select(InspectionCategory.id).where(
            InspectionCategory.id == category_id, InspectionCategory.inspection_id == inspection_id)) is None:
        errors.add("/category_id", "unknown_category", "not a category of the finding's inspection")


async def _check_related(session: AsyncSession, principal: Principal, errors: FieldErrors,
                         related: list[RelatedFinding], self_id: uuid.UUID | None) -> None:
    ids = {r.finding_id for r in related}
    seen = set((await session.scalars(select(Finding.id).where(Finding.id.in_(ids),
                                                                access.visible(principal)))).all()) if ids else set()
    for i, r in enumerate(related):
        if r.finding_id not in seen or r.finding_id == self_id:
            errors.add(f"/related/{i}/finding_id", "unknown_finding", "not another finding you can see")


def _links(finding_id: uuid.UUID, related: list[RelatedFinding]) -> list[FindingLink]:
    unique = {r.finding_id: r.relation for r in related}
    return [FindingLink(finding_id=finding_id, related_finding_id=k, relation=v) for k, v in unique.items()]


async def register_finding(session: AsyncSession, principal: Principal, body: FindingCreate) -> FindingRead:
    """Register a finding in `registered`. 422 unknown inspection, category or related finding; 403 for
    callers other than the registrars; 409 `finding_code_exists` for a code already used in the campaign."""
    errors = FieldErrors()
    inspection = await session.scalar(select(Inspection).where(Inspection.id == body.inspection_id,
                                                               inspections_access.visible(principal)))
    if inspection is None:
        errors.add("/inspection_id", "unknown_inspection", "not an inspection you can see")
        errors.raise_if_any()
    if not inspections_access.can_register(principal, inspection.inspecting_body_id,
                                           inspection.rectification_office_id):
        raise PermissionDenied("Only inspectors of the inspecting body or the rectification office register "
                               "findings.")
    await _check_category(session, errors, inspection.id, body.category_id)
    await _check_related(session, principal, errors, body.related, None)
    errors.raise_if_any()
    finding = Finding(
        jurisdiction_id=inspection.jurisdiction_id, inspection_id=inspection.id, category_id=body.category_id,
        code=body.code, title=body.title, description=body.description, status=FindingStatus.registered,
        rectification_office_id=inspection.rectification_office_id,
        inspecting_body_id=inspection.inspecting_body_id, rectification_type=body.rectification_type,
        deadline=body.deadline, original_deadline=body.deadline, key_problem=body.key_problem,
        key_problem_handler=body.key_problem_handler, created_by=str(principal.id))
    try:
        async with session.begin_nested():
            session.add(finding)
            await session.flush()
    except IntegrityError:  # (inspection_id, code) is unique
        raise FindingCodeExists(f"The code {body.code!r} is already used in this inspection.") from None
    session.add_all([FindingParty(finding_id=finding.id, organisation_id=inspection.rectification_office_id,
                                  role=R.rectification_office),
                     FindingParty(finding_id=finding.id, organisation_id=inspection.inspecting_body_id,
                                  role=R.inspecting_body), *_links(finding.id, body.related)])
    await session.flush()
    audit.record(session, action="finding.create", resource_type=access.RESOURCE, resource_id=finding.id,
                 organisation_id=inspection.rectification_office_id,
                 after={"inspection_id": inspection.id, "code": body.code, "title": body.title, "status": "registered",
                        "rectification_type": body.rectification_type.value, "deadline": body.deadline})
    return await to_read(session, principal, finding)


async def update_finding(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, body: FindingUpdate,
                         if_match: str | None) -> FindingRead:
    """The rectification office edits descriptive fields (403 others; 409 `finding_not_editable` once
    closed or unrectifiable; 422 for bad references)."""
    finding = await access.load_visible(session, principal, finding_id)
    check_if_match(if_match, finding.id, finding.version)
    if Role.office not in principal.roles_at(finding.rectification_office_id):
        raise PermissionDenied("Only the finding's rectification office edits it.")
    if finding.status in _FINAL:
        raise FindingNotEditable(f"The finding is {finding.status.value}; it is no longer edited.")
    changes = body.model_dump(exclude_unset=True, exclude={"related"})
    errors = FieldErrors()
    for name in ("title", "key_problem"):
        if name in changes and changes[name] is None:
            errors.add(f"/{name}", "required", f"{name} cannot be removed")
    await _check_category(session, errors, finding.inspection_id, changes.get("category_id"))
    await steps.check_unit(session, errors, "/responsible_unit_id", changes.get("responsible_unit_id"),
                           finding.responsible_organisation_id)
    if body.related is not None:
        await _check_related(session, principal, errors, body.related, finding.id)
    errors.raise_if_any()
    before = {k: getattr(finding, k) for k in changes}
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(Finding).where(Finding.id == finding.id, Finding.version == finding.version)
                .values(version=Finding.version + 1, updated_at=utcnow(), **changes)
                .execution_options(synchronize_session=False))
    except IntegrityError:
        raise FindingCodeExists(f"The code {changes.get('code')!r} is already used in this inspection.") from None
    if result.rowcount != 1:
        raise Conflict("The finding changed meanwhile; reload it and try again.")
    if body.related is not None:
        await session.execute(delete(FindingLink).where(FindingLink.finding_id == finding.id))
        session.add_all(_links(finding.id, body.related))
        changes["related"] = [r.model_dump(mode="json") for r in body.related]
    await session.flush()
    await session.refresh(finding)
    audit.record(session, action="finding.update", resource_type=access.RESOURCE, resource_id=finding.id,
                 organisation_id=access.audit_organisation(finding), before=before, after=changes)
    return await to_read(session, principal, finding)


async def assign(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, body: FindingAssign,
                 if_match: str | None) -> FindingRead:
    """registered → assigned, by the rectification office: the responsible (主责) organisation, lead and
    cooperating organisations, the deadline (kept as the original deadline), 责任领导/部门/人 (001 一(三)).
    422 for organisations that are inactive, of another province, or both leading and cooperating."""
    step = await steps.prepare(session, principal, finding_id, "assign", if_match, body.comment)
    finding, errors = step.finding, FieldErrors()
    leads = list(dict.fromkeys(body.lead_organisation_ids))
    cooperating = list(dict.fromkeys(body.cooperating_organisation_ids))
    await steps.check_organisations(session, errors, finding.jurisdiction_id, [
        ("/responsible_organisation_id", body.responsible_organisation_id),
        *((f"/lead_organisation_ids/{i}", o) for i, o in enumerate(body.lead_organisation_ids)),
        *((f"/cooperating_organisation_ids/{i}", o) for i, o in enumerate(body.cooperating_organisation_ids))])
    for i, org_id in enumerate(body.cooperating_organisation_ids):
        if org_id == body.responsible_organisation_id or org_id in leads:
            errors.add(f"/cooperating_organisation_ids/{i}", "also_leads", "an organisation leads or cooperates")
    await steps.check_unit(session, errors, "/responsible_unit_id", body.responsible_unit_id,
                           body.responsible_organisation_id)
    errors.raise_if_any()
    extra: dict[str, Any] = {"responsible_organisation_id": body.responsible_organisation_id,
                             "deadline": body.deadline, "original_deadline": body.deadline,
                             "responsible_leader": body.responsible_leader,
                             "responsible_unit_id": body.responsible_unit_id,
                             "responsible_person": body.responsible_person}
    if body.rectification_type is not None:
        extra["rectification_type"] = body.rectification_type
    moved = await steps.apply(session, principal, step, "assign", body.comment, extra=extra, payload={
        "lead_organisation_ids": leads, "cooperating_organisation_ids": cooperating,
        **{k: v for k, v in extra.items() if k != "original_deadline"}})
    session.add_all([FindingParty(finding_id=moved.id, organisation_id=body.responsible_organisation_id,
                                  role=R.responsible),
                     *(FindingParty(finding_id=moved.id, organisation_id=o, role=R.lead, position=i)
                       for i, o in enumerate(leads)),
                     *(FindingParty(finding_id=moved.id, organisation_id=o, role=R.cooperating, position=i)
                       for i, o in enumerate(cooperating))])
    await session.flush()
    await events.emit(session, "finding.assigned", ("finding", moved.id), moved.responsible_organisation_id,
                      {"status": moved.status, "deadline": body.deadline, "title": moved.title})
    return await to_read(session, principal, moved)


async def simple_step(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, action: str,
                      if_match: str | None, comment: str | None) -> FindingRead:
    """approve_unrectifiable, reject_unrectifiable, reject_closure, sustain: the table decides."""
    step = await steps.prepare(session, principal, finding_id, action, if_match, comment)
    extra = {"sustained_at": utcnow()} if action == "sustain" else None
    return await to_read(session, principal, await steps.apply(session, principal, step, action, comment,
                                                               extra=extra))


async def request_closure(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                          body: FindingClosureRequest, if_match: str | None) -> FindingRead:
    """in_progress|sustained → closure_requested (已完成待销号), by the responsible leader, with evidence.

    409 `measures_outstanding` (naming them) while a measure is open or awaiting confirmation: closure
    waits until every measure is done, verified or confirmed cannot-complete (001 二(四)2)."""
    step = await steps.prepare(session, principal, finding_id, "request_closure", if_match, body.comment,
                               assume={"measures_settled": True})
    if not step.facts.settled:
        outstanding = list((await session.scalars(select(Measure.id).where(
            Measure.finding_id == step.finding.id,
            Measure.status.in_((MeasureStatus.open, MeasureStatus.cannot_complete_requested)))
            .order_by(Measure.position, Measure.id))).all())
        raise MeasuresOutstanding(f"{len(outstanding)} measure(s) are still open or await confirmation; each must "
                                  "be done, verified or confirmed cannot-complete first.",
                                  outstanding_measure_ids=[str(m) for m in outstanding])
    errors = FieldErrors()
    await check_evidence(session, errors, step.finding.id, body.evidence)  # a cited file: attached here
    errors.raise_if_any()
    moved = await steps.apply(session, principal, step, "request_closure", body.comment, extra={
        "closure_requested_at": utcnow(), "closure_summary": body.summary,
        "closure_evidence": [e.model_dump(mode="json") for e in body.evidence]},
        payload={"evidence": [e.model_dump(mode="json") for e in body.evidence]})
    return await to_read(session, principal, moved)


async def close(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, body: FindingClose,
                if_match: str | None) -> FindingRead:
    """closure_requested → closed (已完成并销号), by the rectification office with its verification note.
    422 for a 销号 day in the future."""
    step = await steps.prepare(session, principal, finding_id, "close", if_match, body.comment)
    closed_on = body.closed_on or today_in_zone()
    errors = FieldErrors()
    if closed_on > today_in_zone():
        errors.add("/closed_on", "future_date", "a finding cannot be closed in the future")
    errors.raise_if_any()
    moved = await steps.apply(session, principal, step, "close", body.comment, extra={
        "closed_at": utcnow(), "closed_on": closed_on, "verification_note": body.verification_note},
        payload={"verification_note": body.verification_note, "closed_on": closed_on.isoformat()})
    await events.emit(session, "finding.closed", ("finding", moved.id), moved.responsible_organisation_id,
                      {"status": moved.status, "closed_on": closed_on, "title": moved.title})
    return await to_read(session, principal, moved)


async def declare_unrectifiable(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                                body: FindingUnrectifiable, if_match: str | None) -> FindingRead:
    """in_progress → unrectifiable_requested, by the responsible leader: the reason and the confirming
    organisation (an active organisation of the province; 422 otherwise)."""
    step = await steps.prepare(session, principal, finding_id, "declare_unrectifiable", if_match, body.comment)
    errors = FieldErrors()
    await steps.check_organisations(session, errors, step.finding.jurisdiction_id,
                                    [("/confirming_organisation_id", body.confirming_organisation_id)])
    await check_evidence(session, errors, step.finding.id, body.evidence)
    errors.raise_if_any()
    evidence = [e.model_dump(mode="json") for e in body.evidence]
    moved = await steps.apply(session, principal, step, "declare_unrectifiable", body.comment, extra={
        "unrectifiable_reason": body.reason,
        "confirming_organisation_id": body.confirming_organisation_id,
        "unrectifiable_evidence": evidence},
        payload={"reason": body.reason, "confirming_organisation_id": str(body.confirming_organisation_id)})
    return await to_read(session, principal, moved)

