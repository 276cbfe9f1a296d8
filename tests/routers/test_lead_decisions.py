"""/lead-decisions: raising, editing and deciding who leads a matter no department leads.

Provinces from tests/factories_lead.py. Clauses: 000 §(八) (Hainan: 督察领导小组办公室 convenes, 省委、
省政府 审定), 002 §(六) (Henan: 省生态环境厅 convenes, 省委、省政府 审定), 003 §(七) (Hubei: the 环委会
decides itself), 004 §五 (Shandong: 省生态环境厅; the profile sets 省委、省政府), and for each the
sub-provincial rule (matters below the province are decided at that level).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, LeadDecision, LeadDecisionItem, LeadDecisionParty, TransitionHistory
from tests.factories import make_organisation, problem
from tests.factories_lead import act, make_item, proposal_body, province, raise_body

URL = "/lead-decisions"


@pytest.fixture
async def hainan(database):
    return await province(database, "hainan")


@pytest.fixture
async def henan(database):
    return await province(database, "henan")


@pytest.fixture
async def hubei(database):
    return await province(database, "hubei")


@pytest.fixture
async def shandong(database):
    return await province(database, "shandong")


def parties(body: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in sorted(body["parties"], key=lambda p: (p["role"], p["position"])):
        out.setdefault(p["role"], []).append(p["organisation_name"])
    return {k: sorted(v) for k, v in out.items()}


async def history(database, decision_id) -> list[tuple[str, str, str, str | None]]:
    async with database.transaction(write=False) as s:
        rows = await s.scalars(select(TransitionHistory).where(TransitionHistory.resource_id == uuid.UUID(str(decision_id)))
                               .order_by(TransitionHistory.occurred_at, TransitionHistory.id))
        return [(r.action, r.from_status, r.to_status, r.comment) for r in rows]


async def audit_actions(database, decision_id) -> list[str]:
    async with database.transaction(write=False) as s:
        return list(await s.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == str(decision_id))
                                    .order_by(AuditEvent.seq)))


async def raised(client, p, organisation="water", user="water_leader", **fields) -> dict:
    r = await client.post(URL, json=raise_body(p, organisation, **fields), headers=p.headers(user))
    assert r.status_code == 201, r.text
    return r.json()


class TestRaiseAndOpen:
    async def test_a_department_leader_raises_a_matter_for_the_convenor_000_8(self, client, hainan, database):
        r = await client.post(URL, json=raise_body(hainan, "water", scope_tests=["no_lead", "wide_range"]),
                              headers=hainan.headers("water_leader"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["Location"] == f"{URL}/{body['id']}"
        assert r.headers["ETag"] == make_etag(body["id"], 1)
        assert (body["status"], body["level"], body["region_name"], body["convenor_decides"]) == \
            ("requested", "provincial", "海南省", False)
        assert (body["profile_code"], body["profile_version"], body["scope_tests"]) == \
            ("hainan", 1, ["no_lead", "wide_range"])
        assert parties(body) == {"requester": ["海南省水利厅"], "convenor": ["督察领导小组办公室"],
                                 "decider": ["中共海南省委", "海南省人民政府"],
                                 "participant": ["海南省农业农村厅", "海南省自然资源厅"]}
        assert (body["allowed_actions"], body["can_update"]) == ([], True)
        assert await history(database, body["id"]) == [("request", "", "requested", None)]
        assert await audit_actions(database, body["id"]) == ["lead_decision.create"]
        seen = await client.get(f"{URL}/{body['id']}", headers=hainan.headers("convenor_office"))
        assert seen.json()["allowed_actions"] == ["accept", "withdraw"]

    async def test_the_convenors_office_opens_a_matter_straight_into_consultation_002_6(self, client, henan,
                                                                                         database):
        body = await raised(client, henan, "env", "convenor_office", participants=("water", "agri"))
        assert (body["status"], parties(body)["convenor"], parties(body)["decider"]) == \
            ("consulting", ["河南省生态环境厅"], ["中共河南省委", "河南省人民政府"])
        assert "requester" not in parties(body)
        assert body["allowed_actions"] == ["propose", "withdraw"]
        assert await history(database, body["id"]) == [("open", "", "consulting", None)]

    async def test_hubei_matters_are_convened_and_decided_by_the_environment_committee_003_7(self, client, hubei):
        body = await raised(client, hubei, scope_tests=["outside_list"])
        assert parties(body)["convenor"] == parties(body)["decider"] == ["湖北省生态环境保护委员会"]
        assert body["convenor_decides"] is True

    async def test_a_citys_matter_is_decided_by_the_citys_own_bodies_000_8(self, client, hainan):
        body = await raised(client, hainan, "city_water", "city_water_leader", participants=("city_agri",))
        assert (body["level"], body["region_name"], body["convenor_decides"]) == ("sub_provincial", "海口市", True)
        assert parties(body)["convenor"] == parties(body)["decider"] == ["中共海口市委", "海口市人民政府"]

    async def test_callers_who_neither_lead_the_raiser_nor_convene_are_403(self, client, hainan, database):
        for user, org in (("gov_office", "gov"), ("agri_leader", "water"), ("water_staff", "water")):
            r = await client.post(URL, json=raise_body(hainan, org), headers=hainan.headers(user))
            assert r.status_code == 403, (user, r.text)
        assert problem(r) == {"type": "https://envduty.example/problems/forbidden", "title": "Not allowed",
                              "status": 403, "code": "forbidden",
                              "detail": "Your roles do not include the permission lead_decisions:write."}
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(LeadDecision)) == 0

    async def test_no_designated_convenor_is_422_naming_the_role_and_region_004_5(self, client, database):
        from app.models import OrganisationKind, Role
        from tests.factories import auth, make_user

        async with database.transaction() as s:
            root = await make_organisation(s, "山东省", kind=OrganisationKind.region, profile_code="shandong")
            gov = await make_organisation(s, "山东省人民政府", kind=OrganisationKind.government, parent=root)
            dept = await make_organisation(s, "山东省水利厅", parent=gov)
            leader = await make_user(s, "sd.leader", (dept, Role.leader))
        r = await client.post(URL, json={"organisation_id": str(dept.id), "title": "事项", "scope_tests": ["no_lead"]},
                              headers=auth(leader))
        assert problem(r) == {
            "type": "https://envduty.example/problems/no-body-designated",
            "title": "No organisation fills a role the profile names", "status": 422,
            "code": "no_body_designated", "role": "environment_department", "region_name": "山东省",
            "clause": "004 §五",
            "detail": "No organisation is designated as the convenor (省级生态环境部门(省生态环境厅), 004 §五) in 山东省; an "
                      "administrator of the region sets it under /organisations/{id}/designations."}

    async def test_scope_tests_participants_and_items_outside_the_rules_are_422(self, client, henan, hainan,
                                                                               database):
        async with database.transaction() as s:
            foreign_item = await make_item(s, hainan, "agri")
        body = raise_body(henan, "water", scope_tests=["no_lead", "wide_range"],  # wide_range is Hainan's (000 §(八))
                          linked_item_ids=[str(foreign_item.id)])
        body["participant_organisation_ids"].append(hainan.id("agri"))
        r = await client.post(URL, json=body, headers=henan.headers("water_leader"))
        assert problem(r)["errors"] == [
            {"pointer": "/scope_tests/1", "source": "body", "type": "not_in_profile",
             "message": "henan (002 §(六)) does not use this test; it uses no_lead, marked_impact"},
            {"pointer": "/participant_organisation_ids/2", "source": "body", "type": "unknown_organisation",
             "message": "not an active organisation in this jurisdiction"},
            {"pointer": "/linked_item_ids/0", "source": "body", "type": "unknown_item",
             "message": "not a responsibility item you can read here"}]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(LeadDecision)) == 0

    async def test_linked_items_are_kept_by_lineage_with_their_owner(self, client, hainan, database):
        async with database.transaction() as s:
            item = await make_item(s, hainan, "water")
        body = await raised(client, hainan, linked_item_ids=[str(item.id), str(item.id)])
        assert body["linked_items"] == [{"item_id": str(item.id), "lineage_id": str(item.lineage_id),
                                         "organisation_id": hainan.id("water")}]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(LeadDecisionItem)) == 1

    async def test_an_item_the_caller_cannot_read_is_422(self, client, hainan, database):
        # The duty-list rule: an item is readable when its organisation is in the caller's scope.
        async with database.transaction() as s:
            item = await make_item(s, hainan, "agri")
        r = await client.post(URL, json=raise_body(hainan, "water", linked_item_ids=[str(item.id)]),
                              headers=hainan.headers("water_leader"))
        assert problem(r)["errors"][0]["type"] == "unknown_item"

    async def test_the_same_idempotency_key_replays_the_first_answer(self, client, hainan, database):
        headers = {**hainan.headers("water_leader"), "Idempotency-Key": "ld-1"}
        first = await client.post(URL, json=raise_body(hainan, "water"), headers=headers)
        again = await client.post(URL, json=raise_body(hainan, "water"), headers=headers)
        assert (first.status_code, again.status_code, again.content) == (201, 201, first.content)
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(LeadDecision)) == 1


class TestUpdate:
    async def test_the_requesters_leader_edits_while_requested(self, client, hainan, database):
        body = await raised(client, hainan)
        r = await client.patch(f"{URL}/{body['id']}", json={"title": "南渡江农业面源污染", "participant_organisation_ids":
                                                            [hainan.id("nr")]},
                               headers={**hainan.headers("water_leader"), "If-Match": make_etag(body["id"], 1)})
        assert r.status_code == 200, r.text
        assert (r.json()["title"], r.json()["version"], r.headers["ETag"]) == \
            ("南渡江农业面源污染", 2, make_etag(body["id"], 2))
        assert parties(r.json())["participant"] == ["海南省自然资源厅"]
        assert await audit_actions(database, body["id"]) == ["lead_decision.create", "lead_decision.update"]

    async def test_in_consultation_only_the_convenors_office_edits(self, client, hainan):
        body = await raised(client, hainan)
        assert (await act(client, hainan.headers("convenor_office"), body["id"], "accept")).status_code == 200
        tag = make_etag(body["id"], 2)
        r = await client.patch(f"{URL}/{body['id']}", json={"title": "改"},
                               headers={**hainan.headers("water_leader"), "If-Match": tag})
        assert problem(r) == {"type": "https://envduty.example/problems/lead-decision-not-editable",
                              "title": "The decision can no longer be edited", "status": 409,
                              "code": "lead_decision_not_editable",
                              "detail": "The decision is consulting: it can no longer be edited."}
        r = await client.patch(f"{URL}/{body['id']}", json={"description": None, "scope_tests": ["complex"]},
                               headers={**hainan.headers("convenor_office"), "If-Match": tag})
        assert (r.status_code, r.json()["scope_tests"]) == (200, ["complex"])

    async def test_others_are_403_stale_is_412_missing_if_match_428_null_title_422(self, client, hainan):
        body = await raised(client, hainan)
        path, tag = f"{URL}/{body['id']}", make_etag(body["id"], 1)
        r = await client.patch(path, json={"title": "改"}, headers={**hainan.headers("agri_leader"), "If-Match": tag})
        assert problem(r)["code"] == "forbidden" and r.status_code == 403
        r = await client.patch(path, json={"title": "改"},
                               headers={**hainan.headers("water_leader"), "If-Match": '"9-stale"'})
        assert r.status_code == 412
        r = await client.patch(path, json={"title": "改"}, headers=hainan.headers("water_leader"))
        assert r.status_code == 428
        r = await client.patch(path, json={"title": None},
                               headers={**hainan.headers("water_leader"), "If-Match": tag})
        assert problem(r)["errors"][0]["pointer"] == "/title"


class TestProvincialPaths:
    async def test_hainan_the_office_convenes_and_the_provincial_party_and_government_approve_000_8(
            self, client, hainan, database):
        body = await raised(client, hainan)
        office, decider = hainan.headers("convenor_office"), hainan.headers("gov_leadership")
        assert (await act(client, office, body["id"], "accept")).json()["status"] == "consulting"
        for leader in ("agri_leader", "nr_leader"):
            r = await client.post(f"{URL}/{body['id']}/opinions", headers=hainan.headers(leader), json={
                "organisation_id": hainan.id(leader.removesuffix("_leader")), "stance": "agree"})
            assert r.status_code == 201, r.text
        r = await act(client, office, body["id"], "propose", proposal_body(hainan))
        assert (r.status_code, r.json()["status"], parties(r.json())["lead"], parties(r.json())["cooperating"]) == \
            (200, "proposed", ["海南省农业农村厅"], ["海南省自然资源厅"])
        assert r.json()["allowed_actions"] == []  # the office waits for 省委、省政府
        # The convenor's own leadership is not the decider (000 §(八) 报省委、省政府审定).
        assert (await act(client, hainan.headers("convenor_leadership"), body["id"], "approve")).status_code == 403
        r = await act(client, decider, body["id"], "approve", {"comment": "同意"})
        assert (r.status_code, r.json()["status"]) == (200, "approved")
        assert r.json()["decided_at"] is not None
        r = await act(client, office, body["id"], "publish", {"portal_url": "https://www.hainan.gov.cn/ld/1",
                                                             "published_on": "2024-05-20"})
        assert (r.json()["status"], r.json()["published_on"]) == ("published", "2024-05-20")
        assert [h[0] for h in await history(database, body["id"])] == \
            ["request", "accept", "propose", "approve", "publish"]
        assert await audit_actions(database, body["id"]) == [
            "lead_decision.create", "lead_decision.accept", "lead_decision.opinion", "lead_decision.opinion",
            "lead_decision.propose", "lead_decision.approve", "lead_decision.publish"]

    async def test_hainan_the_provincial_party_committee_also_approves_jointly(self, client, hainan):
        body = await raised(client, hainan, "convenor", "convenor_office")
        await act(client, hainan.headers("convenor_office"), body["id"], "propose", proposal_body(hainan))
        r = await act(client, hainan.headers("pc_leadership"), body["id"], "approve")
        assert r.json()["status"] == "approved"

    async def test_henan_a_returned_proposal_is_redone_and_approved_002_6(self, client, henan, database):
        body = await raised(client, henan, "env", "convenor_office", participants=("water", "agri"))
        office, decider = henan.headers("convenor_office"), henan.headers("gov_leadership")
        # The convenor does not decide in Henan: 省委、省政府 审定 (409: the profile has no such step).
        r = await act(client, henan.headers("convenor_leadership"), body["id"], "decide", proposal_body(henan))
        assert (r.status_code, problem(r)["code"]) == (409, "transition_not_allowed")
        await act(client, office, body["id"], "propose", proposal_body(henan, leads=("agri", "water"), first="agri",
                                                                       cooperating=()))
        r = await act(client, decider, body["id"], "return", {"comment": "任务分解不清"})
        assert r.json()["status"] == "consulting"
        r = await act(client, office, body["id"], "propose", proposal_body(henan))
        assert (parties(r.json())["lead"], parties(r.json())["cooperating"]) == (["河南省农业农村厅"], ["河南省自然资源厅"])
        assert r.json()["first_lead_organisation_id"] is None
        assert (await act(client, decider, body["id"], "approve")).json()["status"] == "approved"
        assert [h[:3] for h in await history(database, body["id"])] == [
            ("open", "", "consulting"), ("propose", "consulting", "proposed"),
            ("return", "proposed", "consulting"), ("propose", "consulting", "proposed"),
            ("approve", "proposed", "approved")]
        assert (await history(database, body["id"]))[2][3] == "任务分解不清"

    async def test_hubei_the_environment_committee_decides_without_leadership_approval_003_7(
            self, client, hubei, database):
        body = await raised(client, hubei, scope_tests=["no_lead", "outside_list"])
        await act(client, hubei.headers("convenor_office"), body["id"], "accept")
        # 省委、省政府 have no step in Hubei's lead decisions.
        assert (await act(client, hubei.headers("gov_leadership"), body["id"], "decide",
                          proposal_body(hubei))).status_code in (403, 404)
        r = await act(client, hubei.headers("convenor_leadership"), body["id"], "decide",
                      proposal_body(hubei, leads=("agri", "nr"), first="nr", cooperating=("water",)))
        assert (r.status_code, r.json()["status"], r.json()["first_lead_organisation_id"]) == \
            (200, "approved", hubei.id("nr"))
        assert r.json()["decided_at"] is not None and r.json()["proposed_at"] is not None
        r = await act(client, hubei.headers("convenor_office"), body["id"], "publish",
                      {"portal_url": "https://www.hubei.gov.cn/ld/7"})
        assert r.json()["status"] == "published"
        assert [h[0] for h in await history(database, body["id"])] == ["request", "accept", "decide", "publish"]

    async def test_shandong_the_environment_department_convenes_and_the_profiles_decider_approves_004_5(
            self, client, shandong):
        body = await raised(client, shandong, "env", "convenor_office")
        await act(client, shandong.headers("convenor_office"), body["id"], "propose", proposal_body(shandong))
        r = await act(client, shandong.headers("gov_leadership"), body["id"], "approve")
        assert r.json()["status"] == "approved"

    async def test_a_citys_matter_is_decided_by_the_citys_leadership_without_the_province_002_6(
            self, client, henan, database):
        body = await raised(client, henan, "city_water", "city_water_leader", participants=("city_agri",))
        await act(client, henan.headers("city_office"), body["id"], "accept")
        # The province's leadership is no party: it does not even see the city's matter.
        assert (await client.get(f"{URL}/{body['id']}", headers=henan.headers("gov_leadership"))).status_code == 404
        # Leads come from the city (decided at that level).
        r = await act(client, henan.headers("city_leadership"), body["id"], "decide",
                      proposal_body(henan, leads=("agri",), cooperating=()))
        assert problem(r)["errors"][0] == {"pointer": "/lead_organisation_ids/0", "source": "body",
                                           "type": "unknown_organisation",
                                           "message": "not an active organisation inside the decision's region"}
        r = await act(client, henan.headers("city_leadership"), body["id"], "decide",
                      proposal_body(henan, leads=("city_agri",), cooperating=("city_water",)))
        assert (r.status_code, r.json()["status"]) == (200, "approved")


class TestWithdrawAndReturn:
    async def test_the_convenors_office_withdraws_a_request_with_a_comment(self, client, hainan, database):
        body = await raised(client, hainan)
        assert (await act(client, hainan.headers("water_leader"), body["id"], "withdraw")).status_code == 403
        r = await act(client, hainan.headers("convenor_office"), body["id"], "withdraw", {"comment": "已有牵头部门"})
        assert (r.status_code, r.json()["status"], r.json()["allowed_actions"]) == (200, "withdrawn", [])
        assert (await history(database, body["id"]))[-1] == ("withdraw", "requested", "withdrawn", "已有牵头部门")
        r = await act(client, hainan.headers("convenor_office"), body["id"], "accept")
        assert problem(r) == {"type": "https://envduty.example/problems/transition-not-allowed",
                              "title": "Action not allowed in this state", "status": 409,
                              "code": "transition_not_allowed", "allowed_actions": [],
                              "detail": "The action 'accept' is not possible while the lead_decision is 'withdrawn'."}

    async def test_return_needs_a_comment_with_or_without_whitespace(self, client, hainan, database):
        body = await raised(client, hainan, "convenor", "convenor_office")
        await act(client, hainan.headers("convenor_office"), body["id"], "propose", proposal_body(hainan))
        decider = hainan.headers("gov_leadership")
        r = await act(client, decider, body["id"], "return")
        assert problem(r)["errors"][0]["pointer"] == "/comment"
        r = await act(client, decider, body["id"], "return", {"comment": "   "})
        assert problem(r)["errors"][0]["type"] in ("string_too_short", "comment_required")
        r = await act(client, decider, body["id"], "return", {"comment": "请补充任务分解"})
        assert r.json()["status"] == "consulting"
        assert (await history(database, body["id"]))[-1] == ("return", "proposed", "consulting", "请补充任务分解")


class TestProposalRules:
    async def _consulting(self, client, p) -> dict:
        return await raised(client, p, "convenor", "convenor_office")

    async def test_bad_proposals_are_422_with_every_pointer_and_change_nothing(self, client, hainan, henan,
                                                                            database):
        body = await self._consulting(client, hainan)
        bad = proposal_body(hainan, leads=("agri", "water"), cooperating=("agri",), first="nr")
        bad["lead_organisation_ids"].append(henan.id("agri"))  # another province's department
        bad["task_split"].append({"organisation_id": hainan.id("env"), "task": "配合"})
        r = await act(client, hainan.headers("convenor_office"), body["id"], "propose", bad)
        assert problem(r)["errors"] == [
            {"pointer": "/lead_organisation_ids/2", "source": "body", "type": "unknown_organisation",
             "message": "not an active organisation in this jurisdiction"},
            {"pointer": "/first_lead_organisation_id", "source": "body", "type": "not_a_lead",
             "message": "the first lead must be one of the leads"},
            {"pointer": "/cooperating_organisation_ids/0", "source": "body", "type": "also_a_lead",
             "message": "an organisation is either a lead or cooperating, not both"},
            {"pointer": "/task_split/1/organisation_id", "source": "body", "type": "not_in_proposal",
             "message": "tasks go to the proposal's lead or cooperating organisations"}]
        async with database.transaction(write=False) as s:
            decision = await s.get(LeadDecision, uuid.UUID(body["id"]))
            assert (decision.status.value, decision.version) == ("consulting", 1)
            assert await s.scalar(select(func.count()).where(LeadDecisionParty.decision_id == decision.id,
                                                             LeadDecisionParty.role == "lead")) == 0

    async def test_several_leads_need_a_first_lead(self, client, hainan):
        body = await self._consulting(client, hainan)
        r = await act(client, hainan.headers("convenor_office"), body["id"], "propose",
                      proposal_body(hainan, leads=("agri", "water")))
        assert problem(r)["errors"] == [{"pointer": "/first_lead_organisation_id", "source": "body",
                                         "type": "first_lead_required",
                                         "message": "name the first lead (第一牵头) among several leads"}]

    async def test_a_caller_who_may_not_propose_is_403_before_its_body_is_judged(self, client, hainan):
        body = await self._consulting(client, hainan)
        r = await act(client, hainan.headers("gov_leadership"), body["id"], "propose", {"lead_organisation_ids": [
            hainan.id("agri")], "rationale": "x", "first_lead_organisation_id": hainan.id("nr")})
        assert (r.status_code, problem(r)["code"]) == (403, "action_forbidden")

    async def test_publishing_in_the_future_is_422(self, client, hainan):
        body = await self._consulting(client, hainan)
        await act(client, hainan.headers("convenor_office"), body["id"], "propose", proposal_body(hainan))
        await act(client, hainan.headers("gov_leadership"), body["id"], "approve")
        r = await act(client, hainan.headers("convenor_office"), body["id"], "publish",
                      {"portal_url": "https://www.hainan.gov.cn/x", "published_on": "2999-01-01"})
        assert problem(r)["errors"][0]["type"] == "in_the_future"


class TestDecidedLeadReachesItems:
    async def test_on_approval_linked_items_take_the_decided_lead(self, client, hainan, database):
        from app.models import ResponsibilityItemOrganisation

        async with database.transaction() as s:
            item = await make_item(s, hainan, "water")
        body = await raised(client, hainan, linked_item_ids=[str(item.id)])
        await act(client, hainan.headers("convenor_office"), body["id"], "accept")
        await act(client, hainan.headers("convenor_office"), body["id"], "propose", proposal_body(hainan))
        r = await act(client, hainan.headers("gov_leadership"), body["id"], "approve")
        assert r.status_code == 200, r.text
        async with database.transaction(write=False) as s:
            leads = list(await s.scalars(select(ResponsibilityItemOrganisation.organisation_id).where(
                ResponsibilityItemOrganisation.relation == "lead")))
            assert leads == [hainan.org("agri").id]
