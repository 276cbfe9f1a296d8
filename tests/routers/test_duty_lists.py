"""/duty-lists: starting a list, each province's path to publication, returns, revisions, scope.

Provinces come from tests/factories_province.py (one per profile). Clauses:
000 §(七) Hainan departments publish their own lists; 002 §(五) Henan: 省生态环境厅 审核, then
省委、省政府 审定; 003 §(六) Hubei: 省委、省政府 批准; 004 §六 Shandong departments publish.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, DutyList, Role, TransitionHistory
from tests.factories import auth, make_user, problem
from tests.factories_province import build_province

PORTAL = "https://sthjt.example.gov.cn/zwgk/qd.html"


@pytest.fixture
async def provinces(database):
    async with database.transaction() as s:
        return {code: await build_province(s, code) for code in ("hainan", "henan", "hubei", "shandong")}


async def start(client, p, org_key: str = "env", title: str = "生态环境保护具体事项清单") -> dict:
    r = await client.post("/duty-lists", headers=p.headers(f"{org_key}_staff"),
                          json={"organisation_id": str(p.org(org_key).id), "title": title})
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, p, user: str, dl: dict, action: str, body: dict | None = None, expect: int = 200) -> dict:
    r = await client.post(f"/duty-lists/{dl['id']}/{action}", json=body or {},
                          headers={**p.headers(user), "If-Match": make_etag(dl["id"], dl["version"])})
    assert r.status_code == expect, r.text
    return r.json()


async def history(database, list_id) -> list[tuple[str, str, str]]:
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(TransitionHistory.action, TransitionHistory.from_status,
                                       TransitionHistory.to_status)
                                .where(TransitionHistory.resource_id == uuid.UUID(str(list_id)))
                                .order_by(TransitionHistory.occurred_at))).all()
    return [tuple(r) for r in rows]


class TestStartingAList:
    async def test_staff_start_their_organisations_list_as_a_draft(self, client, provinces, database):
        p = provinces["hainan"]
        r = await client.post("/duty-lists", headers=p.headers("env_staff"),
                              json={"organisation_id": str(p.org("env").id), "title": "海南省生态环境厅清单"})
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["Location"] == f"/duty-lists/{body['id']}"
        assert r.headers["ETag"] == make_etag(body["id"], 1)
        assert (body["status"], body["version_no"], body["profile_code"]) == ("draft", 1, "hainan")
        assert (body["review_by"], body["approval_by"]) == ([], [])  # 000 §(七): the department publishes
        assert body["allowed_actions"] == []  # staff draft; the leader publishes
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "duty_list.create",
                                                             AuditEvent.resource_id == body["id"])) == 1

    async def test_a_second_list_for_the_same_organisation_is_409(self, client, provinces):
        p = provinces["hainan"]
        await start(client, p)
        r = await client.post("/duty-lists", headers=p.headers("env_staff"),
                              json={"organisation_id": str(p.org("env").id), "title": "又一份"})
        assert problem(r)["code"] == "duty_list_exists" and r.status_code == 409

    async def test_a_leader_does_not_draft_nor_staff_of_another_organisation(self, client, provinces):
        p = provinces["hainan"]
        r = await client.post("/duty-lists", headers=p.headers("env_leader"),
                              json={"organisation_id": str(p.org("env").id), "title": "清单"})
        assert r.status_code == 403
        r = await client.post("/duty-lists", headers=p.headers("env_staff"),
                              json={"organisation_id": str(provinces["henan"].org("env").id), "title": "清单"})
        assert r.status_code == 403  # staff of another organisation: whether it exists does not show

    async def test_an_internal_unit_keeps_no_list_of_its_own(self, client, provinces, database):
        p = provinces["hainan"]
        async with database.transaction() as s:
            unit_staff = await make_user(s, "unit.staff", (p.org("env_unit"), Role.staff))
        r = await client.post("/duty-lists", headers=auth(unit_staff),
                              json={"organisation_id": str(p.org("env_unit").id), "title": "处室清单"})
        assert problem(r)["errors"][0]["type"] == "no_duty_list"


class TestEachProvincesPath:
    async def test_hainan_the_department_publishes_its_own_draft(self, client, provinces, database):
        """000 §(七): 通过本部门门户网站向社会公开, no review or approval."""
        p = provinces["hainan"]
        dl = await start(client, p)
        refused = await act(client, p, "env_leader", dl, "submit", expect=409)
        assert refused["allowed_actions"] == ["publish"]
        published = await act(client, p, "env_leader", dl, "publish",
                              {"portal_url": PORTAL, "published_on": "2024-05-10"})
        assert (published["status"], published["published_on"], published["portal_url"]) == (
            "published", "2024-05-10", PORTAL)
        assert await history(database, dl["id"]) == [("publish", "draft", "published")]

    async def test_henan_needs_review_by_the_environment_department_then_approval(self, client, provinces,
                                                                                  database):
        """002 §(五): 经省生态环境厅会同有关部门审核后报省委、省政府审定."""
        p = provinces["henan"]
        dl = await start(client, p, "water")
        assert [o["name"] for o in dl["review_by"]] == ["河南省生态环境厅"]
        assert sorted(o["name"] for o in dl["approval_by"]) == ["中共河南省委", "河南省人民政府"]
        assert (await act(client, p, "water_leader", dl, "publish", {"portal_url": PORTAL}, expect=409)
                )["allowed_actions"] == ["submit"]
        dl = await act(client, p, "water_leader", dl, "submit")
        assert (await act(client, p, "gov_leadership", dl, "approve", expect=409))["code"] == \
            "transition_not_allowed"  # 审定 after 审核
        dl = await act(client, p, "env_office", dl, "review")
        dl = await act(client, p, "pc_leadership", dl, "approve")
        dl = await act(client, p, "water_leader", dl, "publish", {"portal_url": PORTAL})
        assert dl["status"] == "published"
        assert [a for a, _, _ in await history(database, dl["id"])] == ["submit", "review", "approve", "publish"]

    async def test_henan_return_needs_a_comment_and_the_list_can_be_resubmitted(self, client, provinces):
        p = provinces["henan"]
        dl = await act(client, p, "water_leader", await start(client, p, "water"), "submit")
        r = await client.post(f"/duty-lists/{dl['id']}/return", json={},
                              headers={**p.headers("env_office"), "If-Match": make_etag(dl["id"], dl["version"])})
        assert r.status_code == 422
        dl = await act(client, p, "env_office", dl, "return", {"comment": "第3项缺少依据"})
        assert dl["status"] == "returned"
        assert (await act(client, p, "water_leader", dl, "submit"))["status"] == "submitted"

    async def test_hubei_is_approved_by_the_province_without_review(self, client, provinces):
        """003 §(六): 经省委、省政府批准后 … 公开; no 审核 step is named."""
        p = provinces["hubei"]
        dl = await act(client, p, "water_leader", await start(client, p, "water"), "submit")
        # An office that can see it (the government's, above the department) finds no review step: 409.
        assert (await act(client, p, "gov_office", dl, "review", expect=409))["code"] == "transition_not_allowed"
        dl = await act(client, p, "gov_leadership", dl, "approve")
        assert (await act(client, p, "water_leader", dl, "publish", {"portal_url": PORTAL}))["status"] == \
            "published"

    async def test_shandong_departments_publish_their_own(self, client, provinces):
        """004 §六: 通过本部门（单位）门户网站向社会公开."""
        p = provinces["shandong"]
        dl = await start(client, p)
        assert (await act(client, p, "env_leader", dl, "publish", {"portal_url": PORTAL}))["status"] == "published"

    async def test_a_city_list_is_signed_off_by_the_citys_own_bodies(self, client, provinces):
        """002 §(五) 各省辖市、县参照落实: the city's environment bureau reviews, its 党委政府 approve."""
        p = provinces["henan"]
        dl = await start(client, p, "city_env")
        assert [o["name"] for o in dl["review_by"]] == ["某市生态环境局"]
        assert sorted(o["name"] for o in dl["approval_by"]) == ["中共某市委", "某市人民政府"]

    async def test_a_future_publication_date_is_422(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/publish",
                              json={"portal_url": PORTAL, "published_on": "2999-01-01"},
                              headers={**p.headers("env_leader"), "If-Match": make_etag(dl["id"], dl["version"])})
        assert problem(r)["errors"][0]["type"] == "future_date"


