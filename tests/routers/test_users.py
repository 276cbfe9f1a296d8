"""/users and /users/{id}/memberships: the role × scope matrix, then each rule."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, update

from app.core.etag import make_etag
from app.core.security import verify_password
from app.models import AuditEvent, Membership, RefreshSession, Role, User
from tests.factories import TEST_PASSWORD, make_user, problem

NEW_PASSWORD = "a much longer river phrase"
HIDDEN = ("password_hash", "token_version", "password")


async def etag(database, user_id) -> str:
    async with database.transaction(write=False) as s:
        return make_etag(user_id, (await s.get(User, user_id)).version)


async def version_of(database, user_id) -> int:
    async with database.transaction(write=False) as s:
        return (await s.get(User, user_id)).version


async def membership_of(database, user_id) -> Membership:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(Membership).where(Membership.user_id == user_id))


# ------------------------------------------------------------------- the matrix

CALLERS = ("admin", "henan_admin", "office", "gov_leadership", "env_staff", None)
# Expected status per caller, in CALLERS order, written from DOMAIN.md (admins manage users in their
# subtree; users:read for office/leader/leadership; out of scope 404; no permission 403; anonymous 401).
# The office reaches env through the coordination body's member units.
MATRIX = {
    "create_user": (201, 422, 403, 403, 403, 401),
    "list_users": (200, 200, 200, 200, 403, 401),
    "get_user": (200, 404, 200, 200, 403, 401),
    "update_user": (200, 404, 403, 403, 403, 401),
    "deactivate_user": (200, 404, 403, 403, 403, 401),
    "reactivate_user": (200, 404, 403, 403, 403, 401),
    "reset_user_password": (200, 404, 403, 403, 403, 401),
    "list_user_memberships": (200, 404, 200, 200, 403, 401),
    "add_user_membership": (201, 404, 403, 403, 403, 401),
    "remove_user_membership": (204, 404, 403, 403, 403, 401),
}


async def request_for(route: str, world, database) -> tuple[str, str, dict | None, dict, User]:
    """(method, url, json body, extra headers, target user) for one route on an in-scope target."""
    target = world.users["inactive" if route == "reactivate_user" else "env_leader"]
    base = f"/users/{target.id}"
    if_match = {"If-Match": await etag(database, target.id)}
    if route == "create_user":
        return "POST", "/users", {"username": "t.new", "display_name": "新用户", "password": NEW_PASSWORD,
                                  "memberships": [{"organisation_id": str(world.org("env").id),
                                                   "role": "staff"}]}, {}, target
    if route == "list_users":
        return "GET", "/users", None, {}, target
    if route == "get_user":
        return "GET", base, None, {}, target
    if route == "update_user":
        return "PATCH", base, {"display_name": "改名"}, if_match, target
    if route in ("deactivate_user", "reactivate_user"):
        return "POST", f"{base}/{route.split('_')[0]}", None, if_match, target
    if route == "reset_user_password":
        return "POST", f"{base}/password", {"password": NEW_PASSWORD}, if_match, target
    if route == "list_user_memberships":
        return "GET", f"{base}/memberships", None, {}, target
    if route == "add_user_membership":
        return "POST", f"{base}/memberships", {"organisation_id": str(world.org("water").id),
                                               "role": "viewer"}, {}, target
    membership = await membership_of(database, target.id)
    return "DELETE", f"{base}/memberships/{membership.id}", None, {}, target


@pytest.mark.parametrize("route", sorted(MATRIX))
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
async def test_authorization_matrix(client, world, database, route, caller):
    method, url, body, headers, target = await request_for(route, world, database)
    before = await version_of(database, target.id)
    if caller:
        headers = {**headers, **world.headers(caller)}
    r = await client.request(method, url, json=body, headers=headers)
    expected = MATRIX[route][CALLERS.index(caller)]
    assert r.status_code == expected, r.text
    if expected >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert str(target.id) not in json.dumps(problem(r))  # instance echoes the path; nothing else
        assert await version_of(database, target.id) == before  # nothing changed
    if expected == 200 and route == "list_users":
        names = {u["username"] for u in r.json()["items"]}
        assert ("t.env.leader" in names) == (caller != "henan_admin")


# ------------------------------------------------------------------------ create


def new_user(world, **overrides) -> dict:
    body = {"username": "HN.New.User", "display_name": "李明", "email": "liming@hainan.gov.cn",
            "phone": "0898-65200001", "password": NEW_PASSWORD,
            "memberships": [{"organisation_id": str(world.org("env").id), "role": "staff"},
                            {"organisation_id": str(world.org("env").id), "role": "leader"}]}
    return {**body, **overrides}


class TestCreateUser:
    async def test_admin_creates_a_user_with_memberships(self, client, world, database):
        r = await client.post("/users", json=new_user(world), headers=world.headers("admin"))
        assert r.status_code == 201
        body = r.json()
        assert r.headers["etag"] == make_etag(body["id"], 1) and r.headers["location"] == f"/users/{body['id']}"
        assert body["username"] == "hn.new.user" and body["is_active"] and body["must_change_password"]
        assert [(m["organisation_name"], m["role"]) for m in body["memberships"]] == [
            ("海南省生态环境厅", "staff"), ("海南省生态环境厅", "leader")]
        assert not set(HIDDEN) & set(body)
        async with database.transaction(write=False) as s:
            user = await s.get(User, uuid.UUID(body["id"]))
            [row] = (await s.scalars(select(AuditEvent).where(AuditEvent.request_id == r.headers["x-request-id"])))
        assert user.password_hash.startswith("$argon2id$") and verify_password(NEW_PASSWORD, user.password_hash)[0]
        assert (row.action, row.resource_id, row.organisation_id) == ("user.create", body["id"], world.org("env").id)
        assert NEW_PASSWORD not in json.dumps(row.after) and "argon2" not in json.dumps(row.after)
        assert (await client.post("/auth/token", data={"username": "hn.new.user", "password": NEW_PASSWORD})
                ).status_code == 200

    async def test_username_taken_is_409(self, client, world):
        r = await client.post("/users", json=new_user(world, username="T.Env.Staff"), headers=world.headers("admin"))
        assert r.status_code == 409
        assert problem(r) == {"type": "https://envduty.example/problems/conflict", "title": "Conflict",
                              "status": 409, "code": "conflict", "detail": "This username is taken."}

    @pytest.mark.parametrize(("password", "message"), [
        ("short", "password must be at least 8 characters"),
        ("12345678", "password is one of the most commonly used passwords"),
        ("x" * 129, "password must be at most 128 characters"),
    ])
    async def test_weak_password_is_422_on_the_field(self, client, world, password, message):
        r = await client.post("/users", json=new_user(world, password=password), headers=world.headers("admin"))
        assert r.status_code == 422
        assert r.json()["errors"] == [{"pointer": "/password", "source": "body", "type": "password_policy",
                                       "message": message}]

    async def test_64_character_password_is_accepted(self, client, world):
        r = await client.post("/users", json=new_user(world, password="p" * 63 + "!"), headers=world.headers("admin"))
        assert r.status_code == 201

    async def test_organisation_outside_scope_is_422(self, client, world, database):
        body = new_user(world, memberships=[{"organisation_id": str(world.org("env").id), "role": "staff"},
                                            {"organisation_id": str(world.org("henan_env").id), "role": "admin"}])
        r = await client.post("/users", json=body, headers=world.headers("admin"))
        assert r.status_code == 422
        assert r.json()["errors"] == [{"pointer": "/memberships/1/organisation_id", "source": "body",
                                       "type": "unknown_organisation", "message": "unknown organisation"}]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(User).where(User.username == "hn.new.user")) is None

    @pytest.mark.parametrize("field", ["is_active", "token_version", "password_hash", "version"])
    async def test_server_fields_cannot_be_assigned(self, client, world, field):
        r = await client.post("/users", json={**new_user(world), field: 0}, headers=world.headers("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == f"/{field}"

    async def test_bad_username_is_422(self, client, world):
        r = await client.post("/users", json=new_user(world, username="has space"), headers=world.headers("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/username"

    async def test_only_a_root_admin_may_create_a_user_without_memberships(self, client, world, database):
        async with database.transaction() as s:
            await make_user(s, "t.env.admin", (world.org("env"), Role.admin))
        async with database.transaction(write=False) as s:
            env_admin = await s.scalar(select(User).where(User.username == "t.env.admin"))
        from tests.factories import auth
        r = await client.post("/users", json=new_user(world, memberships=[]), headers=auth(env_admin))
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/memberships"
        r = await client.post("/users", json=new_user(world, memberships=[]), headers=world.headers("admin"))
        assert r.status_code == 201
        orphan = r.json()["id"]
        assert (await client.get(f"/users/{orphan}", headers=world.headers("admin"))).status_code == 200
        assert (await client.get(f"/users/{orphan}", headers=world.headers("office"))).status_code == 404
        assert (await client.get(f"/users/{orphan}", headers=auth(env_admin))).status_code == 404

    async def test_idempotency_key_replays_the_first_response(self, client, world, database):
        headers = {**world.headers("admin"), "Idempotency-Key": "create-hn-new-user"}
        first = await client.post("/users", json=new_user(world), headers=headers)
        again = await client.post("/users", json=new_user(world), headers=headers)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true"


# -------------------------------------------------------------------------- read


class TestListAndGet:
    async def test_each_caller_sees_their_scope(self, client, world):
        async def names(caller: str, **params) -> set[str]:
            r = await client.get("/users", headers=world.headers(caller), params={"limit": 200, **params})
            assert r.status_code == 200
            return {u["username"] for u in r.json()["items"]}

        hainan = await names("admin")
        assert {"t.admin", "t.env.staff", "t.office", "t.haikou.staff", "t.inactive"} <= hainan
        assert not {"t.henan.admin", "t.henan.staff"} & hainan
        assert await names("henan_admin") == {"t.henan.admin", "t.henan.staff"}
        office = await names("office")  # its own office plus the member units env and water
        assert "t.office" in office and "t.env.staff" in office and not {"t.admin", "t.haikou.staff"} & office
        assert await names("admin", organisation_id=str(world.org("henan").id)) == set()
        assert await names("admin", q="HAIKOU") == {"t.haikou.staff"}
        assert await names("admin", is_active="false") == {"t.inactive"}
        assert await names("admin", organisation_id=str(world.org("haikou").id)) == {"t.haikou.staff"}

    async def test_pages_cover_everyone_once(self, client, world):
        seen, cursor, total = [], None, None
        while True:
            params = {"limit": 3, "include_total": "true", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/users", headers=world.headers("admin"), params=params)).json()
            seen += [u["id"] for u in body["items"]]
            total = body["total"]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == total

    async def test_tampered_cursor_is_422(self, client, world):
        r = await client.get("/users", headers=world.headers("admin"), params={"cursor": "abc"})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "query/cursor"

    async def test_only_memberships_in_scope_are_shown(self, client, world, database):
        target = world.users["env_leader"]
        async with database.transaction() as s:
            s.add(Membership(user_id=target.id, organisation_id=world.org("henan_env").id, role=Role.viewer))
        hainan = (await client.get(f"/users/{target.id}", headers=world.headers("admin"))).json()
        henan = (await client.get(f"/users/{target.id}", headers=world.headers("henan_admin"))).json()
        assert [m["organisation_name"] for m in hainan["memberships"]] == ["海南省生态环境厅"]
        assert [m["organisation_name"] for m in henan["memberships"]] == ["河南省生态环境厅"]

    async def test_get_has_an_etag_and_no_secrets(self, client, world):
        target = world.users["env_leader"]
        r = await client.get(f"/users/{target.id}", headers=world.headers("office"))
        assert r.headers["etag"] == make_etag(target.id, 1)
        assert not set(HIDDEN) & set(r.json())

    async def test_unknown_user_is_404(self, client, world, new_uuid):
        r = await client.get(f"/users/{new_uuid}", headers=world.headers("admin"))
        assert problem(r) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                              "status": 404, "code": "not_found", "detail": "No such user in your scope."}


# ---------------------------------------------------------------------- changes


class TestUpdate:
    async def test_patch_needs_if_match_and_changes_only_what_is_sent(self, client, world, database):
        target = world.users["env_leader"]
        url, admin = f"/users/{target.id}", world.headers("admin")
        r = await client.patch(url, json={"email": "a@b.cn"}, headers=admin)
        assert r.status_code == 428 and r.json()["code"] == "if_match_required"
        r = await client.patch(url, json={"email": "a@b.cn"}, headers={**admin, "If-Match": '"9-stale"'})
        assert r.status_code == 412 and r.json()["code"] == "stale_resource"
        tag = await etag(database, target.id)
        r = await client.patch(url, json={"email": "wang@hainan.gov.cn", "phone": "123"},
                               headers={**admin, "If-Match": tag})
        assert r.status_code == 200
        body = r.json()
        assert (body["email"], body["phone"], body["display_name"], body["version"]) == (
            "wang@hainan.gov.cn", "123", "t.env.leader", 2)
        assert r.headers["etag"] == make_etag(target.id, 2)
        r = await client.patch(url, json={"phone": None}, headers={**admin, "If-Match": r.headers["etag"]})
        assert r.json()["phone"] is None and r.json()["email"] == "wang@hainan.gov.cn"
        async with database.transaction(write=False) as s:
            rows = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "user.update",
                                                             AuditEvent.resource_id == str(target.id))
                                    .order_by(AuditEvent.seq))).all()
        assert [(x.before["phone"], x.after["phone"]) for x in rows] == [(None, "123"), ("123", None)]

    @pytest.mark.parametrize("body", [{"display_name": None}, {"email": "not-an-email"}, {"username": "x.y"},
                                      {"is_active": False}])
    async def test_invalid_or_forbidden_fields_are_422(self, client, world, database, body):
        target = world.users["env_leader"]
        r = await client.patch(f"/users/{target.id}", json=body,
                               headers={**world.headers("admin"), "If-Match": await etag(database, target.id)})
        assert r.status_code == 422


class TestDeactivate:
    async def test_deactivation_ends_tokens_and_sessions_at_once(self, client, world, database):
        target = world.users["env_staff"]
        signed_in = (await client.post("/auth/token", data={"username": "t.env.staff", "password": TEST_PASSWORD})
                     ).json()
        assert (await client.get("/me", headers=world.headers("env_staff"))).status_code == 200
        r = await client.post(f"/users/{target.id}/deactivate",
                              headers={**world.headers("admin"), "If-Match": await etag(database, target.id)})
        assert r.status_code == 200 and r.json()["is_active"] is False
        assert (await client.get("/me", headers=world.headers("env_staff"))).status_code == 401
        assert (await client.get("/me", headers={"Authorization": f"Bearer {signed_in['access_token']}"})
                ).status_code == 401
        assert (await client.post("/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
                ).status_code == 401
        async with database.transaction(write=False) as s:
            sign_in = await s.scalar(select(RefreshSession).where(RefreshSession.user_id == target.id))
        assert sign_in.revoked_reason == "user_deactivated"
        again = await client.post(f"/users/{target.id}/deactivate",
                                  headers={**world.headers("admin"), "If-Match": r.headers["etag"]})
        assert again.status_code == 409 and again.json()["detail"] == "The user is already inactive."

    async def test_reactivated_user_signs_in_again_but_old_tokens_stay_dead(self, client, world, database):
        target = world.users["env_staff"]
        old = world.headers("env_staff")
        admin = world.headers("admin")
        r = await client.post(f"/users/{target.id}/deactivate",
                              headers={**admin, "If-Match": await etag(database, target.id)})
        r = await client.post(f"/users/{target.id}/reactivate", headers={**admin, "If-Match": r.headers["etag"]})
        assert r.status_code == 200 and r.json()["is_active"] is True
        assert (await client.get("/me", headers=old)).status_code == 401
        assert (await client.post("/auth/token", data={"username": "t.env.staff", "password": TEST_PASSWORD})
                ).status_code == 200

    async def test_an_admin_cannot_deactivate_themselves(self, client, world, database):
        me = world.users["admin"]
        r = await client.post(f"/users/{me.id}/deactivate",
                              headers={**world.headers("admin"), "If-Match": await etag(database, me.id)})
        assert r.status_code == 422 and r.json()["code"] == "business_rule_violation"


class TestPasswordReset:
    async def test_reset_forces_a_change_and_ends_sessions(self, client, world, database):
        target = world.users["env_staff"]
        r = await client.post(f"/users/{target.id}/password", json={"password": NEW_PASSWORD},
                              headers={**world.headers("admin"), "If-Match": await etag(database, target.id)})
        assert r.status_code == 200 and r.json()["must_change_password"] is True
        assert (await client.get("/me", headers=world.headers("env_staff"))).status_code == 401
        tokens = (await client.post("/auth/token", data={"username": "t.env.staff", "password": NEW_PASSWORD})
                  ).json()
        fresh = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = (await client.get("/me", headers=fresh)).json()
        assert me["must_change_password"] is True
        # AUTH-5: until the password is changed, everything but /me and /me/password is refused.
        blocked = await client.get("/organisations", headers=fresh)
        assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
        changed = await client.post("/me/password", headers=fresh,
                                    json={"current_password": NEW_PASSWORD, "new_password": "An0ther-Long-Pass!"})
        assert changed.status_code == 204
        async with database.transaction(write=False) as s:
            [row] = (await s.scalars(select(AuditEvent).where(AuditEvent.request_id == r.headers["x-request-id"])))
        assert row.action == "user.password_reset" and NEW_PASSWORD not in json.dumps(row.after)

    async def test_weak_password_is_422(self, client, world, database):
        target = world.users["env_staff"]
        r = await client.post(f"/users/{target.id}/password", json={"password": "password"},
                              headers={**world.headers("admin"), "If-Match": await etag(database, target.id)})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/password"

    async def test_a_too_short_password_is_422_even_with_a_stale_etag(self, client, world):
        # The contract says minLength 8: an invalid body is refused as such, not as a 412.
        target = world.users["env_staff"]
        r = await client.post(f"/users/{target.id}/password", json={"password": "short"},
                              headers={**world.headers("admin"), "If-Match": '"99-stale"'})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/password"


# ------------------------------------------------------------------- memberships


class TestMemberships:
    async def test_a_granted_role_applies_from_the_next_request_and_removal_too(self, client, world, database):
        staff = world.users["env_staff"]
        assert (await client.get("/users", headers=world.headers("env_staff"))).status_code == 403
        r = await client.post(f"/users/{staff.id}/memberships", headers=world.headers("admin"),
                              json={"organisation_id": str(world.org("env").id), "role": "leader"})
        assert r.status_code == 201
        body = r.json()
        assert (body["organisation_name"], body["organisation_kind"], body["role"]) == (
            "海南省生态环境厅", "department", "leader")
        assert r.headers["location"] == f"/users/{staff.id}/memberships/{body['id']}"
        assert (await client.get("/users", headers=world.headers("env_staff"))).status_code == 200  # same token
        assert await version_of(database, staff.id) == 2
        listed = (await client.get(f"/users/{staff.id}/memberships", headers=world.headers("admin"))).json()
        assert [m["role"] for m in listed["items"]] == ["staff", "leader"] and listed["next_cursor"] is None
        r = await client.delete(f"/users/{staff.id}/memberships/{body['id']}", headers=world.headers("admin"))
        assert r.status_code == 204
        assert (await client.get("/users", headers=world.headers("env_staff"))).status_code == 403
        async with database.transaction(write=False) as s:
            actions = (await s.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == body["id"])
                                       .order_by(AuditEvent.seq))).all()
        assert actions == ["membership.create", "membership.delete"]

    async def test_duplicate_is_409(self, client, world):
        staff = world.users["env_staff"]
        r = await client.post(f"/users/{staff.id}/memberships", headers=world.headers("admin"),
                              json={"organisation_id": str(world.org("env").id), "role": "staff"})
        assert r.status_code == 409 and r.json()["code"] == "conflict"

    @pytest.mark.parametrize("org", ["henan_env", None])
    async def test_organisation_outside_scope_or_unknown_is_422(self, client, world, new_uuid, org):
        staff = world.users["env_staff"]
        org_id = str(world.org(org).id) if org else str(new_uuid)
        r = await client.post(f"/users/{staff.id}/memberships", headers=world.headers("admin"),
                              json={"organisation_id": org_id, "role": "admin"})
        assert r.status_code == 422
        assert r.json()["errors"] == [{"pointer": "/organisation_id", "source": "body",
                                       "type": "unknown_organisation", "message": "unknown organisation"}]

    async def test_a_membership_outside_scope_cannot_be_removed(self, client, world, database):
        target = world.users["env_leader"]
        async with database.transaction() as s:
            foreign = Membership(user_id=target.id, organisation_id=world.org("henan_env").id, role=Role.viewer)
            s.add(foreign)
        r = await client.delete(f"/users/{target.id}/memberships/{foreign.id}", headers=world.headers("admin"))
        assert r.status_code == 404
        async with database.transaction(write=False) as s:
            assert await s.get(Membership, foreign.id) is not None

    async def test_an_admin_cannot_remove_their_own_admin_membership(self, client, world, database):
        me = world.users["admin"]
        membership = await membership_of(database, me.id)
        r = await client.delete(f"/users/{me.id}/memberships/{membership.id}", headers=world.headers("admin"))
        assert r.status_code == 422

    async def test_membership_at_a_deactivated_organisation_is_refused(self, client, world, database):
        from app.models import Organisation
        async with database.transaction() as s:
            await s.execute(update(Organisation).where(Organisation.id == world.org("water").id)
                            .values(is_active=False))
        staff = world.users["env_staff"]
        r = await client.post(f"/users/{staff.id}/memberships", headers=world.headers("admin"),
                              json={"organisation_id": str(world.org("water").id), "role": "viewer"})
        assert r.status_code == 422
