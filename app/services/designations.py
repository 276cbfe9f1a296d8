"""Resolving the bodies a profile names to organisations, and managing designations.

A profile says "省生态环境厅 审核" or "省委、省政府 审定" (`OrgRole`); this module finds
the organisations that fill the role in an administrative region (a `region`
organisation: the province root, a city, a county). Designations are explicit
rows (`app.models.designation`), except that a region's 党委和政府 default to its
direct `party_committee` and `government` children when no row names them.

Reading designations needs `organisations:read` on the region; replacing them is
for admins of the region (`organisations:write`), with the region's If-Match. Replacing them
re-addresses the region's reports not yet filed (app/services/reports/readdress.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.errors import ValidationFailed
from app.core.etag import check_if_match
from app.models import Designation, DesignationKey, Organisation, OrganisationClosure, OrganisationKind
from app.profiles.schema import OrgRole
from app.schemas.designations import DesignationRead, DesignationsRead, DesignationsUpdate
from app.services import audit
from app.services.organisations.queries import load_visible

# Profile roles that name a designated body; the level is the region the caller resolves at.
# (Relational roles — superior_department, responsible_organisation — and persons are resolved elsewhere.)
KEY_OF_ROLE: dict[OrgRole, DesignationKey] = {
    OrgRole.provincial_party_committee_and_government: DesignationKey.party_committee_and_government,
    OrgRole.same_level_party_committee_and_government: DesignationKey.party_committee_and_government,
    OrgRole.environment_department: DesignationKey.environment_department,
    OrgRole.inspection_office: DesignationKey.inspection_office,
    OrgRole.environment_committee: DesignationKey.environment_committee,
    OrgRole.same_level_environment_committee: DesignationKey.environment_committee,
    OrgRole.environment_committee_office: DesignationKey.environment_committee_office,
    OrgRole.same_level_environment_committee_office: DesignationKey.environment_committee_office,
    OrgRole.discipline_body: DesignationKey.discipline_body,
    OrgRole.organisation_department: DesignationKey.organisation_department,
}
_DEFAULT_KINDS = {DesignationKey.party_committee_and_government:
                  (OrganisationKind.party_committee, OrganisationKind.government)}


async def region_of(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    """The nearest `region` organisation at or above `organisation_id` (None for a bare national body)."""
    return await session.scalar(
        select(Organisation)
        .join(OrganisationClosure, OrganisationClosure.ancestor_id == Organisation.id)
        .where(OrganisationClosure.descendant_id == organisation_id, Organisation.kind == OrganisationKind.region)
        .order_by(OrganisationClosure.depth).limit(1))


async def resolve_key(session: AsyncSession, region_id: uuid.UUID, key: DesignationKey) -> list[Organisation]:
    """Active organisations designated for `key` in the region, else the structural default."""
    designated = list((await session.scalars(
        select(Organisation).join(Designation, Designation.organisation_id == Organisation.id)
        .where(Designation.region_id == region_id, Designation.key == key, Organisation.is_active.is_(True))
        .order_by(Organisation.created_at, Organisation.id))).all())
    if designated or key not in _DEFAULT_KINDS:
        return designated
    return list((await session.scalars(
        select(Organisation).where(Organisation.parent_id == region_id, Organisation.kind.in_(_DEFAULT_KINDS[key]),
                                   Organisation.is_active.is_(True))
        .order_by(Organisation.kind, Organisation.created_at))).all())


async def resolve(session: AsyncSession, region_id: uuid.UUID, role: OrgRole) -> list[Organisation]:
    """The organisations that fill a profile's `role` in the region; [] when none is designated."""
    key = KEY_OF_ROLE.get(role)
    return await resolve_key(session, region_id, key) if key is not None else []


async def keys_held(session: AsyncSession, organisation_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, DesignationKey]]:
    """(region, key) pairs the given organisations fill, explicit or by default: which lists and
    matters their members act on as reviewer, approver, convenor or decider."""
    ids = set(organisation_ids)
    if not ids:
        return set()
    found = {(r.region_id, r.key) for r in (await session.execute(
        select(Designation.region_id, Designation.key).where(Designation.organisation_id.in_(ids)))).all()}
    for key, kinds in _DEFAULT_KINDS.items():
        rows = (await session.execute(select(Organisation.parent_id).where(
            Organisation.id.in_(ids), Organisation.kind.in_(kinds), Organisation.parent_id.is_not(None)))).all()
        for (region_id,) in rows:
            explicit = await session.scalar(select(Designation.organisation_id).where(
                Designation.region_id == region_id, Designation.key == key).limit(1))
            if explicit is None:
                found.add((region_id, key))
    return found


