"""Reading organisations: one, lists (all, children, subtree) and the ancestor chain.

Every row passes `scoping.in_scope` for `organisations:read`; a filter naming an
organisation outside the caller's scope simply matches nothing. Lists are keyset
pages over (created_at, id), the subtree over (depth below the queried org,
created_at, id): stable while organisations are added.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope, within
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import CoordinationMember, Organisation, OrganisationClosure
from app.schemas.organisations import (
    ComplaintChannel,
    OrganisationAncestorsRead,
    OrganisationFilter,
    OrganisationPage,
    OrganisationRead,
    OrganisationRef,
    OrganisationSubtreePage,
    OrganisationSubtreeRead,
)
from app.services import org_tree

READ = Permission.organisations_read


def not_found() -> NotFound:
    return NotFound("No such organisation.")


async def load_visible(session: AsyncSession, principal: Principal, permission: Permission,
                       org_id: uuid.UUID) -> Organisation:
    """The organisation if it lies in the caller's scope for `permission`; else 404."""
    org = await session.scalar(select(Organisation).where(Organisation.id == org_id,
                                                          in_scope(Organisation.id, principal, permission)))
    if org is None:
        raise not_found()
    return org


async def member_ids_of(session: AsyncSession, body_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Member units of the given coordination bodies, one query for a whole page."""
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    if body_ids:
        rows = await session.execute(select(CoordinationMember.body_id, CoordinationMember.member_id)
                                     .where(CoordinationMember.body_id.in_(body_ids))
                                     .order_by(CoordinationMember.member_id))
        for body_id, member_id in rows:
            out.setdefault(body_id, []).append(member_id)
    return out


def _fields(org: Organisation, member_ids: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "id": org.id, "name": org.name, "name_en": org.name_en, "short_code": org.short_code, "kind": org.kind,
        "level": org.level, "parent_id": org.parent_id, "jurisdiction_id": org.jurisdiction_id,
        "depth": org.depth, "profile_code": org.profile_code, "superior_department_id": org.superior_department_id,
        "major_duty": org.major_duty, "lead_person": org.lead_person, "lead_unit_id": org.lead_unit_id,
        "complaint_channels": [ComplaintChannel.model_validate(c) for c in org.complaint_channels or []],
        "member_unit_ids": sorted(member_ids), "is_active": org.is_active, "version": org.version,
        "created_at": org.created_at, "updated_at": org.updated_at,
    }


def to_read(org: Organisation, member_ids: list[uuid.UUID]) -> OrganisationRead:
    return OrganisationRead.model_validate(_fields(org, member_ids))


async def get_organisation(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> OrganisationRead:
    """Any role with `organisations:read`, for an organisation in its scope; else 404."""
    org = await load_visible(session, principal, READ, org_id)
    return to_read(org, (await member_ids_of(session, [org.id])).get(org.id, []))


def _filtered(stmt: Select[Any], principal: Principal, f: OrganisationFilter) -> Select[Any]:
    stmt = stmt.where(in_scope(Organisation.id, principal, READ))
    for column, value in ((Organisation.kind, f.kind), (Organisation.level, f.level),
                          (Organisation.parent_id, f.parent_id), (Organisation.jurisdiction_id, f.jurisdiction_id),
                          (Organisation.major_duty, f.major_duty), (Organisation.is_active, f.is_active)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.subtree_of is not None:
        stmt = stmt.where(within(Organisation.id, f.subtree_of))
    if f.q:
        stmt = stmt.where(or_(Organisation.name.icontains(f.q, autoescape=True),
                              Organisation.name_en.icontains(f.q, autoescape=True),
                              Organisation.short_code.icontains(f.q, autoescape=True)))
    return stmt


def _after(keys: Sequence[ColumnElement[Any]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the lexicographic order of `keys` (all ascending)."""
    return or_(*(and_(*(keys[j] == values[j] for j in range(i)), keys[i] > values[i]) for i in range(len(keys))))


_PARSERS: dict[str, Callable[[Any], Any]] = {"int": int, "ts": datetime.fromisoformat, "id": uuid.UUID}


def _cursor_values(cursor: str, scope: str, kinds: Sequence[str]) -> list[Any]:
    values = decode_cursor(cursor, scope=scope)
    try:
        if len(values) != len(kinds):
            raise ValueError
        return [_PARSERS[k](v) for k, v in zip(kinds, values, strict=True)]
    except (ValueError, TypeError):  # signed by us, so only a cursor of an older format lands here
        raise ValidationFailed("The cursor is not valid for this list; start again without it.",
                               errors=[{"pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                                        "message": "invalid cursor"}]) from None


async def _page(session: AsyncSession, stmt: Select[Any], *, keys: Sequence[ColumnElement[Any]],
                kinds: Sequence[str], scope: str, limit: int, cursor: str | None,
                include_total: bool) -> tuple[list[Any], str | None, int | None]:
    total = None
    if include_total:
        total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if cursor:
        stmt = stmt.where(_after(keys, _cursor_values(cursor, scope, kinds)))
    rows = list((await session.execute(stmt.order_by(*keys).limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        org, distance = last[0], (last[1] if len(last) > 1 else None)
        values = {"int": distance, "ts": org.created_at.isoformat(), "id": str(org.id)}
        next_cursor = encode_cursor([values[k] for k in kinds], scope=scope)
    return rows, next_cursor, total


async def list_organisations(session: AsyncSession, principal: Principal, f: OrganisationFilter, *,
                             limit: int, cursor: str | None, include_total: bool,
                             scope: str = "organisations", only: ColumnElement[bool] | None = None) -> OrganisationPage:
    """Organisations in the caller's scope matching the filters, oldest first."""
    stmt = _filtered(select(Organisation), principal, f)
    if only is not None:
        stmt = stmt.where(only)
    rows, next_cursor, total = await _page(
        session, stmt, keys=(Organisation.created_at, Organisation.id),
        kinds=("ts", "id"), scope=scope, limit=limit, cursor=cursor, include_total=include_total)
    orgs = [r[0] for r in rows]
    members = await member_ids_of(session, [o.id for o in orgs])
    return OrganisationPage(items=[to_read(o, members.get(o.id, [])) for o in orgs], next_cursor=next_cursor,
                            total=total)


async def list_children(session: AsyncSession, principal: Principal, org_id: uuid.UUID, f: OrganisationFilter,
                        *, limit: int, cursor: str | None, include_total: bool) -> OrganisationPage:
    """Direct children of an organisation in scope (404 otherwise), with the list filters."""
    await load_visible(session, principal, READ, org_id)
    return await list_organisations(session, principal, f, limit=limit, cursor=cursor,
                                    include_total=include_total, scope=f"organisations/{org_id}/children",
                                    only=Organisation.parent_id == org_id)


async def list_subtree(session: AsyncSession, principal: Principal, org_id: uuid.UUID, f: OrganisationFilter,
                       *, limit: int, cursor: str | None, include_total: bool) -> OrganisationSubtreePage:
    """The organisation and everything below it, nearest levels first, each with `depth_from`."""
    await load_visible(session, principal, READ, org_id)
    # An alias: the scope filter's EXISTS on organisation_closure must not correlate with this join.
    below = aliased(OrganisationClosure)
    stmt = (select(Organisation, below.depth)
            .join(below, and_(below.descendant_id == Organisation.id, below.ancestor_id == org_id)))
    rows, next_cursor, total = await _page(
        session, _filtered(stmt, principal, f),
        keys=(below.depth, Organisation.created_at, Organisation.id), kinds=("int", "ts", "id"),
        scope=f"organisations/{org_id}/subtree", limit=limit, cursor=cursor, include_total=include_total)
    members = await member_ids_of(session, [r[0].id for r in rows])
    items = [OrganisationSubtreeRead.model_validate({**_fields(o, members.get(o.id, [])), "depth_from": d})
             for o, d in rows]
    return OrganisationSubtreePage(items=items, next_cursor=next_cursor, total=total)


async def list_ancestors(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> OrganisationAncestorsRead:
    """The whole chain above an organisation in scope, root first (404 when it is out of scope).

    Design choice: every ancestor is shown, even above the caller's scope, as id, name, kind
    and level only. A member needs to know where its organisation sits, and the names of the
    governments and departments above it are public; their records stay out of reach."""
    await load_visible(session, principal, READ, org_id)
    chain = await org_tree.ancestors(session, org_id)
    return OrganisationAncestorsRead(items=[
        OrganisationRef(id=a.id, name=a.name, name_en=a.name_en, kind=a.kind, level=a.level, depth=a.depth,
                        is_active=a.is_active) for a in chain])
