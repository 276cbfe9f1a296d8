"""The Findings section: why a target was missed and what would fix it, read from this run's
figures and plans, with the statements as they were before the last fixes (bench/whatif.py)
measured next to the shipped ones."""

from __future__ import annotations

from typing import Any


def _ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def round_trips(runs: dict[str, Any]) -> list[str]:
    stmts = runs["nation"]["probe"]["statements"]
    req = stmts["requests"]
    ping = stmts["pre_ping"]
    out = [f"- **Round trips per request.** In-process count for one request each: `GET /me` "
           f"{req['me']['statements']} statements, the organisation list and `GET /organisations/{{id}}` "
           f"{req['org_list']['statements']} and {req['org_get']['statements']}, `GET /users` "
           f"{req['user_list']['statements']}"
           + (", plus the pool's pre-ping on checkout (one `SELECT 1` over the simple query protocol, "
              "app/core/db.py)" if ping else "")
           + f" — {req['org_list']['round_trips']} round trips for the organisation list where the raw "
           "baseline makes 2 (3 with its token check). These GET routes are read-only "
           "(`app.dependencies.read_only`), so they send no BEGIN/COMMIT. One statement of each is the "
           "principal load (two for a caller with an office grant); `/me` adds one for the user's own "
           "fields and the names of the organisations it holds roles at."]
    return out


def token(runs: dict[str, Any], met: dict[str, bool], o: dict[str, float]) -> list[str]:
    probe = runs["nation"]["probe"]["token"]
    before = probe["decode_and_principal_before"]["p50_us"]
    text = (f"- **Token check + scoping: {_ms(o['total'])}** (target 1 ms). `decode_access_token` is "
            f"{o['decode']:.0f} µs, the one-statement `load_principal` {_ms(o['principal'] - o['decode'])}, the "
            f"scope clause {o['scoping_sql']:.0f} µs. In the same run the loader as it was (three statements, "
            f"bench/whatif.py) takes {_ms(before)} with the decode.")
    if not met["token"]:
        text += (" What remains is one round trip on loopback plus SQLAlchemy's statement and row handling; "
                 "a cheaper check would cache the caller per token for a few seconds, which gives up "
                 "RELIABILITY.md API2-d's \"at once\" for deactivation and logout: the lead's call.")
    return [text]


def users(runs: dict[str, Any], met: dict[str, bool]) -> list[str]:
    nation = runs["nation"]["probe"]["scoping"]
    plan = nation["explain"]["users"]["plan"]
    out = []
    if "Seq Scan on user_account" in plan:
        out.append(
            f"- **`GET /users` reads the whole table per page.** At nation scale its statement takes "
            f"{nation['explain']['users']['execution_ms']:,.0f} ms: a sequential scan of `user_account`; the "
            "(created_at, id) index of migration 0002 is not used.")
    before, shipped = nation["explain"]["users_before"]["execution_ms"], nation["explain"]["users"]["execution_ms"]
    out.append(
        f"- **`GET /users`, the root caller's filter.** As it was, `EXISTS(membership in scope) OR NOT "
        f"EXISTS(any membership)` takes {before:,.1f} ms at nation scale: PostgreSQL hashes every in-scope "
        f"membership before it reads the first page. The shipped single `EXISTS` over `user_account self LEFT "
        f"JOIN membership` (`membership.id IS NULL OR <in scope>`) takes {shipped:,.2f} ms (same rows: "
        f"{'yes' if nation['same_users_before'] else 'NO'}).")
    page = {scale: runs[scale]["probe"]["scoping"]["memberships_page"] for scale in ("province", "nation")}
    out.append(
        "- **`GET /users`, the page's memberships and generic plans.** Unfenced, the follow-up query "
        f"(`membership.user_id IN (<50 ids>) AND <in scope>`) took {page['province']['before']['later_ms']:.1f} ms "
        f"at province scale and {page['nation']['before']['later_ms']:.1f} ms at nation scale once PostgreSQL "
        f"kept a generic plan (runs 6–12; {page['nation']['before']['first_five_ms']:.2f} ms before that): the "
        "generic plan assumes an average, three-organisation scope and walks every in-scope organisation's "
        "memberships. With the page's memberships in a MATERIALIZED CTE it takes "
        f"{page['province']['shipped']['later_ms']:.2f} and {page['nation']['shipped']['later_ms']:.2f} ms. Other "
        "statements that filter by a large subtree with many parameters may meet the same generic plan; "
        "`plan_cache_mode = force_custom_plan` would rule it out at the price of planning every statement.")
    if not met["user_list_scale"]:
        out.append("- **`GET /users` still grows with the table.** The admin of one province sees 1/31 of the "
                   "users, so an index walk in global (created_at, id) order visits ~31 rows per row served. "
                   "Findings and items will need indexes that lead with the scope key.")
    return out


