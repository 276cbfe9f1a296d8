"""Responsibility items: the concrete duties inside one list version.

Editing (create, change, delete) is for staff of the list's organisation while the
version is `draft` or `returned` (DOMAIN.md "Items are edited only while their list
version is draft or returned"); a published item is read-only (409). Reading follows
the list version's visibility (`access`).

References in a body are checked, each failure a 422 with a JSON pointer:
- lead and cooperating organisations: active, of the same province. They need not be
  in the caller's scope: a department names its sibling departments as co-leads;
- decomposition units: active organisations below the list's organisation (its 处室);
- a responsible person on every decomposition row where the profile decomposes to
  persons (002 §(九) "落实到具体单位和责任人", 003 §(十) "相关单位和责任人").
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from app.core.etag import check_if_match
from app.models import (
    DutyList,
    ItemRelation,
    Organisation,
    OrganisationClosure,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
    utcnow,
)
from app.schemas.responsibility_items import (
    ResponsibilityItemCreate,
    ResponsibilityItemRead,
    ResponsibilityItemUpdate,
)
from app.services import audit
from app.services.duty_lists import access
from app.services.duty_lists.commands import require_editable, require_staff
from app.services.duty_lists.item_reads import LoadedItem, to_item_reads, with_organisations

ITEM = "responsibility_item"


def item_not_found() -> NotFound:
    return NotFound("No such responsibility item.")


async def load_item(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> tuple[ResponsibilityItem,
                                                                                               DutyList]:
    """The item and its version if the caller may read the version; 404 otherwise."""
    row = (await session.execute(select(ResponsibilityItem, DutyList)
                                 .join(DutyList, DutyList.id == ResponsibilityItem.duty_list_id)
                                 .where(ResponsibilityItem.id == item_id, await access.visible(session, principal))
                                 )).first()
    if row is None:
        raise item_not_found()
    return row[0], row[1]


async def read_item(session: AsyncSession, item: ResponsibilityItem) -> ResponsibilityItemRead:
    return (await to_item_reads(session, await with_organisations(session, [item])))[0]


async def get_item(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> ResponsibilityItemRead:
    """Any role that may read the item's list version; 404 otherwise."""
    item, _ = await load_item(session, principal, item_id)
    return await read_item(session, item)




async def _check_references(session: AsyncSession, dl: DutyList, fields: dict[str, Any],
                            current: LoadedItem | None) -> None:
    errors = FieldErrors()
    for name in ("lead_organisation_ids", "cooperating_organisation_ids"):
        for i, org_id in enumerate(fields.get(name) or []):
            org = await session.get(Organisation, org_id)
            if org is None or org.jurisdiction_id != dl.jurisdiction_id:
                errors.add(f"/{name}/{i}", "unknown_organisation", "not an organisation of this province")
            elif not org.is_active:
                errors.add(f"/{name}/{i}", "inactive_organisation", "the organisation is deactivated")
    leads = fields.get("lead_organisation_ids", current.leads if current else [])
    first = fields.get("first_lead_organisation_id", current.first_lead_organisation_id if current else None)
    if first is not None and first not in (leads or []):
        errors.add("/first_lead_organisation_id", "not_a_lead", "the first lead must be one of the leads")
    cooperating = fields.get("cooperating_organisation_ids", current.cooperating if current else [])
    if set(leads or []) & set(cooperating or []):
        errors.add("/cooperating_organisation_ids", "lead_and_cooperating",
                   "an organisation cannot both lead and cooperate on one item")
    to_persons = access.profile_of(dl.profile_code).task_decomposition.to_persons
    for i, row in enumerate(fields.get("decomposition") or []):
        below = await session.scalar(select(OrganisationClosure.depth).join(
            Organisation, Organisation.id == OrganisationClosure.descendant_id).where(
            OrganisationClosure.ancestor_id == dl.organisation_id, OrganisationClosure.descendant_id == row["unit_id"],
            OrganisationClosure.depth > 0, Organisation.is_active.is_(True)))
        if below is None:
            errors.add(f"/decomposition/{i}/unit_id", "unknown_unit",
                       "not an active unit below the list's organisation")
        if to_persons and not row.get("responsible_person"):
            errors.add(f"/decomposition/{i}/responsible_person", "responsible_person_required",
                       "this province decomposes duties to units and responsible persons")
    errors.raise_if_any()


async def write_organisations(session: AsyncSession, item_id: uuid.UUID, leads: list[uuid.UUID],
                               cooperating: list[uuid.UUID]) -> None:
    """Replace the item's organisation rows whole: an organisation may move from cooperating to lead."""
    await session.execute(delete(ResponsibilityItemOrganisation).where(ResponsibilityItemOrganisation.item_id == item_id))
    rows = [{"item_id": item_id, "organisation_id": org_id, "relation": relation, "position": n}
            for relation, ids in ((ItemRelation.lead, leads), (ItemRelation.cooperating, cooperating))
            for n, org_id in enumerate(ids)]
    if rows:
        await session.execute(insert(ResponsibilityItemOrganisation), rows)


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Body fields as the item's columns hold them (JSON lists of plain dicts)."""
    out = {k: v for k, v in fields.items() if k not in ("lead_organisation_ids", "cooperating_organisation_ids")}
    for key in ("basis", "decomposition", "complaint_channels"):
        if key in out:
            out[key] = audit.jsonable(out[key] or [])
    return out


