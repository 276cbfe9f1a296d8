"""Measures (整改措施/任务) of findings: `/findings/{id}/measures` and `/measures/{id}`.

Measures are created by approving a finding's plan (`POST /findings/{id}/approve-plan`), not
posted here. Reads need `findings:read` and the finding visible to you (else 404); steps need
`findings:write`, then the measure workflow: the responsible organisation's `leader` completes
or declares cannot-complete, the rectification office's `office` verifies (销号), confirms,
reopens (403 wrong person, 409 wrong state). Every step takes If-Match with the measure's ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import IfMatch, PageDep, SessionDep, require
from app.schemas.history import HistoryPage
from app.schemas.measures import (
    MeasureCannotComplete,
    MeasureComplete,
    MeasurePage,
    MeasureRead,
    MeasureReturn,
    MeasureStep,
    MeasureVerify,
)
from app.services.findings import measures

router = APIRouter(tags=["measures"])

Reader = Annotated[Principal, require(Permission.findings_read)]
Writer = Annotated[Principal, require(Permission.findings_write)]
STEP_ERRORS = problem_responses(403, 404, 409, 412, 428)
_LINKS = {"CompleteMeasure": {"operationId": "complete_measure", "parameters": {
    "path.measure_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}}}


def _etag(response: Response, read: MeasureRead) -> MeasureRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.get("/findings/{finding_id}/measures", response_model=MeasurePage, responses=problem_responses(404))
async def list_finding_measures(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                                principal: Reader) -> MeasurePage:
    """The finding's measures in plan order, each with the actions you may take."""
    return await measures.list_measures(session, principal, finding_id, limit=page.limit, cursor=page.cursor,
                                        include_total=page.include_total)


@router.get("/measures/{measure_id}", response_model=MeasureRead,
            responses={200: {"links": _LINKS}, **problem_responses(404)})
async def get_measure(measure_id: uuid.UUID, session: SessionDep, response: Response,
                      principal: Reader) -> MeasureRead:
    """One measure with its `ETag`. 404 when you may not see its finding."""
    return _etag(response, await measures.get_measure(session, principal, measure_id))


@router.post("/measures/{measure_id}/complete", response_model=MeasureRead, responses=STEP_ERRORS)
async def complete_measure(measure_id: uuid.UUID, body: MeasureComplete, session: SessionDep, response: Response,
                           principal: Writer, if_match: IfMatch = None) -> MeasureRead:
    """open → done, by the responsible leader, while the finding is being rectified."""
    return _etag(response, await measures.complete(session, principal, measure_id, body, if_match))


@router.post("/measures/{measure_id}/verify", response_model=MeasureRead, responses=STEP_ERRORS)
async def verify_measure(measure_id: uuid.UUID, body: MeasureVerify, session: SessionDep, response: Response,
                         principal: Writer, if_match: IfMatch = None) -> MeasureRead:
    """done → verified (销号 of the task), by the rectification office."""
    return _etag(response, await measures.verify(session, principal, measure_id, body, if_match))


@router.post("/measures/{measure_id}/reopen", response_model=MeasureRead, responses=STEP_ERRORS)
async def reopen_measure(measure_id: uuid.UUID, body: MeasureReturn, session: SessionDep, response: Response,
                         principal: Writer, if_match: IfMatch = None) -> MeasureRead:
    """done → open, by the rectification office, with a comment: the task is not done."""
    return _etag(response, await measures.office_step(session, principal, measure_id, "reopen", if_match,
                                                      body.comment))


@router.post("/measures/{measure_id}/declare-cannot-complete", response_model=MeasureRead, responses=STEP_ERRORS)
async def declare_measure_cannot_complete(measure_id: uuid.UUID, body: MeasureCannotComplete, session: SessionDep,
                                          response: Response, principal: Writer,
                                          if_match: IfMatch = None) -> MeasureRead:
    """open → cannot_complete_requested, by the responsible leader: reason, confirming organisation, evidence
    (001 二(四)2)."""
    return _etag(response, await measures.declare_cannot_complete(session, principal, measure_id, body, if_match))


@router.post("/measures/{measure_id}/confirm", response_model=MeasureRead, responses=STEP_ERRORS)
async def confirm_measure(measure_id: uuid.UUID, body: MeasureStep, session: SessionDep, response: Response,
                          principal: Writer, if_match: IfMatch = None) -> MeasureRead:
    """cannot_complete_requested → cannot_complete, by the rectification office."""
    return _etag(response, await measures.office_step(session, principal, measure_id, "confirm", if_match,
                                                      body.comment))


@router.post("/measures/{measure_id}/reject-cannot-complete", response_model=MeasureRead, responses=STEP_ERRORS)
async def reject_measure_cannot_complete(measure_id: uuid.UUID, body: MeasureReturn, session: SessionDep,
                                         response: Response, principal: Writer,
                                         if_match: IfMatch = None) -> MeasureRead:
    """cannot_complete_requested → open, by the rectification office, with a comment."""
    return _etag(response, await measures.office_step(session, principal, measure_id, "reject_cannot_complete",
                                                      if_match, body.comment))


@router.get("/measures/{measure_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def list_measure_history(measure_id: uuid.UUID, session: SessionDep, page: PageDep,
                               principal: Reader) -> HistoryPage:
    """Every step taken on the measure, oldest first."""
    return await measures.measure_history(session, principal, measure_id, limit=page.limit, cursor=page.cursor)
