"""Changing organisations: create, update (moving subtrees), deactivate, reactivate.

Who may do what (CONVENTIONS.md, the three layers):
- reading needs `organisations:read` and the organisation inside the caller's scope
  (its grants' subtrees; an office of a coordination body also reaches the body's
  member units). Outside scope is 404, so existence does not leak.
- writing needs `organisations:write` (admins) and the target inside the admin's scope;
  for a create, the parent. Admins of another tree get 404.
- creating a ROOT (no parent) is a design choice of ours: only an admin whose membership
  sits on a root organisation (depth 0) may do it. A root is a new jurisdiction (a province
  or a national body such as 生态环境部 to point `superior_department_id` at); an admin of a
  city or a department is trusted with its own subtree, not with opening new tenants.
  The new root lies outside the creating admin's scope until someone is given a
  membership there.

Body references an admin cannot see (parent, lead unit, member units) answer 422
"unknown organisation" with a field pointer, the same as ids that do not exist.
`superior_department_id` is the exception: a provincial department's superior is often a
national body in another tree, so any existing, active organisation is accepted.

Organisations are never deleted (other records point at them): they are deactivated.

A move to another tree (an administrative re-division) changes the subtree's own
`jurisdiction_id` and so its scope, but not that of records raised before it: a finding,
report, duty list or escalation keeps the jurisdiction (and profile) it was raised under,
because its workflow, deadlines and recipients were set by that province's rules (a design
choice: "changing it never rewrites history", DOMAIN.md "Jurisdiction profiles"). A move
inside a tree, or a new superior department or coordination membership, re-addresses the
reports nobody has filed yet (app/services/reports/readdress.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import Conflict, FieldErrors, PermissionDenied
from app.core.etag import check_if_match
from app.models import CoordinationMember, Organisation, OrganisationClosure, OrganisationKind, Role, new_id
from app.profiles import get_profile
from app.schemas.organisations import OrganisationCreate, OrganisationRead, OrganisationUpdate
from app.services import audit, org_tree
from app.services.organisations.queries import load_visible, member_ids_of, to_read

WRITE = Permission.organisations_write
RESOURCE = "organisation"


class ShortCodeTaken(Conflict):
    code, title = "short_code_taken", "Short code already in use"


class HasActiveChildren(Conflict):
    code, title = "organisation_has_active_children", "Organisation still has active children"


class ParentInactive(Conflict):
    code, title = "parent_inactive", "Parent organisation is inactive"


class StateConflict(Conflict):
    code, title = "organisation_state_conflict", "Organisation is not in a state that allows this"




async def _load_for_write(session: AsyncSession, principal: Principal, org_id: uuid.UUID,
                          if_match: str | None) -> Organisation:
    """Find the target in the admin's scope, take its tree's lock, re-read it, check If-Match."""
    org = await load_visible(session, principal, WRITE, org_id)
    jurisdiction = org.jurisdiction_id
    await org_tree.lock_trees(session, {jurisdiction})
    await session.refresh(org)  # what a writer that finished while we waited for the lock left behind
    if org.jurisdiction_id != jurisdiction:
        raise Conflict("The organisation was moved to another tree meanwhile; reload it and try again.")
    check_if_match(if_match, org.id, org.version)
    return org


async def _reference(session: AsyncSession, principal: Principal, errors: FieldErrors, pointer: str,
                     org_id: uuid.UUID, *, any_tree: bool = False) -> Organisation | None:
    """A body reference: visible to the admin (or, with `any_tree`, merely existing) and active."""
    query = select(Organisation).where(Organisation.id == org_id)
    if not any_tree:
        query = query.where(in_scope(Organisation.id, principal, WRITE))
    ref = await session.scalar(query)
    if ref is None:
        errors.add(pointer, "unknown_organisation", "unknown organisation")
    elif not ref.is_active:
        errors.add(pointer, "inactive_organisation", "the organisation is deactivated")
        return None
    return ref


async def _check_members(session: AsyncSession, principal: Principal, errors: FieldErrors,
                         kind: OrganisationKind, member_ids: list[uuid.UUID], self_id: uuid.UUID | None) -> None:
    # A member unit widens the body's office's scope to it (DOMAIN.md scope rules), so the
    # admin must control each member: the write scope applies, not mere existence.
    if member_ids and kind is not OrganisationKind.coordination_body:
        errors.add("/member_unit_ids", "not_a_coordination_body", "only a coordination body has member units")
        return
    for i, member_id in enumerate(member_ids):
        if member_id == self_id:
            errors.add(f"/member_unit_ids/{i}", "self_reference", "a body cannot be its own member")
        else:
            await _reference(session, principal, errors, f"/member_unit_ids/{i}", member_id)


def _check_profile(errors: FieldErrors, profile_code: str | None, is_root: bool) -> None:
    if profile_code is None:
        return
    if not is_root:
        errors.add("/profile_code", "not_a_root", "only a root organisation carries a jurisdiction profile")
    # TODO: admin-added profiles will live in the database; look them up there too once they exist.
    elif get_profile(profile_code) is None:
        errors.add("/profile_code", "unknown_profile", f"no jurisdiction profile {profile_code!r}")


async def _check_short_code(session: AsyncSession, short_code: str | None, self_id: uuid.UUID | None) -> None:
    if short_code is None:
        return
    taken = await session.scalar(select(Organisation.id).where(Organisation.short_code == short_code,
                                                               Organisation.id != self_id if self_id else True))
    if taken is not None:
        raise ShortCodeTaken(f"The short code {short_code!r} is already used by another organisation.",
                             errors=[{"pointer": "/short_code", "source": "body", "type": "taken",
                                      "message": "already in use"}])


async def _require_root_admin(session: AsyncSession, principal: Principal) -> None:
    admin_orgs = [g.organisation_id for g in principal.grants if g.role is Role.admin]
    on_root = admin_orgs and await session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.id.in_(admin_orgs), Organisation.depth == 0, Organisation.is_active.is_(True)))
    if not on_root:
        raise PermissionDenied("Only an administrator of a root organisation may create a root organisation.")


def snapshot(org: Organisation, member_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The audited fields (not timestamps or internals)."""
    fields = ("name", "name_en", "short_code", "kind", "level", "parent_id", "jurisdiction_id", "depth",
              "profile_code", "superior_department_id", "major_duty", "lead_person", "lead_unit_id",
              "complaint_channels", "is_active", "version")
    data = {f: getattr(org, f) for f in fields}
    data["kind"], data["level"] = org.kind.value, org.level.value
    data["member_unit_ids"] = sorted(str(m) for m in member_ids)
    return data


