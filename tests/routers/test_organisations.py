"""/organisations: create, read, list, update, move, deactivate; the role × scope matrix; paging.

World (tests/factories.py):
    hainan ─┬ gov ─┬ env ── env_unit          office_body ── office (members: env, water)
            │      └ water                    haikou ── haikou_gov ── haikou_env
    henan ── henan_gov ── henan_env
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.core import security
from app.core.etag import make_etag
from app.models import (
    AuditEvent,
    CoordinationMember,
    IntegrationClient,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
    Role,
)
from tests.factories import make_organisation, make_user

ORGS = "/organisations"
PROBLEM = "https://envduty.example/problems/"
HAINAN = {"hainan", "gov", "env", "env_unit", "water", "office_body", "office", "haikou", "haikou_gov", "haikou_env"}
HENAN = {"henan", "henan_gov", "henan_env"}
NON_ADMIN_ROLES = [r.value for r in Role if r is not Role.admin]
# Written by hand from DOMAIN.md's scope rules, not derived from the code under test.
VISIBLE: dict[str, set[str]] = {
    "admin": HAINAN,
    "henan_admin": HENAN,
    **{f"env_{role}": {"env", "env_unit"} for role in NON_ADMIN_ROLES},
    "office": {"office", "env", "env_unit", "water"},  # its own org + the coordination body's member units
    "gov_leadership": {"gov", "env", "env_unit", "water"},
    "haikou_staff": {"haikou_env"},
    "henan_staff": {"henan_env"},
}
NON_ADMINS = sorted(set(VISIBLE) - {"admin", "henan_admin"})
NATIONAL = OrganisationLevel.national


# ---------------------------------------------------------------- helpers

def problem(response, status: int, code: str, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["status"], body["code"], body["title"]) == (status, code, title)
    assert body["type"] == PROBLEM + code.replace("_", "-")
    return body


def pointers(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["pointer"], e["type"]) for e in body["errors"]}


def new_org(**fields: Any) -> dict[str, Any]:
    body = {"name": "测试局", "kind": "department", "level": "province", **fields}
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}


async def create(client, world, user: str = "admin", **fields: Any):
    return await client.post(ORGS, json=new_org(**fields), headers=world.headers(user))


async def row(database, org_id) -> Organisation | None:
    async with database.transaction(write=False) as s:
        return await s.get(Organisation, org_id)


async def etag(database, org_id) -> str:
    return make_etag(org_id, (await row(database, org_id)).version)


async def patch(client, world, database, org_id, body: dict[str, Any], user: str = "admin"):
    headers = {**world.headers(user), "If-Match": await etag(database, org_id)}
    return await client.patch(f"{ORGS}/{org_id}", json=body, headers=headers)


async def action(client, world, database, org_id, name: str, user: str = "admin"):
    headers = {**world.headers(user), "If-Match": await etag(database, org_id)}
    return await client.post(f"{ORGS}/{org_id}/{name}", headers=headers)


async def audit_events(database, org_id) -> list[AuditEvent]:
    async with database.transaction(write=False) as s:
        return list((await s.scalars(select(AuditEvent).where(
            AuditEvent.resource_type == "organisation", AuditEvent.resource_id == str(org_id))
            .order_by(AuditEvent.seq))).all())


async def tree_state(database) -> tuple[set, dict]:
    async with database.transaction(write=False) as s:
        closure = set((await s.execute(select(OrganisationClosure.ancestor_id, OrganisationClosure.descendant_id,
                                              OrganisationClosure.depth))).all())
        orgs = {o.id: (o.parent_id, o.depth, o.jurisdiction_id, o.version, o.is_active)
                for o in (await s.scalars(select(Organisation))).all()}
    return closure, orgs


def assert_tree_consistent(closure: set, orgs: dict) -> None:
    """Closure, depth and jurisdiction equal what the parent pointers imply."""
    expected = set()
    for org_id in orgs:
        node, depth, seen = org_id, 0, set()
        while node is not None:
            assert node not in seen, "cycle"
            seen.add(node)
            expected.add((node, org_id, depth))
            root, node, depth = node, orgs[node][0], depth + 1
        assert orgs[org_id][1:3] == (depth - 1, root)
    assert closure == expected


def ids(world, *keys: str) -> set[str]:
    return {str(world.org(k).id) for k in keys}


# ---------------------------------------------------------------- create

class TestCreateOrganisation:
    async def test_admin_creates_a_child_in_scope(self, client, world, database):
        channels = [{"kind": "hotline", "value": "0898-12369", "label": "举报热线"},
                    {"kind": "email", "value": "jubao@hainan.gov.cn", "label": None}]
        r = await create(client, world, name="海南省林业局", name_en="Hainan Forestry", short_code="HI-FOR",
                         parent_id=world.org("gov").id, major_duty=True, lead_person="张三",
                         complaint_channels=channels)
        assert r.status_code == 201, r.text
        body = r.json()
        org_id = uuid.UUID(body["id"])
        assert r.headers["Location"] == f"{ORGS}/{org_id}"
        assert r.headers["ETag"] == make_etag(org_id, 1)
        assert {k: body[k] for k in ("name", "short_code", "parent_id", "jurisdiction_id", "depth", "major_duty",
                                     "lead_person", "member_unit_ids", "is_active", "version", "profile_code")} == {
            "name": "海南省林业局", "short_code": "HI-FOR", "parent_id": str(world.org("gov").id),
            "jurisdiction_id": str(world.org("hainan").id), "depth": 2, "major_duty": True, "lead_person": "张三",
            "member_unit_ids": [], "is_active": True, "version": 1, "profile_code": None}
        assert body["complaint_channels"] == channels
        closure, orgs = await tree_state(database)
        assert {(a, d) for a, o, d in closure if o == org_id} == {
            (org_id, 0), (world.org("gov").id, 1), (world.org("hainan").id, 2)}
        assert_tree_consistent(closure, orgs)
        events = await audit_events(database, org_id)
        assert [(e.action, e.before, e.after["name"], e.after["parent_id"]) for e in events] == [
            ("organisation.create", None, "海南省林业局", str(world.org("gov").id))]
        assert events[0].actor_id == str(world.users["admin"].id)

    async def test_root_admin_creates_a_root(self, client, world):
        r = await create(client, world, name="湖北省", kind="region", level="province", profile_code="hubei")
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["parent_id"], body["jurisdiction_id"], body["depth"], body["profile_code"]) == (
            None, body["id"], 0, "hubei")

    async def test_admin_below_a_root_cannot_create_a_root(self, client, world, database):
        async with database.transaction() as s:
            world.users["gov_admin"] = await make_user(s, "t.gov.admin", (world.org("gov"), Role.admin))
        r = await create(client, world, "gov_admin", name="生态环境部", kind="national_body", level="national")
        problem(r, 403, "forbidden", "Not allowed")
        # ...but it may create inside its own subtree
        assert (await create(client, world, "gov_admin", parent_id=world.org("env").id)).status_code == 201

    async def test_parent_in_another_province_is_unknown_and_nothing_is_written(self, client, world, database):
        foreign = await create(client, world, name="越权单位", parent_id=world.org("henan_gov").id)
        missing = await create(client, world, name="越权单位", parent_id=uuid.uuid4())
        bodies = [problem(r, 422, "validation_failed", "Request is not valid") for r in (foreign, missing)]
        for body in bodies:
            assert body["errors"] == [{"pointer": "/parent_id", "source": "body", "type": "unknown_organisation",
                                       "message": "unknown organisation"}]
            body.pop("request_id")
        assert bodies[0] == bodies[1]  # no existence oracle
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(Organisation.name == "越权单位")) == 0

    async def test_superior_department_may_be_in_another_tree_but_must_exist_and_be_active(
            self, client, world, database):
        async with database.transaction() as s:
            mee = await make_organisation(s, "生态环境部", kind=OrganisationKind.national_body, level=NATIONAL)
            gone = await make_organisation(s, "已撤销", kind=OrganisationKind.national_body, level=NATIONAL,
                                           is_active=False)
        r = await create(client, world, parent_id=world.org("gov").id, superior_department_id=mee.id)
        assert r.status_code == 201 and r.json()["superior_department_id"] == str(mee.id)
        for superior, kind in ((uuid.uuid4(), "unknown_organisation"), (gone.id, "inactive_organisation")):
            r = await create(client, world, parent_id=world.org("gov").id, superior_department_id=superior)
            assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
                ("/superior_department_id", kind)}

    async def test_inactive_parent_is_refused(self, client, world, database):
        async with database.transaction() as s:
            await s.execute(update(Organisation).where(Organisation.id == world.org("env_unit").id)
                            .values(is_active=False))
        r = await create(client, world, kind="internal_unit", parent_id=world.org("env_unit").id)
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            ("/parent_id", "inactive_organisation")}

    @pytest.mark.parametrize(("fields", "expected"), [
        ({"profile_code": "hainan", "parent_id": "gov"}, {("/profile_code", "not_a_root")}),
        ({"profile_code": "atlantis"}, {("/profile_code", "unknown_profile")}),
        ({"parent_id": "gov", "member_unit_ids": ["env"]}, {("/member_unit_ids", "not_a_coordination_body")}),
        ({"parent_id": "hainan", "kind": "coordination_body", "member_unit_ids": ["env", "henan_env"]},
         {("/member_unit_ids/1", "unknown_organisation")}),
    ])
    async def test_bad_references_are_422_with_a_pointer(self, client, world, fields, expected):
        fields = {k: (world.org(v).id if k == "parent_id" else [world.org(m).id for m in v] if k == "member_unit_ids"
                      else v) for k, v in fields.items()}
        fields["member_unit_ids"] = [str(m) for m in fields.get("member_unit_ids", [])]
        r = await create(client, world, **fields)
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == expected

    @pytest.mark.parametrize(("channels", "pointer"), [
        ([{"kind": "email", "value": "not-an-address"}], "/complaint_channels/0/value"),
        ([{"kind": "web", "value": "javascript:alert(1)"}], "/complaint_channels/0/value"),
        ([{"kind": "hotline", "value": "call us"}], "/complaint_channels/0/value"),
        ([{"kind": "fax", "value": "123"}], "/complaint_channels/0/kind"),
        ([{"kind": "mail", "value": "海口市美兰区 1 号"}] * 21, "/complaint_channels"),
    ])
    async def test_complaint_channels_are_validated(self, client, world, channels, pointer):
        r = await create(client, world, parent_id=world.org("gov").id, complaint_channels=channels)
        body = problem(r, 422, "validation_failed", "Request is not valid")
        assert pointer in {e["pointer"] for e in body["errors"]}

    async def test_coordination_body_keeps_its_member_units(self, client, world, database):
        members = sorted([world.org("env").id, world.org("water").id])
        r = await create(client, world, name="环委会", kind="coordination_body", parent_id=world.org("hainan").id,
                         member_unit_ids=[str(m) for m in members] + [str(members[0])])
        assert r.status_code == 201, r.text
        assert r.json()["member_unit_ids"] == [str(m) for m in members]
        async with database.transaction(write=False) as s:
            stored = await s.scalars(select(CoordinationMember.member_id)
                                     .where(CoordinationMember.body_id == uuid.UUID(r.json()["id"])))
            assert sorted(stored.all()) == members

    async def test_duplicate_short_code_is_409(self, client, world):
        assert (await create(client, world, short_code="HI-X", parent_id=world.org("gov").id)).status_code == 201
        r = await create(client, world, short_code="HI-X", parent_id=world.org("gov").id)
        problem(r, 409, "short_code_taken", "Short code already in use")

    async def test_computed_fields_cannot_be_sent(self, client, world):
        r = await create(client, world, parent_id=world.org("gov").id, jurisdiction_id=world.org("gov").id)
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            ("/jurisdiction_id", "extra_forbidden")}

    async def test_idempotency_key_replays_the_first_response(self, client, world, database):
        headers = {**world.headers("admin"), "Idempotency-Key": "create-forestry-1"}
        payload = new_org(name="重放局", parent_id=world.org("gov").id)
        first = await client.post(ORGS, json=payload, headers=headers)
        second = await client.post(ORGS, json=payload, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
        assert second.headers["ETag"] == first.headers["ETag"]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(Organisation.name == "重放局")) == 1


# ---------------------------------------------------------------- read and list

class TestReadAndList:
    async def test_get_returns_the_record_with_its_etag(self, client, world):
        env = world.org("env")
        r = await client.get(f"{ORGS}/{env.id}", headers=world.headers("env_staff"))
        assert r.status_code == 200
        assert r.headers["ETag"] == make_etag(env.id, 1)
        assert (r.json()["name"], r.json()["depth"], r.json()["kind"]) == ("海南省生态环境厅", 2, "department")

    async def test_coordination_body_lists_its_member_units(self, client, world):
        r = await client.get(f"{ORGS}/{world.org('office_body').id}", headers=world.headers("admin"))
        assert set(r.json()["member_unit_ids"]) == ids(world, "env", "water")

    @pytest.mark.parametrize(("query", "expected"), [
        ({}, HAINAN),
        ({"kind": "department"}, {"env", "water", "haikou_env"}),
        ({"level": "city"}, {"haikou", "haikou_gov", "haikou_env"}),
        ({"parent_id": "gov"}, {"env", "water"}),
        ({"subtree_of": "gov"}, {"gov", "env", "env_unit", "water"}),
        ({"subtree_of": "henan"}, set()),  # out of scope: matches nothing, no 404 oracle
        ({"jurisdiction_id": "henan"}, set()),
        ({"jurisdiction_id": "hainan", "major_duty": "true"}, {"env", "water"}),
        ({"q": "水"}, {"env_unit", "water"}),
        ({"q": "%"}, set()),  # LIKE wildcards are matched literally
    ])
    async def test_filters(self, client, world, query, expected):
        params = {k: (str(world.org(v).id) if k in ("parent_id", "subtree_of", "jurisdiction_id") else v)
                  for k, v in query.items()}
        r = await client.get(ORGS, params={**params, "limit": 200}, headers=world.headers("admin"))
        assert r.status_code == 200, r.text
        assert {i["id"] for i in r.json()["items"]} == ids(world, *expected)

    async def test_q_longer_than_100_characters_is_422(self, client, world):
        r = await client.get(ORGS, params={"q": "x" * 101}, headers=world.headers("admin"))
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {("query/q", "string_too_long")}

    async def test_seven_children_come_in_three_pages_without_duplicates(self, client, world):
        created = set()
        for i in range(7):
            r = await create(client, world, name=f"处室{i}", kind="internal_unit", parent_id=world.org("water").id)
            created.add(r.json()["id"])
        for url, params in ((ORGS, {"parent_id": str(world.org("water").id)}),
                            (f"{ORGS}/{world.org('water').id}/children", {})):
            seen, sizes, cursor = [], [], None
            while True:
                page = {**params, "limit": 3, "include_total": "true", **({"cursor": cursor} if cursor else {})}
                body = (await client.get(url, params=page, headers=world.headers("admin"))).json()
                assert body["total"] == 7
                sizes.append(len(body["items"]))
                seen += [i["id"] for i in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert sizes == [3, 3, 1]
            assert len(seen) == len(set(seen)) == 7 and set(seen) == created

    async def test_tampered_or_foreign_cursor_is_422(self, client, world):
        for i in range(3):
            await create(client, world, name=f"处室{i}", kind="internal_unit", parent_id=world.org("water").id)
        children = f"{ORGS}/{world.org('water').id}/children"
        cursor = (await client.get(children, params={"limit": 1}, headers=world.headers("admin"))).json()["next_cursor"]
        tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
        for url, bad in ((children, tampered), (ORGS, cursor), (ORGS, "not-a-cursor")):
            r = await client.get(url, params={"cursor": bad}, headers=world.headers("admin"))
            body = problem(r, 422, "validation_failed", "Request is not valid")
            assert pointers(body) == {("query/cursor", "invalid_cursor")}

    async def test_ancestors_are_root_first_even_above_the_callers_scope(self, client, world):
        r = await client.get(f"{ORGS}/{world.org('env_unit').id}/ancestors", headers=world.headers("env_staff"))
        assert r.status_code == 200
        assert [(a["name"], a["depth"]) for a in r.json()["items"]] == [
            ("海南省", 0), ("海南省人民政府", 1), ("海南省生态环境厅", 2)]

    async def test_subtree_lists_the_org_and_its_descendants_with_depth_from(self, client, world):
        r = await client.get(f"{ORGS}/{world.org('gov').id}/subtree", headers=world.headers("admin"))
        got = {(i["id"], i["depth_from"]) for i in r.json()["items"]}
        assert got == {(str(world.org(k).id), d) for k, d in (("gov", 0), ("env", 1), ("water", 1), ("env_unit", 2))}
        assert [i["depth_from"] for i in r.json()["items"]] == [0, 1, 1, 2]

    async def test_subtree_pages_by_depth(self, client, world):
        url = f"{ORGS}/{world.org('hainan').id}/subtree"
        seen, cursor = [], None
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            body = (await client.get(url, params=params, headers=world.headers("admin"))).json()
            seen += [(i["depth_from"], i["id"]) for i in body["items"]]
            if not (cursor := body["next_cursor"]):
                break
        assert len(seen) == 10 and {i for _, i in seen} == ids(world, *HAINAN)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# ---------------------------------------------------------------- update

class TestUpdateOrganisation:
    async def test_patch_with_if_match_changes_the_fields_sent(self, client, world, database):
        env = world.org("env")
        r = await patch(client, world, database, env.id, {"name_en": "Hainan DEE", "lead_person": "李四",
                                                          "major_duty": False})
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == make_etag(env.id, 2)
        body = r.json()
        assert (body["name"], body["name_en"], body["lead_person"], body["major_duty"], body["version"]) == (
            "海南省生态环境厅", "Hainan DEE", "李四", False, 2)
        assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(body["created_at"])
        events = await audit_events(database, env.id)
        assert [e.action for e in events] == ["organisation.update"]
        assert (events[0].before["lead_person"], events[0].after["lead_person"]) == (None, "李四")
        assert (events[0].before["version"], events[0].after["version"]) == (1, 2)

    async def test_stale_if_match_is_412_and_changes_nothing(self, client, world, database):
        env = world.org("env")
        stale = make_etag(env.id, 1)
        assert (await patch(client, world, database, env.id, {"lead_person": "甲"})).status_code == 200
        r = await client.patch(f"{ORGS}/{env.id}", json={"lead_person": "乙"},
                               headers={**world.headers("admin"), "If-Match": stale})
        body = problem(r, 412, "stale_resource", "Precondition failed")
        assert body["current_etag"] == make_etag(env.id, 2)
        assert (await row(database, env.id)).lead_person == "甲"

    async def test_missing_if_match_is_428(self, client, world, database):
        env = world.org("env")
        r = await client.patch(f"{ORGS}/{env.id}", json={"lead_person": "乙"}, headers=world.headers("admin"))
        assert r.status_code == 428 and r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body.pop("request_id") == r.headers["X-Request-Id"]
        assert body == {"type": PROBLEM + "if-match-required", "title": "Precondition required", "status": 428,
                        "detail": "Send If-Match with the ETag from your last read of this record.",
                        "code": "if_match_required", "instance": f"{ORGS}/{env.id}"}
        assert (await row(database, env.id)).version == 1

    @pytest.mark.parametrize("field", ["jurisdiction_id", "depth", "is_active", "version", "id"])
    async def test_computed_and_action_fields_are_not_patchable(self, client, world, database, field):
        value = {"jurisdiction_id": str(uuid.uuid4()), "depth": 0, "is_active": False, "version": 9,
                 "id": str(uuid.uuid4())}[field]
        r = await patch(client, world, database, world.org("env").id, {field: value})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            (f"/{field}", "extra_forbidden")}

    @pytest.mark.parametrize("field", ["name", "kind", "level", "major_duty", "complaint_channels",
                                       "member_unit_ids"])
    async def test_required_fields_cannot_be_nulled(self, client, world, database, field):
        r = await patch(client, world, database, world.org("env").id, {field: None})
        assert f"/{field}" in {e["pointer"] for e in problem(r, 422, "validation_failed",
                                                              "Request is not valid")["errors"]}

    async def test_noop_patch_keeps_the_version_and_writes_no_audit(self, client, world, database):
        env = world.org("env")
        r = await patch(client, world, database, env.id, {"name": env.name})
        assert r.status_code == 200 and r.json()["version"] == 1
        assert await audit_events(database, env.id) == []

    async def test_lead_unit_must_be_an_active_internal_unit_inside(self, client, world, database):
        env = world.org("env")
        r = await patch(client, world, database, env.id, {"lead_unit_id": str(world.org("env_unit").id)})
        assert r.status_code == 200 and r.json()["lead_unit_id"] == str(world.org("env_unit").id)
        dept = (await create(client, world, name="下属部门", parent_id=env.id)).json()["id"]
        for unit, kind in ((world.org("water").id, "unknown_organisation"),
                           (world.org("henan_env").id, "unknown_organisation"),
                           (dept, "not_an_internal_unit")):
            r = await patch(client, world, database, env.id, {"lead_unit_id": str(unit)})
            assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {("/lead_unit_id", kind)}
        # the unit it points at stays an internal unit
        r = await patch(client, world, database, world.org("env_unit").id, {"kind": "department"})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {("/kind", "is_lead_unit")}

    async def test_short_code_conflict_is_409(self, client, world, database):
        await patch(client, world, database, world.org("water").id, {"short_code": "HI-WATER"})
        r = await patch(client, world, database, world.org("env").id, {"short_code": "HI-WATER"})
        problem(r, 409, "short_code_taken", "Short code already in use")

    async def test_member_units_are_replaced_and_kind_change_needs_them_gone(self, client, world, database):
        body_id = world.org("office_body").id
        r = await patch(client, world, database, body_id, {"member_unit_ids": [str(world.org("haikou_gov").id)]})
        assert r.json()["member_unit_ids"] == [str(world.org("haikou_gov").id)]
        r = await patch(client, world, database, body_id, {"kind": "department"})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {("/kind", "has_member_units")}
        r = await patch(client, world, database, body_id, {"kind": "department", "member_unit_ids": []})
        assert r.status_code == 200 and r.json()["member_unit_ids"] == []


# ---------------------------------------------------------------- moving subtrees

class TestMoveSubtree:
    async def test_move_rewrites_closure_depth_and_subtree_listing(self, client, world, database):
        env, haikou_gov = world.org("env"), world.org("haikou_gov")
        r = await patch(client, world, database, env.id, {"parent_id": str(haikou_gov.id)})
        assert r.status_code == 200, r.text
        assert (r.json()["parent_id"], r.json()["depth"], r.json()["version"]) == (str(haikou_gov.id), 3, 2)
        closure, orgs = await tree_state(database)
        assert_tree_consistent(closure, orgs)
        sub = (await client.get(f"{ORGS}/{haikou_gov.id}/subtree", headers=world.headers("admin"))).json()["items"]
        assert {(i["id"], i["depth_from"], i["depth"]) for i in sub} == {
            (str(haikou_gov.id), 0, 2), (str(world.org("haikou_env").id), 1, 3), (str(env.id), 1, 3),
            (str(world.org("env_unit").id), 2, 4)}
        unit = (await client.get(f"{ORGS}/{world.org('env_unit').id}", headers=world.headers("admin"))).json()
        assert (unit["depth"], unit["version"]) == (4, 2)  # a descendant's ETag changes with its depth
        chain = (await client.get(f"{ORGS}/{world.org('env_unit').id}/ancestors",
                                  headers=world.headers("admin"))).json()["items"]
        assert [a["name"] for a in chain] == ["海南省", "海口市", "海口市人民政府", "海南省生态环境厅"]
        events = await audit_events(database, env.id)
        assert [(e.before["parent_id"], e.after["parent_id"]) for e in events] == [
            (str(world.org("gov").id), str(haikou_gov.id))]

    async def test_move_to_another_province_changes_jurisdiction_and_scope(self, client, world, database):
        async with database.transaction() as s:
            world.users["both"] = await make_user(s, "t.both.admin", (world.org("hainan"), Role.admin),
                                                  (world.org("henan"), Role.admin))
        env, henan_gov = world.org("env"), world.org("henan_gov")
        r = await patch(client, world, database, env.id, {"parent_id": str(henan_gov.id)}, user="both")
        assert r.status_code == 200, r.text
        closure, orgs = await tree_state(database)
        assert_tree_consistent(closure, orgs)
        assert orgs[world.org("env_unit").id][1:3] == (3, world.org("henan").id)
        assert (await client.get(f"{ORGS}/{env.id}", headers=world.headers("admin"))).status_code == 404
        assert (await client.get(f"{ORGS}/{env.id}", headers=world.headers("henan_admin"))).status_code == 200

    async def test_parent_outside_the_admins_scope_is_unknown(self, client, world, database):
        before = await tree_state(database)
        r = await patch(client, world, database, world.org("env").id, {"parent_id": str(world.org("henan_gov").id)})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            ("/parent_id", "unknown_organisation")}
        assert await tree_state(database) == before

    @pytest.mark.parametrize(("target", "what"), [("env", "one of its own descendants"),
                                                  ("env_unit", "one of its own descendants"), ("gov", "itself")])
    async def test_cycle_is_422_and_the_tree_is_unchanged(self, client, world, database, target, what):
        gov = world.org("gov")
        before = await tree_state(database)
        r = await patch(client, world, database, gov.id, {"parent_id": str(world.org(target).id)})
        assert r.status_code == 422
        body = r.json()
        body.pop("request_id")
        assert body == {"type": PROBLEM + "organisation-cycle", "title": "The move would create a cycle",
                        "status": 422, "detail": f"An organisation cannot be placed under {what}.",
                        "code": "organisation_cycle", "instance": f"{ORGS}/{gov.id}",
                        "errors": [{"pointer": "/parent_id", "source": "body", "type": "organisation_cycle",
                                    "message": f"the new parent is {what}"}]}
        assert await tree_state(database) == before
        assert await audit_events(database, gov.id) == []

    async def test_under_itself_is_a_cycle(self, client, world, database):
        env = world.org("env")
        before = await tree_state(database)
        r = await patch(client, world, database, env.id, {"parent_id": str(env.id)})
        body = problem(r, 422, "organisation_cycle", "The move would create a cycle")
        assert body["detail"] == "An organisation cannot be placed under itself."
        assert await tree_state(database) == before

    async def test_roots_do_not_move_and_nothing_becomes_a_root(self, client, world, database):
        r = await patch(client, world, database, world.org("hainan").id, {"parent_id": str(world.org("gov").id)})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            ("/parent_id", "root_cannot_move")}
        r = await patch(client, world, database, world.org("env").id, {"parent_id": None})
        assert pointers(problem(r, 422, "validation_failed", "Request is not valid")) == {
            ("/parent_id", "cannot_make_root")}

    async def test_move_that_takes_an_ancestors_lead_unit_away_is_409(self, client, world, database):
        gov = world.org("gov")
        assert (await patch(client, world, database, gov.id,
                            {"lead_unit_id": str(world.org("env_unit").id)})).status_code == 200
        r = await patch(client, world, database, world.org("env").id,
                        {"parent_id": str(world.org("haikou_gov").id)})
        problem(r, 409, "conflict", "Conflict")
        # within gov's subtree it may move
        r = await patch(client, world, database, world.org("env").id, {"parent_id": str(world.org("water").id)})
        assert r.status_code == 200

    async def test_concurrent_opposite_moves_cannot_build_a_cycle(self, client, world, database):
        env, water = world.org("env"), world.org("water")
        tags = {o.id: await etag(database, o.id) for o in (env, water)}
        results = await asyncio.gather(*(
            client.patch(f"{ORGS}/{a.id}", json={"parent_id": str(b.id)},
                         headers={**world.headers("admin"), "If-Match": tags[a.id]})
            for a, b in ((env, water), (water, env))))
        assert sorted(r.status_code for r in results) == [200, 422]
        assert [r.json()["code"] for r in results if r.status_code == 422] == ["organisation_cycle"]
        closure, orgs = await tree_state(database)
        assert_tree_consistent(closure, orgs)


# ---------------------------------------------------------------- deactivate / reactivate

class TestDeactivation:
    async def test_lifecycle(self, client, world, database):
        env, unit = world.org("env"), world.org("env_unit")
        problem(await action(client, world, database, env.id, "deactivate"), 409,
                "organisation_has_active_children", "Organisation still has active children")
        r = await action(client, world, database, unit.id, "deactivate")
        assert r.status_code == 200 and (r.json()["is_active"], r.json()["version"]) == (False, 2)
        assert r.headers["ETag"] == make_etag(unit.id, 2)

        def listed(body):
            return {i["id"] for i in body["items"]}
        base = {"subtree_of": str(env.id)}
        admin = world.headers("admin")
        assert listed((await client.get(ORGS, params=base, headers=admin)).json()) == ids(world, "env")
        assert listed((await client.get(ORGS, params={**base, "is_active": "false"}, headers=admin)).json()) == \
            ids(world, "env_unit")
        assert listed((await client.get(ORGS, params={**base, "include_inactive": "true"}, headers=admin)).json()) \
            == ids(world, "env", "env_unit")
        assert (await client.get(f"{ORGS}/{unit.id}", headers=admin)).json()["is_active"] is False

        assert (await action(client, world, database, env.id, "deactivate")).status_code == 200
        problem(await action(client, world, database, unit.id, "reactivate"), 409, "parent_inactive",
                "Parent organisation is inactive")
        assert (await action(client, world, database, env.id, "reactivate")).status_code == 200
        r = await action(client, world, database, unit.id, "reactivate")
        assert r.status_code == 200 and (r.json()["is_active"], r.json()["version"]) == (True, 3)
        assert [e.action for e in await audit_events(database, unit.id)] == [
            "organisation.deactivate", "organisation.reactivate"]
        events = await audit_events(database, env.id)
        assert [(e.before["is_active"], e.after["is_active"]) for e in events] == [(True, False), (False, True)]

    async def test_repeating_an_action_is_409(self, client, world, database):
        unit = world.org("env_unit")
        problem(await action(client, world, database, unit.id, "reactivate"), 409, "organisation_state_conflict",
                "Organisation is not in a state that allows this")
        await action(client, world, database, unit.id, "deactivate")
        problem(await action(client, world, database, unit.id, "deactivate"), 409, "organisation_state_conflict",
                "Organisation is not in a state that allows this")

    async def test_a_lead_unit_cannot_be_deactivated(self, client, world, database):
        await patch(client, world, database, world.org("env").id, {"lead_unit_id": str(world.org("env_unit").id)})
        r = await action(client, world, database, world.org("env_unit").id, "deactivate")
        problem(r, 409, "organisation_state_conflict", "Organisation is not in a state that allows this")

    async def test_actions_need_if_match(self, client, world, database):
        for name in ("deactivate", "reactivate"):
            r = await client.post(f"{ORGS}/{world.org('env_unit').id}/{name}", headers=world.headers("admin"))
            problem(r, 428, "if_match_required", "Precondition required")
            r = await client.post(f"{ORGS}/{world.org('env_unit').id}/{name}",
                                  headers={**world.headers("admin"), "If-Match": '"0-stale"'})
            problem(r, 412, "stale_resource", "Precondition failed")
        assert (await row(database, world.org("env_unit").id)).is_active is True

    async def test_there_is_no_delete(self, client, world, database):
        r = await client.delete(f"{ORGS}/{world.org('env_unit').id}", headers=world.headers("admin"))
        problem(r, 405, "method_not_allowed", "Method not allowed")
        assert "PATCH" in r.headers["Allow"]
        assert await row(database, world.org("env_unit").id) is not None


# ---------------------------------------------------------------- authorization matrix

READ_ROUTES = ["", "/children", "/ancestors", "/subtree"]
ALL_ROUTES = {("POST", ""), ("GET", ""), ("GET", "/{organisation_id}"), ("PATCH", "/{organisation_id}"),
              ("POST", "/{organisation_id}/deactivate"), ("POST", "/{organisation_id}/reactivate"),
              ("GET", "/{organisation_id}/children"), ("GET", "/{organisation_id}/ancestors"),
              ("GET", "/{organisation_id}/subtree")}
# Sub-resources with matrices of their own: designations (tests/routers/test_designations.py and the route
# matrix in tests/authz).
OTHER_MODULES = {("GET", "/{organisation_id}/designations"), ("PUT", "/{organisation_id}/designations")}


class TestAuthorizationMatrix:
    def test_every_organisation_route_is_in_this_matrix(self, app):
        # From the OpenAPI document: FastAPI 0.165 nests included routers, so app.routes hides them.
        found = {(method.upper(), path[len(ORGS):]) for path, item in app.openapi()["paths"].items()
                 if path == ORGS or path.startswith(ORGS + "/") for method in item}
        assert found - OTHER_MODULES == ALL_ROUTES

    @pytest.mark.parametrize("route", READ_ROUTES)
    @pytest.mark.parametrize("caller", sorted(VISIBLE))
    async def test_reads_answer_200_in_scope_and_404_outside(self, client, world, route, caller):
        got, not_found = {}, None
        for key, org in world.orgs.items():
            r = await client.get(f"{ORGS}/{org.id}{route}", headers=world.headers(caller))
            got[key] = r.status_code
            if r.status_code == 404:
                not_found = problem(r, 404, "not_found", "Not found")
                assert not_found["detail"] == "No such organisation."
        assert got == {k: 200 if k in VISIBLE[caller] else 404 for k in world.orgs}

    @pytest.mark.parametrize("caller", sorted(VISIBLE))
    async def test_list_shows_exactly_the_callers_scope(self, client, world, caller):
        r = await client.get(ORGS, params={"limit": 200, "include_total": "true"}, headers=world.headers(caller))
        assert {i["id"] for i in r.json()["items"]} == ids(world, *VISIBLE[caller])
        assert r.json()["total"] == len(VISIBLE[caller])

    @pytest.mark.parametrize(("method", "path"), sorted(ALL_ROUTES))
    @pytest.mark.parametrize("who", ["anonymous", "inactive", "garbage"])
    async def test_without_a_valid_token_every_route_is_401(self, client, world, database, method, path, who):
        headers = {"anonymous": {}, "inactive": world.headers("inactive"),
                   "garbage": {"Authorization": "Bearer not.a.token"}}[who]
        r = await client.request(method, ORGS + path.replace("{organisation_id}", str(world.org("env").id)),
                                 json=new_org(parent_id=world.org("gov").id) if method == "POST" and not path
                                 else {"name": "x"} if method == "PATCH" else None,
                                 headers={**headers, "If-Match": await etag(database, world.org("env").id)})
        problem(r, 401, "unauthenticated", "Authentication required")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await row(database, world.org("env").id)).version == 1

    @pytest.mark.parametrize("caller", NON_ADMINS)
    async def test_non_admins_cannot_write_anything(self, client, world, database, caller):
        for key in ("env", "env_unit", "water", "henan_env"):  # own org, child, sibling/member, other province
            org_id = world.org(key).id
            for r in (await patch(client, world, database, org_id, {"lead_person": "x"}, user=caller),
                      await action(client, world, database, org_id, "deactivate", user=caller),
                      await action(client, world, database, org_id, "reactivate", user=caller),
                      await create(client, world, caller, parent_id=org_id)):
                problem(r, 403, "forbidden", "Not allowed")
            assert (await row(database, org_id)).version == 1
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(Organisation.name == "测试局")) == 0

    @pytest.mark.parametrize("caller", ["admin", "henan_admin"])
    async def test_admins_write_only_in_their_own_tree(self, client, world, database, caller):
        expected = {k: 200 if k in VISIBLE[caller] else 404 for k in world.orgs}
        got = {k: (await patch(client, world, database, o.id, {"lead_person": "王五"}, user=caller)).status_code
               for k, o in world.orgs.items()}
        assert got == expected
        for k, o in world.orgs.items():
            assert (await row(database, o.id)).version == (2 if expected[k] == 200 else 1)
        leaves = ("env_unit", "water", "office", "haikou_env", "henan_env")
        for name in ("deactivate", "reactivate"):
            got = {k: (await action(client, world, database, world.org(k).id, name, user=caller)).status_code
                   for k in leaves}
            assert got == {k: expected[k] for k in leaves}
        created = {k: (await create(client, world, caller, parent_id=world.org(k).id)).status_code
                   for k in ("gov", "henan_gov")}
        assert created == {k: 201 if k in VISIBLE[caller] else 422 for k in ("gov", "henan_gov")}

    async def test_integration_client_reads_its_organisation_scope_and_cannot_write(self, client, world, database):
        async with database.transaction() as s:
            app_client = IntegrationClient(client_id="hi-env-sync", name="省厅数据同步", secret_hash="x" * 64,
                                           scopes=["organisations:read"], organisation_id=world.org("env").id)
            s.add(app_client)
        token = security.issue_access_token(subject=str(app_client.id), subject_kind="client", token_version=0,
                                            scopes=["organisations:read"],
                                            organisation_id=str(world.org("env").id)).token
        headers = {"Authorization": f"Bearer {token}"}
        got = {k: (await client.get(f"{ORGS}/{o.id}", headers=headers)).status_code for k, o in world.orgs.items()}
        assert got == {k: 200 if k in {"env", "env_unit"} else 404 for k in world.orgs}
        listed = (await client.get(ORGS, headers=headers)).json()["items"]
        assert {i["id"] for i in listed} == ids(world, "env", "env_unit")
        r = await client.patch(f"{ORGS}/{world.org('env').id}", json={"lead_person": "x"},
                               headers={**headers, "If-Match": await etag(database, world.org("env").id)})
        problem(r, 403, "forbidden", "Not allowed")
        r = await client.post(ORGS, json=new_org(parent_id=world.org("env").id), headers=headers)
        problem(r, 403, "forbidden", "Not allowed")
