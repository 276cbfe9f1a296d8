"""Turning a verified access token into a Principal, checked against the database
on every request, so deactivation, logout and membership changes bite at once
(RELIABILITY.md API2-d, RFC 8725 §3.10)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
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


async def _office_extra_roots(session: AsyncSession, office_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    """An office of a coordination body also covers the body's member units (DOMAIN.md, scope)."""
    if not office_ids:
        return {}
    offices = (await session.execute(
        select(Organisation.id, Organisation.parent_id).where(
            Organisation.id.in_(office_ids), Organisation.kind == OrganisationKind.coordination_office))).all()
    body_of = {o.id: o.parent_id for o in offices if o.parent_id}
    if not body_of:
        return {}
    members = (await session.execute(
        select(CoordinationMember.body_id, CoordinationMember.member_id)
        .where(CoordinationMember.body_id.in_(set(body_of.values()))))).all()
    by_body: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in members:
        by_body.setdefault(row.body_id, []).append(row.member_id)
    return {office: tuple(by_body.get(body, ())) for office, body in body_of.items()}


async def load_principal(session: AsyncSession, claims: AccessClaims) -> Principal:
    subject = _parse_uuid(claims.subject)
    if claims.subject_kind == "client":
        client = await session.get(IntegrationClient, subject)
        if client is None or not client.is_active or client.token_version != claims.token_version:
            raise Unauthenticated()
        permissions = frozenset(CLIENT_SCOPES[s] for s in claims.scopes if s in CLIENT_SCOPES
                                and s in (client.scopes or []))
        return Principal(kind="client", id=client.id, name=client.name, client_permissions=permissions,
                         client_organisation_id=client.organisation_id)

    user = await session.get(User, subject)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise Unauthenticated()
    session_id = _parse_uuid(claims.session_id) if claims.session_id else None
    if session_id is not None:
        sign_in = await session.get(RefreshSession, session_id)
        if sign_in is None or sign_in.user_id != user.id or sign_in.revoked_at is not None:
            raise Unauthenticated()
    rows = (await session.execute(
        select(Membership.organisation_id, Membership.role)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Organisation.is_active.is_(True)))).all()
    offices = {r.organisation_id for r in rows if r.role == Role.office}
    extra = await _office_extra_roots(session, offices)
    grants = tuple(Grant(r.organisation_id, r.role, extra.get(r.organisation_id, ()) if r.role == Role.office
                         else ()) for r in rows)
    return Principal(kind="user", id=user.id, name=user.display_name, grants=grants, session_id=session_id,
                     must_change_password=user.must_change_password)
