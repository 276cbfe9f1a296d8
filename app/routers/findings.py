"""`/findings`: inspection findings and their rectification workflow (DOMAIN.md "Inspections and findings").

Reads need `findings:read` and the finding visible to you (its responsible, lead or cooperating
organisation, its rectification office or its inspecting body in your scope; else 404). Writes
need `findings:write`, then the workflow table decides at the finding's own organisations: the
rectification office's `office` assigns, approves, returns, closes; the responsible organisation's
`leader` plans, requests closure, declares unrectifiable, asks for extensions (403 wrong person,
409 wrong state). Every action takes If-Match with the finding's ETag; records (progress updates,
look-backs, extension requests) are created with Idempotency-Key.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, require
from app.schemas.findings import (
    ExtensionRequestCreate,
    ExtensionRequestPage,
    ExtensionRequestRead,
    FindingAction,
    FindingAssign,
    FindingClose,
    FindingClosureRequest,
    FindingCreate,
    FindingFilter,
    FindingPage,
    FindingPlanSubmit,
    FindingRead,
    FindingReturn,
    FindingUnrectifiable,
    FindingUpdate,
    LookbackCreate,
    LookbackPage,
    LookbackRead,
    ProgressUpdateCreate,
    ProgressUpdatePage,
    ProgressUpdateRead,
)
from app.schemas.history import HistoryPage
from app.services.export import media_responses
from app.services.export.columns import FINDINGS
from app.services.findings import commands, extensions, lookbacks, plan, progress, queries

router = APIRouter(prefix="/findings", tags=["findings"])

Reader = Annotated[Principal, require(Permission.findings_read)]
Writer = Annotated[Principal, require(Permission.findings_write)]
Filters = Annotated[FindingFilter, Depends()]
STEP_ERRORS = problem_responses(403, 404, 409, 412, 428)
CREATED = {"description": "Created."}


def _link(operation: str) -> dict:
    return {"operationId": operation, "parameters": {"path.finding_id": "$response.body#/id",
                                                     "header.If-Match": "$response.header.ETag"}}


# OpenAPI links carry a finding's id and ETag into the next step (stateful fuzzing walks them).
_LINKS = {"GetFinding": {"operationId": "get_finding", "parameters": {"path.finding_id": "$response.body#/id"}},
          "AssignFinding": _link("assign_finding"), "SubmitFindingPlan": _link("submit_finding_plan"),
          "ApproveFindingPlan": _link("approve_finding_plan"), "UpdateFinding": _link("update_finding")}


def _etag(response: Response, read: FindingRead) -> FindingRead:
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.post("", status_code=201, response_model=FindingRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set.", "links": _LINKS},
                        **problem_responses(403, 409, 422)})
async def register_finding(body: FindingCreate, session: SessionDep, guard: IdempotencyDep,
                           principal: Writer) -> Response:
    """Register a finding (→ registered): inspectors of the inspection's inspecting body or its rectification
    office. 422 for an inspection you cannot see; 409 `finding_code_exists`. Honours `Idempotency-Key`."""
    read = await commands.register_finding(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/findings/{read.id}",
                                                         "ETag": make_etag(read.id, read.version)})


@router.get("", response_model=FindingPage, responses=media_responses())
async def list_findings(session: SessionDep, page: PageDep, filters: Filters, principal: Reader,
                        export: ExportDep) -> FindingPage | Response:
    """Findings you may read, oldest first, with the ledger's filters (campaign, category node, subtree of
    the responsible organisation, status, type, overdue, key problem, rebounded, text). Any role.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list as the findings ledger (问题台账)."""
    if export:
        return await export.stream(session, FINDINGS, lambda s, c, n: queries.list_findings(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await queries.list_findings(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                       include_total=page.include_total)


@router.get("/{finding_id}", response_model=FindingRead, responses={200: {"links": _LINKS},
                                                                    **problem_responses(404)})
async def get_finding(finding_id: uuid.UUID, session: SessionDep, response: Response,
                      principal: Reader) -> FindingRead:
    """One finding with its `ETag`, measure counts, progress schedule (missed updates flagged) and the
    actions you may take. 404 when you may not see it."""
    return _etag(response, await queries.get_finding(session, principal, finding_id))


@router.patch("/{finding_id}", response_model=FindingRead, responses=STEP_ERRORS)
async def update_finding(finding_id: uuid.UUID, body: FindingUpdate, session: SessionDep, response: Response,
                         principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """Descriptive fields (title, category, key problem and handler, 责任领导/部门/人, related findings), by the
    rectification office until closed or unrectifiable (409 `finding_not_editable`)."""
    return _etag(response, await commands.update_finding(session, principal, finding_id, body, if_match))


@router.post("/{finding_id}/assign", response_model=FindingRead, responses=STEP_ERRORS)
async def assign_finding(finding_id: uuid.UUID, body: FindingAssign, session: SessionDep, response: Response,
                         principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """registered → assigned, by the rectification office: responsible (主责), lead and cooperating
    organisations, deadline, 责任领导/部门/人 (001 一(三))."""
    return _etag(response, await commands.assign(session, principal, finding_id, body, if_match))


@router.post("/{finding_id}/submit-plan", response_model=FindingRead, responses=STEP_ERRORS)
async def submit_finding_plan(finding_id: uuid.UUID, body: FindingPlanSubmit, session: SessionDep,
                              response: Response, principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """assigned → plan_submitted, by the responsible leader: measures with deadlines and people."""
    return _etag(response, await plan.submit(session, principal, finding_id, body, if_match, action="submit_plan"))


@router.post("/{finding_id}/approve-plan", response_model=FindingRead, responses=STEP_ERRORS)
async def approve_finding_plan(finding_id: uuid.UUID, body: FindingAction, session: SessionDep, response: Response,
                               principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """plan_submitted → in_progress, by the rectification office; the plan's measures take effect. 409
    `plan_outdated` when an amendment changes a measure done meanwhile."""
    return _etag(response, await plan.approve(session, principal, finding_id, if_match, body.comment))


@router.post("/{finding_id}/return", response_model=FindingRead, responses=STEP_ERRORS)
async def return_finding_plan(finding_id: uuid.UUID, body: FindingReturn, session: SessionDep, response: Response,
                              principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """plan_submitted → assigned: the rectification office sends a first plan back, with a comment."""
    return _etag(response, await plan.send_back(session, principal, finding_id, "return", if_match, body.comment))


@router.post("/{finding_id}/return-amendment", response_model=FindingRead, responses=STEP_ERRORS)
async def return_finding_amendment(finding_id: uuid.UUID, body: FindingReturn, session: SessionDep,
                                   response: Response, principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """plan_submitted → in_progress: the office refuses an amendment, with a comment; the plan in force runs on."""
    return _etag(response, await plan.send_back(session, principal, finding_id, "return_amendment", if_match,
                                                body.comment))


@router.post("/{finding_id}/amend-plan", response_model=FindingRead, responses=STEP_ERRORS)
async def amend_finding_plan(finding_id: uuid.UUID, body: FindingPlanSubmit, session: SessionDep,
                             response: Response, principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """in_progress → plan_submitted, by the responsible leader: changed or added measures (001 二(四)1)."""
    return _etag(response, await plan.submit(session, principal, finding_id, body, if_match, action="amend_plan"))


@router.post("/{finding_id}/request-closure", response_model=FindingRead, responses=STEP_ERRORS)
async def request_finding_closure(finding_id: uuid.UUID, body: FindingClosureRequest, session: SessionDep,
                                  response: Response, principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """in_progress|sustained → closure_requested (已完成待销号), by the responsible leader, with evidence (at
    least one reference; uploads come with the attachments work). 409 `measures_outstanding` until every
    measure is done, verified or confirmed cannot-complete."""
    return _etag(response, await commands.request_closure(session, principal, finding_id, body, if_match))


@router.post("/{finding_id}/close", response_model=FindingRead, responses=STEP_ERRORS)
async def close_finding(finding_id: uuid.UUID, body: FindingClose, session: SessionDep, response: Response,
                        principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """closure_requested → closed (已完成并销号), by the rectification office, with its verification note."""
    return _etag(response, await commands.close(session, principal, finding_id, body, if_match))


@router.post("/{finding_id}/reject-closure", response_model=FindingRead, responses=STEP_ERRORS)
async def reject_finding_closure(finding_id: uuid.UUID, body: FindingReturn, session: SessionDep,
                                 response: Response, principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """closure_requested → in_progress, by the rectification office, with a comment."""
    return _etag(response, await commands.simple_step(session, principal, finding_id, "reject_closure", if_match,
                                                      body.comment))


@router.post("/{finding_id}/declare-unrectifiable", response_model=FindingRead, responses=STEP_ERRORS)
async def declare_finding_unrectifiable(finding_id: uuid.UUID, body: FindingUnrectifiable, session: SessionDep,
                                        response: Response, principal: Writer,
                                        if_match: IfMatch = None) -> FindingRead:
    """in_progress → unrectifiable_requested, by the responsible leader: reason and confirming organisation."""
    return _etag(response, await commands.declare_unrectifiable(session, principal, finding_id, body, if_match))


@router.post("/{finding_id}/approve-unrectifiable", response_model=FindingRead, responses=STEP_ERRORS)
async def approve_finding_unrectifiable(finding_id: uuid.UUID, body: FindingAction, session: SessionDep,
                                        response: Response, principal: Writer,
                                        if_match: IfMatch = None) -> FindingRead:
    """unrectifiable_requested → unrectifiable, by the rectification office."""
    return _etag(response, await commands.simple_step(session, principal, finding_id, "approve_unrectifiable",
                                                      if_match, body.comment))


@router.post("/{finding_id}/reject-unrectifiable", response_model=FindingRead, responses=STEP_ERRORS)
async def reject_finding_unrectifiable(finding_id: uuid.UUID, body: FindingReturn, session: SessionDep,
                                       response: Response, principal: Writer,
                                       if_match: IfMatch = None) -> FindingRead:
    """unrectifiable_requested → in_progress, by the rectification office, with a comment."""
    return _etag(response, await commands.simple_step(session, principal, finding_id, "reject_unrectifiable",
                                                      if_match, body.comment))


@router.post("/{finding_id}/sustain", response_model=FindingRead, responses=STEP_ERRORS)
async def sustain_finding(finding_id: uuid.UUID, body: FindingAction, session: SessionDep, response: Response,
                          principal: Writer, if_match: IfMatch = None) -> FindingRead:
    """in_progress → sustained (长期整改: updates continue), by the rectification office; long-term findings
    only (409 otherwise)."""
    return _etag(response, await commands.simple_step(session, principal, finding_id, "sustain", if_match,
                                                      body.comment))


@router.get("/{finding_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def list_finding_history(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                               principal: Reader) -> HistoryPage:
    """Every step taken on the finding, oldest first (`extend_deadline` rows included)."""
    return await queries.finding_history(session, principal, finding_id, limit=page.limit, cursor=page.cursor)


@router.get("/{finding_id}/progress-updates", response_model=ProgressUpdatePage, responses=problem_responses(404))
async def list_progress_updates(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                                principal: Reader) -> ProgressUpdatePage:
    """The finding's progress updates, oldest first."""
    return await progress.list_progress_updates(session, principal, finding_id, limit=page.limit,
                                                cursor=page.cursor, include_total=page.include_total)


