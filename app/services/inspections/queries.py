"""Reading inspections: one, pages, and the read model's batch lookups.

Any role with `findings:read` that may see the campaign (`access.visible`); 404 otherwise.
A page costs three statements whatever its size: the rows, their inspected
organisations, and the names of every organisation they mention.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.models import Inspection, InspectionOrganisation
from app.schemas.inspections import InspectionFilter, InspectionPage, InspectionRead, RectificationPlan
from app.services.inspections import access
from app.services.paging import keyset_page


async def to_reads(session: AsyncSession, principal: Principal, rows: Sequence[Inspection]) -> list[InspectionRead]:
    if not rows:
        return []
    inspected: dict[uuid.UUID, list[uuid.UUID]] = {r.id: [] for r in rows}
    for link in (await session.scalars(select(InspectionOrganisation).where(
            InspectionOrganisation.inspection_id.in_(inspected))
            .order_by(InspectionOrganisation.position))).all():
        inspected[link.inspection_id].append(link.organisation_id)
    names = await access.briefs(session, {*(r.inspecting_body_id for r in rows),
                                          *(r.rectification_office_id for r in rows),
                                          *(o for ids in inspected.values() for o in ids)})
    return [InspectionRead(
        id=r.id, jurisdiction_id=r.jurisdiction_id, kind=r.kind, title=r.title, code=r.code,
        inspecting_body=names[r.inspecting_body_id], inspected_organisations=[names[o] for o in inspected[r.id]],
        rectification_office=names[r.rectification_office_id], onsite_start_date=r.onsite_start_date,
        onsite_end_date=r.onsite_end_date, feedback_date=r.feedback_date, dispatch_cadence=r.dispatch_cadence,
        rectification_plan=RectificationPlan(issued_date=r.plan_issued_date, document_number=r.plan_document_number,
                                             document_title=r.plan_document_title,
                                             leading_group=r.plan_leading_group),
        note=r.note, version=r.version,
        can_register_findings=access.can_register(principal, r.inspecting_body_id, r.rectification_office_id),
        created_at=r.created_at, updated_at=r.updated_at) for r in rows]


async def to_read(session: AsyncSession, principal: Principal, inspection: Inspection) -> InspectionRead:
    return (await to_reads(session, principal, [inspection]))[0]


async def get_inspection(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID) -> InspectionRead:
    return await to_read(session, principal, await access.load_visible(session, principal, inspection_id))


async def list_inspections(session: AsyncSession, principal: Principal, f: InspectionFilter, *, limit: int,
                           cursor: str | None, include_total: bool) -> InspectionPage:
    """Campaigns the caller may read, oldest first; a foreign filter simply matches nothing."""
    stmt = select(Inspection).where(access.visible(principal))
    if f.kind is not None:
        stmt = stmt.where(Inspection.kind == f.kind)
    if f.jurisdiction_id is not None:
        stmt = stmt.where(Inspection.jurisdiction_id == f.jurisdiction_id)
    if f.inspected_organisation_id is not None:
        stmt = stmt.where(exists().where(InspectionOrganisation.inspection_id == Inspection.id,
                                         InspectionOrganisation.organisation_id == f.inspected_organisation_id))
    if f.q:
        stmt = stmt.where(Inspection.title.icontains(f.q, autoescape=True))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(Inspection.created_at, Inspection.id), kinds=("ts", "id"), scope="inspections",
        limit=limit, cursor=cursor, include_total=include_total, key_values=lambda r: (r[0].created_at, r[0].id))
    return InspectionPage(items=await to_reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                          total=total)
