"""User accounts and memberships, managed by admins within their scope.

Who is visible (design choice, DOMAIN.md "Users, roles and scope"): a user is in a
caller's scope for a permission when at least one of the user's memberships lies in
the caller's subtrees for it. A user with no membership belongs to no subtree; only
callers holding the permission at a root organisation (a province, a national body)
see such users, so they can be given a membership again. Anything else is 404.
Only memberships inside the caller's scope are shown: a Hainan admin does not learn
where else a user works.

Deactivation, password resets and password changes bump `token_version` and end every
sign-in, so the user's tokens stop working at the next request (API2-d). Membership
changes need no bump: principals are reloaded from the database per request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    or_,
    outerjoin,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.authz.principal import Principal
from app.authz.roles import CLIENT_SCOPES, Permission
from app.authz.scoping import can_reach, in_scope, within
from app.core.errors import (
    BusinessRuleViolation,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.core.etag import check_if_match
from app.core.pagination import decode_cursor, encode_cursor
from app.core.security import hash_password_async
from app.models import IntegrationClient, Membership, Organisation, Role, User, utcnow
from app.schemas.auth import MeOrganisation, MeRead
from app.schemas.users import (
    MembershipCreate,
    MembershipPage,
    MembershipRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from app.services import audit
from app.services.auth import home_organisation, password_error, revoke_user_sessions
from app.services.versioned import update_if_current

READ, WRITE = Permission.users_read, Permission.users_write
SNAPSHOT_FIELDS = ("username", "display_name", "email", "phone", "is_active", "must_change_password")


class PageParams(Protocol):  # app.dependencies.PageParams; services may not import dependencies
    limit: int
    cursor: str | None
    include_total: bool


# ------------------------------------------------------------------------- helpers


async def keyset_page(session: AsyncSession, stmt: Select[Any], model: Any, page: PageParams, *,
                      scope: str) -> tuple[list[Any], str | None, int | None]:
    """One page of `stmt` ordered by (created_at, id), its first column being `model`.

    Returns (rows, next_cursor, total-or-None). The cursor is signed and bound to `scope`."""
    total = None
    if page.include_total:
        total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if page.cursor:
        created, ident = decode_cursor(page.cursor, scope=scope)
        after = datetime.fromisoformat(created)
        stmt = stmt.where(or_(model.created_at > after,
                              and_(model.created_at == after, model.id > uuid.UUID(ident))))
    rows = list((await session.execute(stmt.order_by(model.created_at, model.id).limit(page.limit + 1))).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[:page.limit]
        last = rows[-1][0]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)], scope=scope)
    return rows, next_cursor, total


def _snapshot(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in SNAPSHOT_FIELDS}


def _unknown_organisation(pointer: str) -> ValidationFailed:
    return ValidationFailed("No such organisation in your scope.", errors=[{
        "pointer": pointer, "source": "body", "type": "unknown_organisation",
        "message": "unknown organisation"}])


def _visible(principal: Principal, permission: Permission) -> ColumnElement[bool]:
    """WHERE clause on `User`: a membership in scope, or (for a root holder) no membership at all."""
    scoped = in_scope(Membership.organisation_id, principal, permission)
    if not principal.holds_at_root(permission):
        return exists().where(Membership.user_id == User.id, scoped)
    # One EXISTS over the user's own row LEFT JOIN its memberships, not `scoped OR NOT EXISTS(any)`:
    # for that OR PostgreSQL hashed every in-scope membership before reading the first page
    # (176 ms per page at 1M users, this form 5-10 ms: BENCHMARKS.md Findings).
    user = aliased(User)
    return exists().select_from(outerjoin(user, Membership, Membership.user_id == user.id)).where(
        user.id == User.id, or_(Membership.id.is_(None), scoped))


async def load_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID,
                    permission: Permission = READ) -> User:
    user = await session.scalar(select(User).where(User.id == user_id, _visible(principal, permission)))
    if user is None:
        raise NotFound("No such user in your scope.")
    return user


def _membership_query(principal: Principal, permission: Permission) -> Select[Any]:
    return (select(Membership, Organisation.name, Organisation.kind)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(in_scope(Membership.organisation_id, principal, permission)))


def _membership_read(row: Any) -> MembershipRead:
    membership, name, kind = row
    return MembershipRead(id=membership.id, organisation_id=membership.organisation_id, organisation_name=name,
                          organisation_kind=kind, role=membership.role, created_at=membership.created_at)


async def _reads(session: AsyncSession, principal: Principal, users: list[User],
                 permission: Permission = READ) -> list[UserRead]:
    by_user: dict[uuid.UUID, list[MembershipRead]] = {u.id: [] for u in users}
    if users:
        # The page's memberships first, then the scope test on those few rows. Unfenced, PostgreSQL's
        # generic plan (asyncpg prepares statements; from the sixth run a plan may serve every
        # parameter) assumed a three-organisation scope and read every membership in scope instead:
        # 14 ms per page at 10,000 users, 0.4 ms fenced.
        page = (select(Membership).where(Membership.user_id.in_(list(by_user))).cte("page_membership")
                .prefix_with("MATERIALIZED", dialect="postgresql"))
        membership = aliased(Membership, page)
        rows = (await session.execute(
            select(membership, Organisation.name, Organisation.kind)
            .join(Organisation, Organisation.id == membership.organisation_id)
            .where(in_scope(membership.organisation_id, principal, permission))
            .order_by(membership.created_at, membership.id))).all()
        for row in rows:
            by_user[row[0].user_id].append(_membership_read(row))
    return [UserRead(**{f: getattr(u, f) for f in UserRead.model_fields if f != "memberships"},
                     memberships=by_user[u.id]) for u in users]


async def _read(session: AsyncSession, principal: Principal, user: User) -> UserRead:
    return (await _reads(session, principal, [user]))[0]


async def _change(session: AsyncSession, user: User, **values: Any) -> None:
    """Conditional UPDATE on the version read: of two concurrent writers one gets 412 (REL-01/02)."""
    await update_if_current(session, user, noun="user", **values)


# -------------------------------------------------------------------------- users


async def list_users(session: AsyncSession, principal: Principal, page: PageParams, *, q: str | None = None,
                     organisation_id: uuid.UUID | None = None, is_active: bool | None = None) -> UserPage:
    """Users in the caller's scope for users:read, oldest first."""
    stmt = select(User).where(_visible(principal, READ))
    if q:
        stmt = stmt.where(or_(User.username.icontains(q, autoescape=True),
                              User.display_name.icontains(q, autoescape=True)))
    if organisation_id is not None:  # a foreign organisation simply matches nothing
        stmt = stmt.where(exists().where(Membership.user_id == User.id,
                                         within(Membership.organisation_id, organisation_id),
                                         in_scope(Membership.organisation_id, principal, READ)))
    if is_active is not None:
        stmt = stmt.where(User.is_active.is_(is_active))
    rows, next_cursor, total = await keyset_page(session, stmt, User, page, scope="users")
    items = await _reads(session, principal, [r[0] for r in rows])
    return UserPage(items=items, next_cursor=next_cursor, total=total)


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> UserRead:
    return await _read(session, principal, await load_user(session, principal, user_id))


