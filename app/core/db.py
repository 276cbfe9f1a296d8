"""Engines and sessions for SQLite (embedded default) and PostgreSQL (asyncpg).

SQLite serialises writers: a write transaction that starts deferred and later
upgrades its lock fails with "database is locked" under concurrency
(RELIABILITY.md finding 4), so write sessions open with `BEGIN IMMEDIATE` and
read sessions with a plain `BEGIN`. PostgreSQL runs READ COMMITTED; races are
settled by conditional UPDATEs and row locks in the services.

Round trips are most of a short request's cost on PostgreSQL (BENCHMARKS.md Findings), so:
- the pool's pre-ping is one `SELECT 1` over the simple query protocol, not SQLAlchemy's
  `BEGIN; SELECT ';'; ROLLBACK` (three round trips per checkout);
- `autocommit_reads` serves routes marked read-only (app.dependencies.read_only) without
  BEGIN/COMMIT. Under READ COMMITTED every statement takes its own snapshot anyway, so two
  statements of one page could already see different commits inside a transaction: leaving
  the transaction out changes no visibility. What it gives up is atomicity of writes, which
  is why only routes that never write may use it (app.dependencies.get_session checks).
  SQLite keeps its `BEGIN`: there a transaction does pin one snapshot for the whole request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util.concurrency import await_

WRITE_OPTION = "envduty_write"


def _sqlite_engine(url: str, busy_timeout_ms: int, **engine_options: Any) -> AsyncEngine:
    path = make_url(url).database
    if path and path != ":memory:":
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **engine_options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _ping_in_one_round_trip(dbapi_connection: Any) -> bool:
    """Pre-ping on pool checkout: `SELECT 1` through asyncpg's simple query protocol, one round trip
    (not `;`: asyncpg 0.32 fails on the empty query's reply, which carries no command tag).

    SQLAlchemy's asyncpg ping wraps `fetchrow(";")` in BEGIN/ROLLBACK so that a prepared
    statement survives pgbouncer's transaction mode (sqlalchemy #10226); a simple query
    prepares nothing, so it needs no transaction there either. A dead connection raises here
    like in SQLAlchemy's own ping (translated by the adapter), so the pool still invalidates
    it and connects afresh before the request uses it (RELIABILITY.md finding 8, REL-08)."""
    try:
        await_(dbapi_connection._connection.execute("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - the adapter maps it to a DBAPI error, as its ping() does
        dbapi_connection._handle_exception(error)
    return True


def _postgres_engine(url: str, pool_size: int, pool_timeout: float, statement_timeout_ms: int,
                     **engine_options: Any) -> AsyncEngine:
    if "poolclass" not in engine_options:
        engine_options.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=pool_timeout)
    engine = create_async_engine(
        url,
        pool_pre_ping=True,  # drop connections that died with the server (RELIABILITY.md finding 8)
        **engine_options,
        connect_args={
            "timeout": 5,
            "command_timeout": max(statement_timeout_ms / 1000 + 5, 10),
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "envduty",
                "jit": "off",  # short OLTP statements: compiling plans only adds latency
            },
        },
    )
    engine.dialect.do_ping = _ping_in_one_round_trip  # type: ignore[method-assign]
    return engine


class Database:
    """One engine plus a read and a write session factory over the same pool."""

    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 5.0,
                 statement_timeout_ms: int = 15_000, sqlite_busy_timeout_ms: int = 30_000,
                 pooled: bool = True) -> None:
        """`pooled=False` opens a connection per session: for callers that run each request on a
        fresh event loop (a sync test client), where pooled async connections cannot follow."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, sqlite_busy_timeout_ms, **options)
        else:
            self.engine = _postgres_engine(url, pool_size, pool_timeout, statement_timeout_ms, **options)
        write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self.write_sessions = async_sessionmaker(write_engine, expire_on_commit=False, autoflush=True)
        # Read-only routes on PostgreSQL: no BEGIN/COMMIT (module docstring); SQLite keeps its BEGIN.
        self.autocommit_reads = self.read_sessions if self.is_sqlite else async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False,
            autoflush=True)

    def sessions(self, *, write: bool) -> async_sessionmaker[AsyncSession]:
        return self.write_sessions if write else self.read_sessions

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error (scripts, workers, tests)."""
        async with self.sessions(write=write)() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
