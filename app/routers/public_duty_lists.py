"""`/public/duty-lists`, `/public/organisations/{id}/duty-list`: published duty lists for anyone.

Anonymous and read-only (DOMAIN.md "Public disclosure"): only published versions and their
published fields; everything else is 404. Responses carry a strong ETag and
`Cache-Control: public, max-age=60`; send `If-None-Match` to get 304 when nothing changed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.http_cache import cached_json
from app.core.openapi import problem_responses
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.dependencies import SessionDep, public
from app.schemas.public_duty_lists import PublicDutyListPage, PublicDutyListRead, PublicItemPage
from app.services.duty_lists import public as published

router = APIRouter(tags=["public"], dependencies=[public()])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]
NOT_MODIFIED = {304: {"description": "Not modified: your copy (If-None-Match) is current."}}


@router.get("/public/duty-lists", response_model=PublicDutyListPage, responses=NOT_MODIFIED)
async def list_public_duty_lists(
        request: Request, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="One province.")] = None,
        organisation_id: Annotated[uuid.UUID | None, Query(description="One organisation.")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the title.")] = None,
) -> Response:
    """Duty lists in force (published versions), oldest first. Anyone, no token."""
    page = await published.list_published(session, jurisdiction_id=jurisdiction_id, organisation_id=organisation_id,
                                          q=q, limit=limit, cursor=cursor)
    return cached_json(request, page)


@router.get("/public/duty-lists/{duty_list_id}", response_model=PublicDutyListRead,
            responses={**NOT_MODIFIED, **problem_responses(404)})
async def get_public_duty_list(duty_list_id: uuid.UUID, request: Request, session: SessionDep) -> Response:
    """One published version with the organisation's complaint channels; 404 for any other state."""
    return cached_json(request, await published.get_published(session, duty_list_id))


@router.get("/public/duty-lists/{duty_list_id}/items", response_model=PublicItemPage,
            responses={**NOT_MODIFIED, **problem_responses(404)})
async def list_public_duty_list_items(duty_list_id: uuid.UUID, request: Request, session: SessionDep,
                                      limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Response:
    """The items of a published version in list order: duty, basis, lead and cooperating departments,
    complaint channels. 404 unless the version is published."""
    return cached_json(request, await published.published_items(session, duty_list_id, limit=limit, cursor=cursor))


@router.get("/public/organisations/{organisation_id}/duty-list", response_model=PublicDutyListRead,
            responses={**NOT_MODIFIED, **problem_responses(404)})
async def get_public_organisation_duty_list(organisation_id: uuid.UUID, request: Request,
                                            session: SessionDep) -> Response:
    """The organisation's list in force on the portal; 404 when it has none published."""
    return cached_json(request, await published.get_published_of(session, organisation_id))
