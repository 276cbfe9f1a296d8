"""`/public/lead-decisions`: published lead decisions, anonymously (000 §(八) 通过省政府门户网站向社会公开,
002 §(六), 003 §(七), 004 §五 向社会公开).

Only `published` decisions, only their public fields. Answers carry a strong ETag over the body
and `Cache-Control: public`; send `If-None-Match` to get an empty 304 when nothing changed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.core.http_cache import cached_json
from app.core.openapi import problem_responses
from app.dependencies import PageDep, SessionDep, public
from app.schemas.public_lead_decisions import (
    PublicLeadDecisionFilter,
    PublicLeadDecisionPage,
    PublicLeadDecisionRead,
)
from app.services import lead_decisions as service

router = APIRouter(prefix="/public/lead-decisions", tags=["public"], dependencies=[public()])

Filters = Annotated[PublicLeadDecisionFilter, Depends()]
NOT_MODIFIED = {304: {"description": "Not modified: your `If-None-Match` names the current body."}}


@router.get("", response_model=PublicLeadDecisionPage, responses=NOT_MODIFIED)
async def list_public_lead_decisions(request: Request, session: SessionDep, page: PageDep,
                                     filters: Filters) -> Response:
    """Published decisions, most recently published first, by jurisdiction, lead organisation or
    title. Anyone, no token. 422 for a bad cursor."""
    read = await service.list_public(session, filters, limit=page.limit, cursor=page.cursor,
                                     include_total=page.include_total)
    return cached_json(request, read)


@router.get("/{lead_decision_id}", response_model=PublicLeadDecisionRead,
            responses={**NOT_MODIFIED, **problem_responses(404)})
async def get_public_lead_decision(lead_decision_id: uuid.UUID, request: Request,
                                   session: SessionDep) -> Response:
    """One published decision: the matter, lead and cooperating organisations, task split, where and
    when it was published. Anyone; 404 for any decision that is not published."""
    return cached_json(request, await service.get_public(session, lead_decision_id))