@router.post("/{finding_id}/progress-updates", status_code=201, response_model=ProgressUpdateRead,
             responses={201: CREATED, **problem_responses(403, 404, 409, 422)})
async def create_progress_update(finding_id: uuid.UUID, body: ProgressUpdateCreate, session: SessionDep,
                                 guard: IdempotencyDep, principal: Writer) -> Response:
    """Report progress at the campaign's cadence: staff or the leader of the responsible organisation, while
    the finding is being rectified (409 otherwise). Honours `Idempotency-Key`."""
    read = await progress.create_progress_update(session, principal, finding_id, body)
    return guard.respond(read, status_code=201)


@router.get("/{finding_id}/lookbacks", response_model=LookbackPage, responses=problem_responses(404))
async def list_lookbacks(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                         principal: Reader) -> LookbackPage:
    """The finding's look-backs (回头看), oldest first."""
    return await lookbacks.list_lookbacks(session, principal, finding_id, limit=page.limit, cursor=page.cursor,
                                          include_total=page.include_total)


@router.post("/{finding_id}/lookbacks", status_code=201, response_model=LookbackRead,
             responses={201: CREATED, **problem_responses(403, 404, 409, 422)})
async def create_lookback(finding_id: uuid.UUID, body: LookbackCreate, session: SessionDep,
                          guard: IdempotencyDep, principal: Writer) -> Response:
    """A look-back on a closed or sustained finding, by its inspectors, the rectification office or the
    responsible leader (001 一(三)). `rebounded` reopens it (→ in_progress) and counts it as rebounded.
    Honours `Idempotency-Key`."""
    read = await lookbacks.create_lookback(session, principal, finding_id, body)
    return guard.respond(read, status_code=201)


