"""In-process measurements the HTTP runs cannot isolate, one dataset per call:

- the token check (`decode_access_token`) and the principal load (`load_principal`, and the
  loader as it was before, bench/whatif.py), timed over N sequential iterations inside an open
  transaction, the way `get_principal` runs them per request;
- the SQL cost of scoping: the list statements with and without their scope clause
  (raw asyncpg, same parameters), so the EXISTS semi-join's price is visible;
- EXPLAIN (ANALYZE, BUFFERS) of the list statements, for BENCHMARKS.md;
- the statements as they were before the last fixes (bench/whatif.py), next to the shipped ones.

Run by `bench.run` in a child process with the service's environment, while nothing else
runs: python -m bench.probe --db envduty_bench --token <access token>  (prints one JSON line)

`--cpu` instead measures CPU time per request (`time.process_time()`, this process only: the
database's own work is not in it), which a shared machine disturbs far less than wall time:
whole requests through httpx's ASGI transport, the same transport against a bare Starlette
route (the client's and the transport's share, to subtract), and the principal load alone.
It mints its own token for the province-1 admin and only reads the database:
python -m bench.probe --cpu --db envduty_bench_small [-n 300 --blocks 5]
To measure another checkout's code with this probe: PYTHONPATH=<checkout> python <this file> --cpu ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import text

from app.core.config import get_settings
from app.core.db import Database
from app.core.security import decode_access_token
from app.services.principals import load_principal
from bench.baseline import members_sql, org_list_sql, user_list_sql
from bench.common import asyncpg_dsn
from bench.whatif import USERS_BEFORE, load_principal_before, memberships_page, request_variants


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"n": len(samples), "mean_us": round(statistics.fmean(samples) * 1e6, 1),
            "p50_us": round(pick(0.50) * 1e6, 1), "p95_us": round(pick(0.95) * 1e6, 1),
            "p99_us": round(pick(0.99) * 1e6, 1)}


BUDGET_S = 8.0  # per measurement: a slow statement (seconds each) gets fewer iterations, never minutes


async def _time(fn: Callable[[], Awaitable[Any]], n: int, warmup: int) -> dict[str, float]:
    begun = time.perf_counter()
    for _ in range(warmup):
        await fn()
        if time.perf_counter() - begun > BUDGET_S / 4:
            break
    samples: list[float] = []
    begun = time.perf_counter()
    while len(samples) < n and (len(samples) < 5 or time.perf_counter() - begun < BUDGET_S):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


async def token_check(token: str, n: int) -> dict[str, Any]:
    settings = get_settings()
    db = Database(settings.database_url, pool_size=2)
    out: dict[str, Any] = {}
    try:
        async def decode() -> None:
            decode_access_token(token)

        out["decode_access_token"] = await _time(decode, n, n // 10)
        async with db.read_sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))  # the request's transaction is open already

            async def check() -> None:
                await load_principal(session, decode_access_token(token))
                session.expunge_all()  # each request starts with an empty identity map

            out["decode_and_load_principal"] = await _time(check, n, n // 10)

            async def before() -> None:
                await load_principal_before(session, decode_access_token(token))
                session.expunge_all()

            out["decode_and_principal_before"] = await _time(before, n, n // 10)
    finally:
        await db.dispose()
    return out


# The list statements without any scope clause: what the same page costs when nobody is filtered.
UNSCOPED = {
    "organisations": org_list_sql(1).split("\nWHERE ")[0] + "\nWHERE organisation.is_active = true "
                     "ORDER BY organisation.created_at, organisation.id \n LIMIT $1::INTEGER",
    "users": user_list_sql(1, True).split("\nWHERE ")[0] + " ORDER BY user_account.created_at, user_account.id "
             "\n LIMIT $1::INTEGER",
}


async def scoping_sql(db_name: str, root: uuid.UUID, n: int) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_dsn(db_name), server_settings={"jit": "off"})  # as the service
    out: dict[str, Any] = {}
    try:
        cases = {"organisations": org_list_sql(1), "users": user_list_sql(1, True)}
        for name, sql in cases.items():
            scoped_stmt, plain_stmt = await conn.prepare(sql), await conn.prepare(UNSCOPED[name])
            scoped = await _time(lambda s=scoped_stmt: s.fetch(51, root), n, n // 10)
            unscoped = await _time(lambda s=plain_stmt: s.fetch(51), n, n // 10)
            out[name] = {"scoped": scoped, "unscoped": unscoped,
                         "delta_p50_us": round(scoped["p50_us"] - unscoped["p50_us"], 1)}
        ids = [r["id"] for r in await conn.fetch(org_list_sql(1), 51, root)][:50]
        user_ids = [r["id"] for r in await conn.fetch(user_list_sql(1, True), 51, root)][:50]
        out["explain"] = {
            "organisations": await _explain(conn, org_list_sql(1), 51, root),
            "organisation_members": await _explain(conn, members_sql(len(ids)), *ids),
            "users": await _explain(conn, user_list_sql(1, True), 51, root),
            "users_before": await _explain(conn, USERS_BEFORE, 51, root),
        }
        out["same_users_before"] = user_ids == [r["id"] for r in await conn.fetch(USERS_BEFORE, 51, root)][:50]
        out["memberships_page"] = await memberships_page(conn, root, user_ids)
    finally:
        await conn.close()
    return out


async def _explain(conn: asyncpg.Connection, sql: str, *args: Any) -> dict[str, Any]:
    await conn.fetch(sql, *args)  # warm
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    plan = "\n".join(r[0] for r in rows)
    execution = [line for line in plan.splitlines() if line.startswith("Execution Time")]
    return {"plan": plan, "execution_ms": float(execution[0].split()[2]) if execution else None}


async def statements_per_request(token: str, org_id: str) -> dict[str, Any]:
    """SQL statements each request sends, counted in-process; round trips add the pool's pre-ping on
    checkout (one `SELECT 1`, app/core/db.py) and, for routes not marked read-only, BEGIN and COMMIT. All
    four requests here are read-only routes (app.dependencies.read_only): no BEGIN/COMMIT."""
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import event

    from app.main import create_app

    app = create_app()
    engine = app.state.database.engine
    seen = {"statements": 0, "checkouts": 0}
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_a, **_k: seen.__setitem__(
        "statements", seen["statements"] + 1))
    event.listen(engine.sync_engine.pool, "checkout", lambda *_a: seen.__setitem__("checkouts", seen["checkouts"] + 1))
    pre_ping = bool(getattr(engine.sync_engine.pool, "_pre_ping", False))
    out: dict[str, Any] = {}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
            for label, path in (("me", "/me"), ("org_list", "/organisations?limit=50"),
                                ("org_get", f"/organisations/{org_id}"), ("user_list", "/users?limit=50")):
                await client.get(path, headers={"Authorization": f"Bearer {token}"})
                seen.update(statements=0, checkouts=0)
                status = (await client.get(path, headers={"Authorization": f"Bearer {token}"})).status_code
                round_trips = seen["statements"] + (seen["checkouts"] if pre_ping else 0)
                out[label] = {
                    "status": status, "statements": seen["statements"], "checkouts": seen["checkouts"],
                    "round_trips": round_trips}
            variants = await request_variants(app, client, {"Authorization": f"Bearer {token}"},
                                              "/organisations?limit=50")
    finally:
        await app.state.database.dispose()
    return {"pre_ping": pre_ping, "requests": out, "org_list_variants_ms": variants}


CPU_PATHS = (("healthz", "/healthz"), ("me", "/me"), ("org_list", "/organisations?limit=50"),
             ("user_list", "/users?limit=50"))
CPU_USER = "bench.p01.admin"


async def _bench_token(database: Database, username: str) -> str:
    """An access token for `username` bound to its latest open sign-in, as POST /auth/token
    would give, minted here so the probe writes nothing to the bench database."""
    from app.core.security import issue_access_token

    async with database.read_sessions() as session:
        row = (await session.execute(text(
            "SELECT u.id, u.token_version, (SELECT r.id FROM refresh_session r WHERE r.user_id = u.id "
            "AND r.revoked_at IS NULL ORDER BY r.created_at DESC LIMIT 1) AS sid "
            "FROM user_account u WHERE u.username = :name"), {"name": username})).one()
    return issue_access_token(subject=str(row.id), subject_kind="user", token_version=row.token_version,
                              session_id=str(row.sid) if row.sid else None, ttl_seconds=3600).token


def _bare_app() -> Any:
    """The floor: a bare Starlette route with a JSON body, through the same client."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def ok(_: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", ok)])


