"""`/lead-decisions`: lead-department decisions (牵头部门认定; 000 §(八), 002 §(六), 003 §(七), 004 §五).

Reads need `lead_decisions:read` and a party of the decision in your scope (else 404); writes need
`lead_decisions:write`, then the profile's organisation: the convenor's office accepts, proposes,
publishes and withdraws, the decider's leadership approves or returns, the convenor's leadership
decides where the convenor decides itself (Hubei's 环委会; every sub-provincial matter).
Every action takes If-Match (428 without, 412 stale) and answers the new state with its ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, require
from app.schemas.history import HistoryPage
from app.schemas.lead_decisions import (
    LeadDecisionComment,
    LeadDecisionCreate,
    LeadDecisionFilter,
    LeadDecisionPage,
    LeadDecisionProposal,
    LeadDecisionPublish,
    LeadDecisionRead,
    LeadDecisionReturn,
    LeadDecisionUpdate,
    OpinionCreate,
    OpinionList,
    OpinionRead,
)
from app.services import lead_decisions as service
from app.services.export import media_responses
from app.services.export.columns import LEAD_DECISIONS
from app.services.lead_decisions.actions import ActionBody

router = APIRouter(prefix="/lead-decisions", tags=["lead-decisions"])

Reader = Annotated[Principal, require(Permission.lead_decisions_read)]
Writer = Annotated[Principal, require(Permission.lead_decisions_write)]
Filters = Annotated[LeadDecisionFilter, Depends()]
ACTION = problem_responses(403, 404, 409, 412, 422, 428)


def _link(operation: str, *, etag: bool = True) -> dict[str, object]:
    params: dict[str, str] = {"path.lead_decision_id": "$response.body#/id"}
    if etag:
        params["header.If-Match"] = "$response.header.ETag"
    return {"operationId": operation, "parameters": params}


# OpenAPI links carry the id and ETag into the next calls (stateful fuzzing, RELIABILITY.md 4.1).
_LINKS = {"GetLeadDecision": _link("get_lead_decision", etag=False),
          "UpdateLeadDecision": _link("update_lead_decision"),
          "AcceptLeadDecision": _link("accept_lead_decision"),
          "ProposeLeadDecision": _link("propose_lead_decision"),
          "DecideLeadDecision": _link("decide_lead_decision"),
          "WithdrawLeadDecision": _link("withdraw_lead_decision"),
          "ListLeadDecisionOpinions": _link("list_lead_decision_opinions", etag=False)}


def _with_etag(response: Response, read: LeadDecisionRead) -> LeadDecisionRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


async def _act(session: SessionDep, principal: Principal, response: Response, decision_id: uuid.UUID,
               action: str, body: ActionBody, if_match: str | None) -> LeadDecisionRead:
    read = await service.take_action(session, principal, decision_id, action, body, if_match)
    return _with_etag(response, read)


@router.post("", status_code=201, response_model=LeadDecisionRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 409, 422)})
async def create_lead_decision(body: LeadDecisionCreate, session: SessionDep, guard: IdempotencyDep,
                               principal: Writer) -> Response:
    """Raise a matter as a leader of `organisation_id` (→ `requested`), or open it as the office of
    the convening organisation the profile names (→ `consulting`). 403 for anyone else. 422
    `no_body_designated` when nobody fills the profile's convenor or decider in the region, or
    field errors (scope tests, participants, linked items). Honours `Idempotency-Key`."""
    read = await service.create_decision(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/lead-decisions/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.get("", response_model=LeadDecisionPage, responses=media_responses())
async def list_lead_decisions(session: SessionDep, page: PageDep, filters: Filters,
                              principal: Reader, export: ExportDep) -> LeadDecisionPage | Response:
    """Decisions with a party in your scope, oldest first, filtered. Any role; 422 for a bad cursor.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list."""
    if export:
        return await export.stream(session, LEAD_DECISIONS, lambda s, c, n: service.list_decisions(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await service.list_decisions(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                        include_total=page.include_total)


@router.get("/{lead_decision_id}", response_model=LeadDecisionRead, responses=problem_responses(404))
async def get_lead_decision(lead_decision_id: uuid.UUID, session: SessionDep, response: Response,
                            principal: Reader) -> LeadDecisionRead:
    """One decision with its parties, linked items, `allowed_actions` and `ETag`. Any role; 404 outside
    your scope."""
    return _with_etag(response, await service.get_decision(session, principal, lead_decision_id))


@router.patch("/{lead_decision_id}", response_model=LeadDecisionRead,
              responses=problem_responses(403, 404, 409, 412, 422, 428))
async def update_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionUpdate, session: SessionDep,
                               response: Response, principal: Writer, if_match: IfMatch = None) -> LeadDecisionRead:
    """Edit title, description, scope tests, participants, linked items: the convenor's office while
    requested or consulting, the requester's leader while requested (403 others, 409
    `lead_decision_not_editable`). 428/412 If-Match, 422 field errors."""
    read = await service.update_decision(session, principal, lead_decision_id, body, if_match)
    return _with_etag(response, read)


@router.post("/{lead_decision_id}/accept", response_model=LeadDecisionRead, responses=ACTION)
async def accept_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionComment, session: SessionDep,
                               response: Response, principal: Writer, if_match: IfMatch = None) -> LeadDecisionRead:
    """requested → consulting: the convenor's office takes up the request."""
    return await _act(session, principal, response, lead_decision_id, "accept", body, if_match)