class TestWhoSeesWhat:
    async def test_the_reviewer_sees_submitted_lists_of_other_departments_but_not_drafts(self, client, provinces):
        p = provinces["henan"]
        dl = await start(client, p, "water")
        assert (await client.get(f"/duty-lists/{dl['id']}", headers=p.headers("env_office"))).status_code == 404
        await act(client, p, "water_leader", dl, "submit")
        seen = await client.get(f"/duty-lists/{dl['id']}", headers=p.headers("env_office"))
        assert seen.status_code == 200 and seen.json()["allowed_actions"] == ["review", "return"]
        # A department that neither owns nor reviews it sees nothing.
        assert (await client.get(f"/duty-lists/{dl['id']}", headers=p.headers("edu_leader"))).status_code == 404

    async def test_lists_show_only_visible_versions(self, client, provinces):
        p = provinces["hainan"]
        mine = await start(client, p, "env")
        await start(client, p, "water")
        r = await client.get("/duty-lists", headers=p.headers("env_staff"), params={"include_total": "true"})
        assert [i["id"] for i in r.json()["items"]] == [mine["id"]] and r.json()["total"] == 1

    async def test_stale_and_missing_if_match(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/publish", json={"portal_url": PORTAL},
                              headers={**p.headers("env_leader"), "If-Match": '"9-stale"'})
        assert r.status_code == 412 and problem(r)["code"] == "stale_resource"
        r = await client.post(f"/duty-lists/{dl['id']}/publish", json={"portal_url": PORTAL},
                              headers=p.headers("env_leader"))
        assert r.status_code == 428


class TestConcurrentSteps:
    async def test_simultaneous_publishes_of_one_version_have_one_winner(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        headers = {**p.headers("env_leader"), "If-Match": make_etag(dl["id"], dl["version"])}
        answers = await asyncio.gather(*(client.post(f"/duty-lists/{dl['id']}/publish", json={"portal_url": PORTAL},
                                                     headers=headers) for _ in range(12)))
        codes = sorted(a.status_code for a in answers)
        assert codes.count(200) == 1 and set(codes) <= {200, 409, 412}, codes
        assert await history(database, dl["id"]) == [("publish", "draft", "published")]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "duty_list.publish",
                                                             AuditEvent.resource_id == dl["id"])) == 1
            assert (await s.get(DutyList, uuid.UUID(dl["id"]))).version == 2
