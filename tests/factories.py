"""Minimal valid rows for tests, written straight to the database.

Organisations get their closure rows here too, so tests do not depend on the
organisation service they may be testing. Users share one precomputed
password hash: argon2 at full cost for every test user would dominate the run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import security
from app.models import (
    CoordinationMember,
    Membership,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
    Role,
    User,
)

TEST_PASSWORD = "Test-Pass-2024!"


@lru_cache
def test_password_hash() -> str:
    return security.hash_password(TEST_PASSWORD)


async def make_organisation(session: AsyncSession, name: str, *, kind: OrganisationKind = OrganisationKind.department,
                            level: OrganisationLevel = OrganisationLevel.province,
                            parent: Organisation | None = None, profile_code: str | None = None,
                            **fields: object) -> Organisation:
    org_id = uuid.uuid4()
    org = Organisation(id=org_id, name=name, kind=kind, level=level, parent_id=parent.id if parent else None,
                       jurisdiction_id=parent.jurisdiction_id if parent else org_id,
                       depth=(parent.depth + 1) if parent else 0,
                       profile_code=profile_code if parent is None else None, **fields)
    session.add(org)
    await session.flush()
    session.add(OrganisationClosure(ancestor_id=org_id, descendant_id=org_id, depth=0))
    if parent is not None:
        rows = (await session.execute(select(OrganisationClosure.ancestor_id, OrganisationClosure.depth)
                                      .where(OrganisationClosure.descendant_id == parent.id))).all()
        for row in rows:
            session.add(OrganisationClosure(ancestor_id=row.ancestor_id, descendant_id=org_id, depth=row.depth + 1))
    await session.flush()
    return org


async def make_user(session: AsyncSession, username: str, *memberships: tuple[Organisation, Role],
                    is_active: bool = True) -> User:
    user = User(username=username, display_name=username, password_hash=test_password_hash(), is_active=is_active)
    session.add(user)
    await session.flush()
    for org, role in memberships:
        session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    await session.flush()
    return user


def problem(response) -> dict:
    """A problem document without the per-request members, for comparing bodies whole."""
    body = response.json()
    body.pop("request_id", None)
    body.pop("instance", None)
    return body


def token_for(user: User) -> str:
    """A real access token minted by the security module (no hand-built principals)."""
    return security.issue_access_token(subject=str(user.id), subject_kind="user",
                                       token_version=user.token_version).token


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


@dataclass
class World:
    """A small forest covering every organisation relation the matrix tests need.

    hainan (region, root) ─┬ gov ─┬ env (department) ── env_unit (internal unit)
                           │      └ water (department)            [sibling of env]
                           ├ office_body (督察领导小组) ── office (办公室)  member units: env, water
                           └ haikou (region, city) ── haikou_gov ── haikou_env
    henan (region, root) ── henan_gov ── henan_env                [other province]
    """

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def org(self, key: str) -> Organisation:
        return self.orgs[key]

    def headers(self, user_key: str) -> dict[str, str]:
        return auth(self.users[user_key])


async def build_world(session: AsyncSession) -> World:
    w = World()
    P, C = OrganisationLevel.province, OrganisationLevel.city
    K = OrganisationKind
    w.orgs["hainan"] = await make_organisation(session, "海南省", kind=K.region, level=P, profile_code="hainan")
    w.orgs["gov"] = await make_organisation(session, "海南省人民政府", kind=K.government, parent=w.orgs["hainan"])
    w.orgs["env"] = await make_organisation(session, "海南省生态环境厅", parent=w.orgs["gov"], major_duty=True)
    w.orgs["env_unit"] = await make_organisation(session, "水生态环境处", kind=K.internal_unit, parent=w.orgs["env"])
    w.orgs["water"] = await make_organisation(session, "海南省水务厅", parent=w.orgs["gov"], major_duty=True)
    w.orgs["office_body"] = await make_organisation(session, "督察领导小组", kind=K.coordination_body,
                                                    parent=w.orgs["hainan"])
    w.orgs["office"] = await make_organisation(session, "督察领导小组办公室", kind=K.coordination_office,
                                               parent=w.orgs["office_body"])
    for member in ("env", "water"):
        session.add(CoordinationMember(body_id=w.orgs["office_body"].id, member_id=w.orgs[member].id))
    w.orgs["haikou"] = await make_organisation(session, "海口市", kind=K.region, level=C, parent=w.orgs["hainan"])
    w.orgs["haikou_gov"] = await make_organisation(session, "海口市人民政府", kind=K.government, level=C,
                                                   parent=w.orgs["haikou"])
    w.orgs["haikou_env"] = await make_organisation(session, "海口市生态环境局", level=C, parent=w.orgs["haikou_gov"])
    w.orgs["henan"] = await make_organisation(session, "河南省", kind=K.region, level=P, profile_code="henan")
    w.orgs["henan_gov"] = await make_organisation(session, "河南省人民政府", kind=K.government, parent=w.orgs["henan"])
    w.orgs["henan_env"] = await make_organisation(session, "河南省生态环境厅", parent=w.orgs["henan_gov"])

    w.users["admin"] = await make_user(session, "t.admin", (w.orgs["hainan"], Role.admin))
    w.users["henan_admin"] = await make_user(session, "t.henan.admin", (w.orgs["henan"], Role.admin))
    for role in Role:
        if role is Role.admin:
            continue
        w.users[f"env_{role.value}"] = await make_user(session, f"t.env.{role.value}", (w.orgs["env"], role))
    w.users["office"] = await make_user(session, "t.office", (w.orgs["office"], Role.office))
    w.users["gov_leadership"] = await make_user(session, "t.gov.leadership", (w.orgs["gov"], Role.leadership))
    w.users["haikou_staff"] = await make_user(session, "t.haikou.staff", (w.orgs["haikou_env"], Role.staff))
    w.users["henan_staff"] = await make_user(session, "t.henan.staff", (w.orgs["henan_env"], Role.staff))
    w.users["inactive"] = await make_user(session, "t.inactive", (w.orgs["env"], Role.staff), is_active=False)
    await session.flush()
    return w


async def designate(session: AsyncSession, region: Organisation, key: str, *orgs: Organisation) -> None:
    """Name the organisations that fill a profile role in a region (app.models.designation)."""
    from app.models import Designation, DesignationKey

    for org in orgs:
        session.add(Designation(region_id=region.id, key=DesignationKey(key), organisation_id=org.id))
    await session.flush()
