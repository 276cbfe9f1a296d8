"""The request pipeline's database handling (app/core/db.py, app/dependencies.get_session):

- a connection the server killed is replaced on checkout by the one-round-trip pre-ping, so
  the request that gets it still succeeds (RELIABILITY.md finding 8);
- routes marked `read_only` run without a transaction on PostgreSQL, and one that tries to
  write anyway is refused (a 500 problem, not a silent half-write) and leaves nothing behind.
The read-only routes' answers themselves are the router tests' (tests/routers, tests/authz).
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.dependencies import SessionDep, read_only
from app.main import create_app
from app.models import AuditEvent
from app.services import audit
from tests.conftest import TEST_DB

postgres_only = pytest.mark.skipif(TEST_DB != "postgres", reason="PostgreSQL connection handling")


@postgres_only
async def test_a_connection_killed_by_the_server_is_replaced_on_checkout(settings):
    database = Database(settings.database_url, pool_size=1)
    killer = Database(settings.database_url, pooled=False)  # its own connection, outside that pool
    try:
        async with database.engine.connect() as connection:
            first_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with killer.engine.connect() as other:  # the pooled connection now sits idle, then dies
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        async with database.transaction(write=False) as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        assert pid != first_pid
    finally:
        await database.dispose()
        await killer.dispose()


@postgres_only
async def test_read_only_routes_run_each_statement_on_its_own(settings, database):
    """`now()` is the transaction's start: two statements of one transaction see the same value,
    two statements outside one (a read-only route's) see their own."""
    app = FastAPI()
    app.state.database = database

    async def two_clocks(session: AsyncSession) -> dict[str, bool]:
        first = await session.scalar(text("SELECT now()"))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return {"same": first == await session.scalar(text("SELECT now()"))}

    @app.get("/clock")
    @read_only
    async def clock(session: SessionDep) -> dict[str, bool]:
        return await two_clocks(session)

    @app.get("/clock-in-transaction")
    async def clock_in_transaction(session: SessionDep) -> dict[str, bool]:
        return await two_clocks(session)

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/clock")).json() == {"same": False}
        assert (await client.get("/clock-in-transaction")).json() == {"same": True}


async def test_a_read_only_route_that_writes_is_refused_and_leaves_no_row(settings, database):
    app = create_app(settings, database)

    @app.get("/test-writes-despite-marker")
    @read_only
    async def writes(session: SessionDep) -> dict[str, str]:
        audit.record(session, action="test.read_only_write", resource_type="test")
        return {"status": "ok"}

    async with database.transaction(write=False) as session:
        before = await session.scalar(select(func.count()).select_from(AuditEvent))
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/test-writes-despite-marker")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == before
