"""Creating and changing inspections.

Who: inspectors AT the inspecting body, or the office AT the rectification office
(`access.can_register`); 403 otherwise. References are checked first (422 with a JSON
pointer): every organisation active; the inspected organisations and the rectification
office of one province (the campaign's jurisdiction); the inspecting body anywhere
(national bodies inspect provinces: 中央生态环境保护督察组).

The rectification office, when the body names none (a design choice where the texts
are silent; DOMAIN.md only says the office "verifies and closes where the profile gives
its organisation that step"):
- party inspections, audits and self-inspections: the first inspected organisation
  itself: it rectifies its own findings through its own office (001 一(二) "成立巡视整改
  工作领导小组…指定…具体分管巡视整改工作领导小组办公室,统筹协调整改工作");
- the environmental inspections: the `inspection_office` designated in the inspected
  organisation's region (Hainan's 督察领导小组办公室), else the inspected organisation.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import Conflict, FieldErrors, PermissionDenied
from app.core.etag import check_if_match
from app.models import DesignationKey, Inspection, InspectionOrganisation, utcnow
from app.models.inspection import SELF_RECTIFIED_KINDS
from app.schemas.inspections import InspectionCreate, InspectionRead, InspectionUpdate
from app.services import audit, designations
from app.services.inspections import access
from app.services.inspections.queries import to_read

_PLAN_COLUMNS = {"issued_date": "plan_issued_date", "document_number": "plan_document_number",
                 "document_title": "plan_document_title", "leading_group": "plan_leading_group"}


async def default_office(session: AsyncSession, kind: Any, inspected_id: uuid.UUID) -> uuid.UUID:
    """The rectification office when none is named (see the module docstring)."""
    if kind in SELF_RECTIFIED_KINDS:
        return inspected_id
    region = await designations.region_of(session, inspected_id)
    if region is not None:
        offices = await designations.resolve_key(session, region.id, DesignationKey.inspection_office)
        if offices:
            return offices[0].id
    return inspected_id


async def create_inspection(session: AsyncSession, principal: Principal, body: InspectionCreate) -> InspectionRead:
    """Register a campaign. 422 for unknown, inactive or cross-province organisations; 403 unless the caller
    is an inspector of the inspecting body or the office of the (resolved) rectification office."""
    inspected_ids = list(dict.fromkeys(body.inspected_organisation_ids))
    wanted = [body.inspecting_body_id, *inspected_ids] + ([body.rectification_office_id]
                                                          if body.rectification_office_id else [])
    orgs = await access.active_organisations(session, wanted)
    errors = FieldErrors()
    if body.inspecting_body_id not in orgs:
        errors.add("/inspecting_body_id", "unknown_organisation", "not an active organisation")
    for i, org_id in enumerate(body.inspected_organisation_ids):
        if org_id not in orgs:
            errors.add(f"/inspected_organisation_ids/{i}", "unknown_organisation", "not an active organisation")
    if body.rectification_office_id and body.rectification_office_id not in orgs:
        errors.add("/rectification_office_id", "unknown_organisation", "not an active organisation")
    errors.raise_if_any()
    jurisdiction = orgs[inspected_ids[0]].jurisdiction_id
    for i, org_id in enumerate(body.inspected_organisation_ids):
        if orgs[org_id].jurisdiction_id != jurisdiction:
            errors.add(f"/inspected_organisation_ids/{i}", "other_province",
                       "all inspected organisations belong to one province")
    office_id = body.rectification_office_id or await default_office(session, body.kind, inspected_ids[0])
    if body.rectification_office_id and orgs[office_id].jurisdiction_id != jurisdiction:
        errors.add("/rectification_office_id", "other_province", "the office must be of the inspected province")
    errors.raise_if_any()
    if not access.can_register(principal, body.inspecting_body_id, office_id):
        raise PermissionDenied("Only inspectors of the inspecting body or the office of the rectification office "
                               "register an inspection.")
    plan = body.rectification_plan.model_dump() if body.rectification_plan else {}
    inspection = Inspection(
        jurisdiction_id=jurisdiction, kind=body.kind, title=body.title, code=body.code,
        inspecting_body_id=body.inspecting_body_id, rectification_office_id=office_id,
        onsite_start_date=body.onsite_start_date, onsite_end_date=body.onsite_end_date,
        feedback_date=body.feedback_date, dispatch_cadence=body.dispatch_cadence, note=body.note,
        created_by=str(principal.id), **{column: plan.get(key) for key, column in _PLAN_COLUMNS.items()})
    session.add(inspection)
    await session.flush()
    for position, org_id in enumerate(inspected_ids):
        session.add(InspectionOrganisation(inspection_id=inspection.id, organisation_id=org_id, position=position))
    await session.flush()
    audit.record(session, action="inspection.create", resource_type=access.RESOURCE, resource_id=inspection.id,
                 organisation_id=office_id,
                 after={"kind": body.kind.value, "title": body.title, "inspecting_body_id": body.inspecting_body_id,
                        "rectification_office_id": office_id, "inspected_organisation_ids": inspected_ids})
    return await to_read(session, principal, inspection)


async def update_inspection(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID,
                            body: InspectionUpdate, if_match: str | None) -> InspectionRead:
    """Change the campaign's descriptive fields and its 整改工作方案 (the registrars of `create`; 403 else).

    404 out of scope, 428/412 If-Match, 422 for on-site dates out of order."""
    inspection = await access.load_visible(session, principal, inspection_id)
    check_if_match(if_match, inspection.id, inspection.version)
    if not access.can_register(principal, inspection.inspecting_body_id, inspection.rectification_office_id):
        raise PermissionDenied("Only inspectors of the inspecting body or the rectification office edit it.")
    changes = body.model_dump(exclude_unset=True, exclude={"rectification_plan"})
    errors = FieldErrors()
    for name in ("title", "dispatch_cadence"):
        if name in changes and changes[name] is None:
            errors.add(f"/{name}", "required", f"{name} cannot be removed")
    start = changes.get("onsite_start_date", inspection.onsite_start_date)
    end = changes.get("onsite_end_date", inspection.onsite_end_date)
    if start and end and end < start:
        errors.add("/onsite_end_date", "date_order", "onsite_end_date is before onsite_start_date")
    errors.raise_if_any()
    if "rectification_plan" in body.model_fields_set:
        plan = body.rectification_plan.model_dump() if body.rectification_plan else {}
        changes.update({column: plan.get(key) for key, column in _PLAN_COLUMNS.items()})
    before = {k: getattr(inspection, k) for k in changes}
    result = await session.execute(
        update(Inspection).where(Inspection.id == inspection.id, Inspection.version == inspection.version)
        .values(version=Inspection.version + 1, updated_at=utcnow(), **changes)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("The inspection changed meanwhile; reload it and try again.")
    await session.refresh(inspection)
    audit.record(session, action="inspection.update", resource_type=access.RESOURCE, resource_id=inspection.id,
                 organisation_id=inspection.rectification_office_id, before=before, after=changes)
    return await to_read(session, principal, inspection)
