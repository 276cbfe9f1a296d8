"""Applying an approved lead decision to responsibility items (DOMAIN.md "Lead-department decisions":
on approval the linked items take the decided lead org, in a new list version where the list is
already published). The lead-decision routes call this; here it is exercised directly."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.authz.principal import Grant, Principal
from app.models import (
    AuditEvent,
    DutyList,
    ItemRelation,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
    Role,
)
from app.services import audit
from app.services.duty_lists.lead_application import apply_decided_lead
from tests.factories_province import build_province
from tests.routers.test_duty_lists import PORTAL, act, start
from tests.routers.test_responsibility_items import add_item, current

DECISION = uuid.UUID("01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f")


@pytest.fixture
async def hainan(database):
    async with database.transaction() as s:
        return await build_province(s, "hainan")


def deciding_leadership(p) -> Principal:
    return Principal(kind="user", id=p.users["pc_leadership"].id, name="省委领导",
                     grants=(Grant(p.org("pc").id, Role.leadership),))


async def relations(database, item_id) -> dict[str, list]:
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(ResponsibilityItemOrganisation).where(
            ResponsibilityItemOrganisation.item_id == uuid.UUID(str(item_id)))
            .order_by(ResponsibilityItemOrganisation.position))).scalars().all()
    return {rel.value: [r.organisation_id for r in rows if r.relation == rel] for rel in ItemRelation}


async def apply(database, p, lineage: str) -> list[uuid.UUID]:
    async with database.transaction() as s:
        changed = await apply_decided_lead(s, deciding_leadership(p), decision_id=DECISION,
                                           lineage_ids=[uuid.UUID(lineage)], lead_ids=[p.org("water").id],
                                           first_lead_id=p.org("water").id, cooperating_ids=[p.org("env").id])
        await audit.flush_pending(s)  # what the request's session dependency does before commit
    return changed


async def test_a_draft_item_takes_the_decided_lead_in_place(client, hainan, database):
    p = hainan
    dl = await start(client, p)
    item = await add_item(client, p, dl, lead_organisation_ids=[], cooperating_organisation_ids=[])
    assert await apply(database, p, item["lineage_id"]) == [uuid.UUID(item["id"])]
    assert await relations(database, item["id"]) == {"lead": [p.org("water").id], "cooperating": [p.org("env").id]}
    async with database.transaction(write=False) as s:
        row = await s.get(ResponsibilityItem, uuid.UUID(item["id"]))
        assert (row.lead_decision_id, row.first_lead_organisation_id, row.version) == (DECISION, p.org("water").id, 2)
        assert await s.scalar(select(func.count()).where(AuditEvent.action == "responsibility_item.lead_decided",
                                                         AuditEvent.resource_id == item["id"])) == 1


async def test_a_published_list_gets_a_revision_and_the_published_item_stays_as_it_was(client, hainan, database):
    p = hainan
    dl = await start(client, p)
    item = await add_item(client, p, dl, lead_organisation_ids=[], cooperating_organisation_ids=[])
    published = await act(client, p, "env_leader", await current(client, p, dl), "publish", {"portal_url": PORTAL})
    changed = await apply(database, p, item["lineage_id"])
    assert changed and changed[0] != uuid.UUID(item["id"])
    assert await relations(database, item["id"]) == {"lead": [], "cooperating": []}  # the public copy is untouched
    assert (await relations(database, changed[0]))["lead"] == [p.org("water").id]
    async with database.transaction(write=False) as s:
        revision = await s.scalar(select(DutyList).join(ResponsibilityItem, ResponsibilityItem.duty_list_id ==
                                                        DutyList.id).where(ResponsibilityItem.id == changed[0]))
        assert (revision.status.value, revision.version_no, str(revision.previous_version_id)) == (
            "draft", 2, published["id"])
        assert (await s.get(DutyList, uuid.UUID(published["id"]))).status.value == "published"


async def test_an_open_revision_is_used_rather_than_a_second_one(client, hainan, database):
    p = hainan
    dl = await start(client, p)
    item = await add_item(client, p, dl)
    published = await act(client, p, "env_leader", await current(client, p, dl), "publish", {"portal_url": PORTAL})
    revision = await act(client, p, "env_staff", published, "revise", expect=201)
    changed = await apply(database, p, item["lineage_id"])
    async with database.transaction(write=False) as s:
        assert (await s.get(ResponsibilityItem, changed[0])).duty_list_id == uuid.UUID(revision["id"])
        assert await s.scalar(select(func.count()).where(DutyList.organisation_id == p.org("env").id)) == 2
