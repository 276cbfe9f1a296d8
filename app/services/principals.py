"""Turning a verified access token into a Principal, checked against the database
on every request, so deactivation, logout and membership changes bite at once
(RELIABILITY.md API2-d, RFC 8725 §3.10).

One statement per request for a user (user, sign-in and active memberships joined) and
one for a client; an office grant adds one for its body's member units. The caller is
loaded on every request, so its round trips are most of the token-check cost (BENCHMARKS.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, bindparam, false, join, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Grant, Principal
from app.authz.roles import CLIENT_SCOPES
from app.core.errors import Unauthenticated
from app.core.security import AccessClaims
from app.models import (
    CoordinationMember,
    IntegrationClient,
    Membership,
    Organisation,
    OrganisationKind,
    RefreshSession,
    Role,
    User,
)


def _parse_uuid(value: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise Unauthenticated() from None


async def _member_units(session: AsyncSession, body_of: dict[uuid.UUID, uuid.UUID]
                        ) -> tuple[dict[uuid.UUID, tuple[uuid.UUID, ...]], set[uuid.UUID]]:
    """An office of a coordination body also covers the body's member units (DOMAIN.md, scope).

    Returns the member units per office and those of them that are roots of their tree."""
    rows = (await session.execute(
        select(CoordinationMember.body_id, CoordinationMember.member_id,
               Organisation.parent_id.is_(None).label("at_root"))
        .join(Organisation, Organisation.id == CoordinationMember.member_id)
        .where(CoordinationMember.body_id.in_(set(body_of.values()))))).all()
    by_body: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        by_body.setdefault(row.body_id, []).append(row.member_id)
    return ({office: tuple(by_body.get(body, ())) for office, body in body_of.items()},
            {row.member_id for row in rows if row.at_root})


async def _load_client(session: AsyncSession, subject: uuid.UUID, claims: AccessClaims) -> Principal:
    row = (await session.execute(
        select(IntegrationClient, Organisation.parent_id.is_(None).label("at_root"))
        .outerjoin(Organisation, Organisation.id == IntegrationClient.organisation_id)
        .where(IntegrationClient.id == subject))).first()
    client = row.IntegrationClient if row else None
    if client is None or not client.is_active or client.token_version != claims.token_version:
        raise Unauthenticated()
    permissions = frozenset(CLIENT_SCOPES[s] for s in claims.scopes if s in CLIENT_SCOPES
                            and s in (client.scopes or []))
    return Principal(kind="client", id=client.id, name=client.name, client_permissions=permissions,
                     client_organisation_id=client.organisation_id,
                     root_organisations=frozenset({client.organisation_id} if row.at_root else ()))


def _user_statement(*, with_session: bool) -> Any:
    """The user, the token's sign-in (if it names one) and every membership in an active
    organisation: one row per membership, or one row with NULL memberships.

    Built once per variant with bind parameters (`subject`, `session_id`) over the tables, not
    the ORM entities: a plain Core select skips the ORM's compile and row steps, and the same
    statement object keeps its cache key memoised, so a request only binds two values."""
    user, refresh, membership, org = (User.__table__, RefreshSession.__table__, Membership.__table__,
                                      Organisation.__table__)
    active_memberships = join(membership, org, and_(org.c.id == membership.c.organisation_id,
                                                    org.c.is_active.is_(True)))
    on_session = refresh.c.id == bindparam("session_id") if with_session else false()
    return (select(user.c.id, user.c.display_name, user.c.is_active, user.c.token_version,
                   user.c.must_change_password, refresh.c.user_id.label("session_user_id"), refresh.c.revoked_at,
                   membership.c.organisation_id, membership.c.role, org.c.kind, org.c.parent_id)
            .select_from(user)
            .outerjoin(refresh, on_session)
            .outerjoin(active_memberships, membership.c.user_id == user.c.id)
            .where(user.c.id == bindparam("subject"))
            .order_by(membership.c.created_at, membership.c.id))


_USER_WITH_SESSION = _user_statement(with_session=True)
_USER_WITHOUT_SESSION = _user_statement(with_session=False)


async def load_principal(session: AsyncSession, claims: AccessClaims) -> Principal:
    """The caller of this request; raises Unauthenticated for an unknown, deactivated or
    rotated (token_version) subject and for a revoked or foreign sign-in. Called by
    `app.dependencies.get_principal` only."""
    subject = _parse_uuid(claims.subject)
    if claims.subject_kind == "client":
        return await _load_client(session, subject, claims)

    session_id = _parse_uuid(claims.session_id) if claims.session_id else None
    if session_id is None:
        rows = (await session.execute(_USER_WITHOUT_SESSION, {"subject": subject})).all()
    else:
        rows = (await session.execute(_USER_WITH_SESSION, {"subject": subject, "session_id": session_id})).all()
    user = rows[0] if rows else None
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise Unauthenticated()
    if session_id is not None and (user.session_user_id != user.id or user.revoked_at is not None):
        raise Unauthenticated()
    memberships = [r for r in rows if r.organisation_id is not None]
    roots = {r.organisation_id for r in memberships if r.parent_id is None}
    # The office role counts only at a coordination office, which sits under its body.
    body_of = {r.organisation_id: r.parent_id for r in memberships
               if r.role == Role.office and r.kind == OrganisationKind.coordination_office and r.parent_id}
    extra: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    if body_of:
        extra, member_roots = await _member_units(session, body_of)
        roots |= member_roots
    grants = tuple(Grant(r.organisation_id, r.role, extra.get(r.organisation_id, ()) if r.role == Role.office
                         else ()) for r in memberships)
    return Principal(kind="user", id=user.id, name=user.display_name, grants=grants, session_id=session_id,
                     must_change_password=user.must_change_password, root_organisations=frozenset(roots))
