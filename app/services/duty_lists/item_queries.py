"""Searching responsibility items: one version's items in list order, and across lists.

Every row passes the version's visibility (`access.visible`), joined once; filters on
lead or cooperating organisations are EXISTS over the indexed relation table.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.models import DutyList, ItemRelation, ResponsibilityItem, ResponsibilityItemOrganisation
from app.schemas.responsibility_items import (
    DutyListItemFilter,
    ResponsibilityItemFilter,
    ResponsibilityItemPage,
)
from app.services.duty_lists import access
from app.services.duty_lists.item_reads import to_item_reads, with_organisations
from app.services.paging import keyset_page

_ORG = ResponsibilityItemOrganisation


def _related(org_id: uuid.UUID, relation: ItemRelation) -> Any:
    return exists().where(_ORG.item_id == ResponsibilityItem.id, _ORG.organisation_id == org_id,
                          _ORG.relation == relation)


async def _filtered(session: AsyncSession, principal: Principal, f: ResponsibilityItemFilter) -> Select[Any]:
    stmt = (select(ResponsibilityItem).join(DutyList, DutyList.id == ResponsibilityItem.duty_list_id)
            .where(await access.visible(session, principal)))
    for column, value in ((ResponsibilityItem.organisation_id, f.organisation_id),
                          (ResponsibilityItem.duty_list_id, f.duty_list_id), (DutyList.status, f.status),
                          (ResponsibilityItem.domain, f.domain)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.subtree_of is not None:
        stmt = stmt.where(within(ResponsibilityItem.organisation_id, f.subtree_of))
    if f.lead_organisation_id is not None:
        stmt = stmt.where(_related(f.lead_organisation_id, ItemRelation.lead))
    if f.cooperating_organisation_id is not None:
        stmt = stmt.where(_related(f.cooperating_organisation_id, ItemRelation.cooperating))
    if f.without_lead is not None:
        any_lead = exists().where(_ORG.item_id == ResponsibilityItem.id, _ORG.relation == ItemRelation.lead)
        stmt = stmt.where(~any_lead if f.without_lead else any_lead)
    if f.q:
        stmt = stmt.where(or_(ResponsibilityItem.title.icontains(f.q, autoescape=True),
                              ResponsibilityItem.code.icontains(f.q, autoescape=True)))
    return stmt


async def list_items(session: AsyncSession, principal: Principal, f: ResponsibilityItemFilter, *, limit: int,
                     cursor: str | None, include_total: bool) -> ResponsibilityItemPage:
    """Items of every version the caller may read, oldest first, filtered."""
    rows, next_cursor, total = await keyset_page(
        session, await _filtered(session, principal, f),
        keys=(ResponsibilityItem.created_at, ResponsibilityItem.id), kinds=("ts", "id"),
        scope="responsibility-items", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    items = await with_organisations(session, [r[0] for r in rows])
    return ResponsibilityItemPage(items=await to_item_reads(session, items), next_cursor=next_cursor, total=total)


async def list_items_of_list(session: AsyncSession, principal: Principal, list_id: uuid.UUID,
                             f: DutyListItemFilter, *, limit: int, cursor: str | None,
                             include_total: bool) -> ResponsibilityItemPage:
    """One version's items in list order (position, then id); 404 when the version is not visible."""
    await access.load_visible(session, principal, list_id)
    f = ResponsibilityItemFilter(**f.model_dump(), duty_list_id=list_id)
    rows, next_cursor, total = await keyset_page(
        session, await _filtered(session, principal, f),
        keys=(ResponsibilityItem.position, ResponsibilityItem.id), kinds=("int", "id"),
        scope=f"duty-lists/{list_id}/items", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].position, r[0].id))
    items = await with_organisations(session, [r[0] for r in rows])
    return ResponsibilityItemPage(items=await to_item_reads(session, items), next_cursor=next_cursor, total=total)
