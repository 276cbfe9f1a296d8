"""Copies (抄报 / 抄送): their recipients read the report once it is sent and never act; nobody else
outside the filer's scope reads it (DOMAIN.md "Users, roles and scope", "Reports")."""

from __future__ import annotations

from sqlalchemy import select, update

from app.core.etag import make_etag
from app.models import CoordinationMember, Report, ReportStatus, Role
from tests.factories import auth, make_organisation, make_user
from tests.report_factories import BUILDERS, COMPLETE_SECTIONS


async def hainan(database, client, **people):
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        tourism = await make_organisation(s, "海南省旅游和文化广电体育厅", parent=p.org("gov"))
        s.add(CoordinationMember(body_id=p.org("water_body").id, member_id=tourism.id))
        p.orgs["tourism"] = tourism
        admin = await make_user(s, "t.hn.admin", (p.root, Role.admin))
        users = {k: await make_user(s, f"t.{k}", (p.org(o), r)) for k, (o, r) in people.items()}
    r = await client.post("/report-obligations", headers=auth(admin),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200
    return p, users


async def set_state(database, report_id, state):
    async with database.transaction() as s:
        await s.execute(update(Report).where(Report.id == report_id).values(status=ReportStatus(state),
                                                                            content=COMPLETE_SECTIONS))


async def report_id(database, org, rule_id):
    async with database.transaction(write=False) as s:
        return await s.scalar(select(Report.id).where(Report.organisation_id == org.id, Report.rule_id == rule_id,
                                                      Report.period == "2024"))


async def seen(client, user, rid) -> tuple[int, bool]:
    """(GET status, listed in GET /reports)."""
    one = await client.get(f"/reports/{rid}", headers=auth(user))
    page = await client.get("/reports", headers=auth(user), params={"limit": 200, "rule_id": "reports.annual_duty_report"})
    return one.status_code, str(rid) in {i["id"] for i in page.json()["items"]}


class TestFilerSentCopies:
    async def test_the_environment_department_reads_a_copy_from_submission_on(self, client, database):
        # 000 §(十二): 年度报告应同时抄送上级主管部门、省生态环境厅
        people = {"env_staff": ("env", Role.staff), "env_office": ("env", Role.office),
                  "ministry": ("mwr", Role.viewer), "sibling": ("other_dept", Role.leader),
                  "haikou": ("haikou_env", Role.staff)}
        p, u = await hainan_with_ministry(database, client, people)
        rid = await report_id(database, p.org("water"), "reports.annual_duty_report")
        for state, visible in (("pending", False), ("draft", False), ("submitted", True), ("received", True),
                               ("accepted", True), ("published", True)):
            await set_state(database, rid, state)
            for copy_holder in ("env_staff", "env_office", "ministry"):  # 省生态环境厅; 水利部 (another tree)
                assert await seen(client, u[copy_holder], rid) == ((200, True) if visible else (404, False)), \
                    (state, copy_holder)
            for outsider in ("sibling", "haikou"):
                assert await seen(client, u[outsider], rid) == (404, False), (state, outsider)

    async def test_a_copy_holder_cannot_act_whatever_its_role(self, client, database):
        people = {"env_office": ("env", Role.office), "env_leader": ("env", Role.leader),
                  "env_leadership": ("env", Role.leadership)}
        p, u = await hainan_with_ministry(database, client, people)
        rid = await report_id(database, p.org("water"), "reports.annual_duty_report")
        for state, action in (("submitted", "receive"), ("submitted", "return"), ("received", "accept"),
                              ("accepted", "publish")):
            await set_state(database, rid, state)
            async with database.transaction(write=False) as s:
                version = (await s.get(Report, rid)).version
            for holder in u.values():
                r = await client.post(f"/reports/{rid}/{action}", json={"comment": "x"}, headers={
                    **auth(holder), "If-Match": make_etag(rid, version)})
                assert (r.status_code, r.json()["code"]) == (403, "action_forbidden"), (state, action)

    async def test_a_returned_report_leaves_the_copies_sight_until_resubmitted(self, client, database):
        people = {"env_office": ("env", Role.office)}
        p, u = await hainan_with_ministry(database, client, people)
        rid = await report_id(database, p.org("water"), "reports.annual_duty_report")
        await set_state(database, rid, "submitted")
        assert (await seen(client, u["env_office"], rid))[0] == 200
        await set_state(database, rid, "draft")  # returned
        assert (await seen(client, u["env_office"], rid))[0] == 404


class TestRecipientForwardedCopies:
    async def test_the_inspection_office_reads_a_plan_once_the_receiving_office_has_it(self, client, database):
        # 000 §(十): the receiving office 统筹报批…并将相关情况抄送督察办 — a copy sent by the recipient.
        people = {"inspection": ("inspection_office", Role.office), "water_office": ("water_office", Role.office)}
        p, u = await hainan(database, client, **people)
        rid = await report_id(database, p.org("tourism"), "reports.annual_work_plan")
        read = None
        for state, visible in (("draft", False), ("submitted", False), ("received", True), ("accepted", True)):
            await set_state(database, rid, state)
            r = await client.get(f"/reports/{rid}", headers=auth(u["inspection"]))
            assert r.status_code == (200 if visible else 404), state
            read = r.json() if visible else read
        assert read["copies"] == [{"id": str(p.org("inspection_office").id), "name": "督察领导小组办公室",
                                   "mode": "copy_across", "sent_by": "recipient"}]
        assert (await client.get(f"/reports/{rid}", headers=auth(u["water_office"]))).status_code == 200


async def hainan_with_ministry(database, client, people):
    """Hainan, with 水利部 (the national body that is 水务厅's 上级主管部门) as a place to put a user."""
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        admin = await make_user(s, "t.hn.admin", (p.root, Role.admin))
        mwr = await s.get(type(p.root), p.org("water").superior_department_id)
        p.orgs["mwr"] = mwr
        users = {k: await make_user(s, f"t.{k}", (p.org(o), r)) for k, (o, r) in people.items()}
    r = await client.post("/report-obligations", headers=auth(admin),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200
    return p, users