async def _flush(session: AsyncSession, short_code: str | None) -> None:
    try:
        await session.flush()
    except IntegrityError:  # a concurrent writer took the short code between our check and our insert
        raise ShortCodeTaken(f"The short code {short_code!r} is already used by another organisation.") from None


async def _set_members(session: AsyncSession, body_id: uuid.UUID, member_ids: list[uuid.UUID]) -> None:
    await session.execute(delete(CoordinationMember).where(CoordinationMember.body_id == body_id))
    session.add_all(CoordinationMember(body_id=body_id, member_id=m) for m in member_ids)


async def create_organisation(session: AsyncSession, principal: Principal,
                              body: OrganisationCreate) -> OrganisationRead:
    """Create an organisation under a parent in the admin's scope, or a root (root admins only).

    403 for a non-root admin creating a root; 422 for unknown, invisible or inactive references,
    a profile on a non-root, an unknown profile, member units on a non-coordination body;
    409 `short_code_taken`."""
    errors = FieldErrors()
    parent: Organisation | None = None
    if body.parent_id is None:
        await _require_root_admin(session, principal)
    else:
        parent = await _reference(session, principal, errors, "/parent_id", body.parent_id)
    _check_profile(errors, body.profile_code, is_root=body.parent_id is None)
    if body.superior_department_id is not None:
        await _reference(session, principal, errors, "/superior_department_id", body.superior_department_id,
                         any_tree=True)
    await _check_members(session, principal, errors, body.kind, body.member_unit_ids, None)
    errors.raise_if_any()
    await _check_short_code(session, body.short_code, None)

    org_id = new_id()
    if parent is not None:
        jurisdiction = parent.jurisdiction_id
        await org_tree.lock_trees(session, {jurisdiction})
        await _recheck(session, parent, jurisdiction)
    org = Organisation(id=org_id, name=body.name, name_en=body.name_en, short_code=body.short_code,
                       kind=body.kind, level=body.level, parent_id=body.parent_id,
                       jurisdiction_id=parent.jurisdiction_id if parent else org_id,
                       depth=parent.depth + 1 if parent else 0, profile_code=body.profile_code,
                       superior_department_id=body.superior_department_id, major_duty=body.major_duty,
                       lead_person=body.lead_person,
                       complaint_channels=[c.model_dump(mode="json") for c in body.complaint_channels],
                       is_active=True, version=1)
    session.add(org)
    await _flush(session, body.short_code)
    await org_tree.add_to_tree(session, org_id, body.parent_id)
    await _set_members(session, org_id, body.member_unit_ids)
    await session.flush()
    audit.record(session, action="organisation.create", resource_type=RESOURCE, resource_id=org_id,
                 organisation_id=org_id, after=snapshot(org, body.member_unit_ids))
    return to_read(org, body.member_unit_ids)


