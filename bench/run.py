"""The benchmark driver: service vs raw baseline, province vs nation scale, one run.

    python -m bench.run --small-db envduty_bench_small --large-db envduty_bench --out BENCHMARKS.md

For both datasets (made by `bench.generate`) at once: start the service (uvicorn, 1 worker,
ENVIRONMENT=production, LOG_LEVEL=WARNING) and the baseline (bench/baseline.py) on loopback
ports, sign in through POST /auth/token as the province-1 admin, check that both serve the
same rows, then run wrk at fixed concurrency, one run at a time, each request's rows for
both datasets and both servers side by side, best of --repeat (bench/wrk.py). Then one
row with the default INFO access log, then the in-process probes (bench/probe.py). Every child is stopped in `finally`; wrk runs are bounded by -d.
Raw outputs land in bench/out/; the summary in --out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import BENCH_PASSWORD, LARGE_DB, OUT_DIR, ROOT, SMALL_DB, service_env, summary_path
from bench.load import Meter, bench_backends
from bench.report import write_report
from bench.wrk import GROUPS, QuietBudget, Scenario, run_group

ADMIN = "bench.p01.admin"


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def server(name: str, app: list[str], port: int, env: dict[str, str], log: Path):
    """A uvicorn child on 127.0.0.1:port, stopped (SIGTERM, then SIGKILL) whatever happens."""
    if not _free(port):
        raise SystemExit(f"port {port} is in use; pass other ports with --port")
    cmd = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log", "--proxy-headers"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer /healthz within 30 s; see {log}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def mint_token(port: int) -> str:
    r = httpx.post(f"http://127.0.0.1:{port}/auth/token", timeout=30,
                   data={"grant_type": "password", "username": ADMIN, "password": BENCH_PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


def check_same_rows(svc: int, base: int, token: str, ids: dict[str, str]) -> dict[str, int]:
    """The baseline must serve what the service serves, or the ratio means nothing. Returns body sizes."""
    auth = {"Authorization": f"Bearer {token}"}
    sizes = {}
    for key, path in (("org_list", "/organisations?limit=50"), ("user_list", "/users?limit=50"),
                      ("item_list", "/responsibility-items?limit=50"),
                      ("org_get", f"/organisations/{ids['org']}"), ("me", "/me")):
        a = httpx.get(f"http://127.0.0.1:{svc}{path}", headers=auth, timeout=30)
        b = httpx.get(f"http://127.0.0.1:{base}{path}", headers=auth, timeout=30)
        a.raise_for_status()
        b.raise_for_status()
        ja, jb = a.json(), b.json()
        if "items" in ja:
            same = [i["id"] for i in ja["items"]] == [i["id"] for i in jb["items"]] and \
                   set(ja["items"][0]) == set(jb["items"][0])
        else:
            same = ja.get("id") == jb.get("id") and set(ja) <= set(jb) | {"client_id", "scopes"}
        if not same:
            raise SystemExit(f"baseline and service disagree on {path}: fix bench/baseline.py first")
        sizes[key] = len(a.content)
    return sizes


@dataclass
class Dataset:
    label: str  # province | nation
    db: str
    summary: dict[str, Any]
    ids: dict[str, str]  # root (province 1), org (its environment department)
    ports: dict[str, int]  # service, baseline
    token: str = ""
    results: dict[str, Any] = field(default_factory=lambda: {"service": {}, "baseline": {}})

    @property
    def urls(self) -> dict[str, str]:
        return {target: f"http://127.0.0.1:{port}" for target, port in self.ports.items()}


def _service_log_counts(path: Path) -> dict[str, int]:
    """How the service's own log classed its failures (500 `unhandled error`, 503 `database unavailable`)."""
    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        exc = (record.get("exc") or "").strip().splitlines()
        reason = exc[-1][:160] if exc else ""
        if "statement timeout" in (record.get("exc") or ""):
            reason = "statement timeout (QueryCanceledError)"
        key = f"{record.get('msg', '')[:60]}: {reason}" if reason else record.get("msg", "")[:100]
        counts[key] = counts.get(key, 0) + 1
    return counts


