"""Applying an approved lead-department decision to the responsibility items it settles.

DOMAIN.md "Lead-department decisions": on approval the linked items take the decided
lead org, in a new list version where the list is already published (the published
version stays public until the revision is published).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.models import DutyList, DutyListStatus, ResponsibilityItem, utcnow
from app.models.duty_list import OPEN_STATUSES
from app.services import audit
from app.services.duty_lists.commands import open_revision
from app.services.duty_lists.item_reads import with_organisations
from app.services.duty_lists.items import ITEM, write_organisations


async def _working_item(session: AsyncSession, principal: Principal,
                        lineage_id: uuid.UUID) -> ResponsibilityItem | None:
    """The lineage's item in its list's open version, opening a revision of the published one if need be."""
    rows = (await session.execute(
        select(ResponsibilityItem, DutyList).join(DutyList, DutyList.id == ResponsibilityItem.duty_list_id)
        .where(ResponsibilityItem.lineage_id == lineage_id)
        .order_by(DutyList.version_no.desc()))).all()
    open_one = next((item for item, dl in rows if dl.status.value in OPEN_STATUSES), None)
    if open_one is not None:
        return open_one
    published = next((dl for _, dl in rows if dl.status == DutyListStatus.published), None)
    if published is None:
        return None  # retired or superseded only: nothing in force to change
    revision = await open_revision(session, published, created_by=str(principal.id))
    return await session.scalar(select(ResponsibilityItem).where(ResponsibilityItem.duty_list_id == revision.id,
                                                                 ResponsibilityItem.lineage_id == lineage_id))


async def apply_decided_lead(session: AsyncSession, principal: Principal, *, decision_id: uuid.UUID,
                             lineage_ids: Sequence[uuid.UUID], lead_ids: Sequence[uuid.UUID],
                             first_lead_id: uuid.UUID | None,
                             cooperating_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Give every item of the given lineages the decided lead and cooperating organisations.

    For each lineage, the item in its organisation's open version (draft … approved) is changed;
    when the list has no open version, a revision of the published version is opened first
    (a new draft, items copied) and its copy is changed. The decision binds whatever the open
    version's state: the body deciding leads (省委、省政府, or Hubei's 环委会) outranks the list's
    own sign-off. Each changed item records `lead_decision_id`, is audited, and its version goes
    up. Returns the ids of the changed items. Called inside the approving request's transaction.
    """
    changed: list[uuid.UUID] = []
    for lineage_id in dict.fromkeys(lineage_ids):
        item = await _working_item(session, principal, lineage_id)
        if item is None:
            continue
        before = (await with_organisations(session, [item]))[0]
        await session.execute(update(ResponsibilityItem).where(ResponsibilityItem.id == item.id).values(
            first_lead_organisation_id=first_lead_id, lead_decision_id=decision_id,
            version=ResponsibilityItem.version + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
        await write_organisations(session, item.id, list(lead_ids), list(cooperating_ids))
        audit.record(session, action="responsibility_item.lead_decided", resource_type=ITEM, resource_id=item.id,
                     organisation_id=item.organisation_id,
                     before={"lead_organisation_ids": before.leads, "cooperating_organisation_ids": before.cooperating},
                     after={"lead_organisation_ids": list(lead_ids), "cooperating_organisation_ids":
                            list(cooperating_ids), "first_lead_organisation_id": first_lead_id,
                            "lead_decision_id": decision_id})
        changed.append(item.id)
    await session.flush()
    return changed
