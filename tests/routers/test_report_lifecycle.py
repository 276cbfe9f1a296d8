"""A report's life over HTTP: content, deadlines and lateness, acceptance, filings, publication.

Each test generates its province's obligations (POST /report-obligations) and walks one of them,
as the people the profile names.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Report, Role
from app.services.reports import access
from tests.factories import auth, make_user
from tests.report_factories import BUILDERS

SECTIONS = {"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况", "body": "全年……"}]}


class Walk:
    def __init__(self, client, report_id):
        self.client, self.id, self.etag = client, report_id, None

    async def get(self, user) -> dict:
        r = await self.client.get(f"/reports/{self.id}", headers=auth(user))
        assert r.status_code == 200, r.text
        self.etag = r.headers["ETag"]
        return r.json()

    async def do(self, user, action: str, body=None, expect: int = 200) -> dict:
        await self.get(user) if self.etag is None else None
        r = await self.client.post(f"/reports/{self.id}/{action}", json=body,
                                   headers={**auth(user), "If-Match": self.etag})
        assert r.status_code == expect, r.text
        self.etag = r.headers.get("ETag", self.etag)
        return r.json()

    async def edit(self, user, content: dict, expect: int = 200) -> dict:
        r = await self.client.patch(f"/reports/{self.id}", json={"content": content},
                                    headers={**auth(user), "If-Match": self.etag})
        assert r.status_code == expect, r.text
        self.etag = r.headers.get("ETag", self.etag)
        return r.json()


async def province(database, client, code: str, year: int, **people):
    async with database.transaction() as s:
        p = await BUILDERS[code](s)
        admin = await make_user(s, f"t.{code}.admin", (p.root, Role.admin))
        users = {k: await make_user(s, f"t.{code}.{k}", (p.org(org), role)) for k, (org, role) in people.items()}
    r = await client.post("/report-obligations", headers=auth(admin), json={"jurisdiction_id": str(p.root.id),
                                                                              "year": year})
    assert r.status_code == 200, r.text
    return p, users


async def report_of(database, p, org_key: str, rule_id: str, period: str) -> str:
    async with database.transaction(write=False) as s:
        return str(await s.scalar(select(Report.id).where(Report.organisation_id == p.org(org_key).id,
                                                          Report.rule_id == rule_id, Report.period == period)))


HAINAN_PEOPLE = {"staff": ("env", Role.staff), "leader": ("env", Role.leader), "gov_office": ("gov", Role.office),
                 "leadership": ("pc", Role.leadership), "viewer": ("root", Role.viewer)}


class TestAnnualReport:
    async def test_from_obligation_to_publication_with_history_and_audit(self, client, database):
        # 000 §(十二): to 省委、省政府 by Jan 31, then published on the department's own portal.
        p, u = await province(database, client, "hainan", 2030, **HAINAN_PEOPLE)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_duty_report", "2030"))
        read = await walk.get(u["staff"])
        assert (read["status"], read["allowed_actions"], read["overdue"]) == ("pending", ["start"], False)
        assert read["due"]["due_date"] == "2031-01-31"
        await walk.do(u["staff"], "start")
        incomplete = await walk.do(u["leader"], "submit", expect=422)
        assert incomplete["code"] == "report_incomplete" and incomplete["errors"] == [{
            "pointer": "/content/sections", "source": "body", "type": "required_content",
            "message": "a section on duty_performance is required (000 §(十二))"}]
        edited = await walk.edit(u["staff"], SECTIONS)
        assert edited["content"]["sections"][0]["body"] == "全年……" and edited["version"] == 3
        submitted = await walk.do(u["leader"], "submit", {"comment": "请审阅"})
        assert (submitted["status"], submitted["submitted_late"]) == ("submitted", False)  # well before 2031
        assert (await walk.do(u["gov_office"], "receive"))["allowed_actions"] == ["return"]
        accepted = await walk.do(u["leadership"], "accept")
        assert accepted["status"] == "accepted"
        url = "https://hnsthb.hainan.gov.cn/2031/report.html"
        published = await walk.do(u["leader"], "publish", {"portal_url": url})
        assert (published["status"], published["portal_url"]) == ("published", url)
        history = (await client.get(f"/reports/{walk.id}/history", headers=auth(u["viewer"]))).json()["items"]
        assert [(h["action"], h["from_status"], h["to_status"], h["actor_name"], h["comment"]) for h in history] == [
            ("start", "pending", "draft", "t.hainan.staff", None),
            ("submit", "draft", "submitted", "t.hainan.leader", "请审阅"),
            ("receive", "submitted", "received", "t.hainan.gov_office", None),
            ("accept", "received", "accepted", "t.hainan.leadership", None),
            ("publish", "accepted", "published", "t.hainan.leader", None)]
        assert history[2]["acting_organisation_id"] == str(p.org("gov").id)
        assert history[4]["payload"] == {"portal_url": url}
        async with database.transaction(write=False) as s:
            actions = list(await s.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == walk.id)
                                           .order_by(AuditEvent.seq)))
        assert actions == ["report.start", "report.update", "report.submit", "report.receive", "report.accept",
                           "report.publish"]

    async def test_a_late_submission_stays_late_after_a_return(self, client, database):
        # DOMAIN.md: a late submission keeps submitted_late = true. 2024's report was due 2025-01-31.
        p, u = await province(database, client, "hainan", 2024, **HAINAN_PEOPLE)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_duty_report", "2024"))
        pending = await walk.get(u["staff"])
        assert (pending["overdue"], pending["due"]["falls_on_rest_day"]) == (True, True)  # 春节: flagged, not moved
        await walk.do(u["staff"], "start")
        await walk.edit(u["staff"], SECTIONS)
        assert (await walk.do(u["leader"], "submit"))["submitted_late"] is True
        returned = await walk.do(u["gov_office"], "return", {"comment": "请补充数据"})
        assert (returned["status"], returned["submitted_late"], returned["overdue"]) == ("draft", True, True)
        assert (await walk.do(u["leader"], "submit"))["submitted_late"] is True

    async def test_submitting_on_time_is_judged_in_the_jurisdictions_calendar(self, client, database, monkeypatch):
        p, u = await province(database, client, "hainan", 2024, **HAINAN_PEOPLE)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_duty_report", "2024"))
        monkeypatch.setattr(access, "today", lambda: date(2025, 1, 20))
        assert (await walk.get(u["staff"]))["overdue"] is False
        monkeypatch.setattr(access, "today", lambda: date(2025, 2, 1))
        assert (await walk.get(u["staff"]))["overdue"] is True

    async def test_the_recipient_sees_a_draft_but_not_its_content(self, client, database):
        p, u = await province(database, client, "hainan", 2030, **HAINAN_PEOPLE)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_duty_report", "2030"))
        await walk.do(u["staff"], "start")
        await walk.edit(u["staff"], SECTIONS)
        seen = await walk.get(u["leadership"])
        assert (seen["status"], seen["content"]) == ("draft", None)
        assert (await walk.get(u["staff"]))["content"]["sections"][0]["topic"] == "duty_performance"

    async def test_content_only_changes_in_draft(self, client, database):
        p, u = await province(database, client, "hainan", 2030, **HAINAN_PEOPLE)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_duty_report", "2030"))
        await walk.get(u["staff"])
        refused = await walk.edit(u["staff"], SECTIONS, expect=409)
        assert problem_body(refused) == {
            "type": "https://envduty.example/problems/report-not-editable", "title": "Report is not editable",
            "status": 409, "code": "report_not_editable", "allowed_actions": ["start"],
            "detail": "The content can be changed only while the report is a draft, not pending."}
        await walk.do(u["staff"], "start")
        wrong = await walk.edit(u["staff"], {"meeting": {"held_on": "2030-03-01", "forum": "会议", "summary": "x"}},
                                expect=422)
        assert wrong["errors"][0]["pointer"] == "/content/meeting"
        assert (await walk.edit(u["gov_office"], SECTIONS, expect=403))["code"] == "forbidden"


def problem_body(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}


class TestToAPerson:
    async def test_the_governments_office_receives_and_its_leadership_accepts_for_the_vice_governor(
            self, client, database):
        # 000 §(十二): every half year to 省政府分管领导同志 — a leadership member of 省政府.
        people = {**HAINAN_PEOPLE, "gov_leadership": ("gov", Role.leadership)}
        p, u = await province(database, client, "hainan", 2030, **people)
        walk = Walk(client, await report_of(database, p, "env", "reports.semiannual_duty_report", "2030-H1"))
        await walk.do(u["staff"], "start")
        await walk.edit(u["staff"], SECTIONS)
        await walk.do(u["leader"], "submit")
        await walk.do(u["gov_office"], "receive")
        assert (await walk.do(u["leadership"], "accept", expect=404))["code"] == "not_found"  # not to 省委
        accepted = await walk.do(u["gov_leadership"], "accept")
        # Nothing is published under 000 §(十二) for the half-yearly report: accepted is its last step.
        assert (accepted["recipient_kind"], accepted["allowed_actions"]) == ("person", [])


class TestWorkPlans:
    async def test_hainans_plan_needs_quarterly_goals_and_a_unit_per_measure(self, client, database):
        # 000 §(十): 明确全年目标、季度目标、推进措施、责任单位; the office arranges approval (统筹报批).
        people = {"staff": ("water", Role.staff), "leader": ("water", Role.leader),
                  "water_office": ("water_office", Role.office), "commander": ("water_body", Role.leadership)}
        p, u = await province(database, client, "hainan", 2030, **people)
        walk = Walk(client, await report_of(database, p, "water", "reports.annual_work_plan", "2030"))
        await walk.do(u["staff"], "start")
        plan = {"annual_goals": ["地表水水质优良率保持98%以上"], "quarterly_goals": [
            {"quarter": q, "goals": [f"第{q}季度目标"]} for q in (1, 2, 3)], "measures": [{"text": "排查入河排污口"}]}
        await walk.edit(u["staff"], {"work_plan": plan})
        refused = await walk.do(u["leader"], "submit", expect=422)
        assert [e["pointer"] for e in refused["errors"]] == ["/content/work_plan/quarterly_goals",
                                                            "/content/work_plan/responsible_units"]
        plan["quarterly_goals"].append({"quarter": 4, "goals": ["年度总结"]})
        plan["measures"][0]["responsible_units"] = [{"name": "水资源管理处"},
                                                    {"name": "海口市水务局", "organisation_id": str(p.org("gov").id)}]
        await walk.edit(u["staff"], {"work_plan": plan})
        await walk.do(u["leader"], "submit")
        await walk.do(u["water_office"], "receive")
        # The 指挥部 the office serves approves what its office put to it.
        assert (await walk.do(u["commander"], "accept"))["status"] == "accepted"

    async def test_a_responsible_unit_from_another_province_is_refused(self, client, database):
        people = {"staff": ("water", Role.staff)}
        p, u = await province(database, client, "hainan", 2030, **people)
        async with database.transaction() as s:
            henan = await BUILDERS["henan"](s)
        walk = Walk(client, await report_of(database, p, "water", "reports.annual_work_plan", "2030"))
        await walk.do(u["staff"], "start")
        plan = {"measures": [{"text": "x", "responsible_units": [{"name": "河南", "organisation_id":
                                                                   str(henan.org("env").id)}]}]}
        refused = await walk.edit(u["staff"], {"work_plan": plan}, expect=422)
        assert refused["errors"] == [{"pointer": "/content/work_plan/measures/0/responsible_units/0/organisation_id",
                                      "source": "body", "type": "unknown_organisation",
                                      "message": "not an active organisation of this jurisdiction"}]

    async def test_a_henan_plan_is_a_filing_received_is_final(self, client, database):
        # 002 §(十): 报送同级生态环境保护委员会办公室备案
        people = {"staff": ("env", Role.staff), "leader": ("env", Role.leader),
                  "office": ("committee_office", Role.office), "leadership": ("committee_office", Role.leadership)}
        p, u = await province(database, client, "henan", 2030, **people)
        walk = Walk(client, await report_of(database, p, "env", "reports.annual_work_plan", "2030"))
        await walk.do(u["staff"], "start")
        await walk.edit(u["staff"], {"work_plan": {"annual_goals": ["目标"], "key_tasks": ["黄河流域生态保护"],
                                                   "measures": [{"text": "措施"}]}})
        submitted = await walk.do(u["leader"], "submit")
        assert (submitted["due"]["undated"], submitted["submitted_late"]) == (True, False)  # no date: never late
        received = await walk.do(u["office"], "receive")
        assert (received["status"], received["filing_only"], received["needs_acceptance"]) == ("received", True, False)
        refused = await walk.do(u["leadership"], "accept", expect=409)
        assert refused["detail"] == "This is a filing (备案): once received it is complete; there is no acceptance."


class TestHearingRecords:
    @pytest.mark.parametrize(("held_on", "ok"), [("2030-05-20", True), ("2030-08-01", False)])
    async def test_the_meeting_must_fall_in_the_half_year(self, client, database, held_on, ok):
        # 000 §(二): 省委常委会会议、省政府常务会议每半年听取一次
        people = {"staff": ("gov", Role.staff), "leader": ("gov", Role.leader)}
        p, u = await province(database, client, "hainan", 2030, **people)
        walk = Walk(client, await report_of(database, p, "gov", "hearings.provincial_semiannual", "2030-H1"))
        await walk.do(u["staff"], "start")
        await walk.edit(u["staff"], {"meeting": {"held_on": held_on, "forum": "省政府常务会议",
                                                 "summary": "听取各分管领域汇报"}})
        done = await walk.do(u["leader"], "submit", expect=200 if ok else 422)
        if ok:  # recorded: nobody receives a meeting record
            assert (done["status"], done["recipient_kind"], done["allowed_actions"]) == ("submitted", "none", [])
        else:
            assert done["errors"][0]["type"] == "outside_period"
