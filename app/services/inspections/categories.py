"""The category tree of a campaign's findings (方面 → topic, as 001 groups its 36 items under five 方面).

Adding a node is for the registrars (inspectors of the inspecting body, the rectification
office: 001 一(三) "科学制定问题分类"), 403 otherwise; reading for anyone who sees the
campaign. A node's `path` is its chain of ids, so a node's findings and its descendants'
are one prefix match (app/services/findings/queries.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors, PermissionDenied
from app.models import InspectionCategory, new_id
from app.models.inspection import MAX_CATEGORY_DEPTH
from app.schemas.inspections import CategoryCreate, CategoryList, CategoryRead
from app.services import audit
from app.services.inspections import access

RESOURCE = "inspection_category"


def to_read(c: InspectionCategory) -> CategoryRead:
    return CategoryRead(id=c.id, inspection_id=c.inspection_id, parent_id=c.parent_id, depth=c.depth,
                        position=c.position, code=c.code, title=c.title)


async def list_categories(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID) -> CategoryList:
    """The whole tree, depth-first: each node followed by its children, in position order."""
    await access.load_visible(session, principal, inspection_id)
    rows = (await session.scalars(select(InspectionCategory).where(InspectionCategory.inspection_id == inspection_id)
                                  .order_by(InspectionCategory.position, InspectionCategory.created_at,
                                            InspectionCategory.id))).all()
    children: dict[uuid.UUID | None, list[InspectionCategory]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[CategoryRead] = []

    def walk(parent: uuid.UUID | None) -> None:
        for node in children.get(parent, []):
            ordered.append(to_read(node))
            walk(node.id)

    walk(None)
    return CategoryList(items=ordered)


async def create_category(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID,
                          body: CategoryCreate) -> CategoryRead:
    """Add a node under `parent_id` (or a new 方面). 404 out of scope; 403 for others than the registrars;
    422 for a parent of another campaign or a tree deeper than four levels."""
    inspection = await access.load_visible(session, principal, inspection_id)
    if not access.can_register(principal, inspection.inspecting_body_id, inspection.rectification_office_id):
        raise PermissionDenied("Only inspectors of the inspecting body or the rectification office add categories.")
    parent = None
    errors = FieldErrors()
    if body.parent_id is not None:
        parent = await session.scalar(select(InspectionCategory).where(
            InspectionCategory.id == body.parent_id, InspectionCategory.inspection_id == inspection.id))
        if parent is None:
            errors.add("/parent_id", "unknown_category", "not a category of this inspection")
        elif parent.depth + 1 >= MAX_CATEGORY_DEPTH:
            errors.add("/parent_id", "too_deep", f"the tree has at most {MAX_CATEGORY_DEPTH} levels")
    errors.raise_if_any()
    position = body.position
    if position is None:
        last = await session.scalar(select(func.max(InspectionCategory.position)).where(
            InspectionCategory.inspection_id == inspection.id, InspectionCategory.parent_id == body.parent_id
            if body.parent_id else InspectionCategory.parent_id.is_(None)))
        position = 0 if last is None else last + 1
    node_id = new_id()
    node = InspectionCategory(id=node_id, inspection_id=inspection.id, parent_id=body.parent_id,
                              path=(parent.path if parent else "") + f"{node_id.hex}/",
                              depth=parent.depth + 1 if parent else 0, position=position, code=body.code,
                              title=body.title)
    session.add(node)
    await session.flush()
    audit.record(session, action="inspection_category.create", resource_type=RESOURCE, resource_id=node.id,
                 organisation_id=inspection.rectification_office_id,
                 after={"inspection_id": inspection.id, "parent_id": body.parent_id, "title": body.title})
    return to_read(node)
