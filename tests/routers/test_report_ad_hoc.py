"""POST /reports: ad hoc reports (004 §八 应及时向省政府分管领导同志报告) — no schedule, so staff of a
filing department open one when there is something to report, and it follows the workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Report, Role
from tests.factories import auth, make_user, problem
from tests.report_factories import BUILDERS

BODY = {"rule_id": "reports.ad_hoc_to_vice_governor", "title": "关于突发水污染事件处置情况的报告"}
SECTIONS = {"sections": [{"topic": "duty_performance", "heading": "一、处置情况", "body": "已处置"}]}


@pytest.fixture
async def shandong(database):
    async with database.transaction() as s:
        p = await BUILDERS["shandong"](s)
        people = {"staff": ("water", Role.staff), "leader": ("water", Role.leader), "gov_office": ("gov", Role.office),
                  "jinan_staff": ("jinan_env", Role.staff)}
        users = {k: await make_user(s, f"t.sd.{k}", (p.org(o), r)) for k, (o, r) in people.items()}
    return p, users


class TestAdHocReports:
    async def test_staff_open_one_and_it_goes_to_the_vice_governor_in_charge(self, client, database, shandong):
        p, u = shandong
        r = await client.post("/reports", headers=auth(u["staff"]),
                              json={**BODY, "organisation_id": str(p.org("water").id), "content": SECTIONS})
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["Location"] == f"/reports/{body['id']}"
        assert (body["kind"], body["status"], body["period"], body["title"]) == (
            "ad_hoc", "draft", None, BODY["title"])
        assert (body["recipient_kind"], body["recipient_label"], [o["name"] for o in body["recipients"]]) == (
            "person", "省政府分管领导同志", ["山东省人民政府"])
        assert (body["due"]["undated"], body["due"]["cadence"], body["clause"]) == (True, "promptly", "004 §八")
        second = await client.post("/reports", headers=auth(u["staff"]),
                                   json={**BODY, "organisation_id": str(p.org("water").id)})
        assert second.status_code == 201  # as many as happen: no period, no collision
        submitted = await client.post(f"/reports/{body['id']}/submit", headers={
            **auth(u["leader"]), "If-Match": r.headers["ETag"]})
        assert (submitted.status_code, submitted.json()["submitted_late"]) == (200, False)
        received = await client.post(f"/reports/{body['id']}/receive", headers={
            **auth(u["gov_office"]), "If-Match": submitted.headers["ETag"]})
        assert received.json()["status"] == "received"
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "report.create")) == 2

    async def test_a_scheduled_rule_or_another_provinces_rule_is_refused(self, client, database, shandong):
        p, u = shandong
        for rule_id in ("reports.annual_duty_report", "reports.semiannual_duty_report"):
            r = await client.post("/reports", headers=auth(u["staff"]),
                                  json={**BODY, "rule_id": rule_id, "organisation_id": str(p.org("water").id)})
            assert (r.status_code, problem(r)["errors"]) == (422, [{
                "pointer": "/rule_id", "source": "body", "type": "not_an_ad_hoc_rule",
                "message": "not an ad hoc (as needed) report rule of this province's profile"}])

    async def test_only_the_rules_filers_and_only_their_staff(self, client, database, shandong):
        p, u = shandong
        city = await client.post("/reports", headers=auth(u["jinan_staff"]),
                                 json={**BODY, "organisation_id": str(p.org("jinan_env").id)})
        assert problem(city)["errors"][0]["type"] == "not_a_filer"  # 004 §八: 省政府各部门 only
        leader = await client.post("/reports", headers=auth(u["leader"]),
                                   json={**BODY, "organisation_id": str(p.org("water").id)})
        assert (leader.status_code, problem(leader)["detail"]) == (
            403, "Only staff of the filing organisation open an ad hoc report.")
        foreign = await client.post("/reports", headers=auth(u["jinan_staff"]),
                                    json={**BODY, "organisation_id": str(p.org("water").id)})
        assert problem(foreign)["errors"][0]["type"] == "unknown_organisation"
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(Report)) == 0
