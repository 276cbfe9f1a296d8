"""GET /me and POST /me/password."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.authz.roles import ROLE_PERMISSIONS
from app.core.security import digest_secret, verify_password
from app.models import AuditEvent, IntegrationClient, Membership, Organisation, RefreshSession, Role, User
from tests.factories import TEST_PASSWORD, problem

NEW_PASSWORD = "a much longer river phrase"


def permissions_of(*roles: Role) -> list[str]:
    """/me reports what the permission table grants; the table itself is tested with authz."""
    return sorted({p.value for role in roles for p in ROLE_PERMISSIONS[role]})


async def sign_in(client, username: str, password: str = TEST_PASSWORD) -> dict:
    r = await client.post("/auth/token", data={"grant_type": "password", "username": username,
                                               "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestGetMe:
    async def test_a_user_sees_memberships_roles_and_permissions(self, client, world):
        r = await client.get("/me", headers=world.headers("env_staff"))
        assert r.status_code == 200
        env = world.org("env")
        assert r.json() == {
            "kind": "user", "id": str(world.users["env_staff"].id), "name": "t.env.staff",
            "username": "t.env.staff", "email": None, "phone": None, "must_change_password": False,
            "last_login_at": None, "client_id": None, "scopes": [],
            "organisations": [{"organisation_id": str(env.id), "name": "海南省生态环境厅", "kind": "department",
                               "roles": ["staff"]}],
            "permissions": permissions_of(Role.staff)}

    async def test_roles_are_grouped_per_organisation_and_permissions_add_up(self, client, world, database):
        user = world.users["env_staff"]
        async with database.transaction() as s:
            s.add(Membership(user_id=user.id, organisation_id=world.org("env").id, role=Role.leader))
            s.add(Membership(user_id=user.id, organisation_id=world.org("office").id, role=Role.office))
        body = (await client.get("/me", headers=world.headers("env_staff"))).json()
        assert sorted((o["name"], o["roles"]) for o in body["organisations"]) == [
            ("海南省生态环境厅", ["staff", "leader"]), ("督察领导小组办公室", ["office"])]
        assert body["permissions"] == permissions_of(Role.staff, Role.leader, Role.office)
        assert {"users:read", "audit:read"} <= set(body["permissions"])

    async def test_an_admin_has_every_permission(self, client, world):
        body = (await client.get("/me", headers=world.headers("admin"))).json()
        assert body["permissions"] == sorted(body["permissions"])
        assert {"users:write", "clients:manage", "audit:verify"} <= set(body["permissions"])

    async def test_a_membership_at_a_deactivated_organisation_drops_out(self, client, world, database):
        async with database.transaction() as s:
            await s.execute(update(Organisation).where(Organisation.id == world.org("env").id)
                            .values(is_active=False))
        body = (await client.get("/me", headers=world.headers("env_staff"))).json()
        assert body["organisations"] == [] and body["permissions"] == []

    async def test_an_integration_client_sees_its_scopes(self, client, world, database):
        async with database.transaction() as s:
            row = IntegrationClient(client_id="edc_me", name="平台", secret_hash=digest_secret("edcs_x" * 8),
                                    scopes=["users:read"], organisation_id=world.org("env").id)
            s.add(row)
        token = (await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "edc_me",
                                                        "client_secret": "edcs_x" * 8})).json()["access_token"]
        body = (await client.get("/me", headers=bearer(token))).json()
        assert body["kind"] == "client" and body["client_id"] == "edc_me" and body["scopes"] == ["users:read"]
        assert body["organisations"] == [{"organisation_id": str(world.org("env").id), "name": "海南省生态环境厅",
                                          "kind": "department", "roles": []}]
        assert body["permissions"] == ["users:read"] and body["username"] is None

    async def test_last_login_shows_after_signing_in(self, client, world):
        tokens = await sign_in(client, "t.env.staff")
        assert (await client.get("/me", headers=bearer(tokens["access_token"]))).json()["last_login_at"]

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic eA=="}])
    async def test_anonymous_or_bad_token_is_401(self, client, world, headers):
        r = await client.get("/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Bearer realm="envduty"'
        assert problem(r) == {"type": "https://envduty.example/problems/unauthenticated",
                              "title": "Authentication required", "status": 401, "code": "unauthenticated",
                              "detail": "A valid bearer token is required."}

    async def test_a_token_in_the_query_string_is_ignored(self, client, world):
        token = world.headers("env_staff")["Authorization"].split()[1]
        assert (await client.get("/me", params={"access_token": token})).status_code == 401


class TestChangeMyPassword:
    async def test_change_ends_every_sign_in_and_the_new_password_works(self, client, world, database):
        laptop, phone = await sign_in(client, "t.env.staff"), await sign_in(client, "t.env.staff")
        r = await client.post("/me/password", headers=bearer(laptop["access_token"]),
                              json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
        assert r.status_code == 204
        for pair in (laptop, phone):
            assert (await client.get("/me", headers=bearer(pair["access_token"]))).status_code == 401
            r2 = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            assert r2.status_code == 401
        assert (await client.get("/me", headers=world.headers("env_staff"))).status_code == 401  # token_version
        bad = await client.post("/auth/token", data={"username": "t.env.staff", "password": TEST_PASSWORD})
        assert bad.status_code == 401
        await sign_in(client, "t.env.staff", NEW_PASSWORD)
        async with database.transaction(write=False) as s:
            user = await s.get(User, world.users["env_staff"].id)
            reasons = {x.revoked_reason for x in (await s.scalars(select(RefreshSession))).all()}
            rows = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_change",
                                                             AuditEvent.resource_id == str(user.id)))).all()
        assert verify_password(NEW_PASSWORD, user.password_hash)[0] and user.token_version == 1
        assert "password_change" in reasons
        assert [x.outcome for x in rows] == ["success"]
        assert not [x for x in rows if NEW_PASSWORD in str(x.after) or TEST_PASSWORD in str(x.after)]

    async def test_change_clears_must_change_password(self, client, world, database):
        async with database.transaction() as s:
            await s.execute(update(User).where(User.id == world.users["env_staff"].id)
                            .values(must_change_password=True))
        tokens = await sign_in(client, "t.env.staff")
        assert (await client.get("/me", headers=bearer(tokens["access_token"]))).json()["must_change_password"]
        await client.post("/me/password", headers=bearer(tokens["access_token"]),
                          json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
        tokens = await sign_in(client, "t.env.staff", NEW_PASSWORD)
        me = (await client.get("/me", headers=bearer(tokens["access_token"]))).json()
        assert me["must_change_password"] is False

    async def test_wrong_current_password_is_422_and_audited(self, client, world, database):
        r = await client.post("/me/password", headers=world.headers("env_staff"),
                              json={"current_password": "Not-It-12345", "new_password": NEW_PASSWORD})
        assert r.status_code == 422
        assert problem(r) == {"type": "https://envduty.example/problems/validation-failed",
                              "title": "Request is not valid", "status": 422, "code": "validation_failed",
                              "detail": "The current password is wrong.",
                              "errors": [{"pointer": "/current_password", "source": "body",
                                          "type": "invalid_password", "message": "is not your current password"}]}
        async with database.transaction(write=False) as s:
            row = await s.scalar(select(AuditEvent).where(AuditEvent.request_id == r.headers["x-request-id"]))
            user = await s.get(User, world.users["env_staff"].id)
        assert (row.action, row.outcome) == ("user.password_change", "failure")
        assert user.token_version == 0  # nothing changed
        assert (await client.get("/me", headers=world.headers("env_staff"))).status_code == 200

    @pytest.mark.parametrize(("new", "message"), [
        ("short", "password must be at least 8 characters"),
        ("password123", "password is one of the most commonly used passwords"),
        (TEST_PASSWORD, "must differ from the current password"),
    ])
    async def test_new_password_policy(self, client, world, new, message):
        r = await client.post("/me/password", headers=world.headers("env_staff"),
                              json={"current_password": TEST_PASSWORD, "new_password": new})
        assert r.status_code == 422
        assert [(e["pointer"], e["message"]) for e in r.json()["errors"]] == [("/new_password", message)]

    async def test_guessing_the_current_password_is_throttled(self, client, world):
        for _ in range(5):
            r = await client.post("/me/password", headers=world.headers("env_staff"),
                                  json={"current_password": "Not-It-12345", "new_password": NEW_PASSWORD})
            assert r.status_code == 422
        r = await client.post("/me/password", headers=world.headers("env_staff"),
                              json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
        assert r.status_code == 429 and "retry-after" in r.headers

    async def test_an_integration_client_has_no_password(self, client, world, database):
        async with database.transaction() as s:
            s.add(IntegrationClient(client_id="edc_pw", name="平台", secret_hash=digest_secret("edcs_y" * 8),
                                    scopes=["users:read"], organisation_id=world.org("env").id))
        token = (await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "edc_pw",
                                                        "client_secret": "edcs_y" * 8})).json()["access_token"]
        r = await client.post("/me/password", headers=bearer(token),
                              json={"current_password": "x", "new_password": NEW_PASSWORD})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"

    async def test_anonymous_is_401(self, client, world):
        r = await client.post("/me/password", json={"current_password": "x", "new_password": NEW_PASSWORD})
        assert r.status_code == 401

    async def test_unknown_fields_are_refused(self, client, world):
        r = await client.post("/me/password", headers=world.headers("env_staff"),
                              json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                    "must_change_password": False})
        assert r.status_code == 422