async def create_user(session: AsyncSession, principal: Principal, data: UserCreate) -> UserRead:
    """409 when the username is taken; 422 for a weak password or an organisation outside the
    caller's scope, or no membership unless the caller is an admin at a root organisation."""
    if not data.memberships and not principal.holds_at_root(WRITE):
        raise ValidationFailed("Give the user at least one membership in your scope.", errors=[{
            "pointer": "/memberships", "source": "body", "type": "too_short",
            "message": "at least one membership is required"}])
    if (error := password_error(data.password, "/password")) is not None:
        raise error
    for index, membership in enumerate(data.memberships):
        await _check_organisation(session, principal, membership.organisation_id,
                                  f"/memberships/{index}/organisation_id")
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict("This username is taken.")
    user = User(username=data.username, display_name=data.display_name, email=data.email, phone=data.phone,
                password_hash=await hash_password_async(data.password), is_active=True, token_version=0,
                must_change_password=data.must_change_password, version=1)
    try:
        async with session.begin_nested():  # a concurrent create of the same name loses here
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise Conflict("This username is taken.") from None
    pairs = list(dict.fromkeys((m.organisation_id, m.role) for m in data.memberships))
    session.add_all([Membership(user_id=user.id, organisation_id=org, role=role) for org, role in pairs])
    await session.flush()
    audit.record(session, action="user.create", resource_type="user", resource_id=user.id,
                 organisation_id=pairs[0][0] if pairs else None,
                 after={**_snapshot(user), "memberships": [{"organisation_id": o, "role": r} for o, r in pairs]})
    return await _read(session, principal, user)


