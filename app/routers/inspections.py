"""`/inspections`: campaigns (督察 / 巡视 / 审计 / 自查 / 信访移交) and the category trees of their findings.

Reads need `findings:read` and the campaign visible to you (its inspecting body, its
rectification office or an inspected organisation in your scope; else 404). Creating and
editing need `findings:write`, then an inspector role at the inspecting body or the office
role at the rectification office (403 otherwise).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, require
from app.schemas.inspections import (
    CategoryCreate,
    CategoryList,
    CategoryRead,
    InspectionCreate,
    InspectionFilter,
    InspectionPage,
    InspectionRead,
    InspectionUpdate,
)
from app.services.export import media_responses
from app.services.export.columns import INSPECTIONS
from app.services.inspections import categories, commands, queries

router = APIRouter(prefix="/inspections", tags=["inspections"])

Reader = Annotated[Principal, require(Permission.findings_read)]
Writer = Annotated[Principal, require(Permission.findings_write)]
Filters = Annotated[InspectionFilter, Depends()]

_LINKS = {"GetInspection": {"operationId": "get_inspection", "parameters": {"path.inspection_id": "$response.body#/id"}},
          "UpdateInspection": {"operationId": "update_inspection",
                               "parameters": {"path.inspection_id": "$response.body#/id",
                                              "header.If-Match": "$response.header.ETag"}},
          "CreateCategory": {"operationId": "create_inspection_category",
                             "parameters": {"path.inspection_id": "$response.body#/id"}}}


def _with_etag(response: Response, read: InspectionRead) -> InspectionRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.post("", status_code=201, response_model=InspectionRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 422)})
async def create_inspection(body: InspectionCreate, session: SessionDep, guard: IdempotencyDep,
                            principal: Writer) -> Response:
    """Register a campaign: inspectors of the inspecting body, or the office of the rectification office
    (named, or the default the `rectification_office_id` field describes). 422 for unknown or inactive
    organisations, or inspected organisations of several provinces. Honours `Idempotency-Key`."""
    read = await commands.create_inspection(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/inspections/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.get("", response_model=InspectionPage, responses=media_responses())
async def list_inspections(session: SessionDep, page: PageDep, filters: Filters, principal: Reader,
                           export: ExportDep) -> InspectionPage | Response:
    """Campaigns you may read, oldest first, filtered. Any role. `format=csv|xlsx` (or `Accept`) exports
    the whole filtered list."""
    if export:
        return await export.stream(session, INSPECTIONS, lambda s, c, n: queries.list_inspections(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await queries.list_inspections(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                          include_total=page.include_total)


@router.get("/{inspection_id}", response_model=InspectionRead,
            responses={200: {"links": _LINKS}, **problem_responses(404)})
async def get_inspection(inspection_id: uuid.UUID, session: SessionDep, response: Response,
                         principal: Reader) -> InspectionRead:
    """One campaign with its `ETag`. 404 when you may not see it."""
    return _with_etag(response, await queries.get_inspection(session, principal, inspection_id))


@router.patch("/{inspection_id}", response_model=InspectionRead, responses=problem_responses(403, 404, 412, 428))
async def update_inspection(inspection_id: uuid.UUID, body: InspectionUpdate, session: SessionDep,
                            response: Response, principal: Writer, if_match: IfMatch = None) -> InspectionRead:
    """Dates, cadence, note and the campaign's 整改工作方案 (001 一(二)), by its registrars. If-Match."""
    return _with_etag(response, await commands.update_inspection(session, principal, inspection_id, body, if_match))


@router.get("/{inspection_id}/categories", response_model=CategoryList, responses=problem_responses(404))
async def list_inspection_categories(inspection_id: uuid.UUID, session: SessionDep,
                                     principal: Reader) -> CategoryList:
    """The campaign's category tree (方面 → topic), depth-first."""
    return await categories.list_categories(session, principal, inspection_id)


@router.post("/{inspection_id}/categories", status_code=201, response_model=CategoryRead,
             responses={201: {"description": "Created."}, **problem_responses(403, 404, 422)})
async def create_inspection_category(inspection_id: uuid.UUID, body: CategoryCreate, session: SessionDep,
                                     guard: IdempotencyDep, principal: Writer) -> Response:
    """Add a node (a 方面, or a topic under `parent_id`), by the campaign's registrars. 422 for a parent of
    another campaign or past four levels. Honours `Idempotency-Key`."""
    read = await categories.create_category(session, principal, inspection_id, body)
    return guard.respond(read, status_code=201)
