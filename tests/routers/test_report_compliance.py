"""GET /report-compliance: who filed, who is late, who is missing — and every count equals the
length of the list query it links to (DOMAIN.md "Statistics"), for every caller and filter."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select, update

from app.models import Organisation, Report, ReportStatus, Role
from app.services.reports import access
from tests.factories import auth, make_user, problem
from tests.report_factories import BUILDERS

AS_OF = date(2025, 2, 10)  # after 2024's Jan 31 deadline


@pytest.fixture
async def hainan(database, client, monkeypatch):
    monkeypatch.setattr(access, "today", lambda: AS_OF)
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        people = {"admin": (p.root, Role.admin), "inspection": (p.org("inspection_office"), Role.office),
                  "gov_leadership": (p.org("gov"), Role.leadership), "env_staff": (p.org("env"), Role.staff),
                  "haikou_viewer": (p.org("haikou"), Role.viewer)}
        users = {k: await make_user(s, f"t.{k}", v) for k, v in people.items()}
    r = await client.post("/report-obligations", headers=auth(users["admin"]),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200
    # 水务厅 filed on time, 商务厅 late, 财政厅 is drafting; 海口 filed its annual report late.
    async with database.transaction() as s:
        for key, status, late in (("water", "submitted", False), ("haikou_gov", "received", True)):
            await s.execute(update(Report).where(Report.organisation_id == p.org(key).id).values(
                status=ReportStatus(status), submitted_late=late))
        names = {"海南省商务厅": ("accepted", True), "海南省财政厅": ("draft", False)}
        for name, (status, late) in names.items():
            org_id = await s.scalar(select(Organisation.id).where(Organisation.name == name))
            await s.execute(update(Report).where(Report.organisation_id == org_id,
                                                 Report.rule_id == "reports.annual_duty_report")
                            .values(status=ReportStatus(status), submitted_late=late))
    return p, users


async def every_row(client, user, url: str) -> list[dict]:
    """Every page of a list URL (its own query kept)."""
    path, _, query = url.partition("?")
    items, cursor = [], None
    while True:
        params = {**dict(parse_qsl(query)), "limit": 200, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, headers=auth(user), params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


class TestCountsEqualTheirLists:
    @pytest.mark.parametrize("caller", ["admin", "inspection", "gov_leadership", "env_staff", "haikou_viewer"])
    @pytest.mark.parametrize("filters", [{}, {"rule_id": "reports.annual_duty_report"}, {"kind": "annual_work_plan"},
                                         {"subtree": "gov"}, {"subtree": "haikou"}])
    async def test_each_bucket(self, client, hainan, caller, filters):
        p, users = hainan
        query = {"period_year": "2024", **{k: v for k, v in filters.items() if k != "subtree"}}
        if "subtree" in filters:
            query["organisation_id"] = str(p.org(filters["subtree"]).id)
        view = await client.get("/report-compliance", headers=auth(users[caller]), params={**query, "limit": 200})
        assert view.status_code == 200, view.text
        body = view.json()
        rows = body["items"] + (await every_row(client, users[caller], f"/report-compliance?{_qs(query)}"))[200:]
        everything = await every_row(client, users[caller], f"/reports?{_qs(query)}")
        assert body["total"] == len(everything) == len(rows)
        assert {r["report_id"] for r in rows} == {r["id"] for r in everything}
        for bucket, count in body["counts"].items():
            listed = await every_row(client, users[caller], body["links"][bucket])
            assert count == len(listed), (bucket, body["links"][bucket])
        standings = [r["standing"] for r in rows]
        assert body["counts"]["filed"] == standings.count("filed_on_time") + standings.count("filed_late")
        assert body["counts"]["filed_late"] == standings.count("filed_late")
        assert body["counts"]["overdue"] == standings.count("overdue")


def _qs(query: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())


class TestTheTableAnOfficeReadsInFebruary:
    async def test_annual_reports_as_of_february_10(self, client, hainan):
        # 000 §(十二): due 2025-01-31. 18 filers: 2 filed (1 late), 1 late after filing by 海口, 15 missing.
        _, users = hainan
        r = await client.get("/report-compliance", headers=auth(users["admin"]),
                             params={"period_year": 2024, "rule_id": "reports.annual_duty_report"})
        body = r.json()
        assert (body["as_of"], body["total"], body["counts"]) == ("2025-02-10", 18, {
            "filed": 3, "filed_late": 2, "missing": 15, "overdue": 15})
        standing = {row["organisation_name"]: row["standing"] for row in body["items"]}
        assert (standing["海南省水务厅"], standing["海南省商务厅"], standing["海口市人民政府"],
                standing["海南省财政厅"]) == ("filed_on_time", "filed_late", "filed_late", "overdue")

    async def test_undated_obligations_are_never_overdue(self, client, hainan):
        # 000 §(十二) 每半年: no day given, so nothing is late; they are simply not filed yet.
        _, users = hainan
        r = await client.get("/report-compliance", headers=auth(users["admin"]),
                             params={"period_year": 2024, "rule_id": "reports.semiannual_duty_report"})
        body = r.json()
        assert body["counts"]["overdue"] == 0 and {row["standing"] for row in body["items"]} <= {
            "not_yet_due", "filed_on_time"}

    async def test_a_department_sees_only_its_own_and_the_copies_sent_to_it(self, client, hainan):
        _, users = hainan
        body = (await client.get("/report-compliance", headers=auth(users["env_staff"]),
                                 params={"period_year": 2024, "rule_id": "reports.annual_duty_report"})).json()
        # its own report, and 水务厅's and 商务厅's and 海口's, which 抄送 省生态环境厅 and were sent.
        assert sorted(r["organisation_name"] for r in body["items"]) == [
            "海南省商务厅", "海南省水务厅", "海南省生态环境厅", "海口市人民政府"]

    async def test_the_period_year_is_required(self, client, hainan):
        _, users = hainan
        r = await client.get("/report-compliance", headers=auth(users["admin"]))
        assert r.status_code == 422 and problem(r)["errors"][0]["pointer"] == "query/period_year"
