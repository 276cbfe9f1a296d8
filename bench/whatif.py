"""The service as it was before the last benchmark fixes, measured in the same run as the
shipped code so BENCHMARKS.md can show what each fix bought on the same machine and data:

- `load_principal_before`: the caller in three statements (user, sign-in, memberships), plus
  the office's member units (a copy of app/services/principals.py before "Load the caller in
  one statement per request"), timed like the shipped loader, and whole requests with it
  (`request_variants`, which also switches the pool's pre-ping off);
- `USERS_BEFORE`: GET /users's statement for a root caller as it was, `scoped OR NOT
  EXISTS(any membership)`, next to the shipped single EXISTS;
- `memberships_page`: the page's membership query unfenced (as it was) and fenced, as the
  service sends it: prepared, executed repeatedly, so PostgreSQL's generic plan shows.
Nothing here is used by the service.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import dependencies
from app.authz.principal import Grant, Principal
from app.core.errors import Unauthenticated
from app.core.security import AccessClaims
from app.models import (
    CoordinationMember,
    Membership,
    Organisation,
    OrganisationKind,
    RefreshSession,
    Role,
    User,
)
from bench.baseline import USER_COLUMNS, _in, _scope, user_memberships_sql

USERS_BEFORE = (
    f"SELECT {USER_COLUMNS} \nFROM user_account \nWHERE (EXISTS (SELECT * \nFROM membership \nWHERE "
    f"membership.user_id = user_account.id AND {_scope('membership.organisation_id', 2, 1)})) OR NOT (EXISTS "
    "(SELECT * \nFROM membership \nWHERE membership.user_id = user_account.id)) "
    "ORDER BY user_account.created_at, user_account.id \n LIMIT $1::INTEGER")


def memberships_before_sql(roots: int, users: int) -> str:
    return ("SELECT membership.id, membership.user_id, membership.organisation_id, membership.role, "
            "membership.created_at, membership.updated_at, organisation.name, organisation.kind \n"
            "FROM membership JOIN organisation ON organisation.id = membership.organisation_id \n"
            f"WHERE {_scope('membership.organisation_id', 1, roots)} AND membership.user_id IN "
            f"({_in(1 + roots, users)}) ORDER BY membership.created_at, membership.id")


async def load_principal_before(session: AsyncSession, claims: AccessClaims) -> Principal:
    """The loader as it was, for users: three statements, five with an office grant."""
    user = await session.get(User, uuid.UUID(claims.subject))
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise Unauthenticated()
    session_id = uuid.UUID(claims.session_id) if claims.session_id else None
    if session_id is not None:
        sign_in = await session.get(RefreshSession, session_id)
        if sign_in is None or sign_in.user_id != user.id or sign_in.revoked_at is not None:
            raise Unauthenticated()
    rows = (await session.execute(
        select(Membership.organisation_id, Membership.role)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Organisation.is_active.is_(True)))).all()
    offices = {r.organisation_id for r in rows if r.role == Role.office}
    extra: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    if offices:
        found = (await session.execute(select(Organisation.id, Organisation.parent_id).where(
            Organisation.id.in_(offices), Organisation.kind == OrganisationKind.coordination_office))).all()
        body_of = {o.id: o.parent_id for o in found if o.parent_id}
        members = (await session.execute(select(CoordinationMember.body_id, CoordinationMember.member_id)
                                         .where(CoordinationMember.body_id.in_(set(body_of.values()))))).all()
        extra = {office: tuple(m.member_id for m in members if m.body_id == body) for office, body in body_of.items()}
    grants = tuple(Grant(r.organisation_id, r.role, extra.get(r.organisation_id, ())) for r in rows)
    # No root flags: GET /users then asked `holds_at_root` in a statement of its own. Timed on the
    # token check and the organisation list only, which never needed them.
    return Principal(kind="user", id=user.id, name=user.display_name, grants=grants, session_id=session_id,
                     must_change_password=user.must_change_password)


async def memberships_page(conn: asyncpg.Connection, root: uuid.UUID, user_ids: list[uuid.UUID],
                           runs: int = 12) -> dict[str, Any]:
    """Client-side ms per execution of the page's membership query, prepared once and run `runs` times
    as a pooled connection would; PostgreSQL may switch to a generic plan from the sixth run."""
    out: dict[str, Any] = {}
    for name, sql in (("before", memberships_before_sql(1, len(user_ids))),
                      ("shipped", user_memberships_sql(1, len(user_ids)))):
        statement = await conn.prepare(sql)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await statement.fetch(root, *user_ids)
            times.append(round((time.perf_counter() - started) * 1000, 3))
        out[name] = {"first_five_ms": sorted(times[:5])[2], "later_ms": sorted(times[5:])[len(times[5:]) // 2],
                     "runs_ms": times}
    return out


async def request_variants(asgi_app: Any, client: Any, headers: dict[str, str], path: str,
                           blocks: int = 3, per_block: int = 100) -> dict[str, float]:
    """Sequential in-process time of one request (ms, best block) as shipped, without the pool's
    pre-ping, and with the caller loaded as before (monkeypatched)."""
    pool = asgi_app.state.database.engine.sync_engine.pool
    shipped_ping, shipped_loader = pool._pre_ping, dependencies.load_principal  # private: bench-only switch
    variants = {"shipped": (shipped_ping, shipped_loader), "no_pre_ping": (False, shipped_loader),
                "principal_before": (shipped_ping, load_principal_before)}
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
