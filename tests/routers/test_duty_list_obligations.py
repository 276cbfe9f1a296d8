"""/duty-list-obligations: who must publish a duty list, by when, who has not (issue 4 item 3).

000 §(七): Hainan's major-duty departments publish within two months of 2024-03-12, i.e. by
2024-05-12 (a Sunday: flagged, not moved); 000 §(九): the decomposition copy within three months,
2024-06-12. 002 §(五) (Henan) sets no date: the rows say `undated` and are never overdue.
"""

from __future__ import annotations

import pytest

from tests.factories_province import build_province
from tests.routers.test_duty_lists import PORTAL, act, start
from tests.routers.test_responsibility_items import add_item, current

URL = "/duty-list-obligations"


@pytest.fixture
async def provinces(database):
    async with database.transaction() as s:
        return {code: await build_province(s, code) for code in ("hainan", "henan")}


async def rows(client, p, **params) -> dict[str, dict]:
    r = await client.get(URL, headers=p.headers("root_viewer"), params={"include_total": "true", **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {i["organisation"]["name"]: i for i in body["items"]}


class TestHainanDeadline:
    async def test_the_major_duty_departments_are_obliged_with_the_2024_05_12_deadline(self, client, provinces):
        p = provinces["hainan"]
        found = await rows(client, p, as_of="2024-05-01")
        # The two provincial major-duty departments and the city's (参照落实); 教育厅 carries no major duty.
        assert sorted(found) == ["某市生态环境局", "海南省水利厅", "海南省生态环境厅"]
        due = found["海南省生态环境厅"]["due"]
        assert (due["due_date"], due["falls_on_rest_day"], due["undated"], due["clause"]) == (
            "2024-05-12", True, False, "000 §(七)")
        assert found["海南省生态环境厅"]["decomposition"]["due"]["due_date"] == "2024-06-12"
        assert not any(r["overdue"] for r in found.values())
        assert all(r["status"] is None for r in found.values())

    async def test_after_the_deadline_the_unpublished_are_overdue_and_a_late_one_stays_late(self, client,
                                                                                            provinces):
        p = provinces["hainan"]
        env = await start(client, p, "env")
        await add_item(client, p, env)
        await add_item(client, p, env, title="无分解事项", code="2", decomposition=[])
        await act(client, p, "env_leader", await current(client, p, env), "publish",
                  {"portal_url": PORTAL, "published_on": "2024-05-10"})
        water = await start(client, p, "water")
        await act(client, p, "water_leader", water, "publish", {"portal_url": PORTAL, "published_on": "2024-05-20"})
        await start(client, p, "city_env")
        found = await rows(client, p, as_of="2024-06-01")
        assert (found["海南省生态环境厅"]["status"], found["海南省生态环境厅"]["overdue"],
                found["海南省生态环境厅"]["published_late"]) == ("published", False, False)
        assert found["海南省生态环境厅"]["decomposition"] | {"due": None} == {"due": None, "items": 2,
                                                                        "decomposed_items": 1}
        assert (found["海南省水利厅"]["overdue"], found["海南省水利厅"]["published_late"]) == (False, True)
        assert (found["某市生态环境局"]["status"], found["某市生态环境局"]["overdue"]) == ("draft", True)
        assert sorted(await rows(client, p, as_of="2024-06-01", published="false")) == ["某市生态环境局"]
        assert sorted(await rows(client, p, as_of="2024-06-01", overdue="true")) == ["某市生态环境局"]
        assert sorted(await rows(client, p, as_of="2024-06-01", overdue="false")) == ["海南省水利厅", "海南省生态环境厅"]


class TestUndatedProfiles:
    async def test_henan_sets_no_date_and_nothing_is_overdue(self, client, provinces):
        p = provinces["henan"]
        found = await rows(client, p, as_of="2030-01-01")
        due = found["河南省生态环境厅"]["due"]
        assert (due["due_date"], due["undated"]) == (None, True)
        assert found["河南省生态环境厅"]["decomposition"]["due"] is None
        assert not any(r["overdue"] for r in found.values())
        assert await rows(client, p, overdue="true") == {}


class TestScope:
    async def test_a_department_sees_only_itself_and_another_province_nothing(self, client, provinces):
        p = provinces["hainan"]
        r = await client.get(URL, headers=p.headers("env_staff"))
        assert [i["organisation"]["name"] for i in r.json()["items"]] == ["海南省生态环境厅"]
        r = await client.get(URL, headers=p.headers("env_staff"),
                             params={"jurisdiction_id": str(provinces["henan"].org("root").id)})
        assert r.json()["items"] == []


class TestDates:
    async def test_a_date_must_be_written_as_a_date(self, client, provinces):
        """The fuzzer found `as_of=0` read as 1970-01-01 (a Unix time): dates are YYYY-MM-DD only."""
        p = provinces["hainan"]
        for bad in ("0", "1715472000", "2024/05/12"):
            r = await client.get(URL, headers=p.headers("root_viewer"), params={"as_of": bad})
            assert r.status_code == 422, bad
