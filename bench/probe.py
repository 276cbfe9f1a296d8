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
    """SQL statements each request sends, counted in-process; round trips add BEGIN, COMMIT and the
    pool's pre-ping on checkout (asyncpg: BEGIN; SELECT ';'; ROLLBACK), as bench/out/*.log can't show."""
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
                round_trips = seen["statements"] + 2 + (3 * seen["checkouts"] if pre_ping else 0)
                out[label] = {
                    "status": status, "statements": seen["statements"], "checkouts": seen["checkouts"],
                    "round_trips": round_trips}
            variants = await request_variants(app, client, {"Authorization": f"Bearer {token}"},
                                              "/organisations?limit=50")
    finally:
        await app.state.database.dispose()
    return {"pre_ping": pre_ping, "requests": out, "org_list_variants_ms": variants}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--root", required=True, help="the scope root of the token's user (a province root)")
    parser.add_argument("--org", required=True, help="an organisation in that scope, for GET /organisations/{id}")
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    result = {"statements": await statements_per_request(args.token, args.org),
              "token": await token_check(args.token, args.n),
              "scoping": await scoping_sql(args.db, uuid.UUID(args.root), max(200, args.n // 4))}
    print("PROBE_JSON " + json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
