"""Contract fuzzing: every operation, as several real roles, against the committed-shape contract.

Schemathesis generates valid and invalid requests from the OpenAPI document and
checks the answers: no 5xx, responses match their schemas, status codes and
content types are documented, and (our own check) every error is an RFC 9457
problem whose `status` equals the HTTP status. `make fuzz` runs a deeper pass.

Under `make test` PostgreSQL is fuzzed as the admin only (every operation, the same examples):
what differs between the databases is how they take the data (types, constraints, locks), which
one role exercises; what differs between roles is the authorization matrix's job, which runs on
both databases. Fuzzing all three roles on both took most of CI's time. `make fuzz` (or
FUZZ_ALL_ROLES=1) fuzzes every role on both.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, settings

from app.core.db import Database
from app.main import create_app
from tests.conftest import TEST_DB
from tests.contract.fuzzing import DeferredApp, load_schema
from tests.factories import build_world, token_for

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ROLES = ("admin", "env_staff", "office")
ALL_ROLES_HERE = TEST_DB != "postgres" or os.environ.get("FUZZ_ALL_ROLES") == "1"


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


DEFERRED = DeferredApp()
schema = load_schema(DEFERRED)


@pytest.fixture(scope="module", autouse=True)
def fuzz_app(settings):
    # The sync ASGI client runs each call on a fresh event loop: no pooled connections.
    DEFERRED.target = create_app(settings, Database(settings.database_url, pooled=False))
    yield
    DEFERRED.target = None


def _fuzz_as(role: str):
    """One test per role: the lazy schema cannot be combined with parametrised fixtures."""

    @pytest.mark.fuzz
    @pytest.mark.skipif(role != "admin" and not ALL_ROLES_HERE,
                        reason="PostgreSQL is fuzzed as the admin under make test (module docstring)")
    @schema.parametrize()
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def test(case, fuzz_tokens):
        case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_tokens[role]}"})

    return test


test_fuzz_as_admin = _fuzz_as("admin")
test_fuzz_as_department_staff = _fuzz_as("env_staff")
test_fuzz_as_coordination_office = _fuzz_as("office")

