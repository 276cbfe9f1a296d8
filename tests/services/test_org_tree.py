"""app.services.org_tree: closure rows, depth and jurisdiction stay equal to what the
parent pointers imply (an oracle recomputed in Python from `parent_id`)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.models import Organisation, OrganisationClosure, OrganisationKind
from app.services import org_tree
from tests.factories import make_organisation


async def tree_state(session) -> tuple[set, dict]:
    rows = set((await session.execute(select(OrganisationClosure.ancestor_id, OrganisationClosure.descendant_id,
                                             OrganisationClosure.depth))).all())
    orgs = {o.id: (o.parent_id, o.depth, o.jurisdiction_id, o.version)
            for o in (await session.scalars(select(Organisation))).all()}
    return rows, orgs


def expected_closure(orgs: dict) -> set:
    """(ancestor, descendant, depth) for every pair, walking parent pointers; fails on a cycle."""
    out = set()
    for org_id in orgs:
        node, depth, seen = org_id, 0, set()
        while node is not None:
            assert node not in seen, "cycle in parent pointers"
            seen.add(node)
            out.add((node, org_id, depth))
            node, depth = orgs[node][0], depth + 1
    return out


def assert_consistent(rows: set, orgs: dict) -> None:
    assert rows == expected_closure(orgs)
    for org_id, (_parent, depth, jurisdiction, _version) in orgs.items():
        chain = sorted((r for r in rows if r[1] == org_id), key=lambda r: r[2])
        assert depth == chain[-1][2], org_id
        assert jurisdiction == chain[-1][0], org_id


@pytest.fixture
async def forest(database):
    """a ─┬ b ── c ── d      x ── y        (two trees)
          └ e"""
    async with database.transaction() as s:
        a = await make_organisation(s, "a", kind=OrganisationKind.region)
        b = await make_organisation(s, "b", parent=a)
        c = await make_organisation(s, "c", parent=b)
        d = await make_organisation(s, "d", parent=c)
        e = await make_organisation(s, "e", parent=a)
        x = await make_organisation(s, "x", kind=OrganisationKind.region)
        y = await make_organisation(s, "y", parent=x)
    return {o.name: o.id for o in (a, b, c, d, e, x, y)}


class TestAddToTree:
    async def test_new_leaf_gets_self_row_and_every_ancestor_of_its_parent(self, database, forest):
        new = uuid.uuid4()
        async with database.transaction() as s:
            s.add(Organisation(id=new, name="n", kind=OrganisationKind.department, level="province",
                               parent_id=forest["d"], jurisdiction_id=forest["a"], depth=4))
            await s.flush()
            await org_tree.add_to_tree(s, new, forest["d"])
        async with database.transaction(write=False) as s:
            rows, orgs = await tree_state(s)
            assert {(r[0], r[2]) for r in rows if r[1] == new} == {
                (new, 0), (forest["d"], 1), (forest["c"], 2), (forest["b"], 3), (forest["a"], 4)}
            assert_consistent(rows, orgs)
            assert [o.name for o in await org_tree.ancestors(s, new)] == ["a", "b", "c", "d"]

    async def test_root_gets_only_its_self_row(self, database, forest):
        new = uuid.uuid4()
        async with database.transaction() as s:
            s.add(Organisation(id=new, name="r", kind=OrganisationKind.national_body, level="national",
                               jurisdiction_id=new, depth=0))
            await s.flush()
            await org_tree.add_to_tree(s, new, None)
        async with database.transaction(write=False) as s:
            rows, _ = await tree_state(s)
            assert {r for r in rows if r[1] == new} == {(new, new, 0)}
            assert await org_tree.ancestors(s, new) == []


class TestMoveSubtree:
    async def test_move_within_a_tree_rewrites_closure_and_depth(self, database, forest):
        async with database.transaction() as s:
            moved = await org_tree.move_subtree(s, forest["c"], forest["e"])
        assert moved == 2
        async with database.transaction(write=False) as s:
            rows, orgs = await tree_state(s)
            assert_consistent(rows, orgs)
            assert orgs[forest["c"]][:3] == (forest["e"], 2, forest["a"])
            assert orgs[forest["d"]][1] == 3
            # descendants' representation changed, so their version (ETag) did; the moved root's is the caller's
            assert orgs[forest["d"]][3] == 2 and orgs[forest["c"]][3] == 1
            assert await org_tree.is_descendant(s, forest["d"], of=forest["e"])
            assert not await org_tree.is_descendant(s, forest["d"], of=forest["b"])

    async def test_move_to_another_tree_changes_jurisdiction_of_the_whole_subtree(self, database, forest):
        async with database.transaction() as s:
            await org_tree.move_subtree(s, forest["b"], forest["y"])
        async with database.transaction(write=False) as s:
            rows, orgs = await tree_state(s)
            assert_consistent(rows, orgs)
            assert {orgs[forest[k]][2] for k in "bcd"} == {forest["x"]}
            assert [orgs[forest[k]][1] for k in "bcd"] == [2, 3, 4]
            assert orgs[forest["e"]][2] == forest["a"]

    async def test_move_to_none_makes_a_root(self, database, forest):
        async with database.transaction() as s:
            await org_tree.move_subtree(s, forest["c"], None)
        async with database.transaction(write=False) as s:
            rows, orgs = await tree_state(s)
            assert_consistent(rows, orgs)
            assert orgs[forest["c"]][:3] == (None, 0, forest["c"])

    @pytest.mark.parametrize("target", ["b", "c", "d"])
    async def test_under_itself_or_a_descendant_is_a_cycle_and_changes_nothing(self, database, forest, target):
        async with database.transaction(write=False) as s:
            before = await tree_state(s)
        with pytest.raises(org_tree.OrganisationCycle) as caught:
            async with database.transaction() as s:
                await org_tree.move_subtree(s, forest["b"], forest[target])
        assert caught.value.status == 422 and caught.value.code == "organisation_cycle"
        async with database.transaction(write=False) as s:
            assert await tree_state(s) == before

    async def test_loaded_objects_are_refreshed_after_the_bulk_update(self, database, forest):
        async with database.transaction() as s:
            d = await s.get(Organisation, forest["d"])
            await org_tree.move_subtree(s, forest["c"], forest["y"])
            assert (d.depth, d.jurisdiction_id) == (3, forest["x"])