async def _require_whole_account(session: AsyncSession, principal: Principal, user: User) -> None:
    """Account-wide changes (name, contact, password, activation) act on every membership the user
    holds, so the admin must reach all of them: otherwise an admin of one department could take over
    a province admin's account. 403, not 404: the user is visible to this admin."""
    outside = await session.scalar(select(exists().where(
        Membership.user_id == user.id, ~in_scope(Membership.organisation_id, principal, WRITE))))
    if outside:
        raise PermissionDenied("The user also holds memberships outside your scope; an administrator "
                               "over all of them must do this.")


async def update_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID, data: UserUpdate,
                      if_match: str | None) -> UserRead:
    user = await load_user(session, principal, user_id, WRITE)
    await _require_whole_account(session, principal, user)
    check_if_match(if_match, user.id, user.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(user, k) != v}
    if changes:
        before = _snapshot(user)
        await _change(session, user, **changes)
        audit.record(session, action="user.update", resource_type="user", resource_id=user.id,
                     organisation_id=await home_organisation(session, user.id), before=before,
                     after=_snapshot(user))
    return await _read(session, principal, user)


async def set_active(session: AsyncSession, principal: Principal, user_id: uuid.UUID, if_match: str | None, *,
                     active: bool) -> UserRead:
    """Deactivate (ends every sign-in and token at once) or reactivate. 409 when already so;
    422 for deactivating yourself (an admin must not lock themselves out)."""
    user = await load_user(session, principal, user_id, WRITE)
    await _require_whole_account(session, principal, user)
    check_if_match(if_match, user.id, user.version)
    if user.is_active == active:
        raise Conflict(f"The user is already {'active' if active else 'inactive'}.")
    if not active and user.id == principal.id:
        raise BusinessRuleViolation("You cannot deactivate your own account.")
    before = _snapshot(user)
    if active:
        await _change(session, user, is_active=True)
    else:
        await _change(session, user, is_active=False, token_version=User.token_version + 1)
        await revoke_user_sessions(session, user.id, "user_deactivated")
    audit.record(session, action="user.reactivate" if active else "user.deactivate", resource_type="user",
                 resource_id=user.id, organisation_id=await home_organisation(session, user.id), before=before,
                 after=_snapshot(user))
    return await _read(session, principal, user)


async def reset_password(session: AsyncSession, principal: Principal, user_id: uuid.UUID, password: str,
                         if_match: str | None) -> UserRead:
    """Admin reset: the user must choose a new password at next sign-in; every sign-in ends.
    422 for a password the policy refuses comes first, as for any other invalid body."""
    # Before If-Match: a short password breaks the published schema (minLength), and a stale ETag
    # must not turn that into 412 (the stateful fuzzer's negative_data_rejection check).
    if (error := password_error(password, "/password")) is not None:
        raise error
    user = await load_user(session, principal, user_id, WRITE)
    await _require_whole_account(session, principal, user)
    check_if_match(if_match, user.id, user.version)
    await _change(session, user, password_hash=await hash_password_async(password),
                  must_change_password=True, token_version=User.token_version + 1)
    await revoke_user_sessions(session, user.id, "password_reset")
    audit.record(session, action="user.password_reset", resource_type="user", resource_id=user.id,
                 organisation_id=await home_organisation(session, user.id), after={"must_change_password": True})
    return await _read(session, principal, user)


# -------------------------------------------------------------------- memberships


async def _check_organisation(session: AsyncSession, principal: Principal, organisation_id: uuid.UUID,
                              pointer: str) -> None:
    active = await session.scalar(select(Organisation.is_active).where(Organisation.id == organisation_id))
    if not active or not await can_reach(session, principal, WRITE, organisation_id):
        raise _unknown_organisation(pointer)


async def list_memberships(session: AsyncSession, principal: Principal, user_id: uuid.UUID,
                           page: PageParams) -> MembershipPage:
    await load_user(session, principal, user_id)
    stmt = _membership_query(principal, READ).where(Membership.user_id == user_id)
    rows, next_cursor, total = await keyset_page(session, stmt, Membership, page, scope=f"memberships:{user_id}")
    return MembershipPage(items=[_membership_read(r) for r in rows], next_cursor=next_cursor, total=total)