def measure(datasets: list[Dataset], args: argparse.Namespace, budget: QuietBudget) -> None:
    """All four servers up at once; each group's rows run side by side for both datasets."""
    with ExitStack() as stack:
        pids: set[int] = set()
        for d in datasets:
            env = service_env(d.db)
            pids.add(stack.enter_context(server(f"service ({d.label})", ["app.main:app_factory", "--factory"],
                                                d.ports["service"], env, OUT_DIR / f"service-{d.db}.log")).pid)
            pids.add(stack.enter_context(server(f"baseline ({d.label})", ["bench.baseline:app"], d.ports["baseline"],
                                                {**env, "BENCH_BASELINE_DB": d.db},
                                                OUT_DIR / f"baseline-{d.db}.log")).pid)
            d.token = mint_token(d.ports["service"])
            d.results["body_bytes"] = check_same_rows(d.ports["service"], d.ports["baseline"], d.token, d.ids)
        dbs = [d.db for d in datasets]
        for group in GROUPS:
            # A token per group: access tokens live 15 minutes and the whole run takes longer (one run's
            # last rows, the statistics, answered 401 at 1,187 req/s and had no ratio).
            for d in datasets:
                d.token = mint_token(d.ports["service"])
            for (label, target, key), result in run_group(group, datasets, args, lambda: pids | bench_backends(dbs),
                                                          budget).items():
                next(d for d in datasets if d.label == label).results[target][key] = result
        for d in datasets:
            d.token = mint_token(d.ports["service"])  # fresh for the probes
    for d in datasets:
        d.results["service_log"] = _service_log_counts(OUT_DIR / f"service-{d.db}.log")
    nation = datasets[-1]  # the default INFO access log, written to a file as a container's stdout would be
    with server("service (INFO log)", ["app.main:app_factory", "--factory"], nation.ports["service"],
                {**service_env(nation.db), "LOG_LEVEL": "INFO"}, OUT_DIR / f"service-{nation.db}-info.log") as svc:
        logged = Dataset(nation.label, nation.db, nation.summary, nation.ids, nation.ports,
                         mint_token(nation.ports["service"]))
        group = [Scenario("org_list_info_log", "service", "/organisations?limit=50", True)]
        best = run_group(group, [logged], args, lambda: {svc.pid} | bench_backends([nation.db]), budget)
        nation.results["service"]["org_list_info_log"] = best[(nation.label, "service", "org_list_info_log")]
    for d in datasets:
        print(f"  {d.db}: in-process probes", flush=True)
        d.results["probe"] = probe(d.db, service_env(d.db), d.token, d.ids, args, budget)
        d.results["dataset"] = d.summary


def probe(db: str, env: dict[str, str], token: str, ids: dict[str, str], args: argparse.Namespace,
          budget: QuietBudget) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.probe", "--db", db, "--token", token, "--root", ids["root"], "--org", ids["org"],
           "-n", str(args.probe_iterations)]
    quiet = budget.wait(lambda: bench_backends([db]), args.quiet_cores)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    meter = Meter(lambda: {proc.pid} | bench_backends([db]))
    meter.start()
    try:
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    load = meter.stop()
    if proc.returncode:
        raise SystemExit(f"bench.probe failed:\n{stderr[-3000:]}")
    line = next(x for x in stdout.splitlines() if x.startswith("PROBE_JSON "))
    return {**json.loads(line.removeprefix("PROBE_JSON ")), "load": {**load.as_dict(), **quiet}}


MARKED = re.compile(r"<!-- ([a-z-]+):start -->.*?<!-- \1:end -->", re.DOTALL)


def kept_sections(path: Path) -> list[str]:
    """Sections other drivers write between `<!-- name:start -->` and `<!-- name:end -->` markers
    (bench/export.py's, the separately measured findings section): a `make bench` run keeps them as
    they are, since it did not measure them."""
    return [m.group(0) for m in MARKED.finditer(path.read_text())] if path.exists() else []


def _shown(executable: str) -> str:
    """The interpreter as the Makefile names it (.venv/bin/python), not as an absolute path."""
    path = Path(executable)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-db", default=SMALL_DB)
    parser.add_argument("--large-db", default=LARGE_DB)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=2, help="runs per row (best kept; slow rows run once)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of discarded wrk warm-up per run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18011, help="first of four loopback ports (services, baselines)")
    parser.add_argument("--probe-iterations", type=int, default=2000)
    parser.add_argument("--quiet-cores", type=float, default=0.25,
                        help="before each row, wait for other processes to use less CPU than this")
    parser.add_argument("--quiet-wait", type=float, default=15, help="...but at most this many seconds per row")
    parser.add_argument("--quiet-budget", type=float, default=120, help="...and this many seconds in all")
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()
    datasets = []
    for offset, (label, db) in enumerate((("province", args.small_db), ("nation", args.large_db))):
        summary = json.loads(summary_path(db).read_text())
        ids = {"root": summary["organisations"]["p01"], "org": summary["organisations"]["p01.gov.env"]}
        datasets.append(Dataset(label, db, summary, ids, {"service": args.port + 2 * offset,
                                                          "baseline": args.port + 2 * offset + 1}))
    measure(datasets, args, QuietBudget(args.quiet_wait, args.quiet_budget))
    runs = {d.label: d.results for d in datasets}
    wrk_cmd = (f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency --timeout 10s "
               f"-s bench/report.lua [-H 'Authorization: Bearer $TOKEN'] URL")
    meta = {"args": vars(args), "wrk_command": wrk_cmd, "started": started, "elapsed_s": round(time.time() - started),
            "argv": " ".join(shlex.quote(a) for a in [_shown(sys.executable), "-m", "bench.run", *sys.argv[1:]])}
    (OUT_DIR / "results.json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1, ensure_ascii=False))
    kept = kept_sections(Path(args.out))
    Path(args.out).write_text("\n\n".join([write_report(runs, meta).rstrip(), *kept]) + "\n")
    print(f"wrote {args.out} ({meta['elapsed_s']} s)")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
