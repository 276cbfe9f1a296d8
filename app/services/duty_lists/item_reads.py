"""Reading responsibility items with their lead and cooperating organisations, in batches.

A page of items costs three statements whatever its size: the items, their
organisation rows, and the names of every organisation they mention.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    DutyList,
    DutyListStatus,
    ItemRelation,
    Organisation,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
)
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.organisations import ComplaintChannel
from app.schemas.responsibility_items import BasisReference, DecompositionRead, ResponsibilityItemRead


@dataclass
class LoadedItem:
    item: ResponsibilityItem
    leads: list[uuid.UUID] = field(default_factory=list)
    cooperating: list[uuid.UUID] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:  # id, lineage_id, duty_list_id, position, title …
        return getattr(self.item, name)


async def with_organisations(session: AsyncSession, items: Sequence[ResponsibilityItem]) -> list[LoadedItem]:
    loaded = {i.id: LoadedItem(i) for i in items}
    if loaded:
        rows = (await session.execute(
            select(ResponsibilityItemOrganisation).where(ResponsibilityItemOrganisation.item_id.in_(loaded))
            .order_by(ResponsibilityItemOrganisation.position))).scalars()
        for row in rows:
            target = loaded[row.item_id].leads if row.relation == ItemRelation.lead else loaded[row.item_id].cooperating
            target.append(row.organisation_id)
    return [loaded[i.id] for i in items]


async def items_of_lists(session: AsyncSession, list_ids: Sequence[uuid.UUID]) -> list[LoadedItem]:
    items = (await session.scalars(select(ResponsibilityItem).where(ResponsibilityItem.duty_list_id.in_(list_ids))
                                   .order_by(ResponsibilityItem.position, ResponsibilityItem.id))).all()
    return await with_organisations(session, items)


def comparable(item: LoadedItem) -> dict[str, Any]:
    """The fields a revision's difference is computed on (what a reader of the list would see change)."""
    i = item.item
    return {"position": i.position, "code": i.code, "title": i.title, "description": i.description,
            "domain": i.domain, "basis": i.basis or [], "lead_organisation_ids": item.leads,
            "first_lead_organisation_id": i.first_lead_organisation_id,
            "cooperating_organisation_ids": item.cooperating, "decomposition": i.decomposition or [],
            "complaint_channels": i.complaint_channels or []}


async def to_item_reads(session: AsyncSession, items: Sequence[LoadedItem]) -> list[ResponsibilityItemRead]:
    if not items:
        return []
    org_ids: set[uuid.UUID] = set()
    for it in items:
        org_ids |= {it.organisation_id, *it.leads, *it.cooperating}
        org_ids |= {uuid.UUID(str(row["unit_id"])) for row in it.item.decomposition or []}
    names = dict((await session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(org_ids)))).all())
    statuses: dict[uuid.UUID, DutyListStatus] = dict((await session.execute(
        select(DutyList.id, DutyList.status).where(DutyList.id.in_({it.duty_list_id for it in items})))).all())

    def brief(org_id: uuid.UUID) -> OrganisationBrief:
        return OrganisationBrief(id=org_id, name=names.get(org_id, ""))

    reads = []
    for it in items:
        i = it.item
        reads.append(ResponsibilityItemRead(
            id=i.id, lineage_id=i.lineage_id, duty_list_id=i.duty_list_id, duty_list_status=statuses[i.duty_list_id],
            organisation=brief(i.organisation_id), position=i.position, code=i.code, title=i.title,
            description=i.description, domain=i.domain,
            basis=[BasisReference.model_validate(b) for b in i.basis or []],
            lead_organisations=[brief(o) for o in it.leads], first_lead_organisation_id=i.first_lead_organisation_id,
            cooperating_organisations=[brief(o) for o in it.cooperating],
            decomposition=[DecompositionRead(unit=brief(uuid.UUID(str(r["unit_id"]))),
                                             responsible_person=r.get("responsible_person"), task=r.get("task"))
                           for r in i.decomposition or []],
            complaint_channels=[ComplaintChannel.model_validate(c) for c in i.complaint_channels or []],
            lead_decision_id=i.lead_decision_id, version=i.version, created_at=i.created_at,
            updated_at=i.updated_at))
    return reads
