"""/inspections: campaigns, their rectification office, category trees, who sees and who registers.

Clauses: 001 一(二) the inspected department's own 巡视整改工作领导小组办公室 coordinates its rectification
and issues the 整改工作方案 (9月25日印发); 001 一(三) "科学制定问题分类" (the category tree); 003 §(十六)
enterprises can be inspected; DOMAIN.md "Inspections and findings" for the rest.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, OrganisationKind, Role
from tests.factories import auth, make_organisation, make_user, problem
from tests.findings_helpers import campaign


class TestCreating:
    async def test_a_central_inspection_is_rectified_through_the_regions_inspection_office(self, client, database):
        """The 督察办 designated in Hainan coordinates central-inspection rectification (DOMAIN.md)."""
        c = await campaign(database, client)
        i = c.inspection
        assert (i["kind"], i["inspecting_body"]["name"], i["rectification_office"]["name"]) == (
            "central_inspection", "中央第三生态环境保护督察组", "督察领导小组办公室")
        assert [o["name"] for o in i["inspected_organisations"]] == ["中共海南省委", "海南省人民政府"]
        assert (i["jurisdiction_id"], i["dispatch_cadence"], i["can_register_findings"]) == (
            str(c.org("root")), "monthly", True)
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "inspection.create",
                                                             AuditEvent.resource_id == i["id"])) == 1

    async def test_a_party_inspection_is_rectified_by_the_inspected_department_itself(self, client, database):
        """001 一(二): 厅党组…指定孙善芳副厅长具体分管巡视整改工作领导小组办公室,统筹协调整改工作."""
        c = await campaign(database, client, kind="party_inspection")
        assert c.inspection["rectification_office"]["name"] == "海南省生态环境厅"
        assert c.inspection["onsite_start_date"] == "2020-04-10" and c.inspection["feedback_date"] == "2020-09-11"

    async def test_an_enterprise_may_be_inspected_and_a_named_office_wins(self, client, database):
        """003 §(十六): 中央在鄂企业 are inspected too."""
        c = await campaign(database, client)
        async with database.transaction() as s:
            firm = await make_organisation(s, "某省属企业", kind=OrganisationKind.enterprise, parent=c.p.org("gov"))
        r = await client.post("/inspections", headers=c.h("cn_inspector"), json={
            "kind": "provincial_special", "title": "专项督察", "inspecting_body_id": str(c.org("cn_group")),
            "inspected_organisation_ids": [str(firm.id)], "rectification_office_id": str(c.org("env"))})
        assert r.status_code == 201, r.text
        assert r.json()["rectification_office"]["name"] == "海南省生态环境厅"

    async def test_unknown_and_cross_province_organisations_are_422(self, client, database):
        c = await campaign(database, client)
        async with database.transaction() as s:
            other = await make_organisation(s, "河南省", kind=OrganisationKind.region, profile_code="henan")
        r = await client.post("/inspections", headers=c.h("cn_inspector"), json={
            "kind": "daily", "title": "日常督察", "inspecting_body_id": str(uuid.uuid4()),
            "inspected_organisation_ids": [str(c.org("env")), str(other.id)]})
        assert r.status_code == 422
        assert [(e["pointer"], e["type"]) for e in problem(r)["errors"]] == [
            ("/inspecting_body_id", "unknown_organisation")]
        r = await client.post("/inspections", headers=c.h("cn_inspector"), json={
            "kind": "daily", "title": "日常督察", "inspecting_body_id": str(c.org("cn_group")),
            "inspected_organisation_ids": [str(c.org("env")), str(other.id)]})
        assert [(e["pointer"], e["type"]) for e in problem(r)["errors"]] == [
            ("/inspected_organisation_ids/1", "other_province")]

    async def test_only_the_inspectors_or_the_rectification_office_register_a_campaign(self, client, database):
        c = await campaign(database, client)
        r = await client.post("/inspections", headers=c.h("env_leader"), json={
            "kind": "central_inspection", "title": "督察", "inspecting_body_id": str(c.org("cn_group")),
            "inspected_organisation_ids": [str(c.org("gov"))]})
        assert (r.status_code, problem(r)) == (403, {
            "type": "https://envduty.example/problems/forbidden", "title": "Not allowed", "status": 403,
            "detail": "Only inspectors of the inspecting body or the office of the rectification office register "
                      "an inspection.", "code": "forbidden"})


class TestReadingAndEditing:
    async def test_the_national_group_its_office_and_the_inspected_see_it_others_do_not(self, client, database):
        c = await campaign(database, client)
        url = f"/inspections/{c.inspection['id']}"
        for user in ("cn_inspector", "inspection_office_office", "gov_leadership", "root_viewer"):
            assert (await client.get(url, headers=c.h(user))).status_code == 200, user
        assert (await client.get(url, headers=c.h("env_staff"))).status_code == 404  # below 省政府, not inspected
        async with database.transaction() as s:
            stranger = await make_user(s, "another.inspector", (c.p.org("city"), Role.inspector))
        assert (await client.get(url, headers=auth(stranger))).status_code == 404
        r = await client.get("/inspections", headers=c.h("cn_inspector"), params={"include_total": "true"})
        assert [i["id"] for i in r.json()["items"]] == [c.inspection["id"]] and r.json()["total"] == 1

    async def test_the_office_records_the_campaigns_rectification_plan(self, client, database):
        """001 一(二): 9月25日,印发《中共海南省生态环境厅党组落实省委巡视反馈意见整改工作方案》."""
        c = await campaign(database, client, kind="party_inspection")
        i = c.inspection
        plan = {"issued_date": "2020-09-25", "document_title": "中共海南省生态环境厅党组落实省委巡视反馈意见整改工作方案",
                "leading_group": "组长:党组书记、厅长;第一副组长:分管副厅长"}
        r = await client.patch(f"/inspections/{i['id']}", json={"rectification_plan": plan},
                               headers={**c.h("env_office"), "If-Match": make_etag(i["id"], i["version"])})
        assert r.status_code == 200, r.text
        assert r.json()["rectification_plan"] == {**plan, "document_number": None}
        assert r.headers["ETag"] == make_etag(i["id"], 2)
        r = await client.patch(f"/inspections/{i['id']}", json={"note": "x"},
                               headers={**c.h("env_staff"), "If-Match": make_etag(i["id"], 2)})
        assert r.status_code == 403
        r = await client.patch(f"/inspections/{i['id']}", json={"note": "x"},
                               headers={**c.h("env_office"), "If-Match": make_etag(i["id"], 1)})
        assert problem(r)["code"] == "stale_resource"


class TestCategories:
    async def test_a_tree_of_aspects_and_topics(self, client, database):
        """001 二: five 方面 (一)…(五), topics 1., 2. under them."""
        c = await campaign(database, client, kind="party_inspection")
        url = f"/inspections/{c.inspection['id']}/categories"
        first = (await client.post(url, headers=c.h("env_office"), json={
            "code": "(一)", "title": "落实党的路线方针政策和党中央决策部署方面"})).json()
        second = (await client.post(url, headers=c.h("xunshi_inspector"), json={
            "code": "(二)", "title": "落实全面从严治党战略部署方面"})).json()
        topic = await client.post(url, headers=c.h("env_office"), json={
            "parent_id": first["id"], "code": "1.", "title": "夯实习近平生态文明思想,推进重点工作落实"})
        assert topic.status_code == 201 and topic.json()["depth"] == 1
        tree = (await client.get(url, headers=c.h("env_viewer"))).json()["items"]
        assert [(n["code"], n["depth"]) for n in tree] == [("(一)", 0), ("1.", 1), ("(二)", 0)]
        assert second["position"] == 1
        r = await client.post(url, headers=c.h("env_staff"), json={"title": "x"})
        assert r.status_code == 403
        r = await client.post(url, headers=c.h("env_office"), json={"parent_id": str(uuid.uuid4()), "title": "x"})
        assert problem(r)["errors"][0]["type"] == "unknown_category"