@router.get("/{finding_id}/extension-requests", response_model=ExtensionRequestPage,
            responses=problem_responses(404))
async def list_extension_requests(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                                  principal: Reader) -> ExtensionRequestPage:
    """The finding's extension requests (申请延期), oldest first."""
    return await extensions.list_extension_requests(session, principal, finding_id, limit=page.limit,
                                                    cursor=page.cursor, include_total=page.include_total)


@router.post("/{finding_id}/extension-requests", status_code=201, response_model=ExtensionRequestRead,
             responses={201: {"description": "Created; `Location` and `ETag` are set."},
                        **problem_responses(403, 404, 409, 422)})
async def create_extension_request(finding_id: uuid.UUID, body: ExtensionRequestCreate, session: SessionDep,
                                   guard: IdempotencyDep, principal: Writer) -> Response:
    """Ask for a later deadline: the responsible leader, with a reason. 409 while one waits
    (`extension_pending` when two arrive at once); 422 for a date not after the deadline in force.
    Honours `Idempotency-Key`."""
    read = await extensions.create_extension_request(session, principal, finding_id, body)
    return guard.respond(read, status_code=201, headers={
        "Location": f"/findings/{finding_id}/extension-requests/{read.id}", "ETag": make_etag(read.id, read.version)})


@router.get("/{finding_id}/extension-requests/{extension_request_id}", response_model=ExtensionRequestRead,
            responses=problem_responses(404))
