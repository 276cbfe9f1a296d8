"""Reading duty-list versions: one, pages, history, and a revision's difference from the published one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.models import DutyList, Organisation, ResponsibilityItem
from app.schemas.duty_lists import (
    DutyListDiffRead,
    DutyListFilter,
    DutyListPage,
    DutyListRead,
    ItemDiffRow,
    OrganisationBrief,
)
from app.schemas.history import HistoryPage
from app.services import history
from app.services.duty_lists import access
from app.services.duty_lists.item_reads import comparable, items_of_lists
from app.services.paging import keyset_page
from app.workflows.duty_lists import DUTY_LIST_WORKFLOW
from app.workflows.engine import allowed_actions


def _briefs(orgs: Sequence[Organisation]) -> list[OrganisationBrief]:
    return [OrganisationBrief(id=o.id, name=o.name) for o in orgs]


async def to_reads(session: AsyncSession, principal: Principal, lists: Sequence[DutyList]) -> list[DutyListRead]:
    """Read models for a page: owner names, item counts and the caller's allowed actions."""
    if not lists:
        return []
    ids = [dl.id for dl in lists]
    owners = {o.id: o for o in (await session.scalars(
        select(Organisation).where(Organisation.id.in_({dl.organisation_id for dl in lists})))).all()}
    counts = dict((await session.execute(
        select(ResponsibilityItem.duty_list_id, func.count()).where(ResponsibilityItem.duty_list_id.in_(ids))
        .group_by(ResponsibilityItem.duty_list_id))).all())
    reads = []
    for dl in lists:
        rules = await access.rules_for(session, dl.profile_code, dl.region_id)
        ctx, roles = await access.context_for(session, principal, dl, rules)
        owner = owners[dl.organisation_id]
        reads.append(DutyListRead(
            id=dl.id, organisation=OrganisationBrief(id=owner.id, name=owner.name),
            jurisdiction_id=dl.jurisdiction_id, version_no=dl.version_no, previous_version_id=dl.previous_version_id,
            status=dl.status, version=dl.version, title=dl.title, note=dl.note, profile_code=dl.profile_code,
            profile_version=dl.profile_version, review_by=_briefs(rules.review_by),
            approval_by=_briefs(rules.approval_by), item_count=counts.get(dl.id, 0), submitted_at=dl.submitted_at,
            published_on=dl.published_on, published_at=dl.published_at, portal_url=dl.portal_url,
            superseded_at=dl.superseded_at, retired_at=dl.retired_at,
            allowed_actions=allowed_actions(DUTY_LIST_WORKFLOW, dl.status, roles, ctx),
            created_at=dl.created_at, updated_at=dl.updated_at))
    return reads


async def to_read(session: AsyncSession, principal: Principal, dl: DutyList) -> DutyListRead:
    return (await to_reads(session, principal, [dl]))[0]


async def get_duty_list(session: AsyncSession, principal: Principal, list_id: uuid.UUID) -> DutyListRead:
    """Any role with `duty_lists:read` that may see the version (access module); 404 otherwise."""
    return await to_read(session, principal, await access.load_visible(session, principal, list_id))


async def list_duty_lists(session: AsyncSession, principal: Principal, f: DutyListFilter, *, limit: int,
                          cursor: str | None, include_total: bool) -> DutyListPage:
    """Versions the caller may read, oldest first, filtered; a foreign filter simply matches nothing."""
    stmt = select(DutyList).where(await access.visible(session, principal))
    for column, value in ((DutyList.organisation_id, f.organisation_id), (DutyList.jurisdiction_id,
                                                                          f.jurisdiction_id),
                          (DutyList.status, f.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.subtree_of is not None:
        stmt = stmt.where(within(DutyList.organisation_id, f.subtree_of))
    if f.q:
        stmt = stmt.where(DutyList.title.icontains(f.q, autoescape=True))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(DutyList.created_at, DutyList.id), kinds=("ts", "id"), scope="duty-lists",
        limit=limit, cursor=cursor, include_total=include_total, key_values=lambda r: (r[0].created_at, r[0].id))
    return DutyListPage(items=await to_reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                        total=total)


async def duty_list_history(session: AsyncSession, principal: Principal, list_id: uuid.UUID, *, limit: int,
                            cursor: str | None) -> HistoryPage:
    """Every transition of a version the caller may read, oldest first."""
    await access.load_visible(session, principal, list_id)
    return await history.history_page(session, access.RESOURCE, list_id, limit=limit, cursor=cursor)


async def duty_list_diff(session: AsyncSession, principal: Principal, list_id: uuid.UUID) -> DutyListDiffRead:
    """This version against the published version it was revised from (matched by lineage).

    A first version has no base: every item is `added`."""
    dl = await access.load_visible(session, principal, list_id)
    base = await session.get(DutyList, dl.previous_version_id) if dl.previous_version_id else None
    items = await items_of_lists(session, [dl.id] + ([base.id] if base else []))
    mine = {i.lineage_id: i for i in items if i.duty_list_id == dl.id}
    theirs = {i.lineage_id: i for i in items if base is not None and i.duty_list_id == base.id}
    added, changed, removed, unchanged = [], [], [], 0
    for lineage, item in sorted(mine.items(), key=lambda kv: (kv[1].position, str(kv[1].id))):
        old = theirs.get(lineage)
        if old is None:
            added.append(ItemDiffRow(lineage_id=lineage, item_id=item.id, base_item_id=None, title=item.title,
                                     changed_fields=[]))
            continue
        new_fields, old_fields = comparable(item), comparable(old)
        fields = [name for name in new_fields if new_fields[name] != old_fields[name]]
        if fields:
            changed.append(ItemDiffRow(lineage_id=lineage, item_id=item.id, base_item_id=old.id, title=item.title,
                                       changed_fields=fields))
        else:
            unchanged += 1
    for lineage, old in sorted(theirs.items(), key=lambda kv: (kv[1].position, str(kv[1].id))):
        if lineage not in mine:
            removed.append(ItemDiffRow(lineage_id=lineage, item_id=None, base_item_id=old.id, title=old.title,
                                       changed_fields=[]))
    return DutyListDiffRead(duty_list_id=dl.id, base_version_id=base.id if base else None,
                            base_version_no=base.version_no if base else None, added=added, changed=changed,
                            removed=removed, unchanged_count=unchanged)
