"""GET /audit-events, /audit-events/{seq} and /audit-events/verify.

The audit trail accumulates over the test session (append-only), so every test seeds
events under its own `resource_type` token and filters by it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from app.core import security
from app.core.context import Actor, actor_var
from app.core.pagination import encode_cursor
from app.dependencies import SessionDep, authenticated
from app.main import create_app
from app.models import AuditEvent, IntegrationClient, Role
from app.routers import audit_events
from app.services import audit
from tests.factories import auth, make_user

PROBLEM = "application/problem+json"
ORG_KEYS = ["hainan", "gov", "env", "env_unit", "water", "office_body", "office", "haikou", "haikou_gov",
            "haikou_env", "henan", "henan_gov", "henan_env"]
HAINAN = set(ORG_KEYS) - {"henan", "henan_gov", "henan_env"}
# Who sees which seeded event (None = an event with no organisation, e.g. a sign-in). Written by hand.
VISIBLE = {
    "admin": HAINAN | {None},                           # root admin of hainan: its tree + unattributed
    "henan_admin": {"henan", "henan_gov", "henan_env", None},  # root admin of henan (design: also unattributed)
    "office": {"office", "env", "env_unit", "water"},   # its own office + the body's member units
    "env_office": {"env", "env_unit"},                  # an office role inside a department: its subtree
    "gov_admin": {"gov", "env", "env_unit", "water"},   # admin below the root: no unattributed events
    "client": {"env", "env_unit"},                      # integration client with audit:read at env
}
NO_AUDIT_READ = ["env_staff", "env_leader", "env_leadership", "env_inspector", "env_discipline", "env_viewer",
                 "gov_leadership", "haikou_staff"]


def assert_problem(response, status: int, code: str, title: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["code"], body["title"]) == (status, code, title)
    return body


def new_token() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


async def seed(database, world, token: str, keys=(*ORG_KEYS, None), *, action: str = "probe.seed",
               outcome: str = "success") -> dict:
    """One committed event per key (an organisation of the world, or None); returns key → seq."""
    async with database.transaction() as session:
        for key in keys:
            audit.record(session, action=action, resource_type=token, resource_id=key or "none",
                         organisation_id=world.org(key).id if key else None, outcome=outcome)
        await audit.flush_pending(session)
    async with database.transaction(write=False) as session:
        rows = (await session.execute(select(AuditEvent.seq, AuditEvent.resource_id)
                                      .where(AuditEvent.resource_type == token))).all()
    return {(None if r.resource_id == "none" else r.resource_id): r.seq for r in rows}


@pytest.fixture
async def headers(world, database):
    """Bearer headers per caller key, plus an integration client with `audit:read` at env and an admin
    of a non-root organisation."""
    async with database.transaction() as session:
        client = IntegrationClient(client_id=f"c-{uuid.uuid4().hex[:8]}", name="省平台", secret_hash="x" * 64,
                                   scopes=["audit:read"], organisation_id=world.org("env").id)
        session.add(client)
        gov_admin = await make_user(session, "t.gov.admin", (world.org("gov"), Role.admin))
        await session.flush()
        client_token = security.issue_access_token(subject=str(client.id), subject_kind="client", token_version=0,
                                                   scopes=["audit:read"],
                                                   organisation_id=str(world.org("env").id)).token
    found = {key: world.headers(key) for key in world.users}
    found["client"] = {"Authorization": f"Bearer {client_token}"}
    found["gov_admin"] = auth(gov_admin)
    found["anonymous"] = {}
    return found


def keys_of(response) -> set:
    assert response.status_code == 200, response.text
    return {(None if item["resource_id"] == "none" else item["resource_id"]) for item in response.json()["items"]}


class TestVisibility:
    @pytest.mark.parametrize("caller", sorted(VISIBLE))
    async def test_list_shows_exactly_the_events_in_scope(self, client, database, world, headers, caller):
        token = new_token()
        await seed(database, world, token)
        r = await client.get("/audit-events", params={"resource_type": token, "include_total": "true"},
                             headers=headers[caller])
        assert keys_of(r) == VISIBLE[caller]
        assert r.json()["total"] == len(VISIBLE[caller])

    @pytest.mark.parametrize("caller", sorted(VISIBLE))
    async def test_single_event_is_200_in_scope_and_404_outside(self, client, database, world, headers, caller):
        seqs = await seed(database, world, new_token())
        for key, seq in seqs.items():
            r = await client.get(f"/audit-events/{seq}", headers=headers[caller])
            if key in VISIBLE[caller]:
                assert r.status_code == 200, (caller, key, r.text)
                assert r.json()["seq"] == seq
            else:
                body = assert_problem(r, 404, "not_found", "Not found")
                assert body["detail"] == "No such audit event in your scope.", (caller, key)

    @pytest.mark.parametrize("caller", NO_AUDIT_READ)
    @pytest.mark.parametrize("path", ["/audit-events", "/audit-events/1", "/audit-events/verify"])
    async def test_callers_without_audit_read_get_403(self, client, world, headers, caller, path):
        r = await client.get(path, headers=headers[caller])
        body = assert_problem(r, 403, "forbidden", "Not allowed")
        permission = "audit:verify" if path.endswith("verify") else "audit:read"
        assert body["detail"] == f"Your roles do not include the permission {permission}."

    @pytest.mark.parametrize("path", ["/audit-events", "/audit-events/1", "/audit-events/verify"])
    async def test_anonymous_gets_401(self, client, path):
        r = await client.get(path)
        assert_problem(r, 401, "unauthenticated", "Authentication required")
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def test_a_foreign_organisation_filter_gives_an_empty_list(self, client, database, world, headers):
        token = new_token()
        await seed(database, world, token)
        r = await client.get("/audit-events", params={"resource_type": token,
                                                      "organisation_id": str(world.org("hainan").id)},
                             headers=headers["henan_admin"])
        assert keys_of(r) == set()

    @pytest.mark.parametrize(("caller", "root", "expected"), [
        ("admin", "gov", {"gov", "env", "env_unit", "water"}),
        ("admin", "haikou", {"haikou", "haikou_gov", "haikou_env"}),
        ("office", "hainan", {"office", "env", "env_unit", "water"}),  # the filter narrows, never widens
        ("office", "env", {"env", "env_unit"}),
    ])
    async def test_organisation_filter_is_a_subtree_within_scope(self, client, database, world, headers,
                                                                 caller, root, expected):
        token = new_token()
        await seed(database, world, token)
        r = await client.get("/audit-events", params={"resource_type": token,
                                                      "organisation_id": str(world.org(root).id)},
                             headers=headers[caller])
        assert keys_of(r) == expected


class TestVerify:
    @pytest.mark.parametrize("caller", ["admin", "henan_admin"])
    async def test_admins_get_the_chain_report(self, client, database, world, headers, caller):
        await seed(database, world, new_token(), keys=("env",))
        r = await client.get("/audit-events/verify", headers=headers[caller])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True and body["first_broken_seq"] is None and body["problem"] is None
        assert body["checked"] == body["head_seq"] >= 1
        assert len(body["head_hash"]) == 64

    @pytest.mark.parametrize("caller", ["office", "env_office", "client"])
    async def test_audit_readers_who_are_not_admins_get_403(self, client, headers, caller):
        body = assert_problem(await client.get("/audit-events/verify", headers=headers[caller]),
                              403, "forbidden", "Not allowed")
        assert body["detail"] == "Your roles do not include the permission audit:verify."

    async def test_a_broken_chain_is_still_200_with_ok_false(self, client, headers, monkeypatch):
        broken = audit.ChainReport(False, 41, 99, "a" * 64, 42, "event altered")

        async def fake_verify(session, **_):
            return broken

        monkeypatch.setattr(audit, "verify_chain", fake_verify)
        r = await client.get("/audit-events/verify", headers=headers["admin"])
        assert r.status_code == 200
        assert r.json() == {"ok": False, "checked": 41, "head_seq": 99, "head_hash": "a" * 64,
                            "first_broken_seq": 42, "problem": "event altered"}

    @pytest.mark.parametrize("seq", ["0", "-3", "x", str(2**63)])
    async def test_a_seq_that_cannot_exist_is_422(self, client, headers, seq):
        assert_problem(await client.get(f"/audit-events/{seq}", headers=headers["admin"]),
                       422, "validation_failed", "Request is not valid")


class TestPaginationAndFilters:
    async def test_pages_run_newest_first_by_seq_with_a_cursor(self, client, database, world, headers):
        action = f"probe.{uuid.uuid4().hex[:12]}"
        seqs = []
        for _ in range(5):
            seqs += (await seed(database, world, new_token(), keys=("env",), action=action)).values()
        seqs.sort(reverse=True)
        pages, cursor = [], None
        while True:
            params = {"action": action, "limit": 2, "include_total": "true"}
            if cursor:
                params["cursor"] = cursor
            r = await client.get("/audit-events", params=params, headers=headers["admin"])
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == 5
            pages.append([item["seq"] for item in body["items"]])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert pages == [seqs[0:2], seqs[2:4], seqs[4:5]]

    async def test_without_include_total_there_is_no_total(self, client, headers):
        r = await client.get("/audit-events", params={"limit": 1}, headers=headers["admin"])
        assert r.status_code == 200 and r.json()["total"] is None

    @pytest.mark.parametrize("cursor", ["garbage", encode_cursor([10], scope="organisations"),
                                        encode_cursor(["10"], scope="audit_events:seq_desc")])
    async def test_a_cursor_that_is_not_ours_is_422(self, client, headers, cursor):
        body = assert_problem(await client.get("/audit-events", params={"cursor": cursor}, headers=headers["admin"]),
                              422, "validation_failed", "Request is not valid")
        assert body["detail"] == "The cursor is not valid for this list; start again without it."

    async def test_filters_combine(self, client, database, world, headers):
        token = new_token()
        actor = Actor("user", str(uuid.uuid4()), "王芳")
        reset = actor_var.set(actor)
        try:
            await seed(database, world, token, keys=("env",), action="probe.approve")
        finally:
            actor_var.reset(reset)
        await seed(database, world, token, keys=("water",), action="probe.reject", outcome="failure")
        await seed(database, world, token, keys=("gov",), action="probe.approve")

        async def keys(**params):
            return keys_of(await client.get("/audit-events", params={"resource_type": token, **params},
                                             headers=headers["admin"]))

        assert await keys() == {"env", "water", "gov"}
        assert await keys(action="probe.approve") == {"env", "gov"}
        assert await keys(outcome="failure") == {"water"}
        assert await keys(actor_id=actor.id) == {"env"}
        assert await keys(resource_id="gov") == {"gov"}
        assert await keys(action="probe.approve", organisation_id=str(world.org("env").id)) == {"env"}

    async def test_time_window_is_from_inclusive_to_exclusive(self, client, database, world, headers):
        token = new_token()
        for key in ("env", "water", "gov"):
            await seed(database, world, token, keys=(key,))
        listed = (await client.get("/audit-events", params={"resource_type": token},
                                   headers=headers["admin"])).json()["items"]
        at = {item["resource_id"]: item["occurred_at"] for item in listed}
        r = await client.get("/audit-events", params={"resource_type": token, "occurred_from": at["water"],
                                                      "occurred_to": at["gov"]}, headers=headers["admin"])
        assert keys_of(r) == {"water"}

    @pytest.mark.parametrize(("params", "pointer"), [
        ({"occurred_from": "2026-11-01T00:00:00"}, "query/occurred_from"),  # no time zone
        ({"occurred_to": "1700000000"}, "query/occurred_to"),  # a Unix time is not ISO 8601
        ({"occurred_from": "2026-12-01T00:00:00Z", "occurred_to": "2026-11-01T00:00:00Z"}, "query/occurred_to"),
        ({"outcome": "maybe"}, "query/outcome"),
        ({"action": "x" * 65}, "query/action"),
        ({"limit": 201}, "query/limit"),
    ])
    async def test_bad_filters_are_422_naming_the_parameter(self, client, headers, params, pointer):
        body = assert_problem(await client.get("/audit-events", params=params, headers=headers["admin"]),
                              422, "validation_failed", "Request is not valid")
        assert pointer in [e["pointer"] for e in body["errors"]]


class TestRecordedThroughTheApi:
    """A change made through HTTP shows up with who, what, which record, request id and address."""

    @pytest.fixture
    async def probe(self, settings, database):
        app = create_app(settings, database)
        probe_router = APIRouter()

        @probe_router.post("/test-probe/{organisation_id}", status_code=204, dependencies=[authenticated()])
        async def touch_probe(organisation_id: uuid.UUID, session: SessionDep) -> None:
            audit.record(session, action="probe.touch", resource_type="probe", resource_id=organisation_id,
                         organisation_id=organisation_id, before={"n": 1}, after={"n": 2})

        app.include_router(probe_router)
        transport = ASGITransport(app=app, raise_app_exceptions=False, client=("198.51.100.23", 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    async def test_a_mutation_appears_with_actor_action_resource_request_and_address(self, probe, world, headers):
        env = world.org("env")
        request_id = f"req-{uuid.uuid4().hex}"
        r = await probe.post(f"/test-probe/{env.id}", headers={**headers["env_staff"], "X-Request-Id": request_id})
        assert r.status_code == 204, r.text

        listed = await probe.get("/audit-events", params={"resource_type": "probe", "resource_id": str(env.id),
                                                          "limit": 1}, headers=headers["admin"])
        (event,) = listed.json()["items"]
        user = world.users["env_staff"]
        assert {k: event[k] for k in ("actor_type", "actor_id", "actor_name", "action", "outcome", "resource_type",
                                      "resource_id", "organisation_id", "before", "after", "request_id",
                                      "client_address")} == {
            "actor_type": "user", "actor_id": str(user.id), "actor_name": user.display_name,
            "action": "probe.touch", "outcome": "success", "resource_type": "probe", "resource_id": str(env.id),
            "organisation_id": str(env.id), "before": {"n": 1}, "after": {"n": 2}, "request_id": request_id,
            "client_address": "198.51.100.23"}
        assert datetime.fromisoformat(event["occurred_at"]).tzinfo is not None
        single = await probe.get(f"/audit-events/{event['seq']}", headers=headers["office"])
        assert single.status_code == 200 and single.json() == event  # env is one of the office's member units
        hidden = await probe.get(f"/audit-events/{event['seq']}", headers=headers["henan_admin"])
        assert_problem(hidden, 404, "not_found", "Not found")


def test_verify_is_registered_before_the_seq_route():
    """Otherwise GET /audit-events/verify would be read as seq="verify" (a 422)."""
    paths = [route.path for route in audit_events.router.routes]
    assert paths.index("/audit-events/verify") < paths.index("/audit-events/{seq}")
