"""`/reports`: report obligations and reports (DOMAIN.md "Reports"); `/report-obligations` generates
them from the profiles, `/report-compliance` counts who filed. (Those two sit beside `/reports`, not
under it, so `/reports/{report_id}` never swallows their paths: a wrong method stays a 405.)

Reads need `reports:read` and the report in sight (filer side, recipient, or a copy once it is
sent: else 404); writes need `reports:write`, and the workflow says which role at which
organisation takes each step (403 otherwise, 409 in the wrong state). Actions and edits need
If-Match (428 without, 412 when stale).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.openapi import problem_responses
from app.dependencies import ExportDep, IdempotencyDep, IfMatch, PageDep, SessionDep, require
from app.schemas.history import HistoryPage
from app.schemas.reports import (
    ComplianceFilter,
    ComplianceRead,
    ReportAction,
    ReportCreate,
    ReportDueDateSet,
    ReportFilter,
    ReportGenerate,
    ReportGenerationRead,
    ReportPage,
    ReportPublish,
    ReportRead,
    ReportReturn,
    ReportUpdate,
)
from app.services import reports
from app.services.export import media_responses
from app.services.export.columns import REPORTS

router = APIRouter(tags=["reports"])

Reader = Annotated[Principal, require(Permission.reports_read)]
Writer = Annotated[Principal, require(Permission.reports_write)]
Filters = Annotated[ReportFilter, Depends()]
Comment = Annotated[ReportAction | None, Body()]
ACTION_ERRORS = problem_responses(403, 404, 409, 412, 428)


def _with_etag(response: Response, read: ReportRead) -> ReportRead:
    response.headers["ETag"] = reports.etag(read)
    return read


@router.post("/report-obligations", response_model=ReportGenerationRead, responses=problem_responses(403))
async def generate_report_obligations(body: ReportGenerate, session: SessionDep, guard: IdempotencyDep,
                                      principal: Writer) -> Response:
    """Create a province's report obligations for a period year from its profile; running it again
    (even at the same time) creates nothing new. The province's admins (membership at its root) or
    the office designated as its 督察领导小组办公室 or 环委办; 403 for others in the province, 422
    `unknown_jurisdiction` otherwise. Honours `Idempotency-Key`. Scheduled use: `python -m app.cli
    generate-reports --year 2025`."""
    return guard.respond(await reports.generate(session, principal, body))


@router.post("/reports", status_code=201, response_model=ReportRead,
             responses={201: {"description": "Created in `draft`; `Location` and `ETag` are set."},
                        **problem_responses(403)})
async def create_report(body: ReportCreate, session: SessionDep, guard: IdempotencyDep, principal: Writer) -> Response:
    """Open an ad hoc report (及时, no schedule: 004 §八) under the province's `as_needed` rule: staff of
    the filing organisation (403 otherwise). 422 for an organisation outside your scope, a rule that
    is not ad hoc, or a filer the rule does not name. Honours `Idempotency-Key`."""
    read = await reports.create_ad_hoc(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/reports/{read.id}",
                                                         "ETag": reports.etag(read)})


@router.get("/reports", response_model=ReportPage, responses=media_responses())
async def list_reports(session: SessionDep, page: PageDep, filters: Filters, principal: Reader,
                       export: ExportDep) -> ReportPage | Response:
    """Reports you see, oldest first, filtered (subtree, province, recipient, kind, rule, period, state,
    `overdue`, `submitted_late`, compliance bucket). Any role; 422 for a bad cursor.
    `format=csv|xlsx` (or `Accept`) exports the whole filtered list as the reports ledger (报告台账)."""
    if export:
        return await export.stream(session, REPORTS, lambda s, c, n: reports.list_reports(
            s, principal, filters, limit=n, cursor=c, include_total=False), cursor=page.cursor)
    return await reports.list_reports(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                      include_total=page.include_total)


@router.get("/report-compliance", response_model=ComplianceRead)
async def get_report_compliance(session: SessionDep, page: PageDep, filters: Annotated[ComplianceFilter, Depends()],
                                principal: Reader) -> ComplianceRead:
    """Who filed, who is late, who is missing, for a period year (and a subtree): counts, the list
    query behind each count (its length equals the count), and the rows. Any role; only reports you see."""
    return await reports.compliance(session, principal, filters, limit=page.limit, cursor=page.cursor)


@router.get("/reports/{report_id}", response_model=ReportRead, responses=problem_responses(404))
async def get_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Reader) -> ReportRead:
    """One report with its `ETag` and your `allowed_actions`. Any role that sees it; else 404."""
    return _with_etag(response, await reports.get_report(session, principal, report_id))


@router.patch("/reports/{report_id}", response_model=ReportRead, responses=ACTION_ERRORS)
async def update_report(report_id: uuid.UUID, body: ReportUpdate, session: SessionDep, response: Response,
                        principal: Writer, if_match: IfMatch = None) -> ReportRead:
    """Replace a draft's content (staff or leader of the filer). 409 `report_not_editable` outside
    `draft`; 422 for parts its kind does not take or unknown responsible units."""
    return _with_etag(response, await reports.update_content(session, principal, report_id, body, if_match))


@router.put("/reports/{report_id}/due-date", response_model=ReportRead, responses=ACTION_ERRORS)
async def set_report_due_date(report_id: uuid.UUID, body: ReportDueDateSet, session: SessionDep, response: Response,
                              principal: Writer, if_match: IfMatch = None) -> ReportRead:
    """Set the due date of an obligation the text leaves undated (`due.undated`); the report then
    shows `due.set_by_hand` and is `overdue` after it like any other. The office of the recipient or
    of the province's 督察领导小组办公室 / 环委办 (403 otherwise); 409 `report_due_date_fixed` where the
    text gives the date, 409 `report_already_filed` once submitted. A rest day is flagged, not moved."""
    return _with_etag(response, await reports.set_due_date(session, principal, report_id, body, if_match))


@router.post("/reports/{report_id}/start", response_model=ReportRead, responses=ACTION_ERRORS)
async def start_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Writer,
                       body: Comment = None, if_match: IfMatch = None) -> ReportRead:
    """pending → draft: staff of the filing organisation."""
    return _with_etag(response, await reports.act(session, principal, report_id, "start", body, if_match))


@router.post("/reports/{report_id}/submit", response_model=ReportRead, responses=ACTION_ERRORS)
async def submit_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Writer,
                        body: Comment = None, if_match: IfMatch = None) -> ReportRead:
    """draft → submitted: the filer's leader. 422 `report_incomplete` while it lacks what the profile
    asks for; after the due date it is `submitted_late`, for good. Copies become readable."""
    return _with_etag(response, await reports.act(session, principal, report_id, "submit", body, if_match))


@router.post("/reports/{report_id}/receive", response_model=ReportRead, responses=ACTION_ERRORS)
async def receive_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Writer,
                         body: Comment = None, if_match: IfMatch = None) -> ReportRead:
    """submitted → received: the recipient's office (for a person, their government's office).
    Final for a filing (备案)."""
    return _with_etag(response, await reports.act(session, principal, report_id, "receive", body, if_match))


@router.post("/reports/{report_id}/accept", response_model=ReportRead, responses=ACTION_ERRORS)
async def accept_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Writer,
                        body: Comment = None, if_match: IfMatch = None) -> ReportRead:
    """received → accepted: the recipient's leadership (409 for a filing: received is final)."""
    return _with_etag(response, await reports.act(session, principal, report_id, "accept", body, if_match))


