"""What-ifs for the fixes BENCHMARKS.md suggests, measured in the same run and never kept:

- the caller loaded in ONE statement instead of three (`load_principal_one_statement`, a
  copy of the suggested app change, users only), timed like the shipped one, and whole
  requests with it and/or without the pool's pre-ping (`request_variants`);
- `GET /users` with JIT off, and with an index on user_account (created_at, id), with and
  without the suggested rewrite of the root caller's `scoped OR NOT EXISTS(any membership)` filter.
  The index is created inside a transaction that is rolled back: the bench database
  keeps the shipped schema.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import and_, join, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import dependencies
from app.authz.principal import Grant, Principal
from app.core.errors import Unauthenticated
from app.core.security import AccessClaims
from app.models import Membership, Organisation, RefreshSession, Role, User
from bench.baseline import USER_COLUMNS, _scope, user_list_sql

# The suggested shape of GET /users for a caller at a root: one EXISTS over a LEFT JOIN, so
# PostgreSQL walks user_account in (created_at, id) order and stops after the page.
USERS_REWRITTEN = (
    f"SELECT {USER_COLUMNS} \nFROM user_account \nWHERE EXISTS (SELECT 1 \nFROM user_account AS self "
    "LEFT OUTER JOIN membership ON membership.user_id = self.id \nWHERE self.id = user_account.id AND "
    f"(membership.id IS NULL OR {_scope('membership.organisation_id', 2, 1)})) "
    "ORDER BY user_account.created_at, user_account.id \n LIMIT $1::INTEGER")


async def load_principal_one_statement(session: AsyncSession, claims: AccessClaims) -> Principal:
    """The suggested `load_principal` for users: user, sign-in and memberships in one round trip."""
    subject = uuid.UUID(claims.subject)
    session_id = uuid.UUID(claims.session_id) if claims.session_id else None
    active_orgs = join(Membership, Organisation, and_(Organisation.id == Membership.organisation_id,
                                                      Organisation.is_active.is_(True)))
    stmt = (select(User.id, User.display_name, User.is_active, User.token_version, User.must_change_password,
                   RefreshSession.user_id.label("session_user_id"), RefreshSession.revoked_at,
                   Membership.organisation_id, Membership.role)
            .select_from(User)
            .outerjoin(RefreshSession, RefreshSession.id == session_id)
            .outerjoin(active_orgs, Membership.user_id == User.id)
            .where(User.id == subject))
    rows = (await session.execute(stmt)).all()
    user = rows[0] if rows else None
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise Unauthenticated()
    if session_id is not None and (user.session_user_id != user.id or user.revoked_at is not None):
        raise Unauthenticated()
    grants = tuple(Grant(r.organisation_id, Role(r.role)) for r in rows if r.organisation_id is not None)
    return Principal(kind="user", id=user.id, name=user.display_name, grants=grants, session_id=session_id,
                     must_change_password=user.must_change_password)


async def _execution_ms(conn: asyncpg.Connection, sql: str, *args: Any) -> tuple[float, str]:
    await conn.fetch(sql, *args)
    plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args))
    line = next(x for x in plan.splitlines() if x.startswith("Execution Time"))
    return float(line.split()[2]), plan


async def users_index(conn: asyncpg.Connection, root: uuid.UUID) -> dict[str, Any]:
    shipped, rewritten = user_list_sql(1, True), USERS_REWRITTEN
    same = [r["id"] for r in await conn.fetch(shipped, 51, root)] == \
           [r["id"] for r in await conn.fetch(rewritten, 51, root)]
    out: dict[str, Any] = {"same_rows": same}
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("SET LOCAL jit = off")
        out["jit_off_ms"], _ = await _execution_ms(conn, shipped, 51, root)
        await conn.execute("SET LOCAL jit = on")
        await conn.execute("CREATE INDEX bench_whatif_user_account_created_at_id ON user_account (created_at, id)")
        await conn.execute("ANALYZE user_account")
        out["index_only_ms"], _ = await _execution_ms(conn, shipped, 51, root)
        out["index_and_rewrite_ms"], out["index_and_rewrite_plan"] = await _execution_ms(conn, rewritten, 51, root)
    finally:
        await tx.rollback()
    return out


async def request_variants(asgi_app: Any, client: Any, headers: dict[str, str], path: str,
                           blocks: int = 3, per_block: int = 100) -> dict[str, float]:
    """Sequential in-process time of one request (ms, best block) as shipped and with the suggested
    fixes switched on by monkeypatching: no pool pre-ping, the one-statement principal, both."""
    pool = asgi_app.state.database.engine.sync_engine.pool
    shipped_ping, shipped_loader = pool._pre_ping, dependencies.load_principal  # private: bench-only switch
    variants = {"shipped": (shipped_ping, shipped_loader), "no_pre_ping": (False, shipped_loader),
                "one_statement_principal": (shipped_ping, load_principal_one_statement),
                "both": (False, load_principal_one_statement)}
    best: dict[str, float] = {}
    try:
        for _ in range(blocks):
            for name, (ping, loader) in variants.items():
                pool._pre_ping, dependencies.load_principal = ping, loader
                for _ in range(10):
                    await client.get(path, headers=headers)
                started = time.perf_counter()
                for _ in range(per_block):
                    await client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) / per_block * 1000
                best[name] = round(min(best.get(name, elapsed), elapsed), 2)
    finally:
        pool._pre_ping, dependencies.load_principal = shipped_ping, shipped_loader
    return best
