"""`/responsibility-items`: the concrete duties of duty lists, searched across lists, read, edited.

Reads follow the item's list version (404 when you may not see it); edits need
`duty_lists:write`, staff of the list's organisation, a draft or returned version
(409 `duty_list_not_editable` otherwise) and If-Match with the item's ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IfMatch, PageDep, SessionDep, require
from app.schemas.responsibility_items import (
    ResponsibilityItemFilter,
    ResponsibilityItemPage,
    ResponsibilityItemRead,
    ResponsibilityItemUpdate,
)
from app.services.duty_lists import item_queries, items
from app.services.export import media_responses
from app.services.export.columns import RESPONSIBILITY_ITEMS
from app.services.export.item_ledger import item_ledger

router = APIRouter(prefix="/responsibility-items", tags=["responsibility-items"])

Reader = Annotated[Principal, require(Permission.duty_lists_read)]
Writer = Annotated[Principal, require(Permission.duty_lists_write)]
Filters = Annotated[ResponsibilityItemFilter, Query()]


@router.get("", response_model=ResponsibilityItemPage, responses=media_responses())
async def list_responsibility_items(session: SessionDep, page: PageDep, filters: Filters,
                                    principal: Reader, export: ExportDep) -> ResponsibilityItemPage | Response:
    """Items of every list version you may read, oldest first: by organisation subtree, version state
    (`status=published`: what is in force), domain, lead or cooperating organisation, no lead yet, text.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list as the 具体事项清单 ledger."""
    if export:
        return await export.stream(session, RESPONSIBILITY_ITEMS, lambda s, c, n: item_queries.list_item_rows(
            s, principal, filters, limit=n, cursor=c), cursor=page.cursor, plain_rows=True,
            sql=lambda spec, lang: item_ledger(session, principal, filters, spec, lang))
    return await item_queries.list_items(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                         include_total=page.include_total)


@router.get("/{item_id}", response_model=ResponsibilityItemRead, responses=problem_responses(404))
async def get_responsibility_item(item_id: uuid.UUID, session: SessionDep, response: Response,
                                  principal: Reader) -> ResponsibilityItemRead:
    """One item with its `ETag`. 404 when you may not see its list version."""
    read = await items.get_item(session, principal, item_id)
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


_LINKS = {name: {"operationId": op, "parameters": {"path.item_id": "$response.body#/id",
                                                     "header.If-Match": "$response.header.ETag"}}
          for name, op in (("UpdateResponsibilityItem", "update_responsibility_item"),
                           ("DeleteResponsibilityItem", "delete_responsibility_item"))}


@router.patch("/{item_id}", response_model=ResponsibilityItemRead,
              responses={200: {"links": _LINKS}, **problem_responses(404, 409, 412, 428)})
async def update_responsibility_item(item_id: uuid.UUID, body: ResponsibilityItemUpdate, session: SessionDep,
                                     response: Response, principal: Writer,
                                     if_match: IfMatch = None) -> ResponsibilityItemRead:
    """Change the fields you send (lists replace whole). Staff of the owner, draft or returned version."""
    read = await items.update_item(session, principal, item_id, body, if_match)
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.delete("/{item_id}", status_code=204, responses=problem_responses(404, 409, 412, 428))
async def delete_responsibility_item(item_id: uuid.UUID, session: SessionDep, principal: Writer,
                                     if_match: IfMatch = None) -> Response:
    """Remove an item from a draft or returned version (the published version keeps its own copy)."""
    await items.delete_item(session, principal, item_id, if_match)
    return Response(status_code=204)
