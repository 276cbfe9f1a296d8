"""Races over HTTP: many callers released at once against one record, through the whole stack
(routing, auth, the request transaction, audit flush, commit), on SQLite and PostgreSQL.

RELIABILITY.md REL-01..REL-04 (If-Match races: exactly one winner, no lost update, one audit
row, no 5xx), REL-06 (Idempotency-Key: one effect, byte-identical replays, 422 for another body,
keys scoped per principal), REL-11 (the audit chain stays linear under concurrent writers) and
API2-e (concurrent refreshes of one token). tests/services/test_transitions_concurrency.py proves
the workflow step below HTTP; this file proves what a client sees.

Each race parks N tasks on an `asyncio.Barrier` so every request is in flight before any
response is read. PostgreSQL's test pool is 20 + 20 overflow (pool_timeout 30 s), so N <= 50.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select, text, update

from app.core.etag import make_etag
from app.models import (
    AuditEvent,
    IdempotencyRecord,
    IntegrationClient,
    Organisation,
    RefreshSession,
    RefreshToken,
    Role,
    User,
)
from tests.factories import TEST_PASSWORD, auth, make_user

PROBLEM = "application/problem+json"
N_IF_MATCH = 50  # REL-02: 50 callers with one ETag
N_IDEMPOTENT = 20  # §5 Idempotency: 20 concurrent same-key POSTs
N_CREATES = 30
N_REFRESH = 20
ROUNDS = 5
REPLAYS = 20
ON_POSTGRES = os.environ.get("TEST_DB", "sqlite") == "postgres"  # as tests/conftest.py reads it

# ------------------------------------------------------------------------------------------ helpers


async def released_together(n: int, call: Callable[[int], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Start n requests at the same instant: each task waits at the barrier until all n are there."""
    barrier = asyncio.Barrier(n)

    async def one(i: int) -> httpx.Response:
        await barrier.wait()
        return await call(i)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def assert_no_server_errors(responses: list[httpx.Response]) -> None:
    broken = [(r.status_code, r.text[:200]) for r in responses if r.status_code >= 500]
    assert broken == [], f"5xx under concurrency: {broken}"