async def add_membership(session: AsyncSession, principal: Principal, user_id: uuid.UUID,
                         data: MembershipCreate) -> MembershipRead:
    """422 for an organisation outside the caller's scope, 409 for a pair the user already has."""
    user = await load_user(session, principal, user_id, WRITE)
    await _check_organisation(session, principal, data.organisation_id, "/organisation_id")
    membership = Membership(user_id=user.id, organisation_id=data.organisation_id, role=data.role)
    try:
        async with session.begin_nested():
            session.add(membership)
            await session.flush()
    except IntegrityError:
        raise Conflict("The user already has this role in this organisation.") from None
    # The user's representation lists memberships, so its version (and ETag) moves too.
    await session.execute(update(User).where(User.id == user.id)
                          .values(version=User.version + 1, updated_at=utcnow()))
    audit.record(session, action="membership.create", resource_type="membership", resource_id=membership.id,
                 organisation_id=data.organisation_id,
                 after={"user_id": user.id, "organisation_id": data.organisation_id, "role": data.role})
    row = (await session.execute(_membership_query(principal, WRITE).where(Membership.id == membership.id))).one()
    return _membership_read(row)


async def remove_membership(session: AsyncSession, principal: Principal, user_id: uuid.UUID,
                            membership_id: uuid.UUID) -> None:
    """404 unless both the user and the membership's organisation are in the caller's scope."""
    user = await load_user(session, principal, user_id, WRITE)
    membership = await session.scalar(select(Membership).where(
        Membership.id == membership_id, Membership.user_id == user.id,
        in_scope(Membership.organisation_id, principal, WRITE)))
    if membership is None:
        raise NotFound("No such membership in your scope.")
    if user.id == principal.id and membership.role == Role.admin:
        raise BusinessRuleViolation("You cannot remove your own admin membership; ask another admin.")
    snapshot = {"user_id": user.id, "organisation_id": membership.organisation_id, "role": membership.role}
    await session.execute(delete(Membership).where(Membership.id == membership.id))
    await session.execute(update(User).where(User.id == user.id)
                          .values(version=User.version + 1, updated_at=utcnow()))
    audit.record(session, action="membership.delete", resource_type="membership", resource_id=membership.id,
                 organisation_id=snapshot["organisation_id"], before=snapshot)


# ------------------------------------------------------------------------------ me


async def describe_caller(session: AsyncSession, principal: Principal) -> MeRead:
    """The caller as the server sees it this request: effective memberships (inactive
    organisations drop out), roles per organisation and the permissions they add up to."""
    permissions = sorted(p.value for p in principal.permissions)
    if principal.kind == "client":
        client = await session.get(IntegrationClient, principal.id)
        org = await session.get(Organisation, principal.client_organisation_id)
        assert client is not None and org is not None  # load_principal found both this request
        return MeRead(kind="client", id=client.id, name=client.name, client_id=client.client_id,
                      scopes=[s for s, p in CLIENT_SCOPES.items() if p in principal.client_permissions],
                      organisations=[MeOrganisation(organisation_id=org.id, name=org.name, kind=org.kind, roles=[])],
                      permissions=permissions)
    org_ids = list(dict.fromkeys(g.organisation_id for g in principal.grants))
    # One statement: the user's own fields with one row per organisation it holds roles at (the
    # principal already carries the grants), instead of loading the entity and then the names.
    rows = (await session.execute(
        select(User.username, User.email, User.phone, User.last_login_at, User.must_change_password,
               Organisation.id.label("org_id"), Organisation.name, Organisation.kind)
        .select_from(User).outerjoin(Organisation, Organisation.id.in_(org_ids) if org_ids else false())
        .where(User.id == principal.id))).all()
    assert rows  # load_principal found the user this request
    user = rows[0]
    orgs = {r.org_id: r for r in rows if r.org_id is not None}
    organisations = [MeOrganisation(organisation_id=i, name=orgs[i].name, kind=orgs[i].kind,
                                    roles=[r for r in Role if r in principal.roles_at(i)]) for i in org_ids]
    return MeRead(kind="user", id=principal.id, name=principal.name, username=user.username, email=user.email,
                  phone=user.phone, must_change_password=user.must_change_password,
                  last_login_at=user.last_login_at, organisations=organisations, permissions=permissions)
