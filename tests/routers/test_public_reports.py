"""/public/reports: what the texts say is published, for anyone (000 §(十二) 在本部门门户网站向社会公开,
002 §(十三), 003 §(十一)(十二), 004 §七) — published reports only, never a draft or an accepted one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from app.models import Report, ReportStatus
from tests.report_factories import BUILDERS, COMPLETE_SECTIONS, make_report


async def two_reports(database):
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        recipients = (p.org("gov"), p.org("pc"))
        published = await make_report(s, p.org("env"), recipients=recipients, content=COMPLETE_SECTIONS,
                                      status=ReportStatus.published, published_on=date(2025, 3, 3),
                                      published_at=datetime(2025, 3, 3, 2, tzinfo=UTC),
                                      portal_url="https://hnsthb.hainan.gov.cn/2025/report.html")
        accepted = await make_report(s, p.org("water"), recipients=recipients, content=COMPLETE_SECTIONS,
                                     status=ReportStatus.accepted)
    return p, published, accepted


class TestPublicReports:
    async def test_anyone_reads_a_published_report_with_its_content(self, client, database):
        p, published, _ = await two_reports(database)
        r = await client.get(f"/public/reports/{published.id}")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=60"
        assert r.json() == {
            "id": str(published.id), "jurisdiction_id": str(p.root.id), "title": published.title,
            "kind": "annual_duty_report", "filers": [{"id": str(p.org("env").id), "name": "海南省生态环境厅"}],
            "recipient_label": "海南省人民政府、中共海南省委", "period": "2024", "period_year": 2024,
            "clause": "000 §(十二)", "publication_where": "own_portal", "published_on": "2025-03-03",
            "portal_url": "https://hnsthb.hainan.gov.cn/2025/report.html",
            "content": {"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况", "body": "已履行"}],
                        "work_plan": None, "meeting": None}}
        again = await client.get(f"/public/reports/{published.id}", headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304

    async def test_an_unpublished_report_is_not_there(self, client, database):
        _, published, accepted = await two_reports(database)
        r = await client.get(f"/public/reports/{accepted.id}")
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        listed = (await client.get("/public/reports")).json()["items"]
        assert [i["id"] for i in listed] == [str(published.id)]

    async def test_the_list_filters_by_province_subtree_kind_and_year(self, client, database):
        p, published, accepted = await two_reports(database)
        async with database.transaction() as s:
            await s.execute(update(Report).where(Report.id == accepted.id).values(
                status=ReportStatus.published, published_at=datetime(2025, 3, 4, tzinfo=UTC)))
        for params, ids in (({"jurisdiction_id": str(p.root.id)}, [published.id, accepted.id]),
                            ({"organisation_id": str(p.org("water").id)}, [accepted.id]),
                            ({"kind": "annual_work_plan"}, []), ({"period_year": 2023}, []),
                            ({"limit": 1}, [published.id])):
            body = (await client.get("/public/reports", params=params)).json()
            assert [i["id"] for i in body["items"]] == [str(i) for i in ids], params
        page = (await client.get("/public/reports", params={"limit": 1})).json()
        rest = (await client.get("/public/reports", params={"limit": 1, "cursor": page["next_cursor"]})).json()
        assert [i["id"] for i in rest["items"]] == [str(accepted.id)] and rest["next_cursor"] is None
