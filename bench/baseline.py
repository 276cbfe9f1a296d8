"""The practical limit: the service's own SQL, served by raw asyncpg + Starlette.

    BENCH_BASELINE_DB=envduty_bench uvicorn bench.baseline:app --port 8012

The statements are copied from what the service emits (SQLAlchemy echo, `make bench` on
this schema), with the same parameters, the same LIMIT 51 keyset page, and the same
follow-up query per page (member units, memberships); the JSON has the same fields.
What it leaves out is the service's machinery: ORM, Pydantic, FastAPI dependencies,
middleware, the per-request transaction and pool pre-ping.

Two modes, so results can be read two ways:
- no Authorization header: the scope root comes from `?root=` (the query alone: the
  issue's "raw asyncpg limit on the same query");
- with a bearer token: the token is checked with the app's own `decode_access_token`
  and the caller (user, sign-in, memberships) is loaded in ONE statement, the least a
  raw implementation of the same rules would do.
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.authz.roles import ROLE_PERMISSIONS, Permission
from app.core.etag import make_etag
from app.core.security import InvalidToken, decode_access_token
from app.models.identity import Role
from bench.common import asyncpg_dsn

ORG_COLUMNS = ("organisation.id, organisation.name, organisation.name_en, organisation.short_code, "
               "organisation.kind, organisation.level, organisation.parent_id, organisation.jurisdiction_id, "
               "organisation.depth, organisation.profile_code, organisation.superior_department_id, "
               "organisation.major_duty, organisation.lead_person, organisation.lead_unit_id, "
               "organisation.complaint_channels, organisation.is_active, organisation.version, "
               "organisation.created_at, organisation.updated_at")
USER_COLUMNS = ("user_account.id, user_account.username, user_account.display_name, user_account.email, "
                "user_account.phone, user_account.password_hash, user_account.is_active, user_account.token_version, "
                "user_account.must_change_password, user_account.last_login_at, user_account.version, "
                "user_account.created_at, user_account.updated_at")
USER_FIELDS = ("id", "username", "display_name", "email", "phone", "is_active", "must_change_password",
               "last_login_at")


@cache
def _in(first: int, count: int) -> str:
    """`$n::UUID, ...` as SQLAlchemy renders an expanding IN."""
    return ", ".join(f"${i}::UUID" for i in range(first, first + count))


@cache
def _scope(column: str, first: int, roots: int) -> str:
    return (f"(EXISTS (SELECT * \nFROM organisation_closure \nWHERE organisation_closure.descendant_id = {column} "
            f"AND organisation_closure.ancestor_id IN ({_in(first, roots)})))")


@cache
def org_list_sql(roots: int) -> str:
    return (f"SELECT {ORG_COLUMNS} \nFROM organisation \nWHERE {_scope('organisation.id', 2, roots)} "
            "AND organisation.is_active = true ORDER BY organisation.created_at, organisation.id \n LIMIT $1::INTEGER")


@cache
def org_get_sql(roots: int) -> str:
    return f"SELECT {ORG_COLUMNS} \nFROM organisation \nWHERE organisation.id = $1::UUID AND {_scope('organisation.id', 2, roots)}"


@cache
def members_sql(bodies: int) -> str:
    return ("SELECT coordination_member.body_id, coordination_member.member_id \nFROM coordination_member \n"
            f"WHERE coordination_member.body_id IN ({_in(1, bodies)}) ORDER BY coordination_member.member_id")


ITEM_COLUMNS = ", ".join(f"responsibility_item.{c}" for c in (
    "id", "duty_list_id", "organisation_id", "jurisdiction_id", "lineage_id", "position", "code", "title",
    "description", "domain", "basis", "first_lead_organisation_id", "decomposition", "complaint_channels",
    "lead_decision_id", "version", "created_at", "updated_at"))


@cache
def item_list_sql(roots: int) -> str:
    return (f"SELECT {ITEM_COLUMNS} \nFROM responsibility_item JOIN duty_list ON duty_list.id = "
            f"responsibility_item.duty_list_id \nWHERE {_scope('duty_list.organisation_id', 2, roots)} "
            "ORDER BY responsibility_item.created_at, responsibility_item.id \n LIMIT $1::INTEGER")


@cache
def item_orgs_sql(items: int) -> str:
    return ("SELECT responsibility_item_organisation.item_id, responsibility_item_organisation.organisation_id, "
            "responsibility_item_organisation.relation, responsibility_item_organisation.position \n"
            "FROM responsibility_item_organisation \nWHERE responsibility_item_organisation.item_id IN "
            f"({_in(1, items)}) ORDER BY responsibility_item_organisation.position")


@cache
def names_sql(orgs: int) -> str:
    return f"SELECT organisation.id, organisation.name \nFROM organisation \nWHERE organisation.id IN ({_in(1, orgs)})"


@cache
def list_status_sql(lists: int) -> str:
    return f"SELECT duty_list.id, duty_list.status \nFROM duty_list \nWHERE duty_list.id IN ({_in(1, lists)})"


@cache
def user_list_sql(roots: int, at_root: bool) -> str:
    scoped = ("(EXISTS (SELECT * \nFROM membership \nWHERE membership.user_id = user_account.id AND "
              f"{_scope('membership.organisation_id', 2, roots)}))")
    # A caller at a root also sees users without memberships: one EXISTS over a LEFT JOIN, as the service.
    where = ("EXISTS (SELECT * \nFROM user_account AS user_account_1 LEFT OUTER JOIN membership ON "
             "membership.user_id = user_account_1.id \nWHERE user_account_1.id = user_account.id AND "
             f"(membership.id IS NULL OR {_scope('membership.organisation_id', 2, roots)}))") if at_root else scoped
    return (f"SELECT {USER_COLUMNS} \nFROM user_account \nWHERE {where} "
            "ORDER BY user_account.created_at, user_account.id \n LIMIT $1::INTEGER")


@cache
def user_memberships_sql(roots: int, users: int) -> str:
    # The page's memberships in a materialized CTE first, as the service (a fence against generic plans).
    return ("WITH page_membership AS MATERIALIZED \n(SELECT membership.id AS id, membership.user_id AS user_id, "
            "membership.organisation_id AS organisation_id, membership.role AS role, membership.created_at AS "
            "created_at, membership.updated_at AS updated_at \nFROM membership \nWHERE membership.user_id IN "
            f"({_in(1 + roots, users)}))\n SELECT page_membership.id, page_membership.user_id, "
            "page_membership.organisation_id, page_membership.role, page_membership.created_at, "
            "page_membership.updated_at, organisation.name, organisation.kind \nFROM page_membership JOIN "
            "organisation ON organisation.id = page_membership.organisation_id \nWHERE "
            f"{_scope('page_membership.organisation_id', 1, roots)} ORDER BY page_membership.created_at, "
            "page_membership.id")


# The caller in one statement: the user, its sign-in and its memberships in active organisations.
PRINCIPAL_SQL = """
SELECT u.id, u.username, u.display_name, u.email, u.phone, u.is_active, u.token_version, u.must_change_password,
       u.last_login_at, s.user_id AS session_user_id, s.revoked_at, m.organisation_id, m.role, o.name, o.kind,
       o.parent_id IS NULL AS at_root
