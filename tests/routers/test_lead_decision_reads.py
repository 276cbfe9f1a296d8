"""Reading lead decisions: who sees one (a party in scope), lists and their filters, history.

DOMAIN.md "Users, roles and scope": a membership covers its organisation and everything below;
outside scope is 404 (CONVENTIONS.md layer 2). A decision is visible through any of its parties.
"""

from __future__ import annotations

import uuid

import pytest

from tests.factories import problem
from tests.factories_lead import act, make_decision, province

URL = "/lead-decisions"


@pytest.fixture
async def hainan(database):
    return await province(database, "hainan")


def ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


class TestWhoSees:
    async def test_every_party_sees_it_and_nobody_else(self, client, hainan, database):
        async with database.transaction() as s:
            d = await make_decision(s, hainan, "consulting", requester="water", participants=("agri",))
        # requester, participant, convenor, decider (省政府 reaches its departments' subtree too)
        for user in ("water_leader", "water_staff", "agri_leader", "convenor_office", "gov_leadership",
                     "pc_leadership"):
            r = await client.get(f"{URL}/{d.id}", headers=hainan.headers(user))
            assert r.status_code == 200, user
        for user in ("nr_leader", "city_office"):
            r = await client.get(f"{URL}/{d.id}", headers=hainan.headers(user))
            assert problem(r) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                                  "status": 404, "code": "not_found", "detail": "No such lead decision."}
            assert (await client.get(f"{URL}/{d.id}/history", headers=hainan.headers(user))).status_code == 404
            assert (await client.get(f"{URL}/{d.id}/opinions", headers=hainan.headers(user))).status_code == 404
            assert ids(await client.get(URL, headers=hainan.headers(user))) == []

    async def test_another_province_never_sees_it(self, client, hainan, database):
        henan = await province(database, "henan")
        async with database.transaction() as s:
            d = await make_decision(s, hainan, "requested")
        r = await client.get(f"{URL}/{d.id}", headers=henan.headers("gov_leadership"))
        assert r.status_code == 404
        r = await act(client, henan.headers("convenor_office"), d.id, "accept")
        assert r.status_code == 404

    async def test_a_proposal_makes_its_lead_a_party_that_sees_it(self, client, hainan, database):
        async with database.transaction() as s:
            d = await make_decision(s, hainan, "proposed", requester="water", participants=())
        r = await client.get(f"{URL}/{d.id}", headers=hainan.headers("nr_leader"))  # cooperating
        assert r.status_code == 200
        assert {p["role"] for p in r.json()["parties"] if p["organisation_name"] == "海南省自然资源厅"} == \
            {"cooperating"}


class TestLists:
    async def test_filters_and_pages(self, client, hainan, database):
        async with database.transaction() as s:
            a = await make_decision(s, hainan, "requested", title="南渡江治理")
            b = await make_decision(s, hainan, "consulting", requester="nr", title="海岸带保护")
            c = await make_decision(s, hainan, "requested", level="sub_provincial", requester="city_water",
                                    participants=("city_agri",), title="海口城区黑臭水体")
        admin_view = hainan.headers("convenor_office")
        assert ids(await client.get(URL, headers=admin_view)) == [str(a.id), str(b.id)]
        assert ids(await client.get(URL, params={"status": "consulting"}, headers=admin_view)) == [str(b.id)]
        assert ids(await client.get(URL, params={"organisation_id": hainan.id("nr")}, headers=admin_view)) == \
            [str(b.id)]
        assert ids(await client.get(URL, params={"q": "南渡江"}, headers=admin_view)) == [str(a.id)]
        city = hainan.headers("city_office")
        assert ids(await client.get(URL, params={"level": "sub_provincial"}, headers=city)) == [str(c.id)]
        assert ids(await client.get(URL, params={"subtree_of": hainan.id("city")}, headers=city)) == [str(c.id)]
        assert ids(await client.get(URL, params={"jurisdiction_id": str(uuid.uuid4())}, headers=city)) == []
        first = await client.get(URL, params={"limit": 1, "include_total": "true"}, headers=admin_view)
        assert (ids(first), first.json()["total"]) == ([str(a.id)], 2)
        rest = await client.get(URL, params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=admin_view)
        assert (ids(rest), rest.json()["next_cursor"]) == ([str(b.id)], None)
        bad = await client.get(URL, params={"cursor": first.json()["next_cursor"][:-2] + "xx"}, headers=admin_view)
        assert problem(bad)["errors"][0]["type"] == "invalid_cursor"

    async def test_allowed_actions_follow_the_caller(self, client, hainan, database):
        async with database.transaction() as s:
            d = await make_decision(s, hainan, "proposed")
        r = await client.get(URL, headers=hainan.headers("gov_leadership"))
        assert r.json()["items"][0]["allowed_actions"] == ["approve", "return"]
        r = await client.get(URL, headers=hainan.headers("convenor_office"))
        assert r.json()["items"][0]["allowed_actions"] == []
        assert r.json()["items"][0]["id"] == str(d.id)


class TestHistory:
    async def test_history_pages_oldest_first(self, client, hainan, database):
        async with database.transaction() as s:
            d = await make_decision(s, hainan, "requested")
        office = hainan.headers("convenor_office")
        await act(client, office, d.id, "accept")
        await act(client, office, d.id, "withdraw", {"comment": "不属于兜底事项"})
        r = await client.get(f"{URL}/{d.id}/history", params={"limit": 1}, headers=hainan.headers("water_leader"))
        assert [(h["action"], h["from_status"], h["to_status"]) for h in r.json()["items"]] == \
            [("accept", "requested", "consulting")]
        assert r.json()["items"][0]["acting_organisation_id"] == hainan.id("convenor")
        rest = await client.get(f"{URL}/{d.id}/history", params={"cursor": r.json()["next_cursor"]},
                                headers=hainan.headers("water_leader"))
        assert [(h["action"], h["comment"]) for h in rest.json()["items"]] == [("withdraw", "不属于兜底事项")]
