"""What the contract fuzzers share: the schema under test, the app stand-in it calls, and
our own check (every error is an RFC 9457 problem whose `status` equals the HTTP status).

Importing this module registers the check with schemathesis for every fuzz test."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import schemathesis
from sqlalchemy import text

from app.core.db import Database
from app.main import create_app
from tests.conftest import CLEAN_TABLES
from tests.factories import World, build_world


@schemathesis.check
def errors_are_problem_documents(ctx, response, case) -> None:
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), f"{response.status_code} as {content_type}"
        body = response.json()
        assert body.get("status") == response.status_code, "problem status differs from the HTTP status"
        assert body.get("title") and body.get("type") and body.get("code")


class DeferredApp:
    """The schema is loaded at import time, the database exists only once fixtures run:
    schemathesis calls this stand-in, which forwards to the app a fixture builds."""

    target = None

    async def __call__(self, scope, receive, send):
        await self.target(scope, receive, send)


def load_schema(deferred: DeferredApp, adjust: Callable[[dict[str, Any]], None] | None = None):
    """The app's own OpenAPI document (what `make openapi` commits), calling `deferred`;
    `adjust` may change the document first (say why where you do)."""
    document = json.loads(json.dumps(create_app().openapi()))
    if adjust is not None:
        adjust(document)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = deferred
    schema.location = "/openapi.json"
    return schema


async def fresh_world(database_url: str) -> World:
    """Empty the tables (as the per-test clean-up does) and build `tests.factories.World` again,
    committed. Stateful scenarios each start from it, so that a scenario's answers depend on its
    own calls only and Hypothesis sees the same API for the same choices."""
    database = Database(database_url, pooled=False)
    try:
        async with database.transaction() as session:
            for table in CLEAN_TABLES:
                await session.execute(text(f"DELETE FROM {table}"))
            await session.execute(text("UPDATE organisation SET parent_id = NULL, superior_department_id = NULL, "
                                       "lead_unit_id = NULL"))
            await session.execute(text("DELETE FROM organisation"))
            return await build_world(session)
    finally:
        await database.dispose()