FROM user_account u
LEFT JOIN refresh_session s ON s.id = $2::UUID
LEFT JOIN (membership m JOIN organisation o ON o.id = m.organisation_id AND o.is_active)
       ON m.user_id = u.id
WHERE u.id = $1::UUID"""


class Refused(Exception):
    pass


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


async def principal(request: Request) -> tuple[list[asyncpg.Record], dict[Permission, list[uuid.UUID]]]:
    """The token check + caller load of the token mode; rows of PRINCIPAL_SQL and roots per permission."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Refused
    try:
        claims = decode_access_token(header[7:].strip())
    except InvalidToken:
        raise Refused from None
    rows = await request.app.state.pool.fetch(PRINCIPAL_SQL, uuid.UUID(claims.subject),
                                              uuid.UUID(claims.session_id) if claims.session_id else None)
    first = rows[0] if rows else None
    if first is None or not first["is_active"] or first["token_version"] != claims.token_version or (
            claims.session_id and (first["session_user_id"] != first["id"] or first["revoked_at"] is not None)):
        raise Refused
    roots: dict[Permission, list[uuid.UUID]] = {}
    for row in rows:
        if row["organisation_id"] is not None:
            for permission in ROLE_PERMISSIONS[Role(row["role"])]:
                roots.setdefault(permission, []).append(row["organisation_id"])
    return rows, roots


async def _roots(request: Request, permission: Permission) -> tuple[list[uuid.UUID], bool]:
    """(scope roots, caller at a root organisation): from the token, or `?root=` without one."""
    if "authorization" in request.headers:
        rows, roots = await principal(request)
        found = list(dict.fromkeys(roots.get(permission, [])))
        return found, any(r["at_root"] for r in rows if r["organisation_id"] in found)
    return [uuid.UUID(request.query_params["root"])], request.query_params.get("at_root", "1") == "1"


def _org(row: asyncpg.Record, members: dict[uuid.UUID, list[str]]) -> dict[str, Any]:
    item = {k: _json(v) for k, v in row.items()}
    item["complaint_channels"] = json.loads(row["complaint_channels"])
    item["member_unit_ids"] = sorted(members.get(row["id"], []))
    return item