def names(orgs: list[Organisation], fallback: str) -> str:
    return "、".join(o.name for o in orgs) or fallback


# ---------------------------------------------------------------------------------- the admin API


async def _read(session: AsyncSession, region: Organisation) -> DesignationsRead:
    items = []
    for key in DesignationKey:
        explicit = await session.scalar(select(Designation.organisation_id).where(
            Designation.region_id == region.id, Designation.key == key).limit(1))
        orgs = await resolve_key(session, region.id, key)
        items.append(DesignationRead(key=key, organisation_ids=[o.id for o in orgs],
                                     organisation_names=[o.name for o in orgs],
                                     by_default=bool(orgs) and explicit is None))
    return DesignationsRead(region_id=region.id, version=region.version, items=items)


def _not_a_region() -> ValidationFailed:
    return ValidationFailed("Designations belong to an administrative region (an organisation of kind region).",
                            errors=[{"pointer": "path/organisation_id", "source": "path", "type": "not_a_region",
                                     "message": "not a region"}])


async def get_designations(session: AsyncSession, principal: Principal, region_id: uuid.UUID) -> DesignationsRead:
    """Any role that reads the region (404 outside scope); 422 when it is not a region."""
    region = await load_visible(session, principal, Permission.organisations_read, region_id)
    if region.kind != OrganisationKind.region:
        raise _not_a_region()
    return await _read(session, region)


async def replace_designations(session: AsyncSession, principal: Principal, region_id: uuid.UUID,
                               body: DesignationsUpdate, if_match: str | None) -> DesignationsRead:
    """Admins of the region replace the keys listed in the body (keys not listed stay as they are).

    Every organisation must be active and inside the region's subtree (422 with a pointer);
    the region's version goes up, so its ETag changes. The region's reports not yet filed are
    re-addressed in the same transaction (app/services/reports/readdress.py); filed ones keep whom
    they were sent to. 404 outside scope, 428/412 If-Match."""
    region = await load_visible(session, principal, Permission.organisations_write, region_id)
    if region.kind != OrganisationKind.region:
        raise _not_a_region()
    check_if_match(if_match, region.id, region.version)
    errors = []
    for i, entry in enumerate(body.items):
        for j, org_id in enumerate(entry.organisation_ids):
            ok = await session.scalar(select(Organisation.id).join(
                OrganisationClosure, OrganisationClosure.descendant_id == Organisation.id).where(
                OrganisationClosure.ancestor_id == region.id, Organisation.id == org_id,
                Organisation.is_active.is_(True)))
            if ok is None:
                errors.append({"pointer": f"/items/{i}/organisation_ids/{j}", "source": "body",
                               "type": "unknown_organisation",
                               "message": "not an active organisation inside this region"})
    if errors:
        raise ValidationFailed("One or more fields are invalid; see errors.", errors=errors)
    before = await _read(session, region)
    for entry in body.items:
        await session.execute(delete(Designation).where(Designation.region_id == region.id,
                                                        Designation.key == entry.key))
        for org_id in dict.fromkeys(entry.organisation_ids):
            session.add(Designation(region_id=region.id, key=entry.key, organisation_id=org_id))
    region.version += 1
    await session.flush()
    # Reports nobody has filed yet follow the new designations, in this transaction (filed ones keep
    # whom they were sent to). Imported here: the reports' resolver itself resolves through this module.
    from app.services.reports.readdress import readdress_region

    await readdress_region(session, principal, region)
    after = await _read(session, region)
    audit.record(session, action="organisation.designations", resource_type="organisation", resource_id=region.id,
                 organisation_id=region.id,
                 before={i.key.value: [str(o) for o in i.organisation_ids] for i in before.items},
                 after={i.key.value: [str(o) for o in i.organisation_ids] for i in after.items})
    return after
