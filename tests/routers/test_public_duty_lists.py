"""/public/duty-lists: anyone reads published lists, nothing else (000 §(七) "向社会公开", 002 §(五),
003 §(六), 004 §六; DOMAIN.md: the old version stays public until the revision is published)."""

from __future__ import annotations

import pytest

from tests.factories_province import build_province
from tests.routers.test_duty_lists import PORTAL, act, start
from tests.routers.test_responsibility_items import add_item, current

PUBLIC_ITEM_FIELDS = {"id", "position", "code", "title", "description", "domain", "basis", "lead_organisations",
                      "first_lead_organisation_id", "cooperating_organisations", "complaint_channels"}
PUBLIC_LIST_FIELDS = {"id", "organisation", "jurisdiction_id", "version_no", "title", "published_on", "portal_url",
                      "item_count", "complaint_channels"}


@pytest.fixture
async def hainan(database):
    async with database.transaction() as s:
        return await build_province(s, "hainan")


async def published_list(client, p) -> tuple[dict, dict]:
    dl = await start(client, p)
    item = await add_item(client, p, dl, complaint_channels=[{"kind": "hotline", "value": "12345"}])
    return await act(client, p, "env_leader", await current(client, p, dl), "publish", {"portal_url": PORTAL}), item


class TestOnlyPublishedShows:
    async def test_drafts_are_invisible_and_a_published_list_shows_its_public_fields_only(self, client, hainan):
        p = hainan
        draft = await start(client, p, "water")
        assert (await client.get(f"/public/duty-lists/{draft['id']}")).status_code == 404
        assert (await client.get(f"/public/duty-lists/{draft['id']}/items")).status_code == 404
        dl, item = await published_list(client, p)
        page = (await client.get("/public/duty-lists")).json()
        assert [i["id"] for i in page["items"]] == [dl["id"]]
        assert set(page["items"][0]) == PUBLIC_LIST_FIELDS
        items = (await client.get(f"/public/duty-lists/{dl['id']}/items")).json()["items"]
        assert [i["id"] for i in items] == [item["id"]]
        assert set(items[0]) == PUBLIC_ITEM_FIELDS  # no decomposition, no workflow state, no internal ids
        assert items[0]["complaint_channels"] == [{"kind": "hotline", "value": "12345", "label": None}]
        by_org = await client.get(f"/public/organisations/{p.org('env').id}/duty-list")
        assert by_org.json()["id"] == dl["id"]
        assert (await client.get(f"/public/organisations/{p.org('water').id}/duty-list")).status_code == 404

    async def test_a_revision_stays_hidden_until_published_then_the_old_version_goes(self, client, hainan):
        p = hainan
        dl, _ = await published_list(client, p)
        revision = await act(client, p, "env_staff", dl, "revise", expect=201)
        await add_item(client, p, revision, title="新增事项", code="9")
        assert (await client.get(f"/public/duty-lists/{revision['id']}")).status_code == 404
        assert (await client.get(f"/public/organisations/{p.org('env').id}/duty-list")).json()["id"] == dl["id"]
        await act(client, p, "env_leader", await current(client, p, revision), "publish", {"portal_url": PORTAL})
        assert (await client.get(f"/public/duty-lists/{dl['id']}")).status_code == 404
        now = (await client.get(f"/public/organisations/{p.org('env').id}/duty-list")).json()
        assert (now["id"], now["version_no"], now["item_count"]) == (revision["id"], 2, 2)

    async def test_a_retired_list_leaves_the_portal(self, client, hainan):
        p = hainan
        dl, _ = await published_list(client, p)
        await act(client, p, "env_leader", dl, "retire")
        assert (await client.get(f"/public/duty-lists/{dl['id']}")).status_code == 404


class TestCheapPolling:
    async def test_etag_and_not_modified(self, client, hainan):
        p = hainan
        dl, _ = await published_list(client, p)
        first = await client.get(f"/public/duty-lists/{dl['id']}/items")
        assert first.headers["Cache-Control"] == "public, max-age=60"
        again = await client.get(f"/public/duty-lists/{dl['id']}/items",
                                 headers={"If-None-Match": first.headers["ETag"]})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["ETag"] == first.headers["ETag"]
        changed = await client.get("/public/duty-lists", headers={"If-None-Match": first.headers["ETag"]})
        assert changed.status_code == 200
