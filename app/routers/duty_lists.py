"""`/duty-lists`: duty-list versions (生态环境保护具体事项清单) and their workflow.

Each id is one version of an organisation's list. Reads need `duty_lists:read` and the
version visible to you (else 404); writes and actions need `duty_lists:write`, then the
workflow table and the jurisdiction profile decide (403 wrong person, 409 wrong state or a
step the profile lacks). Every write takes If-Match with the version's ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, require
from app.schemas.duty_lists import (
    DutyListAction,
    DutyListCreate,
    DutyListDiffRead,
    DutyListFilter,
    DutyListPage,
    DutyListPublish,
    DutyListRead,
    DutyListReturn,
    DutyListUpdate,
)
from app.schemas.history import HistoryPage
from app.schemas.responsibility_items import (
    DutyListItemFilter,
    ResponsibilityItemCreate,
    ResponsibilityItemPage,
    ResponsibilityItemRead,
)
from app.services.duty_lists import commands, item_queries, items, queries
from app.services.export import media_responses
from app.services.export.columns import DUTY_LISTS, RESPONSIBILITY_ITEMS

router = APIRouter(prefix="/duty-lists", tags=["duty-lists"])

Reader = Annotated[Principal, require(Permission.duty_lists_read)]
Writer = Annotated[Principal, require(Permission.duty_lists_write)]
Filters = Annotated[DutyListFilter, Depends()]
ItemFilters = Annotated[DutyListItemFilter, Query()]
ACTION_ERRORS = problem_responses(404, 409, 412, 428)


def _link(operation: str, *, if_match: bool = True) -> dict:
    parameters = {"path.duty_list_id": "$response.body#/id"}
    if if_match:
        parameters["header.If-Match"] = "$response.header.ETag"
    return {"operationId": operation, "parameters": parameters}


# OpenAPI links carry a version's id and ETag into the next step (the stateful walk follows them:
# tests/contract/test_stateful.py). A new version leads to its edits and publication; a published
# one to its revision and retirement.
_GET = {"GetDutyList": _link("get_duty_list", if_match=False)}
_EDIT = {"UpdateDutyList": _link("update_duty_list"), "SubmitDutyList": _link("submit_duty_list"),
         "PublishDutyList": _link("publish_duty_list"),
         "CreateResponsibilityItem": _link("create_responsibility_item", if_match=False)}
_AFTER_PUBLICATION = {"ReviseDutyList": _link("revise_duty_list"), "RetireDutyList": _link("retire_duty_list")}
_LINKS = {**_GET, **_EDIT}
_ITEM_LINKS = {name: {"operationId": op, "parameters": {"path.item_id": "$response.body#/id",
                                                          "header.If-Match": "$response.header.ETag"}}
               for name, op in (("UpdateResponsibilityItem", "update_responsibility_item"),
                                ("DeleteResponsibilityItem", "delete_responsibility_item"))}


def _with_etag(response: Response, read: DutyListRead) -> DutyListRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.post("", status_code=201, response_model=DutyListRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 409, 422)})
async def create_duty_list(body: DutyListCreate, session: SessionDep, guard: IdempotencyDep,
                           principal: Writer) -> Response:
    """Start an organisation's first list (version 1, draft): staff of that organisation.

    422 for an organisation you cannot see or that keeps no list; 409 `duty_list_exists` when it
    has a list already (revise the published version instead). Honours `Idempotency-Key`."""
    read = await commands.create_duty_list(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/duty-lists/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.get("", response_model=DutyListPage, responses=media_responses())
async def list_duty_lists(session: SessionDep, page: PageDep, filters: Filters, principal: Reader,
                          export: ExportDep) -> DutyListPage | Response:
    """Versions you may read, oldest first, filtered. Any role; a foreign filter matches nothing.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list."""
    if export:
        return await export.stream(session, DUTY_LISTS, lambda s, c, n: queries.list_duty_lists(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await queries.list_duty_lists(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                         include_total=page.include_total)


@router.get("/{duty_list_id}", response_model=DutyListRead, responses={
    200: {"links": {**_EDIT, **_AFTER_PUBLICATION}}, **problem_responses(404)})
async def get_duty_list(duty_list_id: uuid.UUID, session: SessionDep, response: Response,
                        principal: Reader) -> DutyListRead:
    """One version with its `ETag` and the actions you may take. 404 when you may not see it."""
    return _with_etag(response, await queries.get_duty_list(session, principal, duty_list_id))


@router.patch("/{duty_list_id}", response_model=DutyListRead, responses=ACTION_ERRORS)
async def update_duty_list(duty_list_id: uuid.UUID, body: DutyListUpdate, session: SessionDep, response: Response,
                           principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """Title or note, by staff of the owner while draft or returned (409 `duty_list_not_editable`)."""
    return _with_etag(response, await commands.update_duty_list(session, principal, duty_list_id, body, if_match))


@router.post("/{duty_list_id}/submit", response_model=DutyListRead, responses=ACTION_ERRORS)
async def submit_duty_list(duty_list_id: uuid.UUID, body: DutyListAction, session: SessionDep, response: Response,
                           principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """draft|returned → submitted, by the owner's leader, where the profile reviews or approves lists
    (Henan 002 §(五), Hubei 003 §(六)); elsewhere 409 (publish directly). 422 `no_body_designated`
    when the profile's reviewer or approver is not designated in the region."""
    return _with_etag(response, await commands.submit(session, principal, duty_list_id, if_match, body.comment))