def assert_problem(r: httpx.Response, status: int, code: str, title: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert (body["status"], body["code"], body["title"]) == (status, code, title), body
    return body


def assert_losers_are_stale(losers: list[httpx.Response], current_etag: str) -> None:
    """412 for every loser; where it names the current ETag, that is the winner's. (Whether every
    412 names it is TestStaleAnswers' business: a race decides which code path a loser takes.)"""
    for r in losers:
        body = assert_problem(r, 412, "stale_resource", "Precondition failed")
        assert body.get("current_etag", current_etag) == current_etag


async def etag_of(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


async def audit_rows(database, resource_type: str, resource_id: object, action: str | None = None
                     ) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.resource_type == resource_type,
                                     AuditEvent.resource_id == str(resource_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    async with database.transaction(write=False) as s:
        return list((await s.scalars(query.order_by(AuditEvent.seq))).all())


async def count(database, model, *where) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


def new_org_body(name: str, parent_id: uuid.UUID) -> dict:
    return {"name": name, "kind": "department", "level": "province", "parent_id": str(parent_id)}


# ------------------------------------------------------------------------------ If-Match races


class TestIfMatchRaces:
    async def test_patch_with_one_etag_has_one_winner_per_round_and_loses_no_update(self, client, world, database):
        """REL-02/03, 5 rounds on one record: each round 1 × 200 and 49 × 412, the stored name is the
        winner's, the version moves by exactly one and exactly one audit row is written per round."""
        env = world.org("env")
        path, admin = f"/organisations/{env.id}", world.headers("admin")
        winners: list[str] = []
        for round_no in range(ROUNDS):
            tag = await etag_of(client, path, admin)
            version = round_no + 1
            assert tag == make_etag(env.id, version)
            responses = await released_together(N_IF_MATCH, lambda i, r=round_no, t=tag: client.patch(
                path, json={"name": f"生态环境厅-第{r}轮-{i}"}, headers={**admin, "If-Match": t}))

            assert_no_server_errors(responses)
            assert statuses(responses) == {200: 1, 412: N_IF_MATCH - 1}, statuses(responses)
            [won] = [r for r in responses if r.status_code == 200]
            assert won.json()["version"] == version + 1
            assert won.headers["ETag"] == make_etag(env.id, version + 1)
            assert_losers_are_stale([r for r in responses if r.status_code == 412], won.headers["ETag"])

            now = await client.get(path, headers=admin)
            assert (now.json()["name"], now.json()["version"]) == (won.json()["name"], version + 1)
            assert now.headers["ETag"] == won.headers["ETag"]
            winners.append(won.json()["name"])

        events = await audit_rows(database, "organisation", env.id, "organisation.update")
        assert [(e.before["version"], e.after["version"], e.after["name"]) for e in events] == [
            (v + 1, v + 2, winners[v]) for v in range(ROUNDS)]

    async def test_deactivate_and_patch_racing_on_one_etag_have_one_winner(self, client, world, database):
        """Different writes to one record share one ETag: whichever commits first wins, all others 412."""
        unit = world.org("env_unit")
        path, admin = f"/organisations/{unit.id}", world.headers("admin")
        tag = await etag_of(client, path, admin)

        def call(i: int):
            headers = {**admin, "If-Match": tag}
            if i % 2:
                return client.post(f"{path}/deactivate", headers=headers)
            return client.patch(path, json={"name": f"水生态环境处-{i}"}, headers=headers)

        responses = await released_together(N_IF_MATCH, call)
        assert_no_server_errors(responses)
        assert statuses(responses) == {200: 1, 412: N_IF_MATCH - 1}, statuses(responses)
        [won] = [r for r in responses if r.status_code == 200]
        assert_losers_are_stale([r for r in responses if r.status_code == 412], won.headers["ETag"])
        now = (await client.get(path, headers=admin)).json()
        assert now == won.json()
        assert now["version"] == 2
        events = await audit_rows(database, "organisation", unit.id)
        assert len(events) == 1
        assert events[0].action == ("organisation.deactivate" if now["is_active"] is False
                                    else "organisation.update")

    async def test_user_deactivate_with_one_etag_applies_once(self, client, world, database):
        """One 200; the rest 412 (or 409 'already inactive'); token_version bumped once; one audit row."""
        staff = world.users["env_staff"]
        path, admin = f"/users/{staff.id}", world.headers("admin")
        staff_headers = world.headers("env_staff")  # minted before the race
        tag = await etag_of(client, path, admin)

        responses = await released_together(N_IF_MATCH, lambda i: client.post(
            f"{path}/deactivate", headers={**admin, "If-Match": tag}))

        assert_no_server_errors(responses)
        counts = statuses(responses)
        assert counts[200] == 1 and set(counts) <= {200, 409, 412}, counts
        [won] = [r for r in responses if r.status_code == 200]
        assert (won.json()["is_active"], won.json()["version"]) == (False, 2)
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "conflict", "Conflict")
        assert_losers_are_stale([r for r in responses if r.status_code == 412], won.headers["ETag"])
        async with database.transaction(write=False) as s:
            row = await s.get(User, staff.id)
        assert (row.is_active, row.version, row.token_version) == (False, 2, staff.token_version + 1)
        assert len(await audit_rows(database, "user", staff.id, "user.deactivate")) == 1
        assert (await client.get("/me", headers=staff_headers)).status_code == 401

    async def test_secret_rotation_with_one_etag_hands_out_exactly_one_working_secret(self, client, world,
                                                                                     database):
        """A lost update here is a caller holding a secret that does not work: exactly one 200, and the
        secret it returned is the one that signs in."""
        admin = world.headers("admin")
        created = await client.post("/integration-clients", headers=admin, json={
            "name": "并发轮换测试平台", "scopes": ["organisations:read"], "organisation_id": str(world.org("env").id)})
        assert created.status_code == 201, created.text
        client_id, old_secret = created.json()["client_id"], created.json()["client_secret"]
        path, tag = f"/integration-clients/{created.json()['id']}", created.headers["ETag"]

        responses = await released_together(N_IF_MATCH, lambda i: client.post(
            f"{path}/rotate-secret", headers={**admin, "If-Match": tag}))

        assert_no_server_errors(responses)
        assert statuses(responses) == {200: 1, 412: N_IF_MATCH - 1}, statuses(responses)
        [won] = [r for r in responses if r.status_code == 200]
        assert_losers_are_stale([r for r in responses if r.status_code == 412], won.headers["ETag"])

        async def sign_in(secret: str) -> int:
            return (await client.post("/auth/token", data={"grant_type": "client_credentials",
                                                           "client_id": client_id,
                                                           "client_secret": secret})).status_code

        assert await sign_in(won.json()["client_secret"]) == 200
        assert await sign_in(old_secret) == 401
        async with database.transaction(write=False) as s:
            row = await s.scalar(select(IntegrationClient).where(IntegrationClient.client_id == client_id))
        assert (row.version, row.token_version) == (2, 1)
        assert len(await audit_rows(database, "integration_client", row.id,
                                    "integration_client.rotate_secret")) == 1


async def wait_until_blocked(database, task: asyncio.Task) -> None:
    """Until the request waits on a lock the test holds (PostgreSQL: seen in pg_stat_activity;
    SQLite: it waits in its worker thread on the write lock, which cannot be observed)."""
    if database.is_sqlite:
        await asyncio.sleep(0.3)
        return
    for _ in range(500):
        if task.done():
            return
        async with database.engine.connect() as conn:
            if await conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'")):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the request never waited on the row lock")


class TestStaleAnswers:
    """REL-01: however a caller loses (the If-Match check, or a conditional UPDATE after a concurrent
    commit), it gets the same 412, naming the current ETag so it can reload."""

    @pytest.mark.parametrize("target", ["user", "integration_client"])
    async def test_losing_the_conditional_update_names_the_current_etag(self, client, world, database, target):
        admin = world.headers("admin")
        if target == "user":
            model, row_id = User, world.users["env_staff"].id
            path, action = f"/users/{row_id}", f"/users/{row_id}/deactivate"
        else:
            created = await client.post("/integration-clients", headers=admin, json={
                "name": "过期标签测试平台", "scopes": ["users:read"], "organisation_id": str(world.org("env").id)})
            model, row_id = IntegrationClient, uuid.UUID(created.json()["id"])
            path, action = f"/integration-clients/{row_id}", f"/integration-clients/{row_id}/rotate-secret"
        tag = await etag_of(client, path, admin)

        async with database.transaction() as other_writer:  # holds the row while the request reads it
            await other_writer.execute(select(model.id).where(model.id == row_id).with_for_update())
            call = asyncio.create_task(client.post(action, headers={**admin, "If-Match": tag}))
            await wait_until_blocked(database, call)
            await other_writer.execute(update(model).where(model.id == row_id).values(version=model.version + 1))
        r = await call

        body = assert_problem(r, 412, "stale_resource", "Precondition failed")
        assert body.get("current_etag") == make_etag(row_id, 2), body


# ---------------------------------------------------------------------------- Idempotency-Key


class TestIdempotentCreates:
    async def test_same_key_same_body_concurrently_creates_one_organisation(self, client, world, database):
        """REL-06 (c) then (a): 20 at once → one organisation; every answer is the original 201, a
        byte-identical replay, or 409 'in flight'. Then 20 sequential replays, byte-identical."""
        admin = {**world.headers("admin"), "Idempotency-Key": "race-create-1"}
        body = new_org_body("并发重放局", world.org("gov").id)

        responses = await released_together(N_IDEMPOTENT, lambda i: client.post(
            "/organisations", json=body, headers=admin))

        assert_no_server_errors(responses)
        assert set(statuses(responses)) <= {201, 409}, statuses(responses)
        created = [r for r in responses if r.status_code == 201]
        originals = [r for r in created if "idempotent-replayed" not in r.headers]
        assert len(originals) == 1, [dict(r.headers) for r in created]
        original = originals[0]
        for r in created:
            assert r.content == original.content
            assert (r.headers["ETag"], r.headers["Location"]) == (original.headers["ETag"],
                                                                  original.headers["Location"])
            if r is not original:
                assert r.headers["idempotent-replayed"] == "true"
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "conflict", "Conflict")

        org_id = original.json()["id"]
        assert await count(database, Organisation, Organisation.name == "并发重放局") == 1
        assert len(await audit_rows(database, "organisation", org_id, "organisation.create")) == 1
        assert await count(database, IdempotencyRecord, IdempotencyRecord.key == "race-create-1") == 1

        for _ in range(REPLAYS):
            again = await client.post("/organisations", json=body, headers=admin)
            assert (again.status_code, again.content) == (201, original.content)
            assert again.headers["idempotent-replayed"] == "true"
            assert again.headers["ETag"] == original.headers["ETag"]
        assert await count(database, Organisation, Organisation.name == "并发重放局") == 1
        assert len(await audit_rows(database, "organisation", org_id)) == 1

        # (b) the same key with another body: refused, nothing created
        other = await client.post("/organisations", json={**body, "name": "另一个局"}, headers=admin)
        assert_problem(other, 422, "idempotency_key_reused", "Request is not valid")
        assert await count(database, Organisation, Organisation.name == "另一个局") == 0

    async def test_same_key_different_bodies_concurrently_create_at_most_one(self, client, world, database):
        """Half the callers send body A, half body B, one key: exactly one organisation exists; the
        other body's callers get 422 idempotency_key_reused (or 409 while the first is in flight)."""
        admin = {**world.headers("admin"), "Idempotency-Key": "race-create-ab"}
        bodies = [new_org_body("甲局", world.org("gov").id), new_org_body("乙局", world.org("gov").id)]

        responses = await released_together(N_IDEMPOTENT, lambda i: client.post(
            "/organisations", json=bodies[i % 2], headers=admin))

        assert_no_server_errors(responses)
        assert set(statuses(responses)) <= {201, 409, 422}, statuses(responses)
        async with database.transaction(write=False) as s:
            names = list(await s.scalars(select(Organisation.name).where(Organisation.name.in_(["甲局", "乙局"]))))
        assert len(names) == 1
        for i, r in enumerate(responses):
            if r.status_code == 201:
                assert r.json()["name"] == names[0] == bodies[i % 2]["name"]
            elif r.status_code == 422:
                assert bodies[i % 2]["name"] != names[0]
                assert_problem(r, 422, "idempotency_key_reused", "Request is not valid")

    async def test_the_same_key_from_another_admin_is_independent(self, client, world, database):
        """REL-06 (e): keys are scoped per principal + route."""
        async with database.transaction() as s:
            other_admin = await make_user(s, "t.admin.two", (world.org("hainan"), Role.admin))
        body = new_org_body("同键不同人局", world.org("gov").id)
        key = {"Idempotency-Key": "shared-key-1"}

        first = await client.post("/organisations", json=body, headers={**world.headers("admin"), **key})
        second = await client.post("/organisations", json=body, headers={**auth(other_admin), **key})
        assert (first.status_code, second.status_code) == (201, 201)
        assert "idempotent-replayed" not in second.headers
        assert first.json()["id"] != second.json()["id"]
        assert await count(database, Organisation, Organisation.name == "同键不同人局") == 2

    async def test_a_refused_request_does_not_burn_its_key(self, client, world, database):
        """Nothing is remembered for a request that failed (schema or business rule): the key stays free."""
        admin = {**world.headers("admin"), "Idempotency-Key": "refused-first"}
        body = new_org_body("先拒后收局", world.org("gov").id)

        bad_schema = await client.post("/organisations", json={**body, "kind": "nonsense"}, headers=admin)
        assert_problem(bad_schema, 422, "validation_failed", "Request is not valid")
        unknown_parent = await client.post("/organisations", json={**body, "parent_id": str(uuid.uuid4())},
                                           headers=admin)
        assert unknown_parent.status_code == 422, unknown_parent.text
        assert await count(database, IdempotencyRecord, IdempotencyRecord.key == "refused-first") == 0

        r = await client.post("/organisations", json=body, headers=admin)
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers


# ----------------------------------------------------------------------------- audit chain


class TestAuditChainUnderLoad:
    async def test_concurrent_creates_and_failed_sign_ins_keep_one_verifiable_chain(self, client, world,
                                                                                   database):
        """REL-11 (b) over HTTP: 30 creates (one audit row each, written at commit) race 5 failed
        sign-ins (rows kept although their transactions roll back). Every row lands, with its own seq,
        and the verifier recomputes the whole chain."""
        admin, gov = world.headers("admin"), world.org("gov").id

        def call(i: int):
            if i < N_CREATES:
                return client.post("/organisations", json=new_org_body(f"链测局-{i}", gov),
                                   headers={**admin, "Idempotency-Key": f"chain-{i}"})
            return client.post("/auth/token", data={"grant_type": "password", "username": f"t.nobody.{i}",
                                                    "password": "Wrong-Pass-9999!"})

        responses = await released_together(N_CREATES + 5, call)
        assert_no_server_errors(responses)
        assert [r.status_code for r in responses] == [201] * N_CREATES + [401] * 5

        request_ids = [r.headers["x-request-id"] for r in responses]
        async with database.transaction(write=False) as s:
            events = list((await s.scalars(select(AuditEvent).where(AuditEvent.request_id.in_(request_ids))
                                           .order_by(AuditEvent.seq))).all())
        assert Counter(e.action for e in events) == {"organisation.create": N_CREATES, "auth.login_failed": 5}
        assert {e.request_id for e in events} == set(request_ids)
        assert len({e.seq for e in events}) == len(events)

        report = await client.get("/audit-events/verify", headers=admin)
        assert report.status_code == 200, report.text
        body = report.json()
        assert (body["ok"], body["first_broken_seq"], body["problem"]) == (True, None, None), body
        assert body["checked"] == body["head_seq"] >= events[-1].seq


# --------------------------------------------------------------------------- refresh tokens


class TestConcurrentRefresh:
    async def test_twenty_refreshes_of_one_token_issue_one_pair_and_end_the_sign_in(self, client, world,
                                                                                    database):
        """API2-e at N=20 (test_auth.py covers the 2-way rule; this adds contention): exactly one
        200, every other caller a 401 problem, one new token issued, one success audit row, the
        sign-in revoked for reuse, and the winner's pair dead with it (no grace period, documented)."""
        login = await client.post("/auth/token", data={"grant_type": "password", "username": "t.env.staff",
                                                       "password": TEST_PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["refresh_token"]

        responses = await released_together(N_REFRESH, lambda i: client.post(
            "/auth/refresh", json={"refresh_token": token}))

        assert_no_server_errors(responses)
        assert statuses(responses) == {200: 1, 401: N_REFRESH - 1}, statuses(responses)
        for r in responses:
            if r.status_code == 401:
                assert_problem(r, 401, "invalid_refresh_token", "Invalid refresh token")
                assert r.headers["www-authenticate"].startswith("Bearer")
        [won] = [r.json() for r in responses if r.status_code == 200]

        staff = world.users["env_staff"]
        async with database.transaction(write=False) as s:
            [sign_in] = (await s.scalars(select(RefreshSession).where(RefreshSession.user_id == staff.id))).all()
            tokens = await s.scalar(select(func.count()).select_from(RefreshToken)
                                    .where(RefreshToken.session_id == sign_in.id))
            successes = await s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "auth.refresh", AuditEvent.outcome == "success",
                AuditEvent.request_id.in_([r.headers["x-request-id"] for r in responses])))
        assert (sign_in.revoked_reason, tokens, successes) == ("reuse", 2, 1)
        assert (await client.post("/auth/refresh", json={"refresh_token": won["refresh_token"]})).status_code == 401
        assert (await client.get("/me", headers={"Authorization": f"Bearer {won['access_token']}"})
                ).status_code == 401
