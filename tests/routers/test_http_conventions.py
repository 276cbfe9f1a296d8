"""Every failure path answers with a problem document (RFC 9457), never a stack trace.

Framework-raised errors (404, 405, 413, 415, 422, 500, 503) are checked here whole;
resource tests check their own domain errors."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.core.db import Database
from app.dependencies import public
from app.main import create_app

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str, title: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] == title
    assert body["type"] == "https://envduty.example/problems/" + code.replace("_", "-")
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


class TestFrameworkErrors:
    async def test_unknown_route_is_a_404_problem(self, client):
        r = await client.get("/no-such-thing")
        body = assert_problem(r, 404, "not_found", "Not found")
        assert body["instance"] == "/no-such-thing"

    async def test_wrong_method_is_a_405_problem_with_allow(self, client):
        r = await client.delete("/healthz")
        assert_problem(r, 405, "method_not_allowed", "Method not allowed")
        assert r.headers["allow"] == "GET, HEAD"

    async def test_405_lists_every_method_of_the_path(self, client):
        r = await client.request("TRACE", "/organisations")
        assert_problem(r, 405, "method_not_allowed", "Method not allowed")
        assert r.headers["allow"] == "GET, HEAD, POST"

    async def test_anonymous_me_is_a_401_problem_with_www_authenticate(self, client):
        r = await client.get("/me")
        body = assert_problem(r, 401, "unauthenticated", "Authentication required")
        assert body["detail"] == "A valid bearer token is required."
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def test_token_in_query_string_is_ignored(self, client, world):
        from tests.factories import token_for

        r = await client.get("/me", params={"access_token": token_for(world.users["admin"])})
        assert_problem(r, 401, "unauthenticated", "Authentication required")

    async def test_declared_oversized_body_is_413(self, client, world, settings):
        body = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'
        r = await client.post("/organisations", content=body,
                              headers={**world.headers("admin"), "content-type": "application/json"})
        assert_problem(r, 413, "payload_too_large", "Content too large")

    async def test_chunked_oversized_body_is_413(self, client, world, settings):
        async def chunks():
            for _ in range(settings.max_body_bytes // 65536 + 2):
                yield b"x" * 65536

        r = await client.post("/organisations", content=chunks(),
                              headers={**world.headers("admin"), "content-type": "application/json"})
        assert_problem(r, 413, "payload_too_large", "Content too large")

    async def test_non_json_body_is_415(self, client, world):
        r = await client.post("/organisations", content=b"name=x",
                              headers={**world.headers("admin"), "content-type": "text/plain"})
        assert_problem(r, 415, "unsupported_media_type", "Unsupported media type")

    async def test_malformed_json_is_422_with_pointer(self, client, world):
        r = await client.post("/organisations", content=b'{"name": ',
                              headers={**world.headers("admin"), "content-type": "application/json"})
        body = assert_problem(r, 422, "validation_failed", "Request is not valid")
        assert body["errors"][0]["type"] == "json_invalid"

    @pytest.mark.parametrize("limit", ["0", "-1", "201", "1000000000", "abc"])
    async def test_absurd_limit_is_422(self, client, world, limit):
        r = await client.get("/organisations", params={"limit": limit}, headers=world.headers("admin"))
        body = assert_problem(r, 422, "validation_failed", "Request is not valid")
        assert body["errors"][0]["pointer"] == "query/limit"

    @pytest.mark.parametrize("cursor", ["garbage", "A" * 600, "eyJ9", "%00"])
    async def test_tampered_cursor_is_422(self, client, world, cursor):
        r = await client.get("/organisations", params={"cursor": cursor}, headers=world.headers("admin"))
        assert_problem(r, 422, "validation_failed", "Request is not valid")


class TestUnexpectedErrors:
    async def test_unhandled_exception_is_a_generic_500_problem(self, settings, database):
        app = create_app(settings, database)
        boom = APIRouter()

        @boom.get("/boom", dependencies=[public()])
        async def explode() -> None:
            raise RuntimeError("secret internals: password=hunter2")

        app.include_router(boom)
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/boom")
        body = assert_problem(r, 500, "internal_error", "Internal server error")
        assert "hunter2" not in r.text and "RuntimeError" not in r.text
        assert body["detail"].startswith("Something went wrong")

    async def test_database_down_is_503_with_retry_after_and_readyz_says_so(self, settings):
        dead = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none", pool_timeout=2)
        app = create_app(Settings(**{**settings.model_dump(), "database_url": dead.url}), dead)
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with AsyncClient(transport=transport, base_url="http://t") as c:
                ready = await c.get("/readyz")
                token_call = await c.post("/auth/token", data={"grant_type": "password", "username": "a",
                                                                "password": "b"})
        finally:
            await dead.dispose()
        assert_problem(ready, 503, "service_unavailable", "Service unavailable")
        assert ready.headers["retry-after"] == "5"
        assert_problem(token_call, 503, "service_unavailable", "Service unavailable")
        assert token_call.headers["retry-after"] == "5"


class TestHeaders:
    async def test_request_id_is_echoed_when_sane_and_replaced_when_not(self, client):
        assert (await client.get("/healthz", headers={"x-request-id": "abcdef123456"})).headers[
            "x-request-id"] == "abcdef123456"
        replaced = (await client.get("/healthz", headers={"x-request-id": "bad id\r\n"})).headers["x-request-id"]
        assert replaced != "bad id" and len(replaced) == 32

    async def test_authenticated_responses_are_not_cached_and_not_sniffed(self, client, world):
        r = await client.get("/me", headers=world.headers("admin"))
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"

    async def test_cors_allows_the_configured_spa_only(self, client):
        ok = await client.options("/me", headers={"origin": "https://spa.example.gov.cn",
                                                  "access-control-request-method": "GET"})
        assert ok.headers["access-control-allow-origin"] == "https://spa.example.gov.cn"
        bad = await client.options("/me", headers={"origin": "https://evil.example",
                                                   "access-control-request-method": "GET"})
        assert "access-control-allow-origin" not in bad.headers


class TestHealthAndDocs:
    async def test_healthz_and_readyz(self, client):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ok"}

    async def test_docs_are_served_from_the_app_without_internet(self, client):
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            assert "/static/docs/" in html
            assert "cdn." not in html and "fonts.googleapis" not in html
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            assert (await client.get(f"/static/docs/{asset}")).status_code == 200

    async def test_enum_labels_cover_every_member(self, client):
        enums = (await client.get("/meta/enums")).json()["enums"]
        from app.models import OrganisationKind, Role

        assert [v["value"] for v in enums["role"]] == [r.value for r in Role]
        assert [v["value"] for v in enums["organisation_kind"]] == [k.value for k in OrganisationKind]
        assert all(v["zh"] and v["en"] for values in enums.values() for v in values)