@router.post("/{duty_list_id}/review", response_model=DutyListRead, responses=ACTION_ERRORS)
async def review_duty_list(duty_list_id: uuid.UUID, body: DutyListAction, session: SessionDep, response: Response,
                           principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """submitted → reviewed, by the office of the reviewing organisation (Henan: 省生态环境厅 会同有关部门
    审核, 002 §(五)). 409 where the profile has no review step."""
    return _with_etag(response, await commands.simple_step(session, principal, duty_list_id, "review", if_match,
                                                           body.comment))


@router.post("/{duty_list_id}/approve", response_model=DutyListRead, responses=ACTION_ERRORS)
async def approve_duty_list(duty_list_id: uuid.UUID, body: DutyListAction, session: SessionDep,
                            response: Response, principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """reviewed (or submitted, where there is no review) → approved, by the leadership of the approving
    organisation (省委、省政府 审定 002 §(五) / 批准 003 §(六)). 409 before review or where none is needed."""
    return _with_etag(response, await commands.simple_step(session, principal, duty_list_id, "approve", if_match,
                                                           body.comment))


@router.post("/{duty_list_id}/return", response_model=DutyListRead, responses=ACTION_ERRORS)
async def return_duty_list(duty_list_id: uuid.UUID, body: DutyListReturn, session: SessionDep,
                           response: Response, principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """submitted|reviewed → returned, by the reviewing office or the approving leadership, with a comment."""
    return _with_etag(response, await commands.simple_step(session, principal, duty_list_id, "return", if_match,
                                                           body.comment))


@router.post("/{duty_list_id}/publish", response_model=DutyListRead,
             responses={200: {"links": {**_GET, **_AFTER_PUBLICATION}}, **ACTION_ERRORS})
async def publish_duty_list(duty_list_id: uuid.UUID, body: DutyListPublish, session: SessionDep,
                            response: Response, principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """→ published, by the owner's leader: from draft where the profile needs no approval (Hainan 000 §(七),
    Shandong 004 §六), else from approved. Records the day and the portal address; the version
    published before it becomes `superseded`. 409 when approval is still needed."""
    return _with_etag(response, await commands.publish(session, principal, duty_list_id, body, if_match))


@router.post("/{duty_list_id}/revise", status_code=201, response_model=DutyListRead,
             responses={201: {"description": "The new draft version; `Location` and `ETag` are set.",
                              "links": _LINKS}, **ACTION_ERRORS})
async def revise_duty_list(duty_list_id: uuid.UUID, body: DutyListAction, session: SessionDep,
                           response: Response, principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """On a published version, by staff of the owner: a new draft version with every item copied
    (000 §(七) "及时更新", 004 §六). This one stays public until the revision is published. Send this
    version's ETag; the answer is the new version. 409 while another revision is open."""
    read = await commands.revise(session, principal, duty_list_id, if_match, body.comment)
    response.headers["Location"] = f"/duty-lists/{read.id}"
    return _with_etag(response, read)


@router.post("/{duty_list_id}/retire", response_model=DutyListRead, responses=ACTION_ERRORS)
async def retire_duty_list(duty_list_id: uuid.UUID, body: DutyListAction, session: SessionDep,
                           response: Response, principal: Writer, if_match: IfMatch = None) -> DutyListRead:
    """published → retired, by the owner's leader; it leaves the public portal. 409 while a revision is open."""
    return _with_etag(response, await commands.retire(session, principal, duty_list_id, if_match, body.comment))


@router.get("/{duty_list_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def list_duty_list_history(duty_list_id: uuid.UUID, session: SessionDep, page: PageDep,
                                 principal: Reader) -> HistoryPage:
    """Every step taken on this version, oldest first (`supersede` when a newer one replaced it)."""
    return await queries.duty_list_history(session, principal, duty_list_id, limit=page.limit, cursor=page.cursor)


@router.get("/{duty_list_id}/diff", response_model=DutyListDiffRead, responses=problem_responses(404))
async def get_duty_list_diff(duty_list_id: uuid.UUID, session: SessionDep, principal: Reader) -> DutyListDiffRead:
    """This version against the published version it was revised from: items added, changed (which
    fields), removed. A first version shows everything as added."""
    return await queries.duty_list_diff(session, principal, duty_list_id)


@router.get("/{duty_list_id}/items", response_model=ResponsibilityItemPage,
            responses={**problem_responses(404), **media_responses()})
async def list_duty_list_items(duty_list_id: uuid.UUID, session: SessionDep, page: PageDep, filters: ItemFilters,
                               principal: Reader, export: ExportDep) -> ResponsibilityItemPage | Response:
    """The version's items in list order, with the item filters. 404 when you may not see the version.
    `format=csv|xlsx` (or `Accept`) exports the version as the 具体事项清单 ledger."""
    if export:
        return await export.stream(session, RESPONSIBILITY_ITEMS, lambda s, c, n: item_queries.list_items_of_list(
            s, principal, duty_list_id, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await item_queries.list_items_of_list(session, principal, duty_list_id, filters, limit=page.limit,
                                                 cursor=page.cursor, include_total=page.include_total)


@router.post("/{duty_list_id}/items", status_code=201, response_model=ResponsibilityItemRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _ITEM_LINKS},
                        **problem_responses(403, 404, 409, 422)})
async def create_responsibility_item(duty_list_id: uuid.UUID, body: ResponsibilityItemCreate, session: SessionDep,
                                     guard: IdempotencyDep, principal: Writer) -> Response:
    """Add an item to a draft or returned version (staff of the owner; 409 `duty_list_not_editable`
    otherwise). 422 with pointers for foreign organisations or units. Honours `Idempotency-Key`."""
    read = await items.create_item(session, principal, duty_list_id, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/responsibility-items/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})
