"""The findings rows (issue 6) measured without wrk, for a shared machine: the SQL by EXPLAIN ANALYZE,
the service's own work in-process by CPU time.

    python -m bench.findings_probe --db envduty_bench_fspeed [--runs 5] [--requests 30] [--profile]

- `sql`: the statements the service runs for province 1's admin (bench/baseline.py `capture_findings`),
  each EXPLAIN (ANALYZE, BUFFERS) `--runs` times: median execution ms, and the plan's shape (node
  types, index names), so a figure says which index served it.
- `service`: `--requests` requests through httpx.ASGITransport (no server, no network), after two
  warm-ups: wall and `time.process_time()` per request (this process's CPU: FastAPI, ORM, Pydantic,
  the driver; the database's own time is not in it), beside the raw replay of the same statements
  through asyncpg (wall and CPU). `--profile` prints the top functions of the list request.
Timings of SQL are robust on a loaded machine; the CPU time of this process is, too (it excludes waiting).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import time
from typing import Any

import asyncpg
import httpx

from bench.baseline import FINDING_LIST, FINDING_STATS, capture_findings
from bench.common import BENCH_PASSWORD, asyncpg_dsn, service_env, summary_path
from bench.run import ADMIN


def _walk(node: dict[str, Any], out: list[str]) -> None:
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" {node['Index Name']}"
    elif "Relation Name" in node:
        label += f" {node['Relation Name']}"
    out.append(label)
    for child in node.get("Plans", []):
        _walk(child, out)


async def explain(db: str, runs: int) -> dict[str, list[dict[str, Any]]]:
    captured = await capture_findings(db)
    conn = await asyncpg.connect(asyncpg_dsn(db), server_settings={"jit": "off"})
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        for key, statements in captured.items():
            for sql, params in statements:
                times, plan = [], None
                for _ in range(runs):
                    rows = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *params)
                    doc = json.loads(rows)[0] if isinstance(rows, str) else rows[0]
                    times.append(doc["Execution Time"])
                    plan = doc
                shape: list[str] = []
                _walk(plan["Plan"], shape)
                buffers = plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
                out.setdefault(key, []).append({"sql": " ".join(sql.split())[:160], "ms": statistics.median(times),
                                                "rows": plan["Plan"]["Actual Rows"], "buffers": buffers,
                                                "shape": shape})
    finally:
        await conn.close()
    return out


async def _raw(db: str, statements: list[tuple[str, tuple[Any, ...]]], n: int) -> tuple[float, float]:
    conn = await asyncpg.connect(asyncpg_dsn(db), server_settings={"jit": "off"})
    try:
        for _ in range(2):
            for sql, params in statements:
                await conn.fetch(sql, *params)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            for sql, params in statements:
                await conn.fetch(sql, *params)
        return (time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000
    finally:
        await conn.close()


async def service(db: str, n: int, profile: bool) -> dict[str, dict[str, float]]:
    os.environ.update(service_env(db))
    from app.core.config import get_settings
    from app.main import create_app

    get_settings.cache_clear()
    app = create_app()
    root = json.loads(summary_path(db).read_text())["organisations"]["p01"]
    captured = await capture_findings(db)
    out: dict[str, dict[str, float]] = {}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        token = (await client.post("/auth/token", data={"grant_type": "password", "username": ADMIN,
                                                        "password": BENCH_PASSWORD})).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # /healthz and /me first: the floor every request pays (middleware, token, principal) for reference.
        for key, path in (("healthz", "/healthz"), ("me", "/me"), ("finding_list", FINDING_LIST),
                          ("finding_stats", FINDING_STATS)):
            url = path.format(root=root)
            for _ in range(2):
                (await client.get(url, headers=auth)).raise_for_status()
            prof = cProfile.Profile() if profile and key == "finding_list" else None
            wall, cpu = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            for _ in range(n):
                r = await client.get(url, headers=auth)
            if prof:
                prof.disable()
            wall, cpu = (time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000
            r.raise_for_status()
            if key not in captured:
                out[key] = {"service_wall_ms": wall, "service_cpu_ms": cpu}
                continue
            raw_wall, raw_cpu = await _raw(db, captured[key], n)
            out[key] = {"service_wall_ms": wall, "service_cpu_ms": cpu, "raw_wall_ms": raw_wall,
                        "raw_cpu_ms": raw_cpu, "statements": len(captured[key]),
                        "items": len(r.json().get("items", [])) if key == "finding_list" else
                        r.json()["figures"]["total"]}
            if prof:
                pstats.Stats(prof).sort_stats("tottime").print_stats(45)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=("sql", "service"))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    if args.only != "service":
        for key, rows in asyncio.run(explain(args.db, args.runs)).items():
            print(f"## {key}: {sum(r['ms'] for r in rows):.2f} ms in {len(rows)} statements")
            for r in rows:
                print(f"  {r['ms']:9.2f} ms  rows {r['rows']:>6}  buffers {r['buffers']:>7}  {r['sql']}")
                print(f"             {' > '.join(r['shape'][:12])}")
    if args.only != "sql":
        for key, r in asyncio.run(service(args.db, args.requests, args.profile)).items():
            print(f"## {key} in-process, {args.requests} requests: " + ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()))
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
