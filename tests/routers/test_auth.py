"""POST /auth/token, /auth/refresh, /auth/logout: sign-in, enumeration resistance (API2-c),
throttling (API2-b), refresh rotation and reuse (API2-e), session termination (API2-d),
client credentials, and audit rows without secrets (LOG-1, LOG-2)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update

from app.core.errors import TooManyRequests
from app.core.security import digest_secret
from app.models import AuditEvent, IntegrationClient, RefreshSession, RefreshToken, User, utcnow
from app.services.login_throttle import LoginThrottle, reset_default_throttle
from tests.factories import TEST_PASSWORD, problem

WRONG_PASSWORD = "Wrong-Pass-9999!"
CLIENT_SECRET = "edcs_" + "k" * 43


async def login(client: AsyncClient, username: str, password: str = TEST_PASSWORD, **form: str):
    return await client.post("/auth/token", data={"grant_type": "password", "username": username,
                                                  "password": password, **form})


async def audit_rows(database, response) -> list[AuditEvent]:
    async with database.transaction(write=False) as s:
        return list((await s.scalars(select(AuditEvent).where(
            AuditEvent.request_id == response.headers["x-request-id"]).order_by(AuditEvent.seq))).all())


def row_text(row: AuditEvent) -> str:
    return json.dumps({c.name: getattr(row, c.name) for c in AuditEvent.__table__.columns}, default=str)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestPasswordGrant:
    async def test_login_returns_tokens_that_work_on_me(self, client, world, database):
        r = await login(client, "t.env.staff")
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 900
        assert body["refresh_expires_in"] == 1800 and len(body["refresh_token"]) >= 43
        assert "scope" not in body
        assert r.headers["cache-control"] == "no-store"
        me = await client.get("/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200 and me.json()["username"] == "t.env.staff"
        async with database.transaction(write=False) as s:
            user = await s.get(User, world.users["env_staff"].id)
            sign_in = await s.scalar(select(RefreshSession).where(RefreshSession.user_id == user.id))
            stored = (await s.scalars(select(RefreshToken).where(RefreshToken.session_id == sign_in.id))).all()
        assert user.last_login_at is not None
        assert sign_in.revoked_at is None
        assert sign_in.absolute_expires_at - sign_in.created_at == timedelta(hours=12)
        assert [t.token_digest for t in stored] == [digest_secret(body["refresh_token"])]  # digest only

    async def test_grant_type_may_be_omitted_as_swagger_and_fastapi_forms_allow(self, client, world):
        r = await client.post("/auth/token", data={"username": "t.env.staff", "password": TEST_PASSWORD})
        assert r.status_code == 200 and r.json()["token_type"] == "bearer"

    async def test_swagger_authorize_form_with_empty_scope_and_client_fields(self, client, world):
        r = await login(client, "t.admin", scope="", client_id="", client_secret="")
        assert r.status_code == 200

    async def test_username_is_case_insensitive(self, client, world):
        assert (await login(client, "  T.Env.Staff ")).status_code == 200

    async def test_wrong_password_unknown_user_and_inactive_user_are_indistinguishable(self, client, world):
        wrong = await login(client, "t.env.staff", WRONG_PASSWORD)
        unknown = await login(client, "t.nobody", WRONG_PASSWORD)
        inactive = await login(client, "t.inactive", TEST_PASSWORD)  # right password, disabled account
        for r in (wrong, unknown, inactive):
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == 'Bearer realm="envduty"'
            assert r.headers["content-type"] == "application/problem+json"
        assert problem(wrong) == problem(unknown) == problem(inactive) == {
            "type": "https://envduty.example/problems/invalid-credentials", "title": "Invalid credentials",
            "status": 401, "detail": "Wrong username or password.", "code": "invalid_credentials"}

    async def test_missing_password_is_422_with_a_pointer(self, client, world):
        r = await client.post("/auth/token", data={"grant_type": "password", "username": "t.admin"})
        assert r.status_code == 422
        assert r.json()["errors"] == [{"pointer": "/password", "source": "body", "type": "missing",
                                       "message": "Field required"}]

    async def test_unsupported_grant_type_is_400(self, client, world):
        r = await client.post("/auth/token", data={"grant_type": "implicit", "username": "t.admin"})
        assert r.status_code == 400
        assert problem(r) == {"type": "https://envduty.example/problems/unsupported-grant-type",
                              "title": "Unsupported grant type", "status": 400, "code": "unsupported_grant_type",
                              "detail": "grant_type must be one of password, client_credentials, refresh_token."}

    async def test_a_hash_with_old_parameters_is_upgraded_at_login(self, client, world, database):
        weak = Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1).hash(TEST_PASSWORD)
        user_id = world.users["env_staff"].id
        async with database.transaction() as s:
            await s.execute(update(User).where(User.id == user_id).values(password_hash=weak))
        assert (await login(client, "t.env.staff")).status_code == 200
        async with database.transaction(write=False) as s:
            stored = (await s.get(User, user_id)).password_hash
        assert stored != weak and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert (await login(client, "t.env.staff")).status_code == 200

    async def test_success_and_failure_are_audited_without_secrets(self, client, world, database):
        failed = await login(client, "t.env.staff", WRONG_PASSWORD)
        unknown = await login(client, "t.nobody", WRONG_PASSWORD)
        ok = await login(client, "t.env.staff")
        user = world.users["env_staff"]
        [f] = await audit_rows(database, failed)  # written although the request was rolled back
        assert (f.action, f.outcome, f.resource_type, f.resource_id, f.detail, f.actor_type) == (
            "auth.login_failed", "failure", "user", str(user.id), "wrong password", "anonymous")
        assert f.organisation_id == world.org("env").id and f.client_address == "203.0.113.7"
        [u] = await audit_rows(database, unknown)
        assert (u.action, u.resource_id, u.detail) == ("auth.login_failed", None, "unknown username")
        [s] = await audit_rows(database, ok)
        assert (s.action, s.outcome, s.actor_type, s.actor_id) == ("auth.login", "success", "user", str(user.id))
        secrets = [TEST_PASSWORD, WRONG_PASSWORD, ok.json()["access_token"], ok.json()["refresh_token"],
                   "eyJ", "$argon2"]
        for row in (f, u, s):
            assert not [x for x in secrets if x in row_text(row)]


class TestThrottle:
    async def test_sixth_failure_is_429_yet_the_user_signs_in_from_another_address(self, app, client, world):
        for _ in range(5):
            assert (await login(client, "t.env.staff", WRONG_PASSWORD)).status_code == 401
        blocked = await login(client, "t.env.staff", TEST_PASSWORD)  # even the right password, from here
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert problem(blocked) == {"type": "https://envduty.example/problems/too-many-requests",
                                    "title": "Too many requests", "status": 429, "code": "too_many_requests",
                                    "detail": "Too many failed sign-ins; wait before trying again."}
        other = ASGITransport(app=app, raise_app_exceptions=False, client=("198.51.100.9", 1))
        async with AsyncClient(transport=other, base_url="http://testserver") as elsewhere:
            assert (await login(elsewhere, "t.env.staff")).status_code == 200
        assert (await login(client, "t.office")).status_code == 200  # other accounts from here too

    async def test_a_success_clears_the_accounts_window(self, client, world):
        for _ in range(4):
            await login(client, "t.env.staff", WRONG_PASSWORD)
        assert (await login(client, "t.env.staff")).status_code == 200
        for _ in range(5):
            assert (await login(client, "t.env.staff", WRONG_PASSWORD)).status_code == 401

    async def test_the_window_slides(self, client, world):
        now = [1000.0]
        reset_default_throttle(LoginThrottle(clock=lambda: now[0]))
        for _ in range(5):
            await login(client, "t.env.staff", WRONG_PASSWORD)
        now[0] += 30
        r = await login(client, "t.env.staff")
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        now[0] += 30.5
        assert (await login(client, "t.env.staff")).status_code == 200

    async def test_per_address_limit_covers_many_accounts(self, client, world):
        reset_default_throttle(LoginThrottle(per_address=3))
        for name in ("t.a", "t.b", "t.c"):
            assert (await login(client, name, WRONG_PASSWORD)).status_code == 401
        assert (await login(client, "t.env.staff")).status_code == 429

    async def test_client_secret_guessing_is_throttled_too(self, client, world, database):
        await make_client(database, world)
        for _ in range(5):
            r = await client.post("/auth/token", data={"grant_type": "client_credentials",
                                                       "client_id": "edc_test", "client_secret": "guess"})
            assert r.status_code == 401
        r = await client_grant(client)
        assert r.status_code == 429


class TestLoginThrottleUnit:
    def test_limits_keys_and_retry_after(self):
        now = [0.0]
        throttle = LoginThrottle(per_account_and_address=2, per_address=3, clock=lambda: now[0])
        throttle.record_failure("Alice", "1.1.1.1")
        now[0] = 10
        throttle.record_failure("alice", "1.1.1.1")  # same window: case-folded
        with pytest.raises(TooManyRequests) as refused:
            throttle.check("ALICE", "1.1.1.1")
        assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "50"}
        throttle.check("alice", "2.2.2.2")  # another address is fine
        throttle.clear("alice", "1.1.1.1")
        throttle.check("alice", "1.1.1.1")
        throttle.record_failure("bob", "1.1.1.1")  # the address window kept alice's two failures
        with pytest.raises(TooManyRequests):
            throttle.check("carol", "1.1.1.1")
        now[0] = 60.5  # the first failure left the window
        throttle.check("carol", "1.1.1.1")

    def test_memory_is_bounded(self):
        throttle = LoginThrottle(max_keys=10)
        for i in range(100):
            throttle.record_failure(f"user{i}", f"10.0.0.{i}")
        assert len(throttle._failures) <= 10


async def first_pair(client, username="t.env.staff") -> dict:
    r = await login(client, username)
    assert r.status_code == 200
    return r.json()


async def refresh(client, token: str):
    return await client.post("/auth/refresh", json={"refresh_token": token})


INVALID_REFRESH = {"type": "https://envduty.example/problems/invalid-refresh-token",
                   "title": "Invalid refresh token", "status": 401, "code": "invalid_refresh_token",
                   "detail": "The refresh token is unknown, used, expired or revoked; sign in again."}


class TestRefresh:
    async def test_refresh_rotates_within_the_same_sign_in(self, client, world, database):
        first = await first_pair(client)
        r = await refresh(client, first["refresh_token"])
        assert r.status_code == 200
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert (await client.get("/me", headers=bearer(second["access_token"]))).status_code == 200
        async with database.transaction(write=False) as s:
            tokens = {t.token_digest: t for t in (await s.scalars(select(RefreshToken))).all()}
        old, new = tokens[digest_secret(first["refresh_token"])], tokens[digest_secret(second["refresh_token"])]
        assert old.rotated_at is not None and new.rotated_at is None and old.session_id == new.session_id
        [row] = await audit_rows(database, r)
        assert (row.action, row.outcome) == ("auth.refresh", "success")

    async def test_the_token_endpoint_accepts_the_refresh_grant(self, client, world):
        first = await first_pair(client)
        r = await client.post("/auth/token", data={"grant_type": "refresh_token",
                                                   "refresh_token": first["refresh_token"]})
        assert r.status_code == 200 and r.json()["refresh_token"] != first["refresh_token"]

    async def test_reusing_a_rotated_token_revokes_the_whole_sign_in(self, client, world, database):
        r1 = await first_pair(client)
        r2 = (await refresh(client, r1["refresh_token"])).json()
        reuse = await refresh(client, r1["refresh_token"])
        assert reuse.status_code == 401 and problem(reuse) == INVALID_REFRESH
        assert reuse.headers["www-authenticate"] == 'Bearer realm="envduty"'
        assert problem(await refresh(client, r2["refresh_token"])) == INVALID_REFRESH  # RFC 9700 §4.14.2
        assert (await client.get("/me", headers=bearer(r2["access_token"]))).status_code == 401
        async with database.transaction(write=False) as s:
            sign_in = await s.scalar(select(RefreshSession))
        assert sign_in.revoked_reason == "reuse" and sign_in.revoked_at is not None
        [row] = await audit_rows(database, reuse)
        assert (row.action, row.outcome) == ("auth.refresh_reuse", "failure")
        assert r1["refresh_token"] not in row_text(row)

    async def test_reuse_through_the_token_endpoint_also_revokes(self, client, world, database):
        r1 = await first_pair(client)
        await refresh(client, r1["refresh_token"])
        r = await client.post("/auth/token", data={"grant_type": "refresh_token",
                                                   "refresh_token": r1["refresh_token"]})
        assert r.status_code == 401
        async with database.transaction(write=False) as s:
            assert (await s.scalar(select(RefreshSession))).revoked_reason == "reuse"

    async def test_two_concurrent_refreshes_with_one_token_end_the_sign_in(self, client, world):
        """No grace period (documented): exactly one wins, then the family is revoked."""
        r1 = await first_pair(client)
        results = await asyncio.gather(refresh(client, r1["refresh_token"]), refresh(client, r1["refresh_token"]))
        assert sorted(r.status_code for r in results) == [200, 401]
        winner = next(r for r in results if r.status_code == 200).json()
        assert (await refresh(client, winner["refresh_token"])).status_code == 401
        assert (await client.get("/me", headers=bearer(winner["access_token"]))).status_code == 401

    async def test_idle_expiry(self, client, world, database):
        r1 = await first_pair(client)
        async with database.transaction() as s:
            await s.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert problem(await refresh(client, r1["refresh_token"])) == INVALID_REFRESH

    async def test_absolute_expiry(self, client, world, database):
        r1 = await first_pair(client)
        async with database.transaction() as s:
            await s.execute(update(RefreshSession).values(absolute_expires_at=utcnow() - timedelta(seconds=1)))
        assert problem(await refresh(client, r1["refresh_token"])) == INVALID_REFRESH

    async def test_new_refresh_token_never_outlives_the_sign_in(self, client, world, database):
        r1 = await first_pair(client)
        async with database.transaction() as s:
            await s.execute(update(RefreshSession).values(absolute_expires_at=utcnow() + timedelta(seconds=100)))
        r = await refresh(client, r1["refresh_token"])
        assert 95 <= r.json()["refresh_expires_in"] <= 100

    async def test_inactive_user_cannot_refresh(self, client, world, database):
        r1 = await first_pair(client)
        async with database.transaction() as s:
            await s.execute(update(User).where(User.id == world.users["env_staff"].id).values(is_active=False))
        assert problem(await refresh(client, r1["refresh_token"])) == INVALID_REFRESH

    async def test_unknown_token_is_401_and_audited(self, client, world, database):
        r = await refresh(client, "not-a-token")
        assert problem(r) == INVALID_REFRESH
        [row] = await audit_rows(database, r)
        assert (row.action, row.outcome, row.detail) == ("auth.refresh", "failure", "unknown refresh token")

    async def test_an_access_token_is_not_a_refresh_token(self, client, world):
        r1 = await first_pair(client)
        r = await refresh(client, r1["access_token"])  # longer than any refresh token may be
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/refresh_token"
        r = await client.post("/auth/token", data={"grant_type": "refresh_token",
                                                   "refresh_token": r1["access_token"][:200]})
        assert problem(r) == INVALID_REFRESH


class TestLogout:
    async def test_logout_kills_the_access_and_refresh_token_at_once(self, client, world, database):
        pair = await first_pair(client)
        headers = bearer(pair["access_token"])
        assert (await client.get("/me", headers=headers)).status_code == 200
        r = await client.post("/auth/logout", headers=headers)
        assert r.status_code == 204 and r.content == b""
        assert (await client.get("/me", headers=headers)).status_code == 401
        assert (await refresh(client, pair["refresh_token"])).status_code == 401
        async with database.transaction(write=False) as s:
            assert (await s.scalar(select(RefreshSession))).revoked_reason == "logout"
        [row] = await audit_rows(database, r)
        assert (row.action, row.actor_id) == ("auth.logout", str(world.users["env_staff"].id))

    async def test_other_sign_ins_stay_alive(self, client, world):
        laptop, phone = await first_pair(client), await first_pair(client)
        await client.post("/auth/logout", headers=bearer(laptop["access_token"]))
        assert (await client.get("/me", headers=bearer(phone["access_token"]))).status_code == 200

    async def test_a_named_refresh_token_of_your_own_ends_its_sign_in(self, client, world):
        laptop, phone = await first_pair(client), await first_pair(client)
        r = await client.post("/auth/logout", headers=bearer(laptop["access_token"]),
                              json={"refresh_token": phone["refresh_token"]})
        assert r.status_code == 204
        assert (await client.get("/me", headers=bearer(phone["access_token"]))).status_code == 401

    async def test_someone_elses_refresh_token_is_ignored(self, client, world):
        mine, theirs = await first_pair(client), await first_pair(client, "t.office")
        await client.post("/auth/logout", headers=bearer(mine["access_token"]),
                          json={"refresh_token": theirs["refresh_token"]})
        assert (await client.get("/me", headers=bearer(theirs["access_token"]))).status_code == 200

    async def test_anonymous_logout_is_401(self, client, world):
        r = await client.post("/auth/logout")
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


async def make_client(database, world, *, scopes=("organisations:read", "users:read"), active=True,
                      client_id="edc_test") -> IntegrationClient:
    async with database.transaction() as s:
        row = IntegrationClient(client_id=client_id, name="监测平台", secret_hash=digest_secret(CLIENT_SECRET),
                                scopes=list(scopes), organisation_id=world.org("env").id, is_active=active)
        s.add(row)
    return row


async def client_grant(client, client_id="edc_test", secret=CLIENT_SECRET, **form):
    return await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret, **form})


class TestClientCredentials:
    async def test_form_credentials_give_a_scoped_token_without_refresh(self, client, world, database):
        row = await make_client(database, world)
        r = await client_grant(client)
        assert r.status_code == 200
        body = r.json()
        assert body["scope"] == "organisations:read users:read" and "refresh_token" not in body
        me = (await client.get("/me", headers=bearer(body["access_token"]))).json()
        assert (me["kind"], me["id"], me["client_id"]) == ("client", str(row.id), "edc_test")
        assert me["permissions"] == ["organisations:read", "users:read"]
        [audit] = await audit_rows(database, r)
        assert (audit.action, audit.outcome, audit.actor_type) == ("auth.client_token", "success", "client")
        assert CLIENT_SECRET not in row_text(audit) and "eyJ" not in row_text(audit)

    async def test_http_basic_credentials(self, client, world, database):
        await make_client(database, world)
        basic = base64.b64encode(f"edc_test:{CLIENT_SECRET}".encode()).decode()
        r = await client.post("/auth/token", data={"grant_type": "client_credentials"},
                              headers={"Authorization": f"Basic {basic}"})
        assert r.status_code == 200

    async def test_requested_scopes_are_narrowed_to_the_clients(self, client, world, database):
        await make_client(database, world)
        r = await client_grant(client, scope="users:read audit:read")
        assert r.json()["scope"] == "users:read"
        none = await client_grant(client, scope="audit:read")
        assert none.status_code == 400 and none.json()["code"] == "invalid_scope"

    async def test_wrong_secret_unknown_client_and_inactive_client_look_like_a_wrong_password(
            self, client, world, database):
        await make_client(database, world)
        await make_client(database, world, client_id="edc_off", active=False)
        wrong = await client_grant(client, secret="edcs_wrong")
        unknown = await client_grant(client, client_id="edc_nobody")
        inactive = await client_grant(client, client_id="edc_off")
        password = await login(client, "t.env.staff", WRONG_PASSWORD)
        assert {r.status_code for r in (wrong, unknown, inactive)} == {401}
        assert problem(wrong) == problem(unknown) == problem(inactive) == problem(password)
        [row] = await audit_rows(database, wrong)
        assert (row.action, row.outcome, row.detail) == ("auth.client_token", "failure", "wrong secret")

    async def test_malformed_basic_header_is_401(self, client, world):
        r = await client.post("/auth/token", data={"grant_type": "client_credentials"},
                              headers={"Authorization": "Basic !!!"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"

    async def test_a_client_token_is_403_where_its_scopes_do_not_reach(self, client, world, database):
        await make_client(database, world, scopes=("organisations:read",))
        token = (await client_grant(client)).json()["access_token"]
        r = await client.get("/users", headers=bearer(token))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"

    async def test_a_users_read_client_lists_users_of_its_organisation_only(self, client, world, database):
        await make_client(database, world, scopes=("users:read",))
        token = (await client_grant(client)).json()["access_token"]
        r = await client.get("/users", headers=bearer(token), params={"limit": 200})
        assert r.status_code == 200
        names = {u["username"] for u in r.json()["items"]}
        assert "t.env.staff" in names and "t.henan.staff" not in names and "t.office" not in names