def overhead(runs: dict[str, Any], met: dict[str, bool]) -> list[str]:
    n = runs["nation"]
    svc, base = n["service"], n["baseline"]
    v = n["probe"]["statements"]["org_list_variants_ms"]
    out = []
    if not (met["org_list_ratio"] and met["user_list_ratio"]):
        floor = svc["healthz"]["rps"] / base["healthz"]["rps"]
        token_ratio = svc["org_list"]["rps"] / base["org_list_token"]["rps"]
        out.append(
            f"- **Where the list ratio goes.** The framework floor alone (`/healthz`: middleware, FastAPI, one "
            f"JSON body) runs at {floor:.0%} of a bare Starlette route. Against a raw implementation that also "
            f"checks the token (raw + token column), the organisation list reaches {token_ratio:.0%}. In-process, "
            f"one list request takes {v['shipped']:.2f} ms as shipped, {v['no_pre_ping']:.2f} ms without the "
            f"pool's pre-ping and {v['principal_before']:.2f} ms with the caller loaded as before (table above): "
            "the round trips are a part, not the whole. The rest is Python work per request: ORM entity loading "
            "and Pydantic validation of 50 rows, FastAPI's dependency solving, the middleware, the per-request "
            "transaction. For `GET /users`, building the 50 items with `model_construct` instead of validation "
            "saved nothing measurable in-process; the organisation list's items, autocommit reads for GETs "
            "and column selects remain unmeasured candidates. Dropping the pre-ping (`pool_pre_ping=False`, "
            "relying on SQLAlchemy's invalidation after a disconnect error and the 503 mapping) trades against "
            "RELIABILITY finding 8: the lead's call.")
    if "org_list_info_log" in svc:
        cost = 1 - svc["org_list_info_log"]["rps"] / svc["org_list"]["rps"]
        effect = f"{cost:.0%} fewer requests" if cost >= 0 else f"{-cost:.0%} more requests (within noise)"
        out.append(f"- **Access log.** With the default INFO access log (to a file) the organisation list served "
                   f"{effect} than with `LOG_LEVEL=WARNING` (measured after the other rows, not side by side). "
                   "A busy deployment that ships its access lines elsewhere (a proxy's log) can set WARNING.")
    return out


def timeouts(runs: dict[str, Any]) -> list[str]:
    counts = {k: v for run in runs.values() for k, v in run.get("service_log", {}).items()}
    as_500 = sum(v for k, v in counts.items() if k.startswith("unhandled error") and "statement timeout" in k)
    as_503 = sum(v for k, v in counts.items() if k.startswith("database unavailable"))
    if not (as_500 or as_503):
        return []
    if not as_500:
        return [(f"- **Overload answers.** During the `/users` rows the service's log shows {as_503} answers 503 "
                "(`database unavailable`: pool checkout timed out after 5 s — the intended answer), no 500.")]
    text = (f"- **Overload answers.** During the `/users` rows the service's log shows {as_503} answers 503 "
            "(`database unavailable`: pool checkout timed out after 5 s — the intended answer) and")
    if as_500:
        text += (f" {as_500} answers **500** `unhandled error` (both counts include requests still queued "
                 "when wrk stopped): PostgreSQL cancelled the statement at "
                 "`statement_timeout` (SQLSTATE 57014), and `_is_database_outage` in `app/core/errors.py` misses it "
                 "— 57014 is not in `OUTAGE_SQLSTATES`, and its name check sees SQLAlchemy's `DBAPIError`, not "
                 "asyncpg's `QueryCanceledError`. Fix: add `\"57014\"` to `OUTAGE_SQLSTATES` (503 + Retry-After), "
                 "or answer it as 504. RELIABILITY.md §5 wants 0 × 500")
    return [text + "."]


def noise(runs: dict[str, Any]) -> list[str]:
    worst = max((r["load"]["other_cores"], f"{scale} {target} {key}")
                for scale, run in runs.items() for target in ("service", "baseline")
                for key, r in run[target].items() if "load" in r)
    if worst[0] < 0.25:
        return []
    return [(f"- **Other load on the machine.** Other processes used up to {worst[0]:.2f} of the 2 cores during a "
            f"measured row ({worst[1]}); the *other load* column shows each row's. Rows with high other load "
            "understate throughput; ratios of rows measured side by side are more robust than absolute figures.")]


def statistics(runs: dict[str, Any]) -> list[str]:
    """A statistics row where nothing completed says nothing about the service: name why."""
    row = runs["nation"]["baseline"].get("finding_stats")
    if not row or row.get("skipped") or row["rps"] > 0:
        return []
    connections = row.get("connections", 32)
    return [(f"- **Statistics row: nothing completed.** The raw statements of `GET /stats/findings` for province 1 "
             f"completed no request within wrk's 10 s timeout at {connections} connections: each takes seconds of "
             "database time, so a request waits behind the others past the timeout. The row says the "
             "statements are too slow for that concurrency, not how the service compares; the statistics row "
             "now runs at 2 connections (bench/wrk.py).")]


def findings(runs: dict[str, Any], met: dict[str, bool], token_overhead: dict[str, float]) -> list[str]:
    return [*users(runs, met), *timeouts(runs), *token(runs, met, token_overhead), *round_trips(runs),
            *overhead(runs, met), *statistics(runs), *noise(runs)]
