"""Maintaining the organisation forest: closure rows, depth and jurisdiction.

`organisation_closure` holds one row per (ancestor, descendant) pair, the depth-0
self row included (DOMAIN.md "Organisations": subtree checks are index-backed,
never recursive walks). Everything here is set-based SQL (INSERT … SELECT,
UPDATE … WHERE id IN subtree), so moving a city with ten thousand offices is a
handful of statements, not ten thousand.

Writers of one tree are serialised by `lock_trees` (a row lock on the tree's
root organisation): without it two concurrent moves could each pass the cycle
check and together build a cycle, and a child added under a node that is being
moved would keep its old ancestors. SQLite needs no lock: its write
transactions are already serial (`BEGIN IMMEDIATE`, app/core/db.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, delete, func, insert, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BusinessRuleViolation
from app.models import Organisation, OrganisationClosure, utcnow


class OrganisationCycle(BusinessRuleViolation):
    code, title = "organisation_cycle", "The move would create a cycle"


async def lock_trees(session: AsyncSession, jurisdiction_ids: Iterable[uuid.UUID]) -> None:
    """Lock the root rows of the given trees, in id order so two writers cannot deadlock."""
    ids = sorted(set(jurisdiction_ids), key=str)
    if ids:
        await session.execute(select(Organisation.id).where(Organisation.id.in_(ids))
                              .order_by(Organisation.id).with_for_update())


async def add_to_tree(session: AsyncSession, org_id: uuid.UUID, parent_id: uuid.UUID | None) -> None:
    """Insert the closure rows of a new leaf: itself at depth 0 and every ancestor of its parent.

    The organisation row must already be flushed with its `depth` and `jurisdiction_id`
    (the parent's jurisdiction, or its own id for a root): those columns are NOT NULL,
    so the caller knows them before the insert."""
    await session.execute(insert(OrganisationClosure).values(ancestor_id=org_id, descendant_id=org_id, depth=0))
    if parent_id is not None:
        await session.execute(insert(OrganisationClosure).from_select(
            ["ancestor_id", "descendant_id", "depth"],
            select(OrganisationClosure.ancestor_id, literal(org_id, Organisation.id.type),
                   OrganisationClosure.depth + 1)
            .where(OrganisationClosure.descendant_id == parent_id)))


async def is_descendant(session: AsyncSession, x: uuid.UUID, of: uuid.UUID) -> bool:
    """True when `x` lies in the subtree of `of` (x == of counts: depth 0)."""
    found = await session.scalar(select(OrganisationClosure.depth).where(
        OrganisationClosure.ancestor_id == of, OrganisationClosure.descendant_id == x))
    return found is not None


async def ancestors(session: AsyncSession, org_id: uuid.UUID) -> Sequence[Organisation]:
    """The chain above `org_id`, root first, parent last (the organisation itself excluded)."""
    rows = await session.scalars(
        select(Organisation)
        .join(OrganisationClosure, OrganisationClosure.ancestor_id == Organisation.id)
        .where(OrganisationClosure.descendant_id == org_id, OrganisationClosure.depth > 0)
        .order_by(OrganisationClosure.depth.desc()))
    return rows.all()


def subtree_of(org_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """SELECT of the ids in the subtree of `org_id` (itself included), for use in IN (…)."""
    return select(OrganisationClosure.descendant_id).where(OrganisationClosure.ancestor_id == org_id)


async def subtree_size(session: AsyncSession, org_id: uuid.UUID) -> int:
    return await session.scalar(select(func.count()).select_from(OrganisationClosure)
                                .where(OrganisationClosure.ancestor_id == org_id)) or 0


async def move_subtree(session: AsyncSession, org_id: uuid.UUID, new_parent_id: uuid.UUID | None) -> int:
    """Re-hang `org_id` and everything below it under `new_parent_id` (None: make it a root).

    Refuses with `OrganisationCycle` (422) when the new parent is the organisation itself
    or lies inside its subtree. Rewrites the closure rows linking the subtree to its old
    ancestors, then `depth` and `jurisdiction_id` of the whole subtree. Descendants get
    `version + 1` (their representation changed, so their ETags must); the moved
    organisation's own version is the caller's, which changes its other fields in the
    same request. Returns the number of organisations moved.

    The caller holds `lock_trees` for the old and the new tree."""
    if new_parent_id is not None and (new_parent_id == org_id or await is_descendant(session, new_parent_id,
                                                                                      of=org_id)):
        what = "itself" if new_parent_id == org_id else "one of its own descendants"
        raise OrganisationCycle(
            f"An organisation cannot be placed under {what}.",
            errors=[{"pointer": "/parent_id", "source": "body", "type": "organisation_cycle",
                     "message": f"the new parent is {what}"}])

    subtree = subtree_of(org_id)
    # 1. Cut every link from an ancestor outside the subtree to a node inside it.
    await session.execute(delete(OrganisationClosure).where(
        OrganisationClosure.descendant_id.in_(subtree), OrganisationClosure.ancestor_id.not_in(subtree)))
    if new_parent_id is not None:
        new_parent = (await session.execute(select(Organisation.depth, Organisation.jurisdiction_id)
                                             .where(Organisation.id == new_parent_id))).one()
        base_depth, jurisdiction_id = new_parent.depth + 1, new_parent.jurisdiction_id
        # 2. Link every ancestor-or-self of the new parent to every node of the subtree.
        above = select(OrganisationClosure).where(OrganisationClosure.descendant_id == new_parent_id).subquery()
        below = select(OrganisationClosure).where(OrganisationClosure.ancestor_id == org_id).subquery()
        await session.execute(insert(OrganisationClosure).from_select(
            ["ancestor_id", "descendant_id", "depth"],
            select(above.c.ancestor_id, below.c.descendant_id, above.c.depth + below.c.depth + 1)
            .select_from(above).join(below, true())))
    else:
        base_depth, jurisdiction_id = 0, org_id

    # 3. Depth and jurisdiction of every moved node follow from its distance to the moved root.
    distance = (select(OrganisationClosure.depth)
                .where(and_(OrganisationClosure.ancestor_id == org_id,
                            OrganisationClosure.descendant_id == Organisation.id))
                .scalar_subquery())
    now = utcnow()
    await session.execute(
        update(Organisation).where(Organisation.id.in_(subtree), Organisation.id != org_id)
        .values(depth=distance + base_depth, jurisdiction_id=jurisdiction_id, version=Organisation.version + 1,
                updated_at=now)
        .execution_options(synchronize_session=False))
    await session.execute(
        update(Organisation).where(Organisation.id == org_id)
        .values(parent_id=new_parent_id, depth=base_depth, jurisdiction_id=jurisdiction_id, updated_at=now)
        .execution_options(synchronize_session=False))
    # The bulk UPDATEs bypassed the identity map: reload what this session already holds
    # (a refresh, not an expire: a lazy load would fail under asyncio).
    for obj in [o for o in session.identity_map.values() if isinstance(o, Organisation)]:
        await session.refresh(obj)
    return await subtree_size(session, org_id)