async def _members(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    if ids:
        for body_id, member_id in await conn.fetch(members_sql(len(ids)), *ids):
            out.setdefault(body_id, []).append(str(member_id))
    return out


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def list_organisations(request: Request) -> Response:
    roots, _ = await _roots(request, Permission.organisations_read)
    limit = int(request.query_params.get("limit", 50))
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(org_list_sql(len(roots)), limit + 1, *roots)
        page = rows[:limit]
        members = await _members(conn, [r["id"] for r in page])
    return JSONResponse({"items": [_org(r, members) for r in page], "next_cursor": None if len(rows) <= limit
                         else f"{page[-1]['created_at'].isoformat()}|{page[-1]['id']}", "total": None})


async def get_organisation(request: Request) -> Response:
    roots, _ = await _roots(request, Permission.organisations_read)
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(org_get_sql(len(roots)), uuid.UUID(request.path_params["org_id"]), *roots)
        if row is None:
            return JSONResponse({"status": 404}, status_code=404)
        members = await _members(conn, [row["id"]])
    return JSONResponse(_org(row, members), headers={"ETag": make_etag(row["id"], row["version"])})


async def list_users(request: Request) -> Response:
    roots, at_root = await _roots(request, Permission.users_read)
    limit = int(request.query_params.get("limit", 50))
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(user_list_sql(len(roots), at_root), limit + 1, *roots)
        page = rows[:limit]
        by_user: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in page}
        if page:
            for m in await conn.fetch(user_memberships_sql(len(roots), len(page)), *roots, *by_user):
                by_user[m["user_id"]].append({
                    "id": str(m["id"]), "organisation_id": str(m["organisation_id"]), "organisation_name": m["name"],
                    "organisation_kind": m["kind"], "role": m["role"], "created_at": _json(m["created_at"])})
    items = [{**{f: _json(r[f]) for f in USER_FIELDS}, "memberships": by_user[r["id"]],
              "created_at": _json(r["created_at"]), "updated_at": _json(r["updated_at"]), "version": r["version"]}
             for r in page]
    return JSONResponse({"items": items, "next_cursor": None if len(rows) <= limit
                         else f"{page[-1]['created_at'].isoformat()}|{page[-1]['id']}", "total": None})


async def list_items(request: Request) -> Response:
    """`GET /responsibility-items?limit=50`: the page, its lead/cooperating rows, the names, the list states."""
    roots, _ = await _roots(request, Permission.duty_lists_read)
    limit = int(request.query_params.get("limit", 50))
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(item_list_sql(len(roots)), limit + 1, *roots)
        page = rows[:limit]
        orgs: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = {r["id"]: {"lead": [], "cooperating": []} for r in page}
        names: dict[uuid.UUID, str] = {}
        statuses: dict[uuid.UUID, str] = {}
        if page:
            for rel in await conn.fetch(item_orgs_sql(len(page)), *orgs):
                orgs[rel["item_id"]][rel["relation"]].append(rel["organisation_id"])
            wanted = list({r["organisation_id"] for r in page} | {o for v in orgs.values() for ids in v.values()
                                                                   for o in ids})
            names = {r["id"]: r["name"] for r in await conn.fetch(names_sql(len(wanted)), *wanted)}
            lists = list({r["duty_list_id"] for r in page})
            statuses = {r["id"]: r["status"] for r in await conn.fetch(list_status_sql(len(lists)), *lists)}

    def brief(org_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(org_id), "name": names.get(org_id, "")}

    items = [{
        "id": str(r["id"]), "lineage_id": str(r["lineage_id"]), "duty_list_id": str(r["duty_list_id"]),
        "duty_list_status": statuses[r["duty_list_id"]], "organisation": brief(r["organisation_id"]),
        "position": r["position"], "code": r["code"], "title": r["title"], "description": r["description"],
        "domain": r["domain"], "basis": json.loads(r["basis"]), "lead_organisations": [
            brief(o) for o in orgs[r["id"]]["lead"]], "first_lead_organisation_id": _json(
            r["first_lead_organisation_id"]), "cooperating_organisations": [
            brief(o) for o in orgs[r["id"]]["cooperating"]], "decomposition": [],
        "complaint_channels": json.loads(r["complaint_channels"]), "lead_decision_id": _json(r["lead_decision_id"]),
        "version": r["version"], "created_at": _json(r["created_at"]), "updated_at": _json(r["updated_at"])}
        for r in page]
    return JSONResponse({"items": items, "next_cursor": None if len(rows) <= limit
                         else f"{page[-1]['created_at'].isoformat()}|{page[-1]['id']}", "total": None})


