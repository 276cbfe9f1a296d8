"""Contract fuzzing: every operation, as several real roles, against the committed-shape contract.

Schemathesis generates valid and invalid requests from the OpenAPI document and
checks the answers: no 5xx, responses match their schemas, status codes and
content types are documented, and (our own check) every error is an RFC 9457
problem whose `status` equals the HTTP status. `make fuzz` runs a deeper pass.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.core.db import Database
from app.main import create_app
from tests.factories import build_world, token_for

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ROLES = ("admin", "env_staff", "office")


@schemathesis.check
def errors_are_problem_documents(ctx, response, case) -> None:
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), f"{response.status_code} as {content_type}"
        body = response.json()
        assert body.get("status") == response.status_code, "problem status differs from the HTTP status"
        assert body.get("title") and body.get("type") and body.get("code")


@pytest.fixture
def fuzz_tokens(settings, database):
    """A committed world whose users the fuzzer acts as; tokens minted by the security module.

    Function-scoped: the tables are emptied after every test (depending on `database` says so)."""

    async def seed():
        database = Database(settings.database_url, pooled=False)
        try:
            async with database.transaction() as session:
                world = await build_world(session)
            return {role: token_for(world.users[role]) for role in ROLES}
        finally:
            await database.dispose()

    return asyncio.run(seed())


class DeferredApp:
    """The schema is loaded at import time, the database exists only once fixtures run:
    schemathesis calls this stand-in, which forwards to the app the fixture builds."""

    target = None

    async def __call__(self, scope, receive, send):
        await self.target(scope, receive, send)


DEFERRED = DeferredApp()
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(create_app().openapi())))
schema.app = DEFERRED
schema.location = "/openapi.json"


@pytest.fixture(scope="module", autouse=True)
def fuzz_app(settings):
    # The sync ASGI client runs each call on a fresh event loop: no pooled connections.
    DEFERRED.target = create_app(settings, Database(settings.database_url, pooled=False))
    yield
    DEFERRED.target = None


def _fuzz_as(role: str):
    """One test per role: the lazy schema cannot be combined with parametrised fixtures."""

    @pytest.mark.fuzz
    @schema.parametrize()
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def test(case, fuzz_tokens):
        case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_tokens[role]}"})

    return test


test_fuzz_as_admin = _fuzz_as("admin")
test_fuzz_as_department_staff = _fuzz_as("env_staff")
test_fuzz_as_coordination_office = _fuzz_as("office")

