"""`/accountability-cases`: 问责 (DOMAIN.md "Accountability cases").

Opened by a handover escalation (移交问责). Reads need `cases:read` and a party of the case in your
scope — the organisation that handed it over, the responsible body, the receiving body once
transferred — so a discipline body sees the cases transferred to it, not others (404). Steps need
`cases:write`: the responsible body's leader transfers or settles it (000 §(十五)); the receiving
body's discipline members or office accept and conclude it (403 wrong person, 409 wrong state).
Every step takes If-Match with the case's ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import IfMatch, PageDep, SessionDep, require
from app.schemas.accountability_cases import (
    CaseAccept,
    CaseConclude,
    CaseConcludeInternally,
    CaseFilter,
    CasePage,
    CaseRead,
    CaseTransfer,
)
from app.schemas.history import HistoryPage
from app.services.accountability_cases import commands, queries

router = APIRouter(prefix="/accountability-cases", tags=["accountability-cases"])

Reader = Annotated[Principal, require(Permission.cases_read)]
Writer = Annotated[Principal, require(Permission.cases_write)]
Filters = Annotated[CaseFilter, Depends()]
STEP_ERRORS = problem_responses(403, 404, 409, 412, 422, 428)


def _etag(response: Response, read: CaseRead) -> CaseRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.get("", response_model=CasePage)
async def list_cases(session: SessionDep, page: PageDep, filters: Filters, principal: Reader) -> CasePage:
    """Cases you may read (you are in scope of one of its parties), oldest first."""
    return await queries.list_cases(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                    include_total=page.include_total)


@router.get("/{case_id}", response_model=CaseRead, responses=problem_responses(404))
async def get_case(case_id: uuid.UUID, session: SessionDep, response: Response, principal: Reader) -> CaseRead:
    """One case with its `ETag` and the actions you may take. 404 when you may not see it."""
    return _etag(response, await queries.get_case(session, principal, case_id))


@router.get("/{case_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def case_history(case_id: uuid.UUID, session: SessionDep, page: PageDep, principal: Reader) -> HistoryPage:
    """Every step taken on the case, oldest first."""
    return await queries.case_history(session, principal, case_id, limit=page.limit, cursor=page.cursor)


@router.post("/{case_id}/transfer", response_model=CaseRead, responses=STEP_ERRORS)
async def transfer_case(case_id: uuid.UUID, body: CaseTransfer, session: SessionDep, response: Response,
                        principal: Writer, if_match: IfMatch = None) -> CaseRead:
    """investigating → transferred, by the responsible body's leader: the investigation (原因、经过、后果、影响、
    整改, 界定责任 — 000 §(十五)) and the receiving body (纪检监察, 组织(人事); 公安/检察 for suspected crimes)."""
    return _etag(response, await commands.transfer(session, principal, case_id, body, if_match))


@router.post("/{case_id}/conclude-internally", response_model=CaseRead, responses=STEP_ERRORS)
async def conclude_case_internally(case_id: uuid.UUID, body: CaseConcludeInternally, session: SessionDep,
                                   response: Response, principal: Writer, if_match: IfMatch = None) -> CaseRead:
    """investigating → concluded by the responsible body itself: 批评教育、提醒谈话 or 组织处理."""
    return _etag(response, await commands.conclude_internally(session, principal, case_id, body, if_match))


@router.post("/{case_id}/accept", response_model=CaseRead, responses=STEP_ERRORS)
async def accept_case(case_id: uuid.UUID, body: CaseAccept, session: SessionDep, response: Response,
                      principal: Writer, if_match: IfMatch = None) -> CaseRead:
    """transferred → accepted, by the receiving body's discipline members or office."""
    return _etag(response, await commands.accept(session, principal, case_id, if_match, body.comment))


@router.post("/{case_id}/conclude", response_model=CaseRead, responses=STEP_ERRORS)
async def conclude_case(case_id: uuid.UUID, body: CaseConclude, session: SessionDep, response: Response,
                        principal: Writer, if_match: IfMatch = None) -> CaseRead:
    """accepted → concluded, by the receiving body, with the outcome (问责结果)."""
    return _etag(response, await commands.conclude(session, principal, case_id, body, if_match))
