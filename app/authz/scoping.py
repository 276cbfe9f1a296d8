"""The ONE place rows are filtered by organisation subtree (CONVENTIONS.md layer 2).

Scope = the subtrees of the organisations a caller's grants point at. The test
is a semi-join on `organisation_closure`, which is indexed on both databases.
Out of scope is reported as 404 by the services, so existence does not leak.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.models.organisation import OrganisationClosure


def subtree_ids(roots: set[uuid.UUID]) -> Select[Any]:
    """SELECT of every organisation id inside the given subtrees."""
    return select(OrganisationClosure.descendant_id).where(OrganisationClosure.ancestor_id.in_(roots))


def in_scope(column: ColumnElement[Any], principal: Principal, permission: Permission) -> ColumnElement[bool]:
    """A WHERE clause: `column` (an organisation id) lies in the caller's scope for `permission`."""
    roots = principal.scope_roots(permission)
    if not roots:
        return false()
    return exists().where(OrganisationClosure.descendant_id == column,
                          OrganisationClosure.ancestor_id.in_(roots))


def within(column: ColumnElement[Any], root: uuid.UUID) -> ColumnElement[bool]:
    """A WHERE clause: `column` lies in the subtree of `root` (a filter the caller asked for)."""
    return exists().where(OrganisationClosure.descendant_id == column, OrganisationClosure.ancestor_id == root)


async def can_reach(session: AsyncSession, principal: Principal, permission: Permission,
                    organisation_id: uuid.UUID | None) -> bool:
    roots = principal.scope_roots(permission)
    if organisation_id is None or not roots:
        return False
    if organisation_id in roots:
        return True
    found = await session.scalar(
        select(OrganisationClosure.depth).where(OrganisationClosure.descendant_id == organisation_id,
                                                OrganisationClosure.ancestor_id.in_(roots)).limit(1))
    return found is not None