async def get_extension_request(finding_id: uuid.UUID, extension_request_id: uuid.UUID, session: SessionDep,
                                response: Response, principal: Reader) -> ExtensionRequestRead:
    """One extension request with its `ETag`."""
    read = await extensions.get_extension_request(session, principal, finding_id, extension_request_id)
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.get("/{finding_id}/extension-requests/{extension_request_id}/history", response_model=HistoryPage,
            responses=problem_responses(404))
async def list_extension_request_history(finding_id: uuid.UUID, extension_request_id: uuid.UUID,
                                         session: SessionDep, page: PageDep, principal: Reader) -> HistoryPage:
    """The request's decision, if any."""
    return await extensions.extension_history(session, principal, finding_id, extension_request_id,
                                              limit=page.limit, cursor=page.cursor)


async def _decide(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, request_id: uuid.UUID,
                  action: str, if_match: str | None, comment: str | None, response: Response) -> ExtensionRequestRead:
    read = await extensions.decide(session, principal, finding_id, request_id, action, if_match, comment)
    response.headers["ETag"] = make_etag(read.id, read.version)
    return read


@router.post("/{finding_id}/extension-requests/{extension_request_id}/approve", response_model=ExtensionRequestRead,
             responses=STEP_ERRORS)
async def approve_extension_request(finding_id: uuid.UUID, extension_request_id: uuid.UUID, body: FindingAction,
                                    session: SessionDep, response: Response, principal: Writer,
                                    if_match: IfMatch = None) -> ExtensionRequestRead:
    """pending → approved, by the rectification office (the request's If-Match): the finding's deadline moves;
    its original deadline stays on record."""
    return await _decide(session, principal, finding_id, extension_request_id, "approve", if_match, body.comment,
                         response)


@router.post("/{finding_id}/extension-requests/{extension_request_id}/reject", response_model=ExtensionRequestRead,
             responses=STEP_ERRORS)
async def reject_extension_request(finding_id: uuid.UUID, extension_request_id: uuid.UUID, body: FindingReturn,
                                   session: SessionDep, response: Response, principal: Writer,
                                   if_match: IfMatch = None) -> ExtensionRequestRead:
    """pending → rejected, by the rectification office, with a comment; the deadline stays."""
    return await _decide(session, principal, finding_id, extension_request_id, "reject", if_match, body.comment,
                         response)
