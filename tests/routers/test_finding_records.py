"""A finding's records: look-backs (回头看) and rebounds, deadline extensions, progress updates.

Clauses: 001 一(三) "对整改完成的,及时组织开展'回头看',确保问题不反弹" and "定期对进展情况进行调度";
001 二(五)2(1) "按月进行调度"; DOMAIN.md "Deadline extensions (申请延期)… the original deadline is kept".
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select, update

from app.core.calendar import add_months
from app.core.etag import make_etag
from app.models import AuditEvent, ExtensionRequest, Finding, FindingLookback
from tests.factories import problem
from tests.findings_helpers import (
    EVIDENCE,
    LATER,
    SOON,
    TODAY,
    act,
    campaign,
    history,
    measure_act,
    measures_of,
    to_in_progress,
)

OFFICE = "inspection_office_office"


async def closed_finding(client, c, **fields) -> dict:
    f = await to_in_progress(client, c, office=OFFICE, measures=("一",), **fields)
    [m] = await measures_of(client, c, f)
    await measure_act(client, c, "water_leader", m, "complete")
    f = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
    f = await act(client, c, "water_leader", f, "request-closure", {"summary": "完成", "evidence": EVIDENCE})
    return await act(client, c, OFFICE, f, "close", {"verification_note": "同意销号"})


async def look_back(client, c, user, finding, outcome, expect=201):
    r = await client.post(f"/findings/{finding['id']}/lookbacks", headers=c.h(user),
                          json={"outcome": outcome, "note": "回头看"})
    assert r.status_code == expect, r.text
    return r.json()


class TestLookbacks:
    async def test_a_passed_look_back_is_recorded_and_the_finding_stays_closed(self, client, database):
        c = await campaign(database, client)
        f = await closed_finding(client, c)
        lb = await look_back(client, c, "cn_inspector", f, "passed")
        assert (lb["outcome"], lb["performer"], lb["organisation"]["name"], lb["finding_status"],
                lb["finding_status_after"]) == ("passed", "inspector", "中央第三生态环境保护督察组", "closed", "closed")
        assert (await look_back(client, c, "water_leader", f, "passed"))["performer"] == "rectifying_organisation"
        assert (await look_back(client, c, OFFICE, f, "passed"))["performer"] == "rectification_office"
        after = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
        assert (after["status"], after["rebounded"], after["last_lookback_on"]) == ("closed", False, TODAY.isoformat())
        assert [a for a, _, _ in await history(database, f["id"])][-3:] == ["look_back"] * 3
        listed = (await client.get(f"/findings/{f['id']}/lookbacks", headers=c.h("water_staff"))).json()
        assert [i["performer"] for i in listed["items"]] == ["inspector", "rectifying_organisation",
                                                            "rectification_office"]

    async def test_a_rebound_reopens_the_finding_and_counts_it(self, client, database):
        """回头看 finds it back (反弹): in_progress again, `rebounded` for good, `rebound_count` + 1."""
        c = await campaign(database, client)
        f = await closed_finding(client, c)
        lb = await look_back(client, c, "cn_inspector", f, "rebounded")
        assert (lb["finding_status"], lb["finding_status_after"]) == ("closed", "in_progress")
        f = (await client.get(f"/findings/{f['id']}", headers=c.h("water_leader"))).json()
        assert (f["status"], f["rebounded"], f["rebound_count"], f["closed_on"]) == ("in_progress", True, 1, None)
        assert lb["finding_version"] == f["version"]
        # Rectified and closed again, then found back again: counted twice.
        f = await act(client, c, "water_leader", f, "request-closure", {"summary": "再次整改", "evidence": EVIDENCE})
        f = await act(client, c, OFFICE, f, "close", {"verification_note": "同意销号"})
        await look_back(client, c, OFFICE, f, "rebounded")
        f = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
        assert (f["status"], f["rebound_count"]) == ("in_progress", 2)
        r = await client.get("/findings", headers=c.h(OFFICE), params={"rebounded": "true"})
        assert [i["id"] for i in r.json()["items"]] == [f["id"]]
        assert [a for a, _, _ in await history(database, f["id"])].count("rebound") == 2

    async def test_who_may_look_back_and_when(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        r = await client.post(f"/findings/{f['id']}/lookbacks", headers=c.h("cn_inspector"),
                              json={"outcome": "passed", "note": "回头看"})
        assert (r.status_code, problem(r)["code"], problem(r)["allowed_actions"]) == (409, "transition_not_allowed", [])
        f = await closed_finding(client, c)
        for user, status in (("water_staff", 403), ("gov_leadership", 403), ("edu_leader", 404)):
            await look_back(client, c, user, f, "rebounded", expect=status)
        r = await client.post(f"/findings/{f['id']}/lookbacks", headers=c.h(OFFICE),
                              json={"outcome": "passed", "note": "x",
                                    "performed_on": (TODAY + timedelta(days=2)).isoformat()})
        assert problem(r)["errors"][0]["type"] == "future_date"
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(FindingLookback)) == 0
            assert (await s.get(Finding, uuid.UUID(f["id"]))).rebound_count == 0


class TestExtensions:
    async def test_an_approved_extension_moves_the_deadline_and_keeps_the_original(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        r = await client.post(f"/findings/{f['id']}/extension-requests", headers=c.h("water_leader"),
                              json={"requested_deadline": LATER, "reason": "涉及多部门协调"})
        assert r.status_code == 201, r.text
        ext = r.json()
        assert (ext["status"], ext["previous_deadline"], ext["allowed_actions"]) == ("pending", SOON, [])
        office_view = await client.get(r.headers["Location"], headers=c.h(OFFICE))
        assert office_view.json()["allowed_actions"] == ["approve", "reject"]
        r = await client.post(f"/findings/{f['id']}/extension-requests/{ext['id']}/approve", json={},
                              headers={**c.h(OFFICE), "If-Match": office_view.headers["ETag"]})
        assert (r.status_code, r.json()["status"]) == (200, "approved")
        f = (await client.get(f"/findings/{f['id']}", headers=c.h("water_staff"))).json()
        assert (f["deadline"], f["original_deadline"], f["deadline_extended"]) == (LATER, SOON, True)
        hist = (await client.get(f"/findings/{f['id']}/history", headers=c.h(OFFICE))).json()["items"]
        assert (hist[-1]["action"], hist[-1]["payload"]["previous_deadline"], hist[-1]["payload"]["deadline"]) == (
            "extend_deadline", SOON, LATER)
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "finding.extend_deadline",
                                                             AuditEvent.resource_id == f["id"])) == 1
        ext_history = (await client.get(f"/findings/{f['id']}/extension-requests/{ext['id']}/history",
                                        headers=c.h("water_leader"))).json()["items"]
        assert [(e["action"], e["from_status"], e["to_status"]) for e in ext_history] == [
            ("approve", "pending", "approved")]

    async def test_one_request_at_a_time_a_later_date_and_a_reasoned_rejection(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        url = f"/findings/{f['id']}/extension-requests"
        r = await client.post(url, headers=c.h("water_leader"), json={"requested_deadline": SOON, "reason": "x"})
        assert problem(r)["errors"][0]["type"] == "not_later"
        r = await client.post(url, headers=c.h("water_staff"), json={"requested_deadline": LATER, "reason": "x"})
        assert r.status_code == 403
        ext = (await client.post(url, headers=c.h("water_leader"),
                                 json={"requested_deadline": LATER, "reason": "x"})).json()
        r = await client.post(url, headers=c.h("water_leader"), json={"requested_deadline": LATER, "reason": "y"})
        assert (r.status_code, problem(r)["code"]) == (409, "transition_not_allowed")
        etag = make_etag(ext["id"], ext["version"])
        r = await client.post(f"{url}/{ext['id']}/reject", json={}, headers={**c.h(OFFICE), "If-Match": etag})
        assert r.status_code == 422
        r = await client.post(f"{url}/{ext['id']}/approve", json={}, headers={**c.h("water_leader"),
                                                                               "If-Match": etag})
        assert r.status_code == 403
        r = await client.post(f"{url}/{ext['id']}/reject", json={"comment": "理由不充分"},
                              headers={**c.h(OFFICE), "If-Match": etag})
        assert (r.json()["status"], r.json()["decision_comment"]) == ("rejected", "理由不充分")
        after = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
        assert (after["deadline"], after["deadline_extended"]) == (SOON, False)

    async def test_two_simultaneous_requests_leave_one_pending(self, client, database):
        import asyncio

        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        answers = await asyncio.gather(*(client.post(
            f"/findings/{f['id']}/extension-requests", headers=c.h("water_leader"),
            json={"requested_deadline": LATER, "reason": f"第{i}次"}) for i in range(6)))
        codes = sorted(a.status_code for a in answers)
        assert codes.count(201) == 1 and set(codes) <= {201, 409}, codes
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(ExtensionRequest)) == 1


class TestProgressUpdates:
    async def test_missed_periods_are_flagged_on_the_read_model(self, client, database):
        """001 二(五)2(1) 按月进行调度: a month with no update is a missed update."""
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        started = add_months(TODAY, -3) - timedelta(days=1)  # three whole months ago and a day
        async with database.transaction() as s:
            await s.execute(update(Finding).where(Finding.id == uuid.UUID(f["id"]))
                            .values(rectification_started_on=started))
        second_month = add_months(started, 1) + timedelta(days=3)
        r = await client.post(f"/findings/{f['id']}/progress-updates", headers=c.h("water_staff"),
                              json={"reported_on": second_month.isoformat(), "summary": "已完成排查"})
        assert r.status_code == 201, r.text
        assert r.json()["period_start"] == add_months(started, 1).isoformat()
        p = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()["progress"]
        assert p == {"cadence": "monthly", "active": True, "last_reported_on": second_month.isoformat(),
                     "current_period_start": add_months(started, 3).isoformat(),
                     "next_due_on": (add_months(started, 4) - timedelta(days=1)).isoformat(),
                     "missed_period_count": 2, "missed_periods": [started.isoformat(),
                                                                  add_months(started, 2).isoformat()],
                     "last_period_missed": True}
        await client.post(f"/findings/{f['id']}/progress-updates", headers=c.h("water_leader"),
                          json={"reported_on": add_months(started, 2).isoformat(), "summary": "补报"})
        p = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()["progress"]
        assert (p["missed_period_count"], p["last_period_missed"]) == (1, False)
        listed = (await client.get(f"/findings/{f['id']}/progress-updates", headers=c.h("cn_inspector"))).json()
        assert [u["summary"] for u in listed["items"]] == ["已完成排查", "补报"]

    async def test_who_reports_and_when(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        url = f"/findings/{f['id']}/progress-updates"
        for user, status in ((OFFICE, 403), ("gov_leadership", 403), ("edu_leader", 404)):
            assert (await client.post(url, headers=c.h(user), json={"summary": "x"})).status_code == status, user
        r = await client.post(url, headers=c.h("water_staff"),
                              json={"summary": "x", "reported_on": (TODAY + timedelta(days=1)).isoformat()})
        assert problem(r)["errors"][0]["type"] == "future_date"
        r = await client.post(url, headers=c.h("water_staff"), json={"summary": "x", "reported_on": "2020-01-01"})
        assert problem(r)["errors"][0]["type"] == "before_start"
        f = await closed_finding(client, c)
        r = await client.post(f"/findings/{f['id']}/progress-updates", headers=c.h("water_staff"),
                              json={"summary": "x"})
        assert r.status_code == 409
        assert (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()["progress"]["active"] is False
        assert date.fromisoformat(SOON) > TODAY
