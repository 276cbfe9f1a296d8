"""Scenarios and the wrk runner.

Each group holds one service request and its baseline equivalents; a group's rows run
interleaved for both datasets (province service, baseline, nation service, baseline, then
again), so both sides of every ratio, service ÷ raw and nation ÷ province, see the same
machine. A row that answers fast enough is measured `repeat` times and its best
run kept (the one least disturbed by other processes); a slow row is measured once,
since every run of it also leaves a queue for the database to drain.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import OUT_DIR, ROOT
from bench.load import Meter, wait_until_quiet

LUA = ROOT / "bench" / "report.lua"
REPEAT_MIN_RPS = 50  # below this, one run: a repeat would mostly measure the previous run's backlog


@dataclass(frozen=True)
class Scenario:
    key: str
    target: str  # service | baseline
    path: str  # may hold {root} and {org}
    auth: bool
    # Concurrency for this row only. A province's statistics take seconds of database time each: at the
    # list rows' 32 connections every request waits behind 31 others past wrk's 10 s timeout and the row
    # measures nothing (the 2026-12-02 run). Two is what a coordination office's screen asks for.
    connections: int | None = None


GROUPS = [
    [Scenario("healthz", "service", "/healthz", False), Scenario("healthz", "baseline", "/healthz", False)],
    [Scenario("me", "service", "/me", True), Scenario("me_token", "baseline", "/me", True)],
    [Scenario("org_list", "service", "/organisations?limit=50", True),
     Scenario("org_list", "baseline", "/organisations?limit=50&root={root}", False),
     Scenario("org_list_token", "baseline", "/organisations?limit=50", True)],
    [Scenario("org_get", "service", "/organisations/{org}", True),
     Scenario("org_get", "baseline", "/organisations/{org}?root={root}", False)],
    [Scenario("user_list", "service", "/users?limit=50", True),
     Scenario("user_list", "baseline", "/users?limit=50&root={root}", False),
     Scenario("user_list_token", "baseline", "/users?limit=50", True)],
    [Scenario("item_list", "service", "/responsibility-items?limit=50", True),
     Scenario("item_list", "baseline", "/responsibility-items?limit=50&root={root}", False),
     Scenario("item_list_token", "baseline", "/responsibility-items?limit=50", True)],
    # The compliance view over province 1's period-2025 reports (of its 1,613 of the nation's 50,000; bench/reports.py).
    [Scenario("report_compliance", "service", "/report-compliance?period_year=2025&organisation_id={root}&limit=50",
              True)],
    # Findings (issue 6): province 1's in-progress findings past their deadline, and its statistics; the
    # baseline replays the service's own statements (bench/baseline.py `capture_findings`).
    [Scenario("finding_list", "service", "/findings?subtree_of={root}&status=in_progress&overdue=true&limit=50", True),
     Scenario("finding_list", "baseline", "/findings?subtree_of={root}&status=in_progress&overdue=true&limit=50",
              False)],
    [Scenario("finding_stats", "service", "/stats/findings?organisation_id={root}", True, connections=2),
     Scenario("finding_stats", "baseline", "/stats/findings?organisation_id={root}", False, connections=2)],
]


class QuietBudget:
    """How long, in all, the driver may wait for other processes to calm down."""

    def __init__(self, per_row: float, total: float) -> None:
        self.per_row, self.left = per_row, total

    def wait(self, ours: Callable[[], set[int]], other_max: float) -> dict[str, float]:
        quiet = wait_until_quiet(ours, other_max=other_max, max_wait=min(self.per_row, max(0.0, self.left)))
        self.left -= quiet["waited_s"]
        return quiet


def wrk_once(url: str, token: str | None, args: argparse.Namespace, label: str, ours: Callable[[], set[int]],
             budget: QuietBudget, warmup: bool, connections: int | None = None) -> dict[str, Any]:
    """One measured wrk run (after a warm-up if asked); records who used the CPU meanwhile."""
    connections = connections or args.connections
    base = ["wrk", f"-t{min(args.threads, connections)}", f"-c{connections}", "--latency", "--timeout", "10s", "-s", str(LUA)]
    if token:
        base += ["-H", f"Authorization: Bearer {token}"]
    quiet = budget.wait(ours, args.quiet_cores)
    if warmup:
        subprocess.run([*base, f"-d{args.warmup}s", url], capture_output=True, timeout=args.warmup + 60, check=True)
    meter = Meter(ours)
    meter.start()
    proc = subprocess.Popen([*base, f"-d{args.duration}s", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        stdout, stderr = proc.communicate(timeout=args.duration + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
    load = meter.stop()
    (OUT_DIR / f"wrk-{label}.txt").write_text(stdout + stderr)
    line = next(x for x in stdout.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    found = re.search(r"Requests/sec:\s+([\d.]+)", stdout)
    result["rps"] = float(found.group(1)) if found else 0.0
    result["errors_total"] = sum(result["errors"].values())
    result["load"] = {**load.as_dict(), **quiet}
    result["connections"] = connections
    print(f"    {result['rps']:9,.1f} req/s  p50 {result['latency_us']['p50'] / 1000:7.1f} ms  "
          f"p99 {result['latency_us']['p99'] / 1000:7.1f} ms  errors {result['errors_total']}  "
          f"other load {load.other:.2f} cores", flush=True)
    return result


def run_group(group: list[Scenario], datasets: list[Any], args: argparse.Namespace, ours: Callable[[], set[int]],
              budget: QuietBudget) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Best-of-`repeat` per (dataset, row), all interleaved; every run is kept under `runs`. Once a
    baseline row completes almost nothing, the statement itself is the limit: that dataset's further
    baseline variants would measure the same statement and only add a backlog, so they are skipped."""
    runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {
        (d.label, s.target, s.key): [] for d in datasets for s in group}
    stalled: set[str] = set()
    for rep in range(args.repeat):
        for d in datasets:
            for s in group:
                done = runs[(d.label, s.target, s.key)]
                if (rep and (not done or done[0]["rps"] < REPEAT_MIN_RPS)) or \
                        (d.label in stalled and s.target == "baseline"):
                    continue
                url = d.urls[s.target] + s.path.format(**d.ids)
                print(f"  {d.label:8} {s.target:8} {s.key:18} run {rep + 1}  {url}", flush=True)
                done.append(wrk_once(url, d.token if s.auth else None, args,
                                     f"{d.db}-{s.target}-{s.key}-{rep + 1}", ours, budget, warmup=rep == 0,
                                     connections=s.connections))
                if s.target == "baseline" and done[-1]["rps"] < 1:
                    stalled.add(d.label)
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, done in runs.items():
        if not done:
            best[key] = {"skipped": "the same statement completed no request in the raw baseline row"}
            continue
        pick = max(done, key=lambda r: r["rps"])
        best[key] = {**pick, "runs": [{"rps": r["rps"], "p50_us": r["latency_us"]["p50"],
                                       "other_cores": r["load"]["other_cores"]} for r in done]}
    return best