async def me(request: Request) -> Response:
    try:
        rows, roots = await principal(request)
    except Refused:
        return JSONResponse({"status": 401}, status_code=401)
    first = rows[0]
    organisations: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows:
        if r["organisation_id"] is not None:
            entry = organisations.setdefault(r["organisation_id"], {
                "organisation_id": str(r["organisation_id"]), "name": r["name"], "kind": r["kind"], "roles": []})
            entry["roles"].append(r["role"])
    return JSONResponse({
        "kind": "user", **{f: _json(first[f]) for f in ("id", "username", "email", "phone", "must_change_password",
                                                      "last_login_at")},
        "name": first["display_name"], "client_id": None, "scopes": [], "organisations": list(organisations.values()),
        "permissions": sorted(p.value for p in roots)})


# The findings scenarios (issue 6): the statements the service runs for province 1's admin, captured
# once at start-up by running the service's own code in-process (SQLAlchemy's asyncpg dialect, the
# same text and parameters), then replayed through the raw pool on each request. No token mode: the
# raw query alone. A page's ids and the statistics' total are answered so the driver can compare.
FINDING_LIST = "/findings?subtree_of={root}&status=in_progress&overdue=true&limit=50"
FINDING_STATS = "/stats/findings?organisation_id={root}"


async def capture_findings(db: str) -> dict[str, list[tuple[str, tuple[Any, ...]]]]:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from app.authz.principal import Grant, Principal
    from app.schemas.findings import FindingFilter
    from app.services.findings import queries, stats
    from bench.common import database_url, summary_path

    root = uuid.UUID(json.loads(summary_path(db).read_text())["organisations"]["p01"])
    caller = Principal(kind="user", id=uuid.uuid4(), name="bench", grants=(Grant(root, Role.admin),),
                       root_organisations=frozenset({root}))
    engine = create_async_engine(database_url(db))
    seen: list[tuple[str, tuple[Any, ...]]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # the statistics' counting one is a WITH
            seen.append((statement, tuple(parameters or ())))

    out = {}
    try:
        async with AsyncSession(engine) as session:
            await queries.list_findings(session, caller, FindingFilter(subtree_of=root, status="in_progress",
                                                                       overdue=True), limit=50, cursor=None,
                                        include_total=False)
            out["finding_list"], seen[:] = list(seen), []
            await stats.finding_stats(session, caller, organisation_id=root, inspection_id=None, category_id=None,
                                      as_of=None)
            out["finding_stats"] = list(seen)
    finally:
        await engine.dispose()
    return out


async def _replay(request: Request, key: str) -> list[list[asyncpg.Record]]:
    async with request.app.state.pool.acquire() as conn:
        return [await conn.fetch(sql, *params) for sql, params in request.app.state.findings[key]]


async def list_findings(request: Request) -> Response:
    page = (await _replay(request, "finding_list"))[0]
    return JSONResponse({"items": [{"id": str(r[0])} for r in page[:50]], "next_cursor": None, "total": None})


async def finding_stats(request: Request) -> Response:
    results = await _replay(request, "finding_stats")
    counted = next((rows for (sql, _), rows in zip(request.app.state.findings["finding_stats"], results, strict=True)
                    if "counted" in sql), [])  # the counting statement: (tag, org, inspection, category, bucket, count, …)
    return JSONResponse({"figures": {"total": sum(r[5] for r in counted if r[0] == 0)}})


async def refused(_: Request, __: Exception) -> Response:
    return JSONResponse({"status": 401}, status_code=401)


@asynccontextmanager
async def lifespan(app: Starlette):
    # The service's pool: pool_size 10 + max_overflow 10, JIT off (app/core/db.py).
    app.state.pool = await asyncpg.create_pool(asyncpg_dsn(os.environ.get("BENCH_BASELINE_DB", "envduty_bench")),
                                               min_size=10, max_size=20, server_settings={"jit": "off"})
    try:
        app.state.findings = await capture_findings(os.environ.get("BENCH_BASELINE_DB", "envduty_bench"))
    except Exception:  # noqa: BLE001 - a dataset made before the findings step: those rows are skipped
        app.state.findings = {"finding_list": [], "finding_stats": []}
    yield
    await app.state.pool.close()


app = Starlette(routes=[Route("/healthz", healthz), Route("/me", me), Route("/organisations", list_organisations),
                        Route("/organisations/{org_id}", get_organisation), Route("/users", list_users),
                        Route("/responsibility-items", list_items), Route("/findings", list_findings),
                        Route("/stats/findings", finding_stats)],
                exception_handlers={Refused: refused}, lifespan=lifespan)
