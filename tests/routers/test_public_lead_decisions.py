"""/public/lead-decisions: decided leads made public (000 §(八) 通过省政府门户网站向社会公开; 002 §(六),
004 §五 依法依规向社会公开; 003 §(七) 并向社会公开), anonymously, and nothing else.
"""

from __future__ import annotations

import uuid

import pytest

from tests.factories import problem
from tests.factories_lead import act, make_decision, province

URL = "/public/lead-decisions"
PUBLIC_FIELDS = {"id", "title", "description", "level", "region_name", "lead_organisations",
                 "first_lead_organisation", "cooperating_organisations", "task_split", "published_on", "portal_url"}


@pytest.fixture
async def hainan(database):
    return await province(database, "hainan")


async def published(client, database, p, title: str = "农业面源污染治理牵头部门", url="https://www.hainan.gov.cn/ld/1"):
    """A decision taken through approval in the database, then published over HTTP."""
    async with database.transaction() as s:
        d = await make_decision(s, p, "approved", title=title)
    r = await act(client, p.headers("convenor_office"), d.id, "publish",
                  {"portal_url": url, "published_on": "2024-05-20"})
    assert r.status_code == 200, r.text
    return d


class TestOnlyPublished:
    async def test_only_published_decisions_are_listed_and_found(self, client, hainan, database):
        async with database.transaction() as s:
            hidden = {status: await make_decision(s, hainan, status, title=f"未公开 {status}")
                      for status in ("requested", "consulting", "proposed", "approved", "withdrawn")}
        shown = await published(client, database, hainan)
        r = await client.get(URL)
        assert r.status_code == 200
        assert [i["id"] for i in r.json()["items"]] == [str(shown.id)]
        for decision in hidden.values():
            r = await client.get(f"{URL}/{decision.id}")
            assert problem(r) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                                  "status": 404, "code": "not_found", "detail": "No such published lead decision."}

    async def test_a_published_decision_shows_only_its_public_fields(self, client, hainan, database):
        shown = await published(client, database, hainan)
        r = await client.get(f"{URL}/{shown.id}")
        body = r.json()
        assert set(body) == PUBLIC_FIELDS
        assert body == {
            "id": str(shown.id), "title": "农业面源污染治理牵头部门", "description": None, "level": "provincial",
            "region_name": "海南省",
            "lead_organisations": [{"id": hainan.id("agri"), "name": "海南省农业农村厅"}],
            "first_lead_organisation": None,
            "cooperating_organisations": [{"id": hainan.id("nr"), "name": "海南省自然资源厅"}],
            "task_split": [], "published_on": "2024-05-20", "portal_url": "https://www.hainan.gov.cn/ld/1"}
        # The rationale, requester, participants and convenor never appear.
        for secret in ("职责相近", "水利厅", "督察领导小组办公室", "requester", "rationale"):
            assert secret not in r.text

    async def test_anyone_reads_without_a_token_and_a_bad_token_changes_nothing(self, client, hainan, database):
        shown = await published(client, database, hainan)
        r = await client.get(f"{URL}/{shown.id}", headers={"Authorization": "Bearer nonsense"})
        assert r.status_code == 200


class TestCaching:
    async def test_etag_and_304_for_a_portal_that_polls(self, client, hainan, database):
        shown = await published(client, database, hainan)
        for path in (URL, f"{URL}/{shown.id}"):
            first = await client.get(path)
            assert first.headers["Cache-Control"] == "public, max-age=60"
            again = await client.get(path, headers={"If-None-Match": first.headers["ETag"]})
            assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", first.headers["ETag"])
        before = (await client.get(URL)).headers["ETag"]
        await published(client, database, hainan, title="另一事项")
        changed = await client.get(URL, headers={"If-None-Match": before})
        assert changed.status_code == 200 and changed.headers["ETag"] != before


class TestFilters:
    async def test_filters_and_keyset_pages_newest_first(self, client, hainan, database):
        henan = await province(database, "henan")
        a = await published(client, database, hainan, title="南渡江治理")
        b = await published(client, database, hainan, title="海岸带保护")
        async with database.transaction() as s:
            c = await make_decision(s, henan, "approved", title="黄河滩区治理")
        await act(client, henan.headers("convenor_office"), c.id, "publish", {"portal_url": "https://www.henan.gov.cn/x"})
        ids = lambda r: [i["id"] for i in r.json()["items"]]
        assert ids(await client.get(URL, params={"jurisdiction_id": hainan.id("root")})) == [str(b.id), str(a.id)]
        assert ids(await client.get(URL, params={"lead_organisation_id": henan.id("agri")})) == [str(c.id)]
        assert ids(await client.get(URL, params={"q": "南渡江"})) == [str(a.id)]
        first = await client.get(URL, params={"limit": 2, "include_total": "true"})
        assert (len(ids(first)), first.json()["total"]) == (2, 3)
        rest = await client.get(URL, params={"limit": 2, "cursor": first.json()["next_cursor"]})
        assert (ids(rest), rest.json()["next_cursor"]) == ([str(a.id)], None)
        assert ids(first) == [str(c.id), str(b.id)]
        assert (await client.get(f"{URL}/{uuid.uuid4()}")).status_code == 404
