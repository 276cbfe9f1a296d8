"""User accounts and their memberships (`/users`), for admins within their scope."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import (
    ExportDep,
    IdempotencyDep,
    IfMatch,
    PageDep,
    PageParams,
    SessionDep,
    read_only,
    require,
)
from app.schemas.users import (
    MembershipCreate,
    MembershipPage,
    MembershipRead,
    UserCreate,
    UserPage,
    UserPasswordReset,
    UserRead,
    UserUpdate,
)
from app.services import users as user_service
from app.services.export import media_responses
from app.services.export.columns import USERS

router = APIRouter(tags=["users"])
Reader = Annotated[Principal, require(Permission.users_read)]
Admin = Annotated[Principal, require(Permission.users_write)]


# OpenAPI links let stateful fuzzing carry the user's id and its ETag into the next calls
# (RELIABILITY.md 4.1): from every answer that carries both, to the reads and to the writes.


def _link(operation_id: str, *, if_match: bool = False, user_id: str = "$response.body#/id",
          **parameters: str) -> dict[str, Any]:
    found = {"path.user_id": user_id, **{f"path.{name}": value for name, value in parameters.items()}}
    if if_match:
        found["header.If-Match"] = "$response.header.ETag"
    return {"operationId": operation_id, "parameters": found}


_GET = {"GetUser": _link("get_user")}
_UPDATE = {"UpdateUser": _link("update_user", if_match=True)}
_DEACTIVATE = {"DeactivateUser": _link("deactivate_user", if_match=True)}
_REACTIVATE = {"ReactivateUser": _link("reactivate_user", if_match=True)}
_RESET = {"ResetUserPassword": _link("reset_user_password", if_match=True)}
# Another role in an organisation the user already belongs to: in the caller's scope by construction.
_ADD_MEMBERSHIP = {"AddUserMembership": {**_link("add_user_membership"), "requestBody": {
    "organisation_id": "$response.body#/memberships/0/organisation_id"}}}
_REMOVE_FIRST_MEMBERSHIP = {"RemoveUserMembership": _link("remove_user_membership",
                                                          membership_id="$response.body#/memberships/0/id")}
_MEMBERSHIP_LINKS = {"RemoveUserMembership": _link("remove_user_membership", user_id="$request.path.user_id",
                                                   membership_id="$response.body#/id"),
                     "GetMembershipUser": _link("get_user", user_id="$request.path.user_id")}


def _etag(response: Response, user: UserRead) -> UserRead:
    response.headers["ETag"] = make_etag(user.id, user.version)
    return user


@router.post("/users", status_code=201, response_model=UserRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": {
                 **_GET, **_UPDATE, **_DEACTIVATE, **_RESET, **_ADD_MEMBERSHIP,
                 "ListUserMemberships": _link("list_user_memberships")}}, **problem_responses(409)})
async def create_user(session: SessionDep, body: UserCreate, guard: IdempotencyDep,
                      principal: Admin) -> Response:
    """Create a user with initial memberships. Admins (users:write), for organisations in their scope.

    409 when the username is taken; 422 for a weak password (`/password`), an organisation outside
    your scope (`/memberships/0/organisation_id`), or no membership unless you are an admin of a
    root organisation."""
    user = await user_service.create_user(session, principal, body)
    return guard.respond(user, status_code=201,
                         headers={"ETag": make_etag(user.id, user.version), "Location": f"/users/{user.id}"})


@router.get("/users", response_model=UserPage, responses=media_responses())
@read_only
async def list_users(
    session: SessionDep, page: PageDep, principal: Reader, export: ExportDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of the username or display name.")] = None,
    organisation_id: Annotated[uuid.UUID | None, Query(description="Members of this organisation's subtree.")]
    = None,
    is_active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) users.")]
    = None,
) -> UserPage | Response:
    """Users with a membership in your scope (users:read: admins, offices, leaders, leadership),
    oldest first. Users without memberships are listed only to callers at a root organisation.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list."""
    if export:
        return await export.stream(session, USERS, lambda s, c, n: user_service.list_users(
            s, principal, PageParams(limit=n, cursor=c), q=q, organisation_id=organisation_id,
            is_active=is_active), cursor=page.cursor)
    return await user_service.list_users(session, principal, page, q=q, organisation_id=organisation_id,
                                         is_active=is_active)


@router.get("/users/{user_id}", response_model=UserRead,
            responses={200: {"links": {**_UPDATE, **_DEACTIVATE, **_REACTIVATE, **_RESET, **_ADD_MEMBERSHIP,
                                       **_REMOVE_FIRST_MEMBERSHIP}},
                       **problem_responses(404)})
@read_only
async def get_user(user_id: uuid.UUID, session: SessionDep, response: Response,
                   principal: Reader) -> UserRead:
    """One user, with the memberships in your scope. users:read; 404 outside your scope."""
    return _etag(response, await user_service.get_user(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserRead,
              responses={200: {"links": {**_GET, **_DEACTIVATE}}, **problem_responses(404, 412, 428)})
async def update_user(user_id: uuid.UUID, body: UserUpdate, session: SessionDep, response: Response,
                      principal: Admin, if_match: IfMatch = None) -> UserRead:
    """Change display name, e-mail or phone (null clears e-mail/phone). Admins in scope; If-Match.
    403 when the user also has memberships outside your scope (an account-wide change)."""
    return _etag(response, await user_service.update_user(session, principal, user_id, body, if_match))


@router.post("/users/{user_id}/deactivate", response_model=UserRead,
             responses={200: {"links": {**_GET, **_REACTIVATE}}, **problem_responses(404, 409, 412, 428)})
async def deactivate_user(user_id: uuid.UUID, session: SessionDep, response: Response,
                          principal: Admin, if_match: IfMatch = None) -> UserRead:
    """Block sign-in and end every sign-in and token of the user at once. Admins in scope; If-Match.
    409 when already inactive; 422 for your own account; 403 when the user also has memberships
    outside your scope."""
    return _etag(response, await user_service.set_active(session, principal, user_id, if_match, active=False))


@router.post("/users/{user_id}/reactivate", response_model=UserRead,
             responses={200: {"links": {**_UPDATE, **_DEACTIVATE}}, **problem_responses(404, 409, 412, 428)})
async def reactivate_user(user_id: uuid.UUID, session: SessionDep, response: Response,
                          principal: Admin, if_match: IfMatch = None) -> UserRead:
    """Allow sign-in again (old tokens stay dead). Admins in scope; If-Match. 409 when already active;
    403 when the user also has memberships outside your scope."""
    return _etag(response, await user_service.set_active(session, principal, user_id, if_match, active=True))


@router.post("/users/{user_id}/password", response_model=UserRead,
             responses={200: {"links": {**_GET, **_UPDATE}}, **problem_responses(404, 412, 428)})
async def reset_user_password(user_id: uuid.UUID, body: UserPasswordReset, session: SessionDep,
                              response: Response, principal: Admin,
                              if_match: IfMatch = None) -> UserRead:
    """Set a new password the user must change at next sign-in; ends every sign-in of the user.
    Admins in scope; If-Match. 422 when the password breaks the policy; 403 when the user also has
    memberships outside your scope (no account takeover from a sub-organisation)."""
    user = await user_service.reset_password(session, principal, user_id, body.password, if_match)
    return _etag(response, user)


@router.get("/users/{user_id}/memberships", response_model=MembershipPage, responses=problem_responses(404))
@read_only
async def list_user_memberships(user_id: uuid.UUID, session: SessionDep, page: PageDep,
                                principal: Reader) -> MembershipPage:
    """The user's memberships in your scope, oldest first. users:read; 404 outside your scope."""
    return await user_service.list_memberships(session, principal, user_id, page)


@router.post("/users/{user_id}/memberships", status_code=201, response_model=MembershipRead,
             responses={201: {"description": "Granted; `Location` is set.", "links": _MEMBERSHIP_LINKS},
                        **problem_responses(404, 409)})
async def add_user_membership(user_id: uuid.UUID, body: MembershipCreate, session: SessionDep,
                              guard: IdempotencyDep, principal: Admin) -> Response:
    """Give the user a role in an organisation of your scope; it applies from the user's next request.
    Admins; 404 for a user outside your scope, 422 for an organisation outside it, 409 if held."""
    membership = await user_service.add_membership(session, principal, user_id, body)
    return guard.respond(membership, status_code=201,
                         headers={"Location": f"/users/{user_id}/memberships/{membership.id}"})


@router.delete("/users/{user_id}/memberships/{membership_id}", status_code=204, response_class=Response,
               responses=problem_responses(404))
async def remove_user_membership(user_id: uuid.UUID, membership_id: uuid.UUID, session: SessionDep,
                                 principal: Admin) -> Response:
    """Take a role away; it applies from the user's next request. Admins, for memberships in their
    scope (404 otherwise); 422 for your own admin membership."""
    await user_service.remove_membership(session, principal, user_id, membership_id)
    return Response(status_code=204)
