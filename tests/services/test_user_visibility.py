"""app.services.users: who sees which user (DOMAIN.md "Users, roles and scope").

A user is visible for a permission when one of its memberships lies in the caller's
scope for it; users without any membership only to callers holding it at a root. The
expected sets are written here by hand from the world's tree, per caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.authz.roles import Permission
from app.core.errors import NotFound
from app.core.security import AccessClaims
from app.models import Membership, Role, User
from app.services import users
from app.services.principals import load_principal
from tests.factories import World, make_user

HAINAN = {"hainan", "gov", "env", "env_unit", "water", "office_body", "office", "haikou", "haikou_gov",
          "haikou_env"}
HENAN = {"henan", "henan_gov", "henan_env"}
# Organisations (world keys) each caller's users:read reaches.
SCOPES = {
    "admin": HAINAN,                                   # root admin
    "henan_admin": HENAN,                              # the other province's root admin
    "gov_leadership": {"gov", "env", "env_unit", "water"},
    "env_leader": {"env", "env_unit"},
    "office": {"office", "env", "env_unit", "water"},  # its body's member units, with their subtrees
    "env_staff": set(),                                # staff cannot read users
}
AT_ROOT = {"admin", "henan_admin"}


@dataclass
class Page:
    limit: int = 200
    cursor: str | None = None
    include_total: bool = True


async def extra_users(session, world: World) -> dict[str, set[str]]:
    """Accounts beyond the world's: none, both provinces, an internal unit only."""
    placed = {"loner": set(), "straddler": {"env", "henan_env"}, "unit_only": {"env_unit"}}
    for name, keys in placed.items():
        await make_user(session, f"t.{name}", *((world.org(k), Role.staff) for k in sorted(keys)))
    return placed


def expected(caller: str, memberships: dict[str, set[str]]) -> set[str]:
    scope = SCOPES[caller]
    return {name for name, keys in memberships.items()
            if keys & scope or (not keys and caller in AT_ROOT)}


async def principal_of(session, user: User):
    now = datetime.now(UTC)
    return await load_principal(session, AccessClaims(
        subject=str(user.id), subject_kind="user", token_version=user.token_version, scopes=(),
        organisation_id=None, jti="j", issued_at=now, expires_at=now + timedelta(minutes=5)))


@pytest.fixture
async def placed(database, world: World):
    async with database.transaction() as session:
        extra = await extra_users(session, world)
        rows = (await session.execute(
            User.__table__.select().with_only_columns(User.username, Membership.organisation_id)
            .select_from(User.__table__.outerjoin(Membership.__table__)))).all()
    key_of = {org.id: key for key, org in world.orgs.items()}
    memberships: dict[str, set[str]] = {}
    for username, organisation_id in rows:
        memberships.setdefault(username, set())
        if organisation_id is not None:
            memberships[username].add(key_of[organisation_id])
    assert {f"t.{name}" for name in extra} <= set(memberships)
    return memberships


@pytest.mark.parametrize("caller", sorted(SCOPES))
async def test_the_list_holds_exactly_the_callers_users(database, world: World, placed, caller):
    async with database.transaction(write=False) as session:
        principal = await principal_of(session, world.users[caller])
        page = await users.list_users(session, principal, Page())
    assert {u.username for u in page.items} == expected(caller, placed)
    assert page.total == len(page.items) and page.next_cursor is None


@pytest.mark.parametrize("caller", ["admin", "henan_admin", "gov_leadership", "office"])
async def test_each_listed_user_shows_only_its_memberships_in_scope(database, world: World, placed, caller):
    key_of = {org.id: key for key, org in world.orgs.items()}
    async with database.transaction(write=False) as session:
        principal = await principal_of(session, world.users[caller])
        page = await users.list_users(session, principal, Page())
    shown = {u.username: {key_of[m.organisation_id] for m in u.memberships} for u in page.items}
    assert shown == {name: placed[name] & SCOPES[caller] for name in expected(caller, placed)}
    assert shown["t.straddler"] == ({"env"} if caller != "henan_admin" else {"henan_env"})


@pytest.mark.parametrize("caller", sorted(SCOPES))
async def test_a_single_user_is_found_exactly_when_listed(database, world: World, placed, caller):
    visible = expected(caller, placed)
    async with database.transaction(write=False) as session:
        principal = await principal_of(session, world.users[caller])
        for username in placed:
            user = await session.scalar(User.__table__.select().with_only_columns(User.id)
                                        .where(User.username == username))
            try:
                await users.load_user(session, principal, user)
                found = True
            except NotFound:
                found = False
            assert found == (username in visible), username


async def test_write_scope_is_judged_by_the_write_permission(database, world: World, placed):
    # The office may read the env department's users but administers none of them.
    async with database.transaction(write=False) as session:
        principal = await principal_of(session, world.users["office"])
        staff = world.users["env_staff"]
        assert (await users.load_user(session, principal, staff.id, Permission.users_read)).id == staff.id
        with pytest.raises(NotFound):
            await users.load_user(session, principal, staff.id, Permission.users_write)
