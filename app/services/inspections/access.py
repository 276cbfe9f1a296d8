"""Who sees an inspection, who may register findings in it, and the organisation references bodies carry.

Reading (`findings:read`): members whose scope covers the inspecting body, the
rectification office or an inspected organisation (DOMAIN.md: a membership covers its
organisation and everything below it). A central inspection group is a national root
of its own, so its inspectors see the campaigns it ran, in whichever province.
Out of scope → 404.

Registering findings, adding categories and editing the campaign: inspectors AT the
inspecting body and the office AT the rectification office (DOMAIN.md "registered
(inspector|office)"); everyone else 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import NotFound
from app.models import Inspection, InspectionOrganisation, Organisation, Role
from app.schemas.duty_lists import OrganisationBrief

READ = Permission.findings_read
WRITE = Permission.findings_write
RESOURCE = "inspection"


def not_found() -> NotFound:
    return NotFound("No such inspection.")


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: inspections the caller may read."""
    inspected = exists().where(InspectionOrganisation.inspection_id == Inspection.id,
                               in_scope(InspectionOrganisation.organisation_id, principal, READ))
    return or_(in_scope(Inspection.inspecting_body_id, principal, READ),
               in_scope(Inspection.rectification_office_id, principal, READ), inspected)


async def load_visible(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID) -> Inspection:
    found = await session.scalar(select(Inspection).where(Inspection.id == inspection_id, visible(principal)))
    if found is None:
        raise not_found()
    return found


def can_register(principal: Principal, inspecting_body_id: uuid.UUID, office_id: uuid.UUID) -> bool:
    """Inspectors of the inspecting body and the rectification office register (and edit the campaign)."""
    return Role.inspector in principal.roles_at(inspecting_body_id) or Role.office in principal.roles_at(office_id)



async def active_organisations(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    """The active organisations among `ids`, by id (references need not be in the caller's scope:
    a department names a sibling as co-lead, an office names the 巡视组 above it)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = (await session.scalars(select(Organisation).where(Organisation.id.in_(wanted),
                                                             Organisation.is_active.is_(True)))).all()
    return {o.id: o for o in rows}


async def briefs(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, OrganisationBrief]:
    """Names for a page's organisations in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = (await session.execute(select(Organisation.id, Organisation.name)
                                  .where(Organisation.id.in_(wanted)))).all()
    return {row.id: OrganisationBrief(id=row.id, name=row.name) for row in rows}
