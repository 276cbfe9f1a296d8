"""Only the findings rows (issue 6): `GET /findings` filtered by subtree + status + overdue, and
`GET /stats/findings` for a province subtree, service vs the raw replay of the same statements.

    python -m bench.findings_run --db envduty_bench_small [--db envduty_bench] [--duration 10]

`make bench` runs the same rows among all the others (bench/wrk.py GROUPS); this driver is for a
quick measurement on a shared machine. It starts the service (production settings, 1 worker) and
bench/baseline.py on loopback ports, signs in as the province-1 admin, checks both answer the
same page ids and the same total, then runs wrk on each row once (after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
from contextlib import ExitStack

import httpx

from bench.common import OUT_DIR, ROOT, service_env, summary_path
from bench.load import bench_backends
from bench.run import mint_token, server
from bench.wrk import QuietBudget, wrk_once

ROWS = [("finding_list", "/findings?subtree_of={root}&status=in_progress&overdue=true&limit=50"),
        ("finding_stats", "/stats/findings?organisation_id={root}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=18061)
    parser.add_argument("--quiet-cores", type=float, default=0.5)
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    budget = QuietBudget(10, 60)
    results: dict[str, dict[str, dict]] = {}
    for n, db in enumerate(args.db):
        root = json.loads(summary_path(db).read_text())["organisations"]["p01"]
        ports = {"service": args.port + 2 * n, "baseline": args.port + 2 * n + 1}
        env = service_env(db)
        with ExitStack() as stack:
            pids = {stack.enter_context(server("service", ["app.main:app_factory", "--factory"], ports["service"],
                                               env, OUT_DIR / f"service-{db}-findings.log")).pid,
                    stack.enter_context(server("baseline", ["bench.baseline:app"], ports["baseline"],
                                               {**env, "BENCH_BASELINE_DB": db},
                                               OUT_DIR / f"baseline-{db}-findings.log")).pid}
            token = mint_token(ports["service"])
            for key, path in ROWS:
                url = path.format(root=root)
                a = httpx.get(f"http://127.0.0.1:{ports['service']}{url}", timeout=60,
                              headers={"Authorization": f"Bearer {token}"}).json()
                b = httpx.get(f"http://127.0.0.1:{ports['baseline']}{url}", timeout=60).json()
                same = ([i["id"] for i in a["items"]] == [i["id"] for i in b["items"]]) if "items" in a else (
                    a["figures"]["total"] == b["figures"]["total"])
                if not same:
                    raise SystemExit(f"baseline and service disagree on {url}")
                for target in ("service", "baseline"):
                    print(f"  {db} {target} {key}", flush=True)
                    results.setdefault(db, {}).setdefault(key, {})[target] = wrk_once(
                        f"http://127.0.0.1:{ports[target]}{url}", token if target == "service" else None, args,
                        f"{db}-{target}-{key}", lambda pids=pids, db=db: pids | bench_backends([db]), budget,
                        warmup=True)
    (OUT_DIR / "findings-results.json").write_text(json.dumps(results, indent=1))
    print("| dataset | request | service req/s | p50 ms | p99 ms | raw req/s | raw p50 ms | service ÷ raw "
          "| raw p50 ÷ service p50 | other load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for db, rows in results.items():
        for key, r in rows.items():
            s, b = r["service"], r["baseline"]
            print(f"| {db} | {key} | {s['rps']:,.1f} | {s['latency_us']['p50'] / 1000:.1f} | "
                  f"{s['latency_us']['p99'] / 1000:.1f} | {b['rps']:,.1f} | {b['latency_us']['p50'] / 1000:.1f} | "
                  f"{s['rps'] / b['rps']:.0%} | {b['latency_us']['p50'] / s['latency_us']['p50']:.0%} | "
                  f"{s['load']['other_cores']:.2f} |")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