@router.post("/{lead_decision_id}/propose", response_model=LeadDecisionRead, responses=ACTION)
async def propose_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionProposal, session: SessionDep,
                                response: Response, principal: Writer,
                                if_match: IfMatch = None) -> LeadDecisionRead:
    """consulting → proposed: the convenor's office proposes the lead(s), first lead, cooperating
    organisations, task split and rationale (000 §(八) 提出明确牵头部门意见和任务分解意见). 422 with
    pointers: first lead not among the leads, a lead also cooperating, an organisation outside the
    jurisdiction (or, for a sub-provincial matter, outside its region)."""
    return await _act(session, principal, response, lead_decision_id, "propose", body, if_match)


@router.post("/{lead_decision_id}/approve", response_model=LeadDecisionRead, responses=ACTION)
async def approve_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionComment, session: SessionDep,
                                response: Response, principal: Writer,
                                if_match: IfMatch = None) -> LeadDecisionRead:
    """proposed → approved: the decider's leadership approves (审定); linked items take the decided lead."""
    return await _act(session, principal, response, lead_decision_id, "approve", body, if_match)


@router.post("/{lead_decision_id}/return", response_model=LeadDecisionRead, responses=ACTION)
async def return_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionReturn, session: SessionDep,
                               response: Response, principal: Writer, if_match: IfMatch = None) -> LeadDecisionRead:
    """proposed → consulting: the decider's leadership sends the proposal back, saying why."""
    return await _act(session, principal, response, lead_decision_id, "return", body, if_match)


@router.post("/{lead_decision_id}/decide", response_model=LeadDecisionRead, responses=ACTION)
async def decide_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionProposal, session: SessionDep,
                               response: Response, principal: Writer, if_match: IfMatch = None) -> LeadDecisionRead:
    """consulting → approved, where the convenor decides itself (003 §(七); sub-provincial matters):
    its leadership settles the lead with the same body as a proposal. 409 where the profile has the
    decider approve a proposal instead."""
    return await _act(session, principal, response, lead_decision_id, "decide", body, if_match)


@router.post("/{lead_decision_id}/publish", response_model=LeadDecisionRead, responses=ACTION)
async def publish_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionPublish, session: SessionDep,
                                response: Response, principal: Writer,
                                if_match: IfMatch = None) -> LeadDecisionRead:
    """approved → published: the convenor's office records where and when it was made public
    (000 §(八) 省政府门户网站); it then appears under /public/lead-decisions."""
    return await _act(session, principal, response, lead_decision_id, "publish", body, if_match)


@router.post("/{lead_decision_id}/withdraw", response_model=LeadDecisionRead, responses=ACTION)
async def withdraw_lead_decision(lead_decision_id: uuid.UUID, body: LeadDecisionComment, session: SessionDep,
                                 response: Response, principal: Writer,
                                 if_match: IfMatch = None) -> LeadDecisionRead:
    """requested|consulting → withdrawn: the convenor's office closes the matter undecided."""
    return await _act(session, principal, response, lead_decision_id, "withdraw", body, if_match)


@router.get("/{lead_decision_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def list_lead_decision_history(
        lead_decision_id: uuid.UUID, session: SessionDep, principal: Reader,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]
        = None) -> HistoryPage:
    """Its transitions, oldest first (`request` or `open` first). Any role; 404 outside your scope."""
    return await service.decision_history(session, principal, lead_decision_id, limit=limit, cursor=cursor)


@router.post("/{lead_decision_id}/opinions", status_code=201, response_model=OpinionRead,
             responses=problem_responses(403, 404, 409, 422))
async def record_lead_decision_opinion(lead_decision_id: uuid.UUID, body: OpinionCreate, session: SessionDep,
                                       guard: IdempotencyDep, principal: Writer) -> Response:
    """A participant's leader records its opinion while consulting (409 `lead_decision_not_consulting`
    otherwise; 403 for anyone else): agree, or disagree with a `reason` (422 without). One per
    participant (409 `opinion_already_recorded`). Honours `Idempotency-Key`."""
    read = await service.record_opinion(session, principal, lead_decision_id, body)
    return guard.respond(read, status_code=201)


@router.get("/{lead_decision_id}/opinions", response_model=OpinionList, responses=problem_responses(404))
async def list_lead_decision_opinions(lead_decision_id: uuid.UUID, session: SessionDep,
                                      principal: Reader) -> OpinionList:
    """Every participant's opinion so far, oldest first. Any role that sees the decision (404 otherwise)."""
    return await service.list_opinions(session, principal, lead_decision_id)
