"""`/escalations` and `/findings/{id}/escalations`: 预警、督办、约谈、通报、移交问责 (DOMAIN.md "Escalations").

Reads need `escalations:read` and a party of the escalation (issuer, decider, addressee) in your
scope; else 404. Writes need `escalations:write`; then the issuing organisation's office, leader or
leadership issues (or, where the profile splits the two, proposes: 000 §(十二)); the decider's
leadership decides or rejects; an addressee's leader or office replies to an urge (403 wrong person,
409 wrong state). Steps take If-Match with the escalation's ETag; creation honours Idempotency-Key.
A handover, once issued, opens its accountability case (`accountability_case_id`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.http_cache import cached_json
from app.core.openapi import problem_responses
from app.dependencies import IdempotencyDep, IfMatch, PageDep, SessionDep, public, require
from app.schemas.escalations import (
    EscalationCreate,
    EscalationDecide,
    EscalationFilter,
    EscalationPage,
    EscalationRead,
    EscalationReject,
    EscalationReply,
    FindingEscalationFilter,
    PublicEscalationFilter,
    PublicEscalationPage,
)
from app.schemas.history import HistoryPage
from app.services.escalations import commands, queries
from app.services.escalations import public as published

router = APIRouter(tags=["escalations"])

Reader = Annotated[Principal, require(Permission.escalations_read)]
Writer = Annotated[Principal, require(Permission.escalations_write)]
Filters = Annotated[EscalationFilter, Depends()]
STEP_ERRORS = problem_responses(403, 404, 409, 412, 422, 428)


def _link(operation: str) -> dict:
    return {"operationId": operation, "parameters": {"path.escalation_id": "$response.body#/id",
                                                     "header.If-Match": "$response.header.ETag"}}


_LINKS = {"GetEscalation": {"operationId": "get_escalation",
                            "parameters": {"path.escalation_id": "$response.body#/id"}},
          "DecideEscalation": _link("decide_escalation"), "ReplyToEscalation": _link("reply_to_escalation")}


def _etag(response: Response, read: EscalationRead) -> EscalationRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


def _created(guard, read: EscalationRead) -> Response:
    return guard.respond(read, status_code=201, headers={"Location": f"/escalations/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.post("/escalations", status_code=201, response_model=EscalationRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 422)})
async def create_escalation(body: EscalationCreate, session: SessionDep, guard: IdempotencyDep,
                            principal: Writer) -> Response:
    """Issue an escalation (→ issued), or propose it (→ proposed) where the profile splits proposing from
    deciding (Hainan's 约谈 and 移交问责, 000 §(十二): the proposer is 省生态环境厅, 422 `not_the_proposer` for
    another). The office, a leader or the leadership of the issuing organisation (403 otherwise). It may link
    findings, reports and duty lists you can read (a 督办 on a late annual report, 000 §(十二)); any other id
    is 422 `unknown_finding` / `unknown_report` / `unknown_duty_list` at its pointer."""
    return _created(guard, await commands.create(session, principal, body))


@router.get("/escalations", response_model=EscalationPage, responses=problem_responses(404))
async def list_escalations(session: SessionDep, page: PageDep, filters: Filters,
                           principal: Reader) -> EscalationPage:
    """Escalations you may read, oldest first: by kind, state, party organisation (subtree), finding, report
    or duty list (404 when you cannot read the report or duty list filtered on)."""
    return await queries.list_escalations(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                          include_total=page.include_total)


@router.get("/escalations/{escalation_id}", response_model=EscalationRead,
            responses={200: {"links": _LINKS}, **problem_responses(404)})
async def get_escalation(escalation_id: uuid.UUID, session: SessionDep, response: Response,
                         principal: Reader) -> EscalationRead:
    """One escalation with its `ETag` and the actions you may take. 404 when you may not see it."""
    return _etag(response, await queries.get_escalation(session, principal, escalation_id))


@router.get("/escalations/{escalation_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def escalation_history(escalation_id: uuid.UUID, session: SessionDep, page: PageDep,
                             principal: Reader) -> HistoryPage:
    """Every step taken on the escalation, oldest first."""
    return await queries.escalation_history(session, principal, escalation_id, limit=page.limit, cursor=page.cursor)


@router.post("/escalations/{escalation_id}/decide", response_model=EscalationRead, responses=STEP_ERRORS)
async def decide_escalation(escalation_id: uuid.UUID, body: EscalationDecide, session: SessionDep,
                            response: Response, principal: Writer, if_match: IfMatch = None) -> EscalationRead:
    """proposed → issued, by the decider's leadership (省委、省政府, 000 §(十二)); a handover opens its case."""
    return _etag(response, await commands.decide(session, principal, escalation_id, "decide", if_match,
                                                 body.comment))


@router.post("/escalations/{escalation_id}/reject", response_model=EscalationRead, responses=STEP_ERRORS)
async def reject_escalation(escalation_id: uuid.UUID, body: EscalationReject, session: SessionDep,
                            response: Response, principal: Writer, if_match: IfMatch = None) -> EscalationRead:
    """proposed → rejected, by the decider's leadership, with a comment."""
    return _etag(response, await commands.decide(session, principal, escalation_id, "reject", if_match,
                                                 body.comment))


@router.post("/escalations/{escalation_id}/reply", response_model=EscalationRead, responses=STEP_ERRORS)
async def reply_to_escalation(escalation_id: uuid.UUID, body: EscalationReply, session: SessionDep,
                              response: Response, principal: Writer, if_match: IfMatch = None) -> EscalationRead:
    """issued → replied: an addressed organisation's leader or office answers an urge (督办)."""
    return _etag(response, await commands.reply(session, principal, escalation_id, body, if_match))


@router.get("/findings/{finding_id}/escalations", response_model=EscalationPage, responses=problem_responses(404))
async def list_finding_escalations(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                                   filters: Annotated[FindingEscalationFilter, Depends()], principal: Reader) -> EscalationPage:
    """Escalations linked to a finding you can see (404 otherwise), those you may read."""
    return await queries.list_escalations(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                          include_total=page.include_total, finding_id=finding_id)


@router.post("/findings/{finding_id}/escalations", status_code=201, response_model=EscalationRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 404, 422)})
async def create_finding_escalation(finding_id: uuid.UUID, body: EscalationCreate, session: SessionDep,
                                    guard: IdempotencyDep, principal: Writer) -> Response:
    """Issue or propose an escalation about this finding (404 when you cannot see it); as `POST /escalations`."""
    return _created(guard, await commands.create(session, principal, body, finding_id=finding_id))


@router.get("/public/escalations", response_model=PublicEscalationPage, dependencies=[public()])
async def list_public_escalations(request: Request, session: SessionDep, page: PageDep,
                                  filters: Annotated[PublicEscalationFilter, Depends()]) -> Response:
    """Summonses and circulars issued as public (公开约谈, 公开通报), newest issue last. Anonymous;
    `If-None-Match` → 304. Proposals, internal ones and other kinds never appear."""
    return cached_json(request, await published.list_published(session, filters, limit=page.limit,
                                                                cursor=page.cursor))
