"""The fixed text of BENCHMARKS.md; bench/report.py fills in the figures."""

PROSE = {
    "intro": "Written by `make bench` on {when} ({elapsed} for the measurements, after data generation). Every "
             "figure comes from that one run on the machine described; compare runs only on the same machine. "
             "The targets are the quality-harness issue's: reported here, never enforced as timed tests.",
    "shape": "Both are built by `bench/generate.py` from the seed, with the service's own migrations: a national "
             "root and its ministries, then per province 100 organisations (省委, 省政府 with 18 departments and "
             "their internal units, 纪委, 检察院, the 督察领导小组 with office, teams and 16 member units, three "
             "cities with two counties each). Province 1 (海南省) is identical in both datasets.",
    "standin": "**Scale rule.** The issue's 1M-vs-10k rule is read on the largest tables: findings (1,000,000 "
               "at nation scale, province 1's 32,259 at province scale), responsibility items (200,012 vs 6,452) "
               "and users (1,000,000 vs 10,000, one membership each, spread uniformly over every organisation). "
               "The caller is the province-1 admin, who sees all of the province-scale rows and about 1/31 of the "
               "nation's; findings rows filter province 1's subtree. Reports: 50,000 at nation scale, province "
               "1's 1,613 in both datasets (bench/reports.py); the compliance row reads province 1's period year "
               "2025 as its admin.",
    "figures": "wrk: {threads} threads, {connections} connections, {duration} s per run after a {warmup} s "
               "warm-up; each row is the best of {repeat} runs, interleaved with its baseline rows and with the "
               "other dataset's rows, all four servers up at once (rows under 50 req/s run once). Latencies in ms. *Raw query*: bench/baseline.py serving the same SQL "
               "statements with the scope root given (no token). *Raw + token*: the same, checking the token "
               "with the app's `decode_access_token` and loading the caller in one statement. For `/healthz` "
               "the raw column is a bare Starlette route (the framework floor). *Other load*: cores used by "
               "processes outside the bench during the service's run.",
    "probe": "{n} iterations each (fewer for statements slower than 8 s in all), one at a time, after waiting "
             "for a quiet machine. The principal load runs inside an open transaction, as `get_principal` does; "
             "*no scope clause* is the same page without its `EXISTS … organisation_closure` filter, so the "
             "difference is what scoping costs in SQL.",
}
METHOD = [
    ("- **Two cores for everything.** wrk, the service (one uvicorn worker), PostgreSQL and the idle baseline "
    "share 2 cores, and wrk takes a good part of one core at these rates. The fastest rows (the raw baseline) "
    "lose the most to it, so service ÷ raw ratios lean in the service's favour, and absolute req/s are lower "
    "than on a dedicated host. Compare ratios, not absolute numbers, across machines."),
    ("- **Other processes.** The machine is shared (other suites run on it). Before each run the driver waits, "
    "within a budget, until other processes use under {quiet} cores; each row records the CPU that other "
    "processes used during it (/proc accounting, bench/load.py), and keeps the best of its runs."),
    ("- **Closed loop.** wrk waits for each answer before sending the next request on a connection, so latency "
    "≈ connections ÷ throughput at saturation and queueing delay is not fully seen (coordinated omission). "
    "All rows run at the same fixed concurrency, so they compare fairly."),
    ("- **Same data, same statements.** Before measuring, the driver checks that the baseline returns the same "
    "ids and fields as the service. The baseline leaves out the ORM, Pydantic, FastAPI's dependencies, the "
    "middleware, the per-request transaction (BEGIN/COMMIT) and pool pre-ping."),
    ("- **Logging.** `app_factory` configures logging at `LOG_LEVEL` (default INFO, where the middleware writes "
    "one JSON access line per request). The rows run with `LOG_LEVEL=WARNING`; one nation row repeats the "
    "organisation list at the default INFO with the log written to a file, to show its price."),
    ("- **Steady state.** Datasets are vacuumed and analysed after loading; PostgreSQL runs with the machine's "
    "default settings. Each sign-in by the driver adds one audit event."),
    "- Raw wrk outputs, logs and `results.json` are in `bench/out/` (git-ignored).",
]
