"""app.services.principals: a verified token becomes a Principal, checked against the
database on every request (API2-d), in one statement unless an office grant needs its
member units."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.errors import Unauthenticated
from app.core.security import AccessClaims, digest_secret
from app.models import IntegrationClient, Membership, Organisation, RefreshSession, Role, User
from app.services.principals import load_principal
from tests.factories import World
from tests.statements import selects

NOW = datetime.now(UTC)


def claims(subject: uuid.UUID, *, kind: str = "user", token_version: int = 0, session_id: uuid.UUID | None = None,
           scopes: tuple[str, ...] = ()) -> AccessClaims:
    return AccessClaims(subject=str(subject), subject_kind=kind, token_version=token_version, scopes=scopes,
                        organisation_id=None, jti="j", issued_at=NOW, expires_at=NOW + timedelta(minutes=15),
                        session_id=str(session_id) if session_id else None)




async def load(database, token: AccessClaims) -> Principal:
    async with database.transaction(write=False) as session:
        return await load_principal(session, token)


async def sign_in(database, user: User, *, revoked: bool = False) -> uuid.UUID:
    async with database.transaction() as session:
        row = RefreshSession(user_id=user.id, created_at=NOW, absolute_expires_at=NOW + timedelta(hours=12),
                             revoked_at=NOW if revoked else None)
        session.add(row)
    return row.id


async def change(database, model, row_id: uuid.UUID, **values) -> None:
    async with database.transaction() as session:
        await session.execute(update(model).where(model.id == row_id).values(**values))


class TestUsers:
    async def test_a_member_gets_a_grant_per_membership_in_one_statement(self, database, world: World):
        staff = world.users["env_staff"]
        sid = await sign_in(database, staff)
        with selects(database) as sent:
            principal = await load(database, claims(staff.id, session_id=sid))
        assert (principal.kind, principal.id, principal.name, principal.session_id) == (
            "user", staff.id, "t.env.staff", sid)
        assert [(g.organisation_id, g.role, g.extra_roots) for g in principal.grants] == [
            (world.org("env").id, Role.staff, ())]
        assert len(sent) == 1

    async def test_grants_follow_the_order_memberships_were_given(self, database, world: World):
        staff = world.users["env_staff"]
        async with database.transaction() as session:
            session.add(Membership(user_id=staff.id, organisation_id=world.org("water").id, role=Role.leader))
        principal = await load(database, claims(staff.id))
        assert [(g.organisation_id, g.role) for g in principal.grants] == [
            (world.org("env").id, Role.staff), (world.org("water").id, Role.leader)]

    async def test_a_user_without_memberships_authenticates_with_no_grants(self, database, world: World):
        async with database.transaction() as session:
            loner = User(username="t.loner", display_name="t.loner", password_hash="x")
            session.add(loner)
        principal = await load(database, claims(loner.id))
        assert principal.grants == () and principal.permissions == frozenset()

    async def test_an_inactive_organisation_grants_nothing(self, database, world: World):
        staff = world.users["env_staff"]
        await change(database, Organisation, world.org("env").id, is_active=False)
        assert (await load(database, claims(staff.id))).grants == ()

    async def test_must_change_password_is_carried(self, database, world: World):
        staff = world.users["env_staff"]
        await change(database, User, staff.id, must_change_password=True)
        assert (await load(database, claims(staff.id))).must_change_password is True

    @pytest.mark.parametrize("case", ["unknown user", "deactivated", "old token version", "revoked sign-in",
                                      "unknown sign-in", "another user's sign-in", "malformed subject"])
    async def test_dead_tokens_are_refused(self, database, world: World, case):
        staff, other = world.users["env_staff"], world.users["env_leader"]
        token = claims(staff.id)
        if case == "unknown user":
            token = claims(uuid.uuid4())
        elif case == "deactivated":
            await change(database, User, staff.id, is_active=False)
        elif case == "old token version":
            await change(database, User, staff.id, token_version=1)
        elif case == "revoked sign-in":
            token = claims(staff.id, session_id=await sign_in(database, staff, revoked=True))
        elif case == "unknown sign-in":
            token = claims(staff.id, session_id=uuid.uuid4())
        elif case == "another user's sign-in":
            token = claims(staff.id, session_id=await sign_in(database, other))
        elif case == "malformed subject":
            token = dataclasses.replace(token, subject="not-a-uuid")
        with pytest.raises(Unauthenticated):
            await load(database, token)


class TestOffices:
    async def test_an_office_also_reaches_its_bodys_member_units_in_a_second_statement(self, database,
                                                                                       world: World):
        office = world.users["office"]
        with selects(database) as sent:
            principal = await load(database, claims(office.id))
        [grant] = principal.grants
        assert grant.organisation_id == world.org("office").id and grant.role is Role.office
        assert set(grant.extra_roots) == {world.org("env").id, world.org("water").id}
        assert len(sent) == 2

    async def test_the_office_role_elsewhere_reaches_nothing_more(self, database, world: World):
        staff = world.users["env_staff"]
        async with database.transaction() as session:
            session.add(Membership(user_id=staff.id, organisation_id=world.org("water").id, role=Role.office))
        grants = {g.organisation_id: g.extra_roots for g in (await load(database, claims(staff.id))).grants}
        assert grants == {world.org("env").id: (), world.org("water").id: ()}


class TestRoots:
    async def test_a_root_admin_holds_users_write_at_a_root(self, database, world: World):
        principal = await load(database, claims(world.users["admin"].id))
        assert principal.holds_at_root(Permission.users_write)

    async def test_a_department_admin_does_not(self, database, world: World):
        staff = world.users["env_staff"]
        async with database.transaction() as session:
            session.add(Membership(user_id=staff.id, organisation_id=world.org("env").id, role=Role.admin))
        principal = await load(database, claims(staff.id))
        assert principal.has(Permission.users_write) and not principal.holds_at_root(Permission.users_write)

    async def test_only_for_a_permission_held_there(self, database, world: World):
        viewer = world.users["env_viewer"]
        async with database.transaction() as session:
            session.add(Membership(user_id=viewer.id, organisation_id=world.org("hainan").id, role=Role.viewer))
        principal = await load(database, claims(viewer.id))
        assert principal.holds_at_root(Permission.organisations_read)
        assert not principal.holds_at_root(Permission.users_write)


class TestClients:
    async def client(self, database, world: World, org: str = "env", **fields) -> IntegrationClient:
        async with database.transaction() as session:
            row = IntegrationClient(client_id=f"edc_{org}", name="监测平台", secret_hash=digest_secret("s" * 40),
                                    scopes=["organisations:read"], organisation_id=world.org(org).id, **fields)
            session.add(row)
        return row

    async def test_a_client_gets_its_granted_scopes_only_in_one_statement(self, database, world: World):
        row = await self.client(database, world)
        with selects(database) as sent:
            principal = await load(database, claims(row.id, kind="client",
                                                    scopes=("organisations:read", "users:read")))
        assert (principal.kind, principal.client_organisation_id) == ("client", world.org("env").id)
        assert principal.client_permissions == frozenset({Permission.organisations_read})
        assert not principal.holds_at_root(Permission.organisations_read)
        assert len(sent) == 1

    async def test_a_client_at_a_root_holds_its_scopes_there(self, database, world: World):
        row = await self.client(database, world, org="hainan")
        principal = await load(database, claims(row.id, kind="client", scopes=("organisations:read",)))
        assert principal.holds_at_root(Permission.organisations_read)

    @pytest.mark.parametrize("case", ["deactivated", "rotated", "unknown"])
    async def test_dead_client_tokens_are_refused(self, database, world: World, case):
        row = await self.client(database, world, is_active=case != "deactivated",
                                token_version=1 if case == "rotated" else 0)
        with pytest.raises(Unauthenticated):
            await load(database, claims(uuid.uuid4() if case == "unknown" else row.id, kind="client"))
