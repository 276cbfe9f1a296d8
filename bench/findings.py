"""The Findings section: why a target was missed and what would fix it, read from this run's
figures, plans and what-ifs (bench/whatif.py). Each finding appears only when the run shows it."""

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
           f"{req['user_list']['statements']}; plus BEGIN and COMMIT"
           + (", plus the pool's pre-ping on checkout, which SQLAlchemy's asyncpg adapter sends as "
              "`BEGIN; SELECT ';'; ROLLBACK`" if ping else "")
           + f" — {req['org_list']['round_trips']} round trips for the organisation list where the raw "
           "baseline makes 2 (3 with its token check). Three statements of each are the principal load "
           "(`load_principal`: user, sign-in, memberships); `/users` adds `holds_at_root`; `/me` reads the "
           "user a second time (`describe_caller`'s `session.get(User)` misses the identity map: the first "
           "instance was not kept, and the map holds weak references)."]
    return out


def token(runs: dict[str, Any], met: dict[str, bool], o: dict[str, float]) -> list[str]:
    if met["token"]:
        return []
    probe = runs["nation"]["probe"]["token"]
    one = probe["decode_and_one_statement_principal"]["p50_us"]
    return [(f"- **Token check + scoping: {_ms(o['total'])}.** `decode_access_token` is {o['decode']:.0f} µs; "
            f"the rest is `load_principal`'s three statements ({_ms(o['principal'] - o['decode'])}). The same "
            f"check with the caller loaded in one statement (bench/whatif.py, timed the same way) takes "
            f"{_ms(one)}. Fix: one statement in `app/services/principals.py` (user LEFT JOIN refresh_session "
            "LEFT JOIN (membership JOIN active organisation), code in the lead's report / bench/whatif.py), "
            "the root flag of each grant read in the same statement so `/users` needs no `holds_at_root` query, "
            "and the office's member units fetched only when an office grant exists (as today).")]


def users(runs: dict[str, Any], met: dict[str, bool]) -> list[str]:
    nation = runs["nation"]["probe"]["scoping"]
    plan = nation["explain"]["users"]["plan"]
    out = []
    if "Seq Scan on user_account" in plan:
        province_ms = runs["province"]["probe"]["scoping"]["explain"]["users"]["execution_ms"]
        w = nation["whatif_users"]
        out.append(
            f"- **`GET /users` reads the whole table per page.** At nation scale its statement takes "
            f"{nation['explain']['users']['execution_ms']:,.0f} ms (province scale: {province_ms:,.1f} ms): a "
            "sequential scan of `user_account` and a top-N sort, because no index serves `ORDER BY created_at, "
            "id` — keyset pagination without its index. With the index (created in a rolled-back transaction "
            f"during this run) the same statement takes {w['index_only_ms']:,.1f} ms; the root caller's filter "
            "`EXISTS(membership in scope) OR NOT EXISTS(any membership)` still makes PostgreSQL hash every "
            "in-scope membership first. Rewritten as one `EXISTS` over `user_account self LEFT JOIN membership` "
            "(`membership.id IS NULL OR <in scope>`), it takes "
            f"{w['index_and_rewrite_ms']:,.2f} ms (same rows: {'yes' if w['same_rows'] else 'NO'}). Fix: a "
            "migration with `op.create_index('ix_user_account_created_at_id', 'user_account', ['created_at', "
            "'id'])` and that rewrite of `_visible` in `app/services/users.py`.")
    if "JIT:" in plan:
        province = runs["province"]["probe"]["scoping"]
        out.append(
            "- **JIT compilation on a request path.** The `/users` plans are costly enough to be JIT-compiled on "
            "every execution (see `JIT:` in the plans). With `SET LOCAL jit = off` the same statement takes "
            f"{province['whatif_users']['jit_off_ms']:,.1f} ms instead of "
            f"{province['explain']['users']['execution_ms']:,.1f} ms at province scale, "
            f"{nation['whatif_users']['jit_off_ms']:,.0f} ms instead of "
            f"{nation['explain']['users']['execution_ms']:,.0f} ms at nation scale. An OLTP service gains "
            "nothing from JIT: add `\"jit\": \"off\"` to `server_settings` in `app/core/db.py`.")
    if not met["user_list_scale"] and "Seq Scan on user_account" not in plan:
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
            f"pre-ping, {v['one_statement_principal']:.2f} ms with the one-statement principal and "
            f"{v['both']:.2f} ms with both (table above): the round trips are a part, not the whole. The rest "
            "is Python work per request: ORM entity loading and Pydantic validation of 50 rows, FastAPI's "
            "dependency solving, the middleware, the per-request transaction. Candidates, unmeasured here: "
            "column selects or `model_construct` for list items, autocommit reads for GETs. Dropping the "
            "pre-ping (`pool_pre_ping=False`, relying on SQLAlchemy's invalidation after a disconnect error "
            "and the 503 mapping) trades against RELIABILITY finding 8: the lead's call.")
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


def findings(runs: dict[str, Any], met: dict[str, bool], token_overhead: dict[str, float]) -> list[str]:
    return [*users(runs, met), *timeouts(runs), *token(runs, met, token_overhead), *round_trips(runs),
            *overhead(runs, met), *noise(runs)]