async def _cpu_block(client: Any, path: str, headers: dict[str, str], n: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await client.get(path, headers=headers)
    return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def cpu_per_request(n: int, blocks: int) -> dict[str, Any]:
    """µs of this process's CPU (and wall) per sequential request, best of `blocks` blocks of `n`,
    the paths interleaved block by block so a busy spell hits all of them alike."""
    from httpx import ASGITransport, AsyncClient

    from app.main import create_app

    app = create_app()
    database: Database = app.state.database
    token = await _bench_token(database, CPU_USER)
    headers = {"Authorization": f"Bearer {token}"}
    best: dict[str, dict[str, float]] = {}

    def keep(name: str, cpu_us: float, wall_us: float) -> None:
        seen = best.setdefault(name, {"cpu_us": cpu_us, "wall_us": wall_us})
        seen["cpu_us"], seen["wall_us"] = round(min(seen["cpu_us"], cpu_us), 1), round(min(seen["wall_us"], wall_us), 1)

    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client, \
                AsyncClient(transport=ASGITransport(app=_bare_app()), base_url="http://bare") as bare:
            for _, path in CPU_PATHS:
                for _ in range(20):
                    response = await client.get(path, headers=headers)
                assert response.status_code == 200, (path, response.status_code, response.text[:300])
            for _ in range(blocks):
                keep("bare_starlette", *await _cpu_block(bare, "/healthz", {}, n))
                for name, path in CPU_PATHS:
                    keep(name, *await _cpu_block(client, path, headers, n))

            async with database.read_sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))  # the request's transaction is open already
                for _ in range(blocks):
                    cpu, wall = time.process_time(), time.perf_counter()
                    for _ in range(n):
                        await load_principal(session, decode_access_token(token))
                        session.expunge_all()
                    keep("decode_and_load_principal", (time.process_time() - cpu) / n * 1e6,
                         (time.perf_counter() - wall) / n * 1e6)
                    cpu = time.process_time()
                    for _ in range(n):
                        decode_access_token(token)
                    keep("decode_access_token", (time.process_time() - cpu) / n * 1e6, 0.0)
    finally:
        await database.dispose()
    return {"n": n, "blocks": blocks, "per_request": best}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--cpu", action="store_true", help="CPU µs per request instead (see the docstring)")
    parser.add_argument("--blocks", type=int, default=5, help="--cpu: blocks of -n requests, best kept")
    parser.add_argument("--token", help="required without --cpu")
    parser.add_argument("--root", help="without --cpu: the scope root of the token's user (a province root)")
    parser.add_argument("--org", help="without --cpu: an organisation in that scope, for GET /organisations/{id}")
    parser.add_argument("-n", type=int, default=None, help="iterations (default 2000, --cpu 300)")
    args = parser.parse_args()
    if args.cpu:
        import os

        from bench.common import service_env

        os.environ.update(service_env(args.db))
        get_settings.cache_clear()
        print("PROBE_CPU_JSON " + json.dumps(await cpu_per_request(args.n or 300, args.blocks)))
        return
    if not (args.token and args.root and args.org):
        parser.error("--token, --root and --org are required without --cpu")
    args.n = args.n or 2000
    result = {"statements": await statements_per_request(args.token, args.org),
              "token": await token_check(args.token, args.n),
              "scoping": await scoping_sql(args.db, uuid.UUID(args.root), max(200, args.n // 4))}
    print("PROBE_JSON " + json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
