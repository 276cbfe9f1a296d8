"""`/organisations`: the organisation forest (DOMAIN.md "Organisations").

Reads need `organisations:read` and the organisation in the caller's scope (else 404);
writes need `organisations:write` (admins) in scope. Organisations are never deleted:
there is no DELETE route, only deactivate/reactivate.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, read_only, require
from app.schemas.organisations import (
    OrganisationAncestorsRead,
    OrganisationCreate,
    OrganisationFilter,
    OrganisationPage,
    OrganisationRead,
    OrganisationSubtreePage,
    OrganisationUpdate,
)
from app.services import organisations
from app.services.export import media_responses
from app.services.export.columns import ORGANISATIONS

router = APIRouter(prefix="/organisations", tags=["organisations"])

Filters = Annotated[OrganisationFilter, Depends()]
Reader = Annotated[Principal, require(Permission.organisations_read)]
Admin = Annotated[Principal, require(Permission.organisations_write)]
# OpenAPI links let stateful fuzzing carry the id and its ETag into the next calls (RELIABILITY.md 4.1):
# from every answer that carries both, to the reads and to the writes that need If-Match.


# An update carries the record's references as read (parent, superior, lead unit, member units) and
# the fields valid only with them, the way an edit form does, so that the other fields get changed.
_KEPT_ON_UPDATE = ("parent_id", "superior_department_id", "lead_unit_id", "member_unit_ids", "profile_code",
                   "complaint_channels")


def _link(operation_id: str, *, if_match: bool = False, body: tuple[str, ...] = ()) -> dict[str, Any]:
    parameters = {"path.organisation_id": "$response.body#/id"}
    if if_match:
        parameters["header.If-Match"] = "$response.header.ETag"
    link: dict[str, Any] = {"operationId": operation_id, "parameters": parameters}
    if body:
        link["requestBody"] = {name: f"$response.body#/{name}" for name in body}
    return link


_GET = {"GetOrganisation": _link("get_organisation")}
_UPDATE = {"UpdateOrganisation": _link("update_organisation", if_match=True, body=_KEPT_ON_UPDATE)}
_DEACTIVATE = {"DeactivateOrganisation": _link("deactivate_organisation", if_match=True)}
_REACTIVATE = {"ReactivateOrganisation": _link("reactivate_organisation", if_match=True)}
_LINKS = {**_GET, **_UPDATE, **_DEACTIVATE,
          "ListOrganisationChildren": _link("list_organisation_children")}


# `IfMatch = None` until core renders a missing *required* If-Match as 428: FastAPI reports it at
# loc ("header", "If-Match") and app/core/errors.py matches "if-match" only, so it came out as 422.
# With the default, `check_if_match` raises the 428 itself.


def _with_etag(response: Response, read: OrganisationRead) -> OrganisationRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.post("", status_code=201, response_model=OrganisationRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 409, 422)})
async def create_organisation(body: OrganisationCreate, session: SessionDep, guard: IdempotencyDep,
                              principal: Admin) -> Response:
    """Create an organisation. Admins only, under a parent in their scope; a root (no `parent_id`)
    only by an admin whose membership is on a root organisation (403 otherwise).

    422: an unknown, invisible or inactive `parent_id` or member unit (or member units on a
    non-coordination body), an unknown or inactive `superior_department_id`, a `profile_code`
    on a non-root or unknown. 409 `short_code_taken`. Honours `Idempotency-Key`."""
    read = await organisations.create_organisation(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/organisations/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.get("", response_model=OrganisationPage, responses=media_responses())
@read_only
async def list_organisations(session: SessionDep, page: PageDep, filters: Filters,
                             principal: Reader, export: ExportDep) -> OrganisationPage | Response:
    """Organisations in your scope, oldest first, filtered. Deactivated ones only with
    `is_active=false` or `include_inactive=true`. Any role may call; 422 for a bad cursor.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list."""
    if export:
        return await export.stream(session, ORGANISATIONS, lambda s, c, n: organisations.list_organisations(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await organisations.list_organisations(session, principal, filters, limit=page.limit,
                                                  cursor=page.cursor, include_total=page.include_total)


@router.get("/{organisation_id}", response_model=OrganisationRead,
            responses={200: {"links": {**_UPDATE, **_DEACTIVATE, **_REACTIVATE}}, **problem_responses(404)})
@read_only
async def get_organisation(organisation_id: uuid.UUID, session: SessionDep, response: Response,
                           principal: Reader) -> OrganisationRead:
    """One organisation (active or not) with its `ETag`. Any role; 404 outside your scope."""
    return _with_etag(response, await organisations.get_organisation(session, principal, organisation_id))


@router.patch("/{organisation_id}", response_model=OrganisationRead,
              responses={200: {"links": {**_GET, **_DEACTIVATE}}, **problem_responses(404, 409, 412, 428)})
async def update_organisation(organisation_id: uuid.UUID, body: OrganisationUpdate, session: SessionDep,
                              response: Response, principal: Admin, if_match: IfMatch = None) -> OrganisationRead:
    """Change some fields (admins in scope). A new `parent_id` moves the whole subtree:
    422 `organisation_cycle` under itself or its own descendant; roots do not move.
    404 outside scope, 428 without If-Match, 412 when stale, 409 `short_code_taken`."""
    read = await organisations.update_organisation(session, principal, organisation_id, body, if_match)
    return _with_etag(response, read)


@router.post("/{organisation_id}/deactivate", response_model=OrganisationRead,
             responses={200: {"links": {**_GET, **_REACTIVATE}}, **problem_responses(404, 409, 412, 428)})
async def deactivate_organisation(organisation_id: uuid.UUID, session: SessionDep, response: Response,
                                  principal: Admin, if_match: IfMatch = None) -> OrganisationRead:
    """Deactivate (admins in scope). 409 while it has active children, is already inactive or is
    an active organisation's lead unit. 404 outside scope, 428/412 If-Match."""
    read = await organisations.deactivate_organisation(session, principal, organisation_id, if_match)
    return _with_etag(response, read)


