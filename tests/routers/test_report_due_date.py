"""A due date set by hand on an obligation the text leaves undated (`PUT /reports/{id}/due-date`).

DOMAIN.md "Jurisdiction profiles": where a text gives no date the service computes none, and "an
office can set one by hand; the API shows which". Hainan's semiannual reports to the vice-governor
in charge (000 §(十二) 应每半年向省政府分管领导同志报告一次) name no day: the provincial government's
office, which receives them for the vice-governor, sets one.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from app.models import AuditEvent, Report, Role
from tests.factories import auth, make_user
from tests.report_factories import BUILDERS

SEMIANNUAL, ANNUAL = "reports.semiannual_duty_report", "reports.annual_duty_report"


async def _hainan(database, client):
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        admin = await make_user(s, "dd.admin", (p.root, Role.admin))
        people = {"gov_office": await make_user(s, "dd.gov_office", (p.org("gov"), Role.office)),
                  "staff": await make_user(s, "dd.staff", (p.org("env"), Role.staff)),
                  "leader": await make_user(s, "dd.leader", (p.org("env"), Role.leader)),
                  "env_office": await make_user(s, "dd.env_office", (p.org("env"), Role.office))}
    r = await client.post("/report-obligations", headers=auth(admin), json={"jurisdiction_id": str(p.root.id),
                                                                              "year": 2024})
    assert r.status_code == 200, r.text
    return p, people


async def _report(database, p, rule_id: str, period: str) -> str:
    async with database.transaction(write=False) as s:
        return str(await s.scalar(select(Report.id).where(Report.organisation_id == p.org("env").id,
                                                          Report.rule_id == rule_id, Report.period == period)))


async def _etag(client, user, report_id: str) -> str:
    r = await client.get(f"/reports/{report_id}", headers=auth(user))
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


async def _put(client, user, report_id: str, day: str, etag: str | None):
    headers = {**auth(user), **({"If-Match": etag} if etag else {})}
    return await client.put(f"/reports/{report_id}/due-date", json={"due_date": day, "comment": "按通知报送"},
                            headers=headers)


async def _audits(database, report_id: str) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "report.set_due_date", AuditEvent.resource_id == report_id))


async def test_the_receiving_office_dates_an_undated_report_and_the_api_says_so(client, database):
    p, u = await _hainan(database, client)
    report_id = await _report(database, p, SEMIANNUAL, "2024-H2")
    before = (await client.get(f"/reports/{report_id}", headers=auth(u["gov_office"]))).json()
    assert (before["due"]["due_date"], before["due"]["undated"], before["due"]["set_by_hand"]) == (None, True, False)
    assert before["overdue"] is False  # no date, never overdue

    r = await _put(client, u["gov_office"], report_id, "2025-01-11", await _etag(client, u["gov_office"], report_id))
    assert r.status_code == 200, r.text
    due = r.json()["due"]
    # 2025-01-11 is a Saturday: kept as written and flagged, like a computed date.
    assert (due["due_date"], due["undated"], due["set_by_hand"], due["falls_on_rest_day"]) == (
        "2025-01-11", True, True, True)
    assert due["set_by_organisation_id"] == str(p.org("gov").id)
    assert r.json()["version"] == before["version"] + 1
    assert r.json()["overdue"] is True  # today is long past 2025-01-11 and it was never submitted
    assert await _audits(database, report_id) == 1

    # Setting it again replaces the hand-set date.
    again = await _put(client, u["gov_office"], report_id, "2025-03-31", r.headers["ETag"])
    assert again.status_code == 200 and again.json()["due"]["due_date"] == "2025-03-31"
    assert again.json()["due"]["falls_on_rest_day"] is False


async def test_only_an_office_that_receives_or_coordinates_sets_it(client, database):
    p, u = await _hainan(database, client)
    report_id = await _report(database, p, SEMIANNUAL, "2024-H1")
    for who in ("staff", "leader", "env_office"):  # the filer's own people, its office included
        r = await _put(client, u[who], report_id, "2024-07-15", await _etag(client, u[who], report_id))
        assert r.status_code == 403, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await _audits(database, report_id) == 0
    async with database.transaction(write=False) as s:
        assert (await s.get(Report, uuid.UUID(report_id))).due_date is None


async def test_a_date_the_text_fixes_is_never_overridden(client, database):
    p, u = await _hainan(database, client)
    # 000 §(十二): the annual report is due by Jan 31; the recipient is 省委、省政府.
    report_id = await _report(database, p, ANNUAL, "2024")
    r = await _put(client, u["gov_office"], report_id, "2025-03-31", await _etag(client, u["gov_office"], report_id))
    assert r.status_code == 409 and r.json()["code"] == "report_due_date_fixed", r.text
    assert (await client.get(f"/reports/{report_id}", headers=auth(u["gov_office"]))).json()["due"][
        "due_date"] == "2025-01-31"


async def test_a_filed_report_keeps_its_date_and_if_match_is_required(client, database):
    p, u = await _hainan(database, client)
    report_id = await _report(database, p, SEMIANNUAL, "2024-H1")
    assert (await _put(client, u["gov_office"], report_id, "2024-07-15", None)).status_code == 428
    etag = await _etag(client, u["staff"], report_id)
    started = await client.post(f"/reports/{report_id}/start", headers={**auth(u["staff"]), "If-Match": etag})
    assert started.status_code == 200, started.text
    assert (await _put(client, u["gov_office"], report_id, "2024-07-15", etag)).status_code == 412  # stale
    sections = {"sections": [{"topic": "duty_performance", "heading": "一、上半年履职情况", "body": "……"}]}
    edited = await client.patch(f"/reports/{report_id}", json={"content": sections},
                                headers={**auth(u["staff"]), "If-Match": started.headers["ETag"]})
    assert edited.status_code == 200, edited.text
    submitted = await client.post(f"/reports/{report_id}/submit",
                                  headers={**auth(u["leader"]), "If-Match": edited.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text
    r = await _put(client, u["gov_office"], report_id, "2024-07-15", submitted.headers["ETag"])
    assert r.status_code == 409 and r.json()["code"] == "report_already_filed", r.text
    assert await _audits(database, report_id) == 0


async def test_two_offices_with_the_same_etag_one_wins(client, database):
    p, u = await _hainan(database, client)
    report_id = await _report(database, p, SEMIANNUAL, "2024-H2")
    etag = await _etag(client, u["gov_office"], report_id)
    results = await asyncio.gather(*(_put(client, u["gov_office"], report_id, day, etag)
                                     for day in ("2025-01-10", "2025-01-20", "2025-01-24", "2025-02-10")))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 412, 412, 412], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()["due"]["due_date"]
    async with database.transaction(write=False) as s:
        report = await s.get(Report, uuid.UUID(report_id))
        assert (report.due_date.isoformat(), report.version) == (winner, 2)
    assert await _audits(database, report_id) == 1
