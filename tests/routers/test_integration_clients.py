"""/integration-clients: the role × scope matrix, one-time secrets, rotation and deactivation."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from app.core.etag import make_etag
from app.core.security import digest_secret
from app.models import AuditEvent, IdempotencyRecord, IntegrationClient
from tests.factories import problem

SECRET = "edcs_" + "s" * 43


async def seed_client(database, world, org: str = "env", **fields) -> IntegrationClient:
    async with database.transaction() as s:
        row = IntegrationClient(client_id=fields.pop("client_id", f"edc_{org}"), name="监测平台",
                                secret_hash=digest_secret(SECRET), scopes=["organisations:read"],
                                organisation_id=world.org(org).id, **fields)
        s.add(row)
    return row


async def current_etag(database, row_id) -> str:
    async with database.transaction(write=False) as s:
        return make_etag(row_id, (await s.get(IntegrationClient, row_id)).version)


async def token(client, client_id: str, secret: str):
    return await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret})


# ------------------------------------------------------------------- the matrix

CALLERS = ("admin", "henan_admin", "office", "env_staff", None)
# clients:manage is the admin's alone; a client of another province's organisation is 404.
MATRIX = {
    "create_integration_client": (201, 422, 403, 403, 401),
    "list_integration_clients": (200, 200, 403, 403, 401),
    "get_integration_client": (200, 404, 403, 403, 401),
    "rotate_integration_client_secret": (200, 404, 403, 403, 401),
    "deactivate_integration_client": (200, 404, 403, 403, 401),
}


@pytest.mark.parametrize("route", sorted(MATRIX))
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
async def test_authorization_matrix(client, world, database, route, caller):
    row = await seed_client(database, world)
    headers = {"If-Match": await current_etag(database, row.id), **(world.headers(caller) if caller else {})}
    base = f"/integration-clients/{row.id}"
    method, url, body = {
        "create_integration_client": ("POST", "/integration-clients",
                                      {"name": "新平台", "scopes": ["users:read"],
                                       "organisation_id": str(world.org("env").id)}),
        "list_integration_clients": ("GET", "/integration-clients", None),
        "get_integration_client": ("GET", base, None),
        "rotate_integration_client_secret": ("POST", f"{base}/rotate-secret", None),
        "deactivate_integration_client": ("POST", f"{base}/deactivate", None),
    }[route]
    r = await client.request(method, url, json=body, headers=headers)
    expected = MATRIX[route][CALLERS.index(caller)]
    assert r.status_code == expected, r.text
    if expected >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert await current_etag(database, row.id) == headers["If-Match"]  # nothing changed
        assert (await token(client, "edc_env", SECRET)).status_code == 200
    if route == "list_integration_clients" and expected == 200:
        assert ([c["client_id"] for c in r.json()["items"]] == ["edc_env"]) == (caller == "admin")


# ------------------------------------------------------------------------ rules


class TestCreate:
    async def test_the_secret_is_shown_once_and_stored_as_a_digest(self, client, world, database):
        r = await client.post("/integration-clients", headers=world.headers("admin"), json={
            "name": "海南省生态环境监测平台", "scopes": ["users:read", "organisations:read", "users:read"],
            "organisation_id": str(world.org("env").id)})
        assert r.status_code == 201
        body = r.json()
        secret = body["client_secret"]
        assert secret.startswith("edcs_") and body["client_id"].startswith("edc_")
        assert body["scopes"] == ["organisations:read", "users:read"] and body["version"] == 1
        assert r.headers["etag"] == make_etag(body["id"], 1)
        assert r.headers["location"] == f"/integration-clients/{body['id']}"
        async with database.transaction(write=False) as s:
            row = await s.get(IntegrationClient, uuid.UUID(body["id"]))
            [audit] = (await s.scalars(select(AuditEvent).where(AuditEvent.request_id == r.headers["x-request-id"])))
            stored_replays = (await s.scalars(select(IdempotencyRecord.body))).all()
        assert row.secret_hash == digest_secret(secret) and secret not in row.secret_hash
        assert audit.action == "integration_client.create" and secret not in json.dumps(audit.after)
        assert not [b for b in stored_replays if secret in b]
        shown = await client.get(f"/integration-clients/{body['id']}", headers=world.headers("admin"))
        assert "client_secret" not in shown.json() and shown.headers["etag"] == r.headers["etag"]
        listed = await client.get("/integration-clients", headers=world.headers("admin"))
        assert "client_secret" not in listed.json()["items"][0]
        granted = await token(client, body["client_id"], secret)
        assert granted.status_code == 200 and granted.json()["scope"] == "organisations:read users:read"

    @pytest.mark.parametrize(("payload", "pointer"), [
        ({"scopes": ["users:write"]}, "/scopes"),
        ({"scopes": []}, "/scopes"),
        ({"organisation_id": "henan_env"}, "/organisation_id"),
        ({"secret_hash": "x"}, "/secret_hash"),
        ({"is_active": False}, "/is_active"),
    ])
    async def test_invalid_input_is_422(self, client, world, payload, pointer):
        body = {"name": "平台", "scopes": ["users:read"], "organisation_id": str(world.org("env").id), **payload}
        if payload.get("organisation_id") == "henan_env":
            body["organisation_id"] = str(world.org("henan_env").id)
        r = await client.post("/integration-clients", headers=world.headers("admin"), json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == pointer

    async def test_foreign_organisation_problem(self, client, world):
        r = await client.post("/integration-clients", headers=world.headers("admin"), json={
            "name": "平台", "scopes": ["users:read"], "organisation_id": str(world.org("henan_env").id)})
        assert problem(r) == {"type": "https://envduty.example/problems/validation-failed",
                              "title": "Request is not valid", "status": 422, "code": "validation_failed",
                              "detail": "No such organisation in your scope.",
                              "errors": [{"pointer": "/organisation_id", "source": "body",
                                          "type": "unknown_organisation", "message": "unknown organisation"}]}


class TestRotate:
    async def test_old_secret_and_its_tokens_stop_working(self, client, world, database):
        row = await seed_client(database, world)
        issued = (await token(client, "edc_env", SECRET)).json()["access_token"]
        auth = {"Authorization": f"Bearer {issued}"}
        assert (await client.get("/me", headers=auth)).status_code == 200
        url = f"/integration-clients/{row.id}/rotate-secret"
        assert (await client.post(url, headers=world.headers("admin"))).status_code == 428
        r = await client.post(url, headers={**world.headers("admin"), "If-Match": await current_etag(database, row.id)})
        assert r.status_code == 200
        new_secret = r.json()["client_secret"]
        assert new_secret != SECRET and r.json()["version"] == 2 and r.headers["etag"] == make_etag(row.id, 2)
        assert (await client.get("/me", headers=auth)).status_code == 401
        assert (await token(client, "edc_env", SECRET)).status_code == 401
        assert (await token(client, "edc_env", new_secret)).status_code == 200
        stale = await client.post(url, headers={**world.headers("admin"), "If-Match": make_etag(row.id, 1)})
        assert stale.status_code == 412

    async def test_a_deactivated_client_cannot_be_rotated(self, client, world, database):
        row = await seed_client(database, world, is_active=False)
        r = await client.post(f"/integration-clients/{row.id}/rotate-secret",
                              headers={**world.headers("admin"), "If-Match": await current_etag(database, row.id)})
        assert r.status_code == 409 and r.json()["code"] == "conflict"


class TestDeactivate:
    async def test_tokens_die_and_no_new_ones_are_issued(self, client, world, database):
        row = await seed_client(database, world)
        issued = (await token(client, "edc_env", SECRET)).json()["access_token"]
        r = await client.post(f"/integration-clients/{row.id}/deactivate",
                              headers={**world.headers("admin"), "If-Match": await current_etag(database, row.id)})
        assert r.status_code == 200 and r.json()["is_active"] is False and "client_secret" not in r.json()
        assert (await client.get("/me", headers={"Authorization": f"Bearer {issued}"})).status_code == 401
        assert (await token(client, "edc_env", SECRET)).status_code == 401
        again = await client.post(f"/integration-clients/{row.id}/deactivate",
                                  headers={**world.headers("admin"), "If-Match": r.headers["etag"]})
        assert again.status_code == 409
        async with database.transaction(write=False) as s:
            actions = (await s.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == str(row.id),
                                                                       AuditEvent.outcome == "success")
                                       .order_by(AuditEvent.seq))).all()
        assert actions == ["auth.client_token", "integration_client.deactivate"]


class TestListAndGet:
    async def test_scope_and_pages(self, client, world, database):
        for org in ("env", "water", "haikou_env", "henan_env"):
            await seed_client(database, world, org)
        seen, cursor = [], None
        while True:
            params = {"limit": 2, "include_total": "true", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/integration-clients", headers=world.headers("admin"), params=params)).json()
            seen += [c["client_id"] for c in body["items"]]
            assert body["total"] == 3
            if not (cursor := body["next_cursor"]):
                break
        assert sorted(seen) == ["edc_env", "edc_haikou_env", "edc_water"]
        henan = (await client.get("/integration-clients", headers=world.headers("henan_admin"))).json()
        assert [c["client_id"] for c in henan["items"]] == ["edc_henan_env"]

    async def test_unknown_is_404(self, client, world, new_uuid):
        r = await client.get(f"/integration-clients/{new_uuid}", headers=world.headers("admin"))
        assert problem(r) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                              "status": 404, "code": "not_found",
                              "detail": "No such integration client in your scope."}