async def _check_lead_unit(session: AsyncSession, errors: FieldErrors, org: Organisation,
                           lead_unit_id: uuid.UUID | None) -> None:
    if lead_unit_id is None:
        return
    unit = await session.scalar(select(Organisation).join(
        OrganisationClosure, OrganisationClosure.descendant_id == Organisation.id).where(
        OrganisationClosure.ancestor_id == org.id, Organisation.id == lead_unit_id))
    if unit is None:  # not in its own subtree: whatever else it is, this caller need not learn it
        errors.add("/lead_unit_id", "unknown_organisation", "no such unit inside this organisation")
    elif unit.kind is not OrganisationKind.internal_unit:
        errors.add("/lead_unit_id", "not_an_internal_unit", "the lead unit must be an internal unit")
    elif not unit.is_active:
        errors.add("/lead_unit_id", "inactive_organisation", "the organisation is deactivated")


async def _lead_unit_holders(session: AsyncSession, unit_ids: Any, outside_of: Any) -> list[str]:
    """Names of organisations (not in `outside_of`) whose lead unit is among `unit_ids`."""
    return list(await session.scalars(select(Organisation.name).where(
        Organisation.lead_unit_id.in_(unit_ids), Organisation.id.not_in(outside_of),
        Organisation.is_active.is_(True))))


async def _check_update(session: AsyncSession, principal: Principal, org: Organisation, changes: dict[str, Any],
                        old_members: list[uuid.UUID]) -> tuple[Organisation | None, list[uuid.UUID]]:
    """Validate a PATCH against the current record: (the new parent if it moves, the member units)."""
    errors = FieldErrors()
    new_parent: Organisation | None = None
    if "parent_id" in changes and changes["parent_id"] != org.parent_id:
        if org.parent_id is None:
            errors.add("/parent_id", "root_cannot_move", "a root organisation (a jurisdiction) cannot be moved")
        elif changes["parent_id"] is None:
            errors.add("/parent_id", "cannot_make_root", "an organisation cannot be detached into a new root")
        else:
            new_parent = await _reference(session, principal, errors, "/parent_id", changes["parent_id"])
    _check_profile(errors, changes.get("profile_code"), is_root=org.parent_id is None)
    if changes.get("superior_department_id") is not None:
        if changes["superior_department_id"] == org.id:
            errors.add("/superior_department_id", "self_reference", "an organisation is not its own superior")
        else:
            await _reference(session, principal, errors, "/superior_department_id",
                             changes["superior_department_id"], any_tree=True)
    await _check_lead_unit(session, errors, org, changes.get("lead_unit_id"))
    kind = changes.get("kind", org.kind)
    members = changes.get("member_unit_ids", old_members)
    if "member_unit_ids" in changes:
        await _check_members(session, principal, errors, kind, members, org.id)
    elif kind is not OrganisationKind.coordination_body and old_members:
        errors.add("/kind", "has_member_units", "remove the member units before changing the kind")
    if org.kind is OrganisationKind.internal_unit and kind is not org.kind and \
            await _lead_unit_holders(session, [org.id], []):
        errors.add("/kind", "is_lead_unit", "it is another organisation's lead unit, which must be an internal unit")
    errors.raise_if_any()
    if "short_code" in changes:
        await _check_short_code(session, changes["short_code"], org.id)
    return new_parent, members


async def update_organisation(session: AsyncSession, principal: Principal, org_id: uuid.UUID,
                              body: OrganisationUpdate, if_match: str | None) -> OrganisationRead:
    """Partial update by an admin in scope. A new `parent_id` moves the whole subtree.

    404 outside scope; 428/412 If-Match; 422 bad references, `organisation_cycle`,
    moving a root or making a root; 409 `short_code_taken`, or a move that would take an
    ancestor's lead unit out of that ancestor's subtree. A PATCH that changes nothing
    keeps the version and writes no audit event."""
    org = await _load_for_write(session, principal, org_id, if_match)
    old_members = (await member_ids_of(session, [org.id])).get(org.id, [])
    before = snapshot(org, old_members)
    changes = body.model_dump(exclude_unset=True)
    new_parent, members = await _check_update(session, principal, org, changes, old_members)

    # The move goes first: it re-reads the loaded rows, which would drop attribute changes made before it.
    moved = await _move(session, org, new_parent) if new_parent is not None else 0
    for field in ("name", "name_en", "short_code", "kind", "level", "profile_code", "superior_department_id",
                  "major_duty", "lead_person", "lead_unit_id"):
        if field in changes:
            setattr(org, field, changes[field])
    if "complaint_channels" in changes:
        org.complaint_channels = [c.model_dump(mode="json") for c in body.complaint_channels or []]
    if "member_unit_ids" in changes and set(members) != set(old_members):
        await _set_members(session, org.id, members)
    after = snapshot(org, members)
    if after == before:
        return to_read(org, members)
    org.version += 1
    await _flush(session, org.short_code)
    after["version"] = org.version
    audit.record(session, action="organisation.update", resource_type=RESOURCE, resource_id=org.id,
                 organisation_id=org.id, before=before, after=after,
                 detail=f"moved with its subtree ({moved} organisations)" if moved else None)
    await _readdress_reports(session, principal, org, before, after)
    return to_read(org, members)


