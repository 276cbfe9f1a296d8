"""/findings: registering, the rectification workflow through 销号, closure rules, who sees what.

Clauses: 001 一(三) (责任领导、责任部门、责任人和整改时限; plans detailed with 时间节点; 销号); 001 二(四)1
(a measure split into two phases: amend_plan); 001 二(四)2 (a task that cannot be completed, confirmed,
does not block closure); 001 二(五)2(3) (tasks 已完成并销号 / 已完成待销号); DOMAIN.md "Inspections and
findings" for the diagram. The campaign is a central inspection of Hainan whose rectification office
is the 督察办 (`inspection_office_office`); findings are assigned to 水利厅 (`water_leader`, `water_staff`).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select, update

from app.core.etag import make_etag
from app.models import AuditEvent, Finding, FindingParty, Measure
from tests.factories import problem
from tests.findings_helpers import (
    EVIDENCE,
    SOON,
    act,
    campaign,
    history,
    measure_act,
    measures_of,
    plan,
    register,
    to_in_progress,
)

OFFICE = "inspection_office_office"


async def audit_count(database, action: str, resource_id) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).where(AuditEvent.action == action,
                                                         AuditEvent.resource_id == str(resource_id)))


class TestRegistering:
    async def test_the_inspector_registers_and_the_office_sees_it(self, client, database):
        c = await campaign(database, client)
        f = await register(client, c, code="1-1", rectification_type="immediate", key_problem=True,
                           key_problem_handler="孙善芳")
        assert (f["status"], f["code"], f["rectification_type"], f["key_problem"], f["key_problem_handler"]) == (
            "registered", "1-1", "immediate", True, "孙善芳")
        assert f["responsible_organisation"] is None and f["allowed_actions"] == []
        seen = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
        assert seen["allowed_actions"] == ["assign"]
        assert await audit_count(database, "finding.create", f["id"]) == 1

    async def test_a_department_cannot_register_and_a_foreign_inspection_is_422(self, client, database):
        c = await campaign(database, client)
        r = await client.post("/findings", headers=c.h("gov_leadership"),
                              json={"inspection_id": c.inspection["id"], "title": "问题"})
        assert r.status_code == 403
        r = await client.post("/findings", headers=c.h("water_leader"),
                              json={"inspection_id": c.inspection["id"], "title": "问题"})
        assert (r.status_code, problem(r)) == (422, {
            "type": "https://envduty.example/problems/validation-failed", "title": "Request is not valid",
            "status": 422, "detail": "One or more fields are invalid; see errors.", "code": "validation_failed",
            "errors": [{"pointer": "/inspection_id", "source": "body", "type": "unknown_inspection",
                        "message": "not an inspection you can see"}]})

    async def test_codes_are_unique_in_a_campaign_and_related_findings_must_be_visible(self, client, database):
        c = await campaign(database, client)
        first = await register(client, c, code="A-1")
        r = await client.post("/findings", headers=c.h("cn_inspector"),
                              json={"inspection_id": c.inspection["id"], "title": "又一个", "code": "A-1"})
        assert (r.status_code, problem(r)["code"]) == (409, "finding_code_exists")
        linked = await register(client, c, related=[{"finding_id": first["id"], "relation": "follow_up"}])
        assert linked["related"] == [{"finding_id": first["id"], "relation": "follow_up"}]
        r = await client.post("/findings", headers=c.h("cn_inspector"), json={
            "inspection_id": c.inspection["id"], "title": "x",
            "related": [{"finding_id": str(uuid.uuid4()), "relation": "same_problem"}]})
        assert problem(r)["errors"][0]["pointer"] == "/related/0/finding_id"


class TestTheWholePath:
    async def test_assign_plan_return_approve_amend_complete_verify_close(self, client, database):
        c = await campaign(database, client)
        f = await register(client, c)
        f = await act(client, c, OFFICE, f, "assign", {
            "responsible_organisation_id": str(c.org("water")), "deadline": SOON,
            "cooperating_organisation_ids": [str(c.org("env"))], "responsible_leader": "副厅长",
            "responsible_unit_id": str(c.org("water_unit")), "responsible_person": "王五"})
        assert (f["status"], f["deadline"], f["original_deadline"]) == ("assigned", SOON, SOON)
        assert [o["name"] for o in f["cooperating_organisations"]] == ["海南省生态环境厅"]
        assert f["responsible_unit"]["name"] == "河湖管理处"
        # The leader submits; the office returns it with a comment (none: 422), the leader resubmits.
        f = await act(client, c, "water_leader", f, "submit-plan", plan("排查", "整治"))
        assert [m["title"] for m in f["proposed_plan"]["measures"]] == ["排查", "整治"]
        assert await measures_of(client, c, f) == []  # a proposal, not measures in force
        await act(client, c, OFFICE, f, "return", {}, expect=422)
        f = await act(client, c, OFFICE, f, "return", {"comment": "时间节点不明确"})
        assert (f["status"], f["proposed_plan"]) == ("assigned", None)
        f = await act(client, c, "water_leader", f, "submit-plan", plan("排查", "整治", "验收"))
        f = await act(client, c, OFFICE, f, "approve-plan")
        assert f["status"] == "in_progress" and f["rectification_started_on"] is not None
        measures = await measures_of(client, c, f)
        assert [m["title"] for m in measures] == ["排查", "整治", "验收"]
        # 001 二(四)1: one measure becomes two phases; the office refuses once, then approves.
        split = {"measures": [{"id": measures[1]["id"], "title": "整治(第一阶段)", "phase": "第一阶段",
                               "deadline": SOON}, {"title": "整治(第二阶段)", "phase": "第二阶段", "deadline": SOON}]}
        f = await act(client, c, "water_leader", f, "amend-plan", {**split, "comment": "分两阶段实施"})
        f = await act(client, c, OFFICE, f, "return-amendment", {"comment": "第二阶段要求不清"})
        assert [m["title"] for m in await measures_of(client, c, f)] == ["排查", "整治", "验收"]
        f = await act(client, c, "water_leader", f, "amend-plan", split)
        f = await act(client, c, OFFICE, f, "approve-plan")
        measures = await measures_of(client, c, f)
        assert [(m["title"], m["phase"]) for m in measures] == [
            ("排查", None), ("整治(第一阶段)", "第一阶段"), ("验收", None), ("整治(第二阶段)", "第二阶段")]
        for m in measures:
            m = await measure_act(client, c, "water_leader", m, "complete", {"completion_note": "已完成"})
            await measure_act(client, c, OFFICE, m, "verify", {"verification_note": "销号"})
        f = (await client.get(f"/findings/{f['id']}", headers=c.h("water_leader"))).json()
        assert f["measures"]["verified"] == 4 and "request_closure" in f["allowed_actions"]
        f = await act(client, c, "water_leader", f, "request-closure", {"summary": "整改完成", "evidence": EVIDENCE})
        assert f["status"] == "closure_requested" and f["closure_evidence"] == EVIDENCE
        f = await act(client, c, OFFICE, f, "close", {"verification_note": "经核验,同意销号"})
        assert (f["status"], f["verification_note"]) == ("closed", "经核验,同意销号")
        assert await history(database, f["id"]) == [
            ("assign", "registered", "assigned"), ("submit_plan", "assigned", "plan_submitted"),
            ("return", "plan_submitted", "assigned"), ("submit_plan", "assigned", "plan_submitted"),
            ("approve_plan", "plan_submitted", "in_progress"), ("amend_plan", "in_progress", "plan_submitted"),
            ("return_amendment", "plan_submitted", "in_progress"), ("amend_plan", "in_progress", "plan_submitted"),
            ("approve_plan", "plan_submitted", "in_progress"), ("request_closure", "in_progress", "closure_requested"),
            ("close", "closure_requested", "closed")]
        assert await audit_count(database, "finding.close", f["id"]) == 1
        r = await client.get(f"/findings/{f['id']}/history", headers=c.h("cn_inspector"))
        assert [e["action"] for e in r.json()["items"]][-1] == "close"

    async def test_an_amendment_keeps_the_original_deadline_of_a_changed_measure(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
        [m] = await measures_of(client, c, f)
        f = await act(client, c, "water_leader", f, "amend-plan", {"measures": [{
            "id": m["id"], "title": "一", "deadline": "2031-12-31"}]})
        await act(client, c, OFFICE, f, "approve-plan")
        [m2] = await measures_of(client, c, f)
        assert (m2["deadline"], m2["original_deadline"], m2["version"]) == ("2031-12-31", m["deadline"], 2)

    async def test_a_wrong_person_is_403_a_wrong_moment_409_with_the_allowed_actions(self, client, database):
        c = await campaign(database, client)
        f = await register(client, c)
        r = await client.post(f"/findings/{f['id']}/assign", json={"responsible_organisation_id": str(c.org("water")),
                                                                    "deadline": SOON},
                              headers={**c.h("cn_inspector"), "If-Match": make_etag(f["id"], f["version"])})
        assert (r.status_code, problem(r)) == (403, {
            "type": "https://envduty.example/problems/action-forbidden", "title": "Action not allowed for you",
            "status": 403, "detail": "Your roles do not allow the action 'assign' on a finding that is 'registered'.",
            "code": "action_forbidden", "allowed_actions": []})
        r = await client.post(f"/findings/{f['id']}/close", json={"verification_note": "核验"},
                              headers={**c.h(OFFICE), "If-Match": make_etag(f["id"], f["version"])})
        assert (r.status_code, problem(r)) == (409, {
            "type": "https://envduty.example/problems/transition-not-allowed",
            "title": "Action not allowed in this state", "status": 409,
            "detail": "The action 'close' is not possible while the finding is 'registered'.",
            "code": "transition_not_allowed", "allowed_actions": ["assign"]})
        async with database.transaction(write=False) as s:
            assert (await s.get(Finding, uuid.UUID(f["id"]))).version == 1

    async def test_assignment_references_are_checked(self, client, database):
        c = await campaign(database, client)
        f = await register(client, c)
        r = await client.post(f"/findings/{f['id']}/assign", json={
            "responsible_organisation_id": str(c.org("water")), "deadline": SOON,
            "cooperating_organisation_ids": [str(c.org("water"))], "responsible_unit_id": str(c.org("env_unit"))},
            headers={**c.h(OFFICE), "If-Match": make_etag(f["id"], 1)})
        assert [(e["pointer"], e["type"]) for e in problem(r)["errors"]] == [
            ("/cooperating_organisation_ids/0", "also_leads"),
            ("/responsible_unit_id", "outside_responsible_organisation")]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(FindingParty.finding_id == uuid.UUID(f["id"]))) == 2


class TestClosure:
    async def test_refused_while_a_measure_is_open_naming_it(self, client, database):
        """DOMAIN.md: request_closure only when every measure is done, verified or cannot_complete."""
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        first, second = await measures_of(client, c, f)
        await measure_act(client, c, "water_leader", first, "complete")
        r = await client.post(f"/findings/{f['id']}/request-closure", json={"summary": "完成", "evidence": EVIDENCE},
                              headers={**c.h("water_leader"), "If-Match": make_etag(f["id"], f["version"])})
        assert (r.status_code, problem(r)) == (409, {
            "type": "https://envduty.example/problems/measures-outstanding", "title": "Measures are still open",
            "status": 409, "detail": "1 measure(s) are still open or await confirmation; each must be done, "
                                     "verified or confirmed cannot-complete first.",
            "code": "measures_outstanding", "outstanding_measure_ids": [second["id"]]})

    async def test_refused_without_evidence(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
        [m] = await measures_of(client, c, f)
        await measure_act(client, c, "water_leader", m, "complete")
        for body, pointer in (({"summary": "完成"}, "/evidence"), ({"summary": "完成", "evidence": []}, "/evidence")):
            r = await client.post(f"/findings/{f['id']}/request-closure", json=body,
                                  headers={**c.h("water_leader"), "If-Match": make_etag(f["id"], f["version"])})
            assert r.status_code == 422 and problem(r)["errors"][0]["pointer"] == pointer
        f = await act(client, c, "water_leader", f, "request-closure", {"summary": "完成", "evidence": EVIDENCE})
        assert f["status"] == "closure_requested"

    async def test_a_task_that_cannot_be_completed_blocks_closure_until_confirmed(self, client, database):
        """001 二(四)2: 超范围收取的环保监测服务费206.39万元 — 经协调省财政厅…该事项无法继续整改落实."""
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE, measures=("清退服务费",))
        [m] = await measures_of(client, c, f)
        body = {"reason": "款项已上缴国库无法退还", "confirming_organisation_id": str(c.org("edu")),
                "evidence": EVIDENCE}
        await measure_act(client, c, "water_leader", m, "declare-cannot-complete", {**body, "evidence": []},
                          expect=422)
        m = await measure_act(client, c, "water_leader", m, "declare-cannot-complete", body)
        assert (m["status"], m["confirming_organisation"]["name"]) == ("cannot_complete_requested", "海南省教育厅")
        closure = {"summary": "完成", "evidence": EVIDENCE}
        assert (await act(client, c, "water_leader", f, "request-closure", closure, expect=409))["code"] == \
            "measures_outstanding"
        m = await measure_act(client, c, OFFICE, m, "confirm")
        assert m["status"] == "cannot_complete"
        assert (await act(client, c, "water_leader", f, "request-closure", closure))["status"] == "closure_requested"

    async def test_the_office_rejects_a_closure_with_a_comment(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
        [m] = await measures_of(client, c, f)
        await measure_act(client, c, "water_leader", m, "complete")
        f = await act(client, c, "water_leader", f, "request-closure", {"summary": "完成", "evidence": EVIDENCE})
        await act(client, c, OFFICE, f, "reject-closure", {}, expect=422)
        f = await act(client, c, OFFICE, f, "reject-closure", {"comment": "佐证不足"})
        assert f["status"] == "in_progress"


class TestUnrectifiableAndSustained:
    async def test_declared_unrectifiable_approved_or_rejected(self, client, database):
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE)
        body = {"reason": "历史遗留,无法整改", "confirming_organisation_id": str(c.org("gov"))}
        f = await act(client, c, "water_leader", f, "declare-unrectifiable", body)
        f = await act(client, c, OFFICE, f, "reject-unrectifiable", {"comment": "仍可整改"})
        f = await act(client, c, "water_leader", f, "declare-unrectifiable", body)
        f = await act(client, c, OFFICE, f, "approve-unrectifiable")
        assert (f["status"], f["unrectifiable_confirming_organisation"]["name"]) == ("unrectifiable",
                                                                                      "海南省人民政府")
        assert f["allowed_actions"] == []

    async def test_long_term_work_is_sustained_then_closed(self, client, database):
        """001 一(三): 对长期整改的,紧盯不放,巩固提升整改效果."""
        c = await campaign(database, client)
        f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
        assert (await act(client, c, OFFICE, f, "sustain", expect=409))["code"] == "transition_not_allowed"
        f = await to_in_progress(client, c, office=OFFICE, measures=("一",), rectification_type="long_term")
        f = await act(client, c, OFFICE, f, "sustain")
        assert f["status"] == "sustained" and "report_progress" in (await client.get(
            f"/findings/{f['id']}", headers=c.h("water_staff"))).json()["allowed_actions"]
        [m] = await measures_of(client, c, f)
        await measure_act(client, c, "water_leader", m, "complete")
        f = (await client.get(f"/findings/{f['id']}", headers=c.h("water_leader"))).json()
        assert (await act(client, c, "water_leader", f, "request-closure",
                          {"summary": "长效机制已建立", "evidence": EVIDENCE}))["status"] == "closure_requested"


class TestScope:
    async def test_parties_see_it_others_do_not(self, client, database):
        """A finding is read by its responsible, lead and cooperating organisations, its office, its inspectors."""
        c = await campaign(database, client)
        f = await register(client, c)
        await act(client, c, OFFICE, f, "assign", {"responsible_organisation_id": str(c.org("water")),
                                                   "deadline": SOON, "lead_organisation_ids": [str(c.org("city_env"))],
                                                   "cooperating_organisation_ids": [str(c.org("env"))]})
        url = f"/findings/{f['id']}"
        for user in ("water_staff", "env_viewer", "city_env_staff", OFFICE, "cn_inspector", "gov_leadership"):
            assert (await client.get(url, headers=c.h(user))).status_code == 200, user
        for user in ("edu_leader", "city_committee_office"):
            assert (await client.get(url, headers=c.h(user))).status_code == 404, user
        r = await client.get("/findings", headers=c.h("edu_leader"), params={"include_total": "true"})
        assert r.json() == {"items": [], "next_cursor": None, "total": 0}

    async def test_subtree_filter_lists_only_what_the_caller_may_read(self, client, database):
        """`subtree_of` inside the caller's scope lists every finding of the subtree; above it (or beside
        it) only those the caller is a party to, as without the filter."""
        c = await campaign(database, client)
        a = await register(client, c, title="甲")
        await act(client, c, OFFICE, a, "assign", {"responsible_organisation_id": str(c.org("water")),
                                                   "deadline": SOON, "lead_organisation_ids": [str(c.org("city_env"))]})
        b = await register(client, c, title="乙")
        await act(client, c, OFFICE, b, "assign", {"responsible_organisation_id": str(c.org("edu")),
                                                   "deadline": SOON})

        async def ids(user: str, org: str) -> list[str]:
            r = await client.get("/findings", headers=c.h(user), params={"subtree_of": str(c.org(org))})
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await ids("gov_leadership", "gov") == [a["id"], b["id"]]
        assert await ids(OFFICE, "gov") == [a["id"], b["id"]]  # the rectification office is party to both
        assert await ids("city_env_staff", "gov") == [a["id"]]  # lead of 甲 only
        assert await ids("edu_leader", "gov") == [b["id"]]
        assert await ids("water_staff", "water") == [a["id"]]
        assert await ids("water_staff", "edu") == []

    async def test_list_filters(self, client, database):
        c = await campaign(database, client)
        a = await to_in_progress(client, c, office=OFFICE, key_problem=True)
        b = await register(client, c, rectification_type="long_term", title="农村生活污水治理")
        async with database.transaction() as s:
            await s.execute(update(Finding).where(Finding.id == uuid.UUID(a["id"])).values(deadline=date(2020, 1, 1)))
        r = lambda **q: client.get("/findings", headers=c.h(OFFICE), params={**q, "include_total": "true"})
        ids = lambda resp: [i["id"] for i in resp.json()["items"]]
        assert ids(await r(overdue="true")) == [a["id"]] and ids(await r(overdue="false")) == [b["id"]]
        assert ids(await r(key_problem="true")) == [a["id"]]
        assert ids(await r(status="registered")) == [b["id"]]
        assert ids(await r(rectification_type="long_term")) == [b["id"]]
        assert ids(await r(subtree_of=str(c.org("gov")))) == [a["id"]]
        assert ids(await r(q="污水")) == [b["id"]]
        assert ids(await r(rebounded="true")) == []
        assert (await r(inspection_id=c.inspection["id"])).json()["total"] == 2
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(Measure)) == 2