async def create_item(session: AsyncSession, principal: Principal, list_id: uuid.UUID,
                      body: ResponsibilityItemCreate) -> ResponsibilityItemRead:
    """Staff of the list's organisation add an item to a draft or returned version (403/409 otherwise)."""
    dl = await access.load_visible(session, principal, list_id)
    require_staff(principal, dl)
    require_editable(dl)
    fields = body.model_dump(exclude_unset=True, mode="python")
    await _check_references(session, dl, fields, None)
    position = fields.pop("position", None) or (await session.scalar(
        select(func.coalesce(func.max(ResponsibilityItem.position), 0)).where(
            ResponsibilityItem.duty_list_id == dl.id)) + 1)
    item = ResponsibilityItem(duty_list_id=dl.id, organisation_id=dl.organisation_id,
                              jurisdiction_id=dl.jurisdiction_id, position=position,
                              **{"basis": [], "decomposition": [], "complaint_channels": [], **_stored(fields)})
    session.add(item)
    await session.flush()
    await write_organisations(session, item.id, fields.get("lead_organisation_ids") or [],
                               fields.get("cooperating_organisation_ids") or [])
    audit.record(session, action="responsibility_item.create", resource_type=ITEM, resource_id=item.id,
                 organisation_id=dl.organisation_id, after={"duty_list_id": str(dl.id), **audit.jsonable(fields)})
    return await read_item(session, item)


async def _load_for_edit(session: AsyncSession, principal: Principal, item_id: uuid.UUID,
                         if_match: str | None) -> tuple[ResponsibilityItem, DutyList]:
    item, dl = await load_item(session, principal, item_id)
    check_if_match(if_match, item.id, item.version)
    require_staff(principal, dl)
    require_editable(dl)
    return item, dl


async def update_item(session: AsyncSession, principal: Principal, item_id: uuid.UUID,
                      body: ResponsibilityItemUpdate, if_match: str | None) -> ResponsibilityItemRead:
    """Staff change the fields they send (lists replace whole); If-Match on the item (428/412)."""
    item, dl = await _load_for_edit(session, principal, item_id, if_match)
    fields = body.model_dump(exclude_unset=True, mode="python")
    for required in ("title", "domain", "position"):
        if required in fields and fields[required] is None:
            raise ValidationFailed("One or more fields are invalid; see errors.", errors=[{
                "pointer": f"/{required}", "source": "body", "type": "required", "message": "may not be null"}])
    current = (await with_organisations(session, [item]))[0]
    await _check_references(session, dl, fields, current)
    before = {k: getattr(current, k) if k not in ("lead_organisation_ids", "cooperating_organisation_ids")
              else (current.leads if k.startswith("lead") else current.cooperating) for k in fields}
    result = await session.execute(
        update(ResponsibilityItem).where(ResponsibilityItem.id == item.id, ResponsibilityItem.version == item.version)
        .values(version=ResponsibilityItem.version + 1, updated_at=utcnow(), **_stored(fields))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("The item changed meanwhile; reload it and try again.")
    if {"lead_organisation_ids", "cooperating_organisation_ids"} & fields.keys():
        def final(name: str, now: list[uuid.UUID]) -> list[uuid.UUID]:
            return (fields[name] or []) if name in fields else now

        await write_organisations(session, item.id, final("lead_organisation_ids", current.leads),
                                   final("cooperating_organisation_ids", current.cooperating))
    await session.refresh(item)
    audit.record(session, action="responsibility_item.update", resource_type=ITEM, resource_id=item.id,
                 organisation_id=dl.organisation_id, before=audit.jsonable(before), after=audit.jsonable(fields))
    return await read_item(session, item)


async def delete_item(session: AsyncSession, principal: Principal, item_id: uuid.UUID, if_match: str | None) -> None:
    """Staff remove an item from a draft or returned version (the published one keeps its copy)."""
    item, dl = await _load_for_edit(session, principal, item_id, if_match)
    result = await session.execute(delete(ResponsibilityItem).where(ResponsibilityItem.id == item.id,
                                                                    ResponsibilityItem.version == item.version))
    if result.rowcount != 1:
        raise Conflict("The item changed meanwhile; reload it and try again.")
    audit.record(session, action="responsibility_item.delete", resource_type=ITEM, resource_id=item.id,
                 organisation_id=dl.organisation_id, before={"title": item.title, "lineage_id": str(item.lineage_id),
                                                             "duty_list_id": str(dl.id)})