@router.post("/{organisation_id}/reactivate", response_model=OrganisationRead,
             responses={200: {"links": {**_UPDATE, **_DEACTIVATE}}, **problem_responses(404, 409, 412, 428)})
async def reactivate_organisation(organisation_id: uuid.UUID, session: SessionDep, response: Response,
                                  principal: Admin, if_match: IfMatch = None) -> OrganisationRead:
    """Reactivate (admins in scope). 409 when already active or its parent is inactive.
    404 outside scope, 428/412 If-Match."""
    read = await organisations.reactivate_organisation(session, principal, organisation_id, if_match)
    return _with_etag(response, read)


@router.get("/{organisation_id}/children", response_model=OrganisationPage, responses=problem_responses(404))
@read_only
async def list_organisation_children(organisation_id: uuid.UUID, session: SessionDep, page: PageDep,
                                     filters: Filters, principal: Reader) -> OrganisationPage:
    """Direct children, oldest first, with the list filters. Any role; 404 outside your scope."""
    return await organisations.list_children(session, principal, organisation_id, filters, limit=page.limit,
                                             cursor=page.cursor, include_total=page.include_total)


@router.get("/{organisation_id}/ancestors", response_model=OrganisationAncestorsRead,
            responses=problem_responses(404))
@read_only
async def list_organisation_ancestors(organisation_id: uuid.UUID, session: SessionDep,
                                      principal: Reader) -> OrganisationAncestorsRead:
    """The chain above it, root first, not paged. Any role, for an organisation in scope (404
    otherwise). Every ancestor is listed (id, name, kind, level), even above your scope: a
    member needs to know where it sits; the ancestors' own records stay out of reach."""
    return await organisations.list_ancestors(session, principal, organisation_id)


@router.get("/{organisation_id}/subtree", response_model=OrganisationSubtreePage,
            responses=problem_responses(404))
@read_only
async def list_organisation_subtree(organisation_id: uuid.UUID, session: SessionDep, page: PageDep,
                                    filters: Filters, principal: Reader) -> OrganisationSubtreePage:
    """The organisation and everything below it, nearest levels first, each with `depth_from`
    (0 for itself). Any role; 404 outside your scope."""
    return await organisations.list_subtree(session, principal, organisation_id, filters, limit=page.limit,
                                            cursor=page.cursor, include_total=page.include_total)
