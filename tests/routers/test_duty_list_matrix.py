"""The duty-list workflow as a matrix: profile × state × action × caller, over HTTP.

Written by hand from DOMAIN.md "Duty lists" and the clauses, not derived from the table:
- Hainan 000 §(七), Shandong 004 §六: no review, no approval; the department's leader publishes.
- Henan 002 §(五): the owner's leader submits; 省生态环境厅 (its office) 审核; 省委、省政府 (leadership) 审定;
  either may return; the leader publishes the approved list.
- Hubei 003 §(六): submitted lists are 批准 by 省委、省政府; no review step.
- Everywhere: staff revise a published list, the leader retires it.

The list belongs to 水利厅 (`water`). Callers, one membership each:
    water_staff, water_leader   the owner
    env_office                  the environment department's office (Henan's reviewer)
    gov_leadership              省政府 (above the owner; an approver in Henan and Hubei)
    pc_leadership               省委 (an approver in Henan and Hubei; not above the owner)
    edu_leader                  a sibling department's leader
Every cell sets the state directly, takes one action, and checks the answer; a refusal must
leave the version exactly as it was.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select, update

from app.core.etag import make_etag
from app.models import DutyList, TransitionHistory
from tests.factories_province import build_province

STATES = ("draft", "submitted", "reviewed", "approved", "returned", "published")
ACTIONS = ("submit", "review", "approve", "return", "publish", "revise", "retire")
CALLERS = ("water_staff", "water_leader", "env_office", "gov_leadership", "pc_leadership", "edu_leader")
BODIES = {"return": {"comment": "请补充依据"}, "publish": {"portal_url": "https://example.gov.cn/qd"}}

# "draft|approved --publish": `approved` cannot be reached without an approval step, but the diagram
# lets an approved list be published everywhere.
NO_SIGN_OFF = {("draft", "publish", "water_leader"), ("approved", "publish", "water_leader"),
               ("published", "revise", "water_staff"), ("published", "retire", "water_leader")}
AFTER_PUBLICATION = {("published", "revise", "water_staff"), ("published", "retire", "water_leader")}
ALLOWED = {
    "hainan": NO_SIGN_OFF,
    "shandong": NO_SIGN_OFF,
    "henan": AFTER_PUBLICATION | {
        ("draft", "submit", "water_leader"), ("returned", "submit", "water_leader"),
        ("submitted", "review", "env_office"),
        ("submitted", "return", "env_office"), ("submitted", "return", "gov_leadership"),
        ("submitted", "return", "pc_leadership"),
        ("reviewed", "approve", "gov_leadership"), ("reviewed", "approve", "pc_leadership"),
        ("reviewed", "return", "env_office"), ("reviewed", "return", "gov_leadership"),
        ("reviewed", "return", "pc_leadership"),
        ("approved", "publish", "water_leader")},
    "hubei": AFTER_PUBLICATION | {
        ("draft", "submit", "water_leader"), ("returned", "submit", "water_leader"),
        ("submitted", "approve", "gov_leadership"), ("submitted", "approve", "pc_leadership"),
        ("submitted", "return", "gov_leadership"), ("submitted", "return", "pc_leadership"),
        # "submitted|reviewed --approve / --return": unreachable without a review step, allowed by the diagram.
        ("reviewed", "approve", "gov_leadership"), ("reviewed", "approve", "pc_leadership"),
        ("reviewed", "return", "gov_leadership"), ("reviewed", "return", "pc_leadership"),
        ("approved", "publish", "water_leader")},
}
# Who cannot see the list at all (404): outside their scope, and not its reviewer or approver.
# Reviewers and approvers see it once it has left draft.
SIGN_OFF = {"henan": {"env_office", "pc_leadership"}, "hubei": {"pc_leadership"}, "hainan": set(), "shandong": set()}


def invisible(profile: str, state: str, caller: str) -> bool:
    if caller in ("water_staff", "water_leader", "gov_leadership"):
        return False
    return caller not in SIGN_OFF[profile] or state == "draft"


async def reset(database, list_id: uuid.UUID, organisation_id: uuid.UUID, state: str) -> None:
    async with database.transaction() as s:
        await s.execute(delete(DutyList).where(DutyList.organisation_id == organisation_id, DutyList.id != list_id))
        await s.execute(delete(TransitionHistory).where(TransitionHistory.resource_id == list_id))
        await s.execute(update(DutyList).where(DutyList.id == list_id).values(status=state, version=1))


async def snapshot(database, list_id: uuid.UUID) -> tuple:
    async with database.transaction(write=False) as s:
        dl = await s.get(DutyList, list_id, populate_existing=True)
        count = len((await s.execute(select(TransitionHistory.id).where(
            TransitionHistory.resource_id == list_id))).all())
        versions = len((await s.execute(select(DutyList.id).where(
            DutyList.organisation_id == dl.organisation_id))).all())
        return dl.status.value, dl.version, count, versions


@pytest.mark.parametrize("profile", sorted(ALLOWED))
async def test_duty_list_matrix(profile, client, database):
    async with database.transaction() as s:
        p = await build_province(s, profile)
    created = await client.post("/duty-lists", headers=p.headers("water_staff"),
                                json={"organisation_id": str(p.org("water").id), "title": "水利厅具体事项清单"})
    list_id = uuid.UUID(created.json()["id"])
    mismatches = {}
    for state in STATES:
        for action in ACTIONS:
            for caller in CALLERS:
                await reset(database, list_id, p.org("water").id, state)
                before = await snapshot(database, list_id)
                r = await client.post(f"/duty-lists/{list_id}/{action}", json=BODIES.get(action, {}),
                                      headers={**p.headers(caller), "If-Match": make_etag(list_id, 1)})
                allowed = (state, action, caller) in ALLOWED[profile]
                if allowed:
                    ok = r.status_code == (201 if action == "revise" else 200)
                elif invisible(profile, state, caller):
                    ok = r.status_code == 404
                else:
                    ok = r.status_code in (403, 409) and await snapshot(database, list_id) == before
                if not ok:
                    mismatches[(state, action, caller)] = (r.status_code, "allowed" if allowed else "refused")
    assert mismatches == {}