@router.post("/reports/{report_id}/publish", response_model=ReportRead, responses=ACTION_ERRORS)
async def publish_report(report_id: uuid.UUID, session: SessionDep, response: Response, principal: Writer,
                         body: Annotated[ReportPublish | None, Body()] = None,
                         if_match: IfMatch = None) -> ReportRead:
    """accepted → published: the filer's leader, where the profile says the report is published
    (409 otherwise). It then appears under /public/reports."""
    return _with_etag(response, await reports.act(session, principal, report_id, "publish", body, if_match))


@router.post("/reports/{report_id}/return", response_model=ReportRead, responses=ACTION_ERRORS)
async def return_report(report_id: uuid.UUID, body: ReportReturn, session: SessionDep, response: Response,
                        principal: Writer, if_match: IfMatch = None) -> ReportRead:
    """submitted|received → draft: the recipient's office or leadership, with a comment saying why."""
    return _with_etag(response, await reports.act(session, principal, report_id, "return", body, if_match))


@router.get("/reports/{report_id}/history", response_model=HistoryPage, responses=problem_responses(404))
async def list_report_history(report_id: uuid.UUID, session: SessionDep, page: PageDep,
                              principal: Reader) -> HistoryPage:
    """The report's transitions, oldest first. Whoever sees the report; else 404."""
    return await reports.report_history(session, principal, report_id, limit=page.limit, cursor=page.cursor)
