"""The anonymous view of duty lists: only `published` versions, only published fields.

A superseded, retired or unpublished version is simply not found (404), so a revision in
progress is never visible: the old version stays public until the new one is published
(DOMAIN.md "Duty lists").
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models import DutyList, DutyListStatus, Organisation, ResponsibilityItem
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.organisations import ComplaintChannel
from app.schemas.public_duty_lists import (
    PublicDutyListPage,
    PublicDutyListRead,
    PublicItemPage,
    PublicItemRead,
)
from app.schemas.responsibility_items import BasisReference
from app.services.duty_lists.item_reads import with_organisations
from app.services.paging import keyset_page

PUBLISHED = DutyList.status == DutyListStatus.published


def _not_found() -> NotFound:
    return NotFound("No such published duty list.")


async def _reads(session: AsyncSession, lists: list[DutyList]) -> list[PublicDutyListRead]:
    if not lists:
        return []
    owners = {o.id: o for o in (await session.scalars(
        select(Organisation).where(Organisation.id.in_({dl.organisation_id for dl in lists})))).all()}
    counts = dict((await session.execute(
        select(ResponsibilityItem.duty_list_id, func.count())
        .where(ResponsibilityItem.duty_list_id.in_([dl.id for dl in lists]))
        .group_by(ResponsibilityItem.duty_list_id))).all())
    return [PublicDutyListRead(
        id=dl.id, organisation=OrganisationBrief(id=dl.organisation_id, name=owners[dl.organisation_id].name),
        jurisdiction_id=dl.jurisdiction_id, version_no=dl.version_no, title=dl.title, published_on=dl.published_on,
        portal_url=dl.portal_url, item_count=counts.get(dl.id, 0),
        complaint_channels=[ComplaintChannel.model_validate(c)
                            for c in owners[dl.organisation_id].complaint_channels or []]) for dl in lists]


async def list_published(session: AsyncSession, *, jurisdiction_id: uuid.UUID | None,
                         organisation_id: uuid.UUID | None, q: str | None, limit: int,
                         cursor: str | None) -> PublicDutyListPage:
    stmt = select(DutyList).where(PUBLISHED)
    if jurisdiction_id is not None:
        stmt = stmt.where(DutyList.jurisdiction_id == jurisdiction_id)
    if organisation_id is not None:
        stmt = stmt.where(DutyList.organisation_id == organisation_id)
    if q:
        stmt = stmt.where(DutyList.title.icontains(q, autoescape=True))
    rows, next_cursor, _ = await keyset_page(
        session, stmt, keys=(DutyList.created_at, DutyList.id), kinds=("ts", "id"), scope="public/duty-lists",
        limit=limit, cursor=cursor, include_total=False, key_values=lambda r: (r[0].created_at, r[0].id))
    return PublicDutyListPage(items=await _reads(session, [r[0] for r in rows]), next_cursor=next_cursor)


async def get_published(session: AsyncSession, list_id: uuid.UUID) -> PublicDutyListRead:
    dl = await session.scalar(select(DutyList).where(DutyList.id == list_id, PUBLISHED))
    if dl is None:
        raise _not_found()
    return (await _reads(session, [dl]))[0]


async def get_published_of(session: AsyncSession, organisation_id: uuid.UUID) -> PublicDutyListRead:
    """The version of an organisation's list in force on the portal."""
    dl = await session.scalar(select(DutyList).where(DutyList.organisation_id == organisation_id, PUBLISHED))
    if dl is None:
        raise NotFound("This organisation has no published duty list.")
    return (await _reads(session, [dl]))[0]


async def published_items(session: AsyncSession, list_id: uuid.UUID, *, limit: int,
                          cursor: str | None) -> PublicItemPage:
    if await session.scalar(select(DutyList.id).where(DutyList.id == list_id, PUBLISHED)) is None:
        raise _not_found()
    rows, next_cursor, _ = await keyset_page(
        session, select(ResponsibilityItem).where(ResponsibilityItem.duty_list_id == list_id),
        keys=(ResponsibilityItem.position, ResponsibilityItem.id), kinds=("int", "id"),
        scope=f"public/duty-lists/{list_id}/items", limit=limit, cursor=cursor, include_total=False,
        key_values=lambda r: (r[0].position, r[0].id))
    loaded = await with_organisations(session, [r[0] for r in rows])
    ids = {o for it in loaded for o in (*it.leads, *it.cooperating)}
    names: dict[Any, str] = dict((await session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))).all()) if ids else {}
    return PublicItemPage(next_cursor=next_cursor, items=[PublicItemRead(
        id=it.id, position=it.position, code=it.code, title=it.title, description=it.description, domain=it.domain,
        basis=[BasisReference.model_validate(b) for b in it.basis or []],
        lead_organisations=[OrganisationBrief(id=o, name=names.get(o, "")) for o in it.leads],
        first_lead_organisation_id=it.first_lead_organisation_id,
        cooperating_organisations=[OrganisationBrief(id=o, name=names.get(o, "")) for o in it.cooperating],
        complaint_channels=[ComplaintChannel.model_validate(c) for c in it.complaint_channels or []])
        for it in loaded])
