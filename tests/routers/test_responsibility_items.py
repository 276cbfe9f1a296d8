"""Responsibility items inside list versions, and revisions of published lists.

DOMAIN.md "Duty lists": items are edited only while their version is draft or returned; a
revision copies the items, the published version stays public until the revision is published
(then it is superseded), and a revision shows its difference from the published version.
Decomposition: 000 §(九) to units; 002 §(九) and 003 §(十) to units and responsible persons.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, DutyList, ResponsibilityItem, TransitionHistory
from tests.factories import problem
from tests.factories_province import build_province
from tests.routers.test_duty_lists import PORTAL, act, start


@pytest.fixture
async def provinces(database):
    async with database.transaction() as s:
        return {code: await build_province(s, code) for code in ("hainan", "henan")}


def item_body(p, **extra) -> dict:
    return {"title": "组织开展入河排污口排查整治", "domain": "water", "code": "1",
            "basis": [{"kind": "sanding", "title": "三定方案", "clause": "第三条"}],
            "lead_organisation_ids": [str(p.org("env").id)],
            "cooperating_organisation_ids": [str(p.org("water").id)],
            "decomposition": [{"unit_id": str(p.org("env_unit").id), "task": "排查"}], **extra}


async def add_item(client, p, dl: dict, expect: int = 201, user: str = "env_staff", **extra) -> dict:
    r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers(user), json=item_body(p, **extra))
    assert r.status_code == expect, r.text
    return r.json()


async def patch_item(client, p, item: dict, body: dict, expect: int = 200) -> dict:
    r = await client.patch(f"/responsibility-items/{item['id']}", json=body,
                           headers={**p.headers("env_staff"), "If-Match": make_etag(item["id"], item["version"])})
    assert r.status_code == expect, r.text
    return r.json()


async def current(client, p, dl: dict) -> dict:
    return (await client.get(f"/duty-lists/{dl['id']}", headers=p.headers("env_staff"))).json()


class TestEditingItems:
    async def test_staff_add_an_item_with_leads_cooperating_orgs_and_decomposition(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        item = await add_item(client, p, dl)
        assert [o["name"] for o in item["lead_organisations"]] == ["海南省生态环境厅"]
        assert [o["name"] for o in item["cooperating_organisations"]] == ["海南省水利厅"]
        assert item["decomposition"][0]["unit"]["name"] == "水生态环境处"
        assert (item["position"], item["duty_list_status"]) == (1, "draft")
        assert (await current(client, p, dl))["item_count"] == 1

    async def test_bad_references_are_422_with_pointers_and_nothing_is_stored(self, client, provinces, database):
        p, other = provinces["hainan"], provinces["henan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"), json=item_body(
            p, lead_organisation_ids=[str(other.org("env").id)],
            first_lead_organisation_id=str(p.org("water").id),
            decomposition=[{"unit_id": str(p.org("water_unit").id)}]))
        assert r.status_code == 422
        assert [(e["pointer"], e["type"]) for e in problem(r)["errors"]] == [
            ("/lead_organisation_ids/0", "unknown_organisation"),
            ("/first_lead_organisation_id", "not_a_lead"),
            ("/decomposition/0/unit_id", "unknown_unit")]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(ResponsibilityItem)) == 0

    async def test_an_organisation_cannot_both_lead_and_cooperate(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"), json=item_body(
            p, cooperating_organisation_ids=[str(p.org("env").id)]))
        assert r.status_code == 422

    async def test_henan_decomposes_to_responsible_persons(self, client, provinces):
        """002 §(九): 将任务分解落实到具体单位和责任人."""
        p = provinces["henan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"), json=item_body(p))
        assert problem(r)["errors"] == [{"pointer": "/decomposition/0/responsible_person", "source": "body",
                                         "type": "responsible_person_required",
                                         "message": "this province decomposes duties to units and responsible "
                                                    "persons"}]
        ok = await add_item(client, p, dl, decomposition=[{"unit_id": str(p.org("env_unit").id),
                                                           "responsible_person": "王五"}])
        assert ok["decomposition"][0]["responsible_person"] == "王五"

    async def test_a_published_item_is_read_only(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        item = await add_item(client, p, dl)
        await act(client, p, "env_leader", dl, "publish", {"portal_url": PORTAL})
        refused = await patch_item(client, p, item, {"title": "改"}, expect=409)
        assert refused["code"] == "duty_list_not_editable"
        r = await client.delete(f"/responsibility-items/{item['id']}",
                                headers={**p.headers("env_staff"), "If-Match": make_etag(item["id"], 1)})
        assert r.status_code == 409

    async def test_only_staff_of_the_owner_edit(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        await add_item(client, p, dl, expect=403, user="env_leader")
        await add_item(client, p, dl, expect=404, user="water_staff")  # another department's draft: invisible

    async def test_update_replaces_lists_and_delete_removes(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        item = await add_item(client, p, dl)
        changed = await patch_item(client, p, item, {"lead_organisation_ids": [str(p.org("env").id),
                                                                               str(p.org("water").id)],
                                                     "cooperating_organisation_ids": [],
                                                     "first_lead_organisation_id": str(p.org("env").id)})
        assert [o["name"] for o in changed["lead_organisations"]] == ["海南省生态环境厅", "海南省水利厅"]
        assert changed["cooperating_organisations"] == [] and changed["version"] == 2
        stale = await patch_item(client, p, item, {"title": "旧版本"}, expect=412)
        assert stale["code"] == "stale_resource"
        r = await client.delete(f"/responsibility-items/{item['id']}",
                                headers={**p.headers("env_staff"), "If-Match": make_etag(item["id"], 2)})
        assert r.status_code == 204
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(ResponsibilityItem)) == 0
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "responsibility_item.delete",
                                                             AuditEvent.resource_id == item["id"])) == 1


class TestSearchingItems:
    async def test_filters_by_lead_cooperating_domain_missing_lead_and_text(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        water = await add_item(client, p, dl)
        air = await add_item(client, p, dl, title="大气污染防治", domain="air", code="2",
                             lead_organisation_ids=[], cooperating_organisation_ids=[])
        h = p.headers("env_staff")

        async def ids(**params) -> list[str]:
            r = await client.get("/responsibility-items", headers=h, params=params)
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await ids(lead_organisation_id=str(p.org("env").id)) == [water["id"]]
        assert await ids(cooperating_organisation_id=str(p.org("water").id)) == [water["id"]]
        assert await ids(domain="air") == [air["id"]]
        assert await ids(without_lead="true") == [air["id"]]
        assert await ids(q="大气") == [air["id"]]
        assert await ids(status="published") == []
        in_order = await client.get(f"/duty-lists/{dl['id']}/items", headers=h, params={"limit": 1})
        assert [i["id"] for i in in_order.json()["items"]] == [water["id"]]
        nxt = await client.get(f"/duty-lists/{dl['id']}/items", headers=h,
                               params={"limit": 1, "cursor": in_order.json()["next_cursor"]})
        assert [i["id"] for i in nxt.json()["items"]] == [air["id"]]

    async def test_another_departments_draft_items_do_not_show(self, client, provinces):
        p = provinces["hainan"]
        await add_item(client, p, await start(client, p))
        r = await client.get("/responsibility-items", headers=p.headers("water_staff"),
                             params={"include_total": "true"})
        assert (r.json()["items"], r.json()["total"]) == ([], 0)


class TestRevisions:
    async def _published_with_two_items(self, client, p) -> tuple[dict, dict, dict]:
        dl = await start(client, p)
        first = await add_item(client, p, dl)
        second = await add_item(client, p, dl, title="水源地保护", code="2")
        dl = await act(client, p, "env_leader", await current(client, p, dl), "publish", {"portal_url": PORTAL})
        return dl, first, second

    async def test_revise_copies_items_into_a_new_draft_and_the_old_version_stays_published(
            self, client, provinces, database):
        p = provinces["hainan"]
        published, first, second = await self._published_with_two_items(client, p)
        r = await client.post(f"/duty-lists/{published['id']}/revise", json={},
                              headers={**p.headers("env_staff"),
                                       "If-Match": make_etag(published["id"], published["version"])})
        assert r.status_code == 201, r.text
        revision = r.json()
        assert r.headers["Location"] == f"/duty-lists/{revision['id']}"
        assert (revision["status"], revision["version_no"], revision["previous_version_id"],
                revision["item_count"]) == ("draft", 2, published["id"], 2)
        old = await client.get(f"/duty-lists/{published['id']}", headers=p.headers("env_staff"))
        assert old.json()["status"] == "published"
        copies = (await client.get(f"/duty-lists/{revision['id']}/items", headers=p.headers("env_staff"))).json()
        assert [c["lineage_id"] for c in copies["items"]] == [first["lineage_id"], second["lineage_id"]]
        assert {c["id"] for c in copies["items"]}.isdisjoint({first["id"], second["id"]})

    async def test_the_diff_shows_added_changed_and_removed_items(self, client, provinces):
        p = provinces["hainan"]
        published, first, second = await self._published_with_two_items(client, p)
        revision = await act(client, p, "env_staff", published, "revise", expect=201)
        copies = (await client.get(f"/duty-lists/{revision['id']}/items", headers=p.headers("env_staff"))).json()
        copy_of = {c["lineage_id"]: c for c in copies["items"]}
        await patch_item(client, p, copy_of[first["lineage_id"]], {"description": "新增要求"})
        second_copy = copy_of[second["lineage_id"]]
        await client.delete(f"/responsibility-items/{second_copy['id']}",
                            headers={**p.headers("env_staff"), "If-Match": make_etag(second_copy["id"], 1)})
        added = await add_item(client, p, revision, title="土壤污染防治", domain="soil", code="3")
        diff = (await client.get(f"/duty-lists/{revision['id']}/diff", headers=p.headers("env_staff"))).json()
        assert diff["base_version_id"] == published["id"]
        assert [(d["lineage_id"], d["changed_fields"]) for d in diff["changed"]] == [
            (first["lineage_id"], ["description"])]
        assert [d["lineage_id"] for d in diff["removed"]] == [second["lineage_id"]]
        assert [d["item_id"] for d in diff["added"]] == [added["id"]]
        assert diff["unchanged_count"] == 0

    async def test_publishing_the_revision_supersedes_the_old_version(self, client, provinces, database):
        p = provinces["hainan"]
        published, _, _ = await self._published_with_two_items(client, p)
        revision = await act(client, p, "env_staff", published, "revise", expect=201)
        refused = await act(client, p, "env_staff", await current(client, p, published), "revise", expect=409)
        assert refused["code"] == "transition_not_allowed"  # one revision at a time
        done = await act(client, p, "env_leader", revision, "publish", {"portal_url": PORTAL})
        assert done["status"] == "published"
        old = (await client.get(f"/duty-lists/{published['id']}", headers=p.headers("env_staff"))).json()
        assert old["status"] == "superseded" and old["superseded_at"]
        async with database.transaction(write=False) as s:
            rows = (await s.execute(select(TransitionHistory.action, TransitionHistory.payload).where(
                TransitionHistory.resource_id == uuid.UUID(published["id"]))
                .order_by(TransitionHistory.occurred_at))).all()
            assert [r.action for r in rows] == ["publish", "revise", "supersede"]
            assert rows[2].payload["superseded_by"] == revision["id"]
            published_now = await s.scalar(select(func.count()).where(
                DutyList.organisation_id == p.org("env").id, DutyList.status == "published"))
            assert published_now == 1

    async def test_simultaneous_revisions_open_exactly_one_draft(self, client, provinces, database):
        p = provinces["hainan"]
        published, _, _ = await self._published_with_two_items(client, p)
        headers = {**p.headers("env_staff"), "If-Match": make_etag(published["id"], published["version"])}
        answers = await asyncio.gather(*(client.post(f"/duty-lists/{published['id']}/revise", json={},
                                                     headers=headers) for _ in range(10)))
        codes = sorted(a.status_code for a in answers)
        assert codes.count(201) == 1 and set(codes) <= {201, 409, 412}, codes
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(DutyList.organisation_id == p.org("env").id)) == 2
            assert await s.scalar(select(func.count()).select_from(ResponsibilityItem)) == 4