async def _readdress_reports(session: AsyncSession, principal: Principal, org: Organisation,
                             before: dict[str, Any], after: dict[str, Any]) -> None:
    """Reports nobody has filed yet follow a change of what their addressing is resolved from
    (app/services/reports/readdress.py), in this transaction: the organisation's superior
    department or place in the tree (its subtree's reports), or a coordination body's member units
    (the reports of the units that joined or left). Imported here: reports depend on organisations."""
    from app.services.reports.readdress import ORGANISATION_CHANGE, readdress_region

    regions: list[uuid.UUID] = []
    if before["superior_department_id"] != after["superior_department_id"] or before["parent_id"] != after["parent_id"]:
        regions.append(org.id)
    regions += sorted(set(before["member_unit_ids"]) ^ set(after["member_unit_ids"]))
    for region_id in regions:
        region = await session.get(Organisation, uuid.UUID(str(region_id)))
        if region is not None:
            await readdress_region(session, principal, region, ORGANISATION_CHANGE)


async def _recheck(session: AsyncSession, parent: Organisation, locked_jurisdiction: uuid.UUID) -> None:
    """After waiting for a tree lock: the parent may have been deactivated or moved meanwhile."""
    await session.refresh(parent)
    if not parent.is_active:
        raise ParentInactive("The parent organisation was deactivated meanwhile.")
    if parent.jurisdiction_id != locked_jurisdiction:
        raise Conflict("The parent organisation was moved to another tree meanwhile; try again.")


async def _move(session: AsyncSession, org: Organisation, new_parent: Organisation) -> int:
    jurisdiction = new_parent.jurisdiction_id
    await org_tree.lock_trees(session, {org.jurisdiction_id, jurisdiction})
    await _recheck(session, new_parent, jurisdiction)
    subtree = org_tree.subtree_of(org.id)
    staying_above = select(OrganisationClosure.ancestor_id).where(OrganisationClosure.descendant_id == new_parent.id)
    # An ancestor that loses this subtree must not lose its lead unit with it (lead unit inside its subtree).
    holders = await _lead_unit_holders(session, subtree, subtree.union(staying_above))
    if holders:
        raise Conflict(f"The subtree holds the lead unit of {', '.join(holders[:5])}; change that first.")
    return await org_tree.move_subtree(session, org.id, new_parent.id)


async def deactivate_organisation(session: AsyncSession, principal: Principal, org_id: uuid.UUID,
                                  if_match: str | None) -> OrganisationRead:
    """Admin in scope. 409 when it still has active children, is already inactive, or is an
    active organisation's lead unit. It is never deleted: records keep pointing at it."""
    org = await _load_for_write(session, principal, org_id, if_match)
    if not org.is_active:
        raise StateConflict("The organisation is already deactivated.")
    if await session.scalar(select(exists().where(Organisation.parent_id == org.id,
                                                  Organisation.is_active.is_(True)))):
        raise HasActiveChildren("Deactivate its active child organisations first.")
    holders = await _lead_unit_holders(session, [org.id], [org.id])
    if holders:
        raise StateConflict(f"It is the lead unit of {', '.join(holders[:5])}; change that first.")
    return await _set_active(session, org, False)


async def reactivate_organisation(session: AsyncSession, principal: Principal, org_id: uuid.UUID,
                                  if_match: str | None) -> OrganisationRead:
    """Admin in scope. 409 when it is already active or its parent is inactive."""
    org = await _load_for_write(session, principal, org_id, if_match)
    if org.is_active:
        raise StateConflict("The organisation is already active.")
    if org.parent_id is not None and not await session.scalar(
            select(Organisation.is_active).where(Organisation.id == org.parent_id)):
        raise ParentInactive("Reactivate its parent organisation first.")
    return await _set_active(session, org, True)


async def _set_active(session: AsyncSession, org: Organisation, active: bool) -> OrganisationRead:
    members = (await member_ids_of(session, [org.id])).get(org.id, [])
    before = snapshot(org, members)
    org.is_active = active
    org.version += 1
    await session.flush()
    audit.record(session, action="organisation.reactivate" if active else "organisation.deactivate",
                 resource_type=RESOURCE, resource_id=org.id, organisation_id=org.id, before=before,
                 after=snapshot(org, members))
    return to_read(org, members)
