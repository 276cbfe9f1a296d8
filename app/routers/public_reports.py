"""`/public/reports`: published reports, for anyone (000 §(十二), 002 §(十三), 003 §(十一)(十二), 004 §七)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.core.http_cache import cached_json
from app.core.openapi import problem_responses
from app.dependencies import PageDep, SessionDep, public
from app.schemas.public_reports import PublicReportFilter, PublicReportPage, PublicReportRead
from app.services import reports

router = APIRouter(prefix="/public/reports", tags=["reports"])


@router.get("", response_model=PublicReportPage, dependencies=[public()])
async def list_public_reports(request: Request, session: SessionDep, page: PageDep,
                              filters: Annotated[PublicReportFilter, Depends()]) -> Response:
    """Published reports, in order of publication. Anonymous; `If-None-Match` → 304."""
    return cached_json(request, await reports.list_published(session, filters, limit=page.limit, cursor=page.cursor))


@router.get("/{report_id}", response_model=PublicReportRead, dependencies=[public()],
            responses=problem_responses(404))
async def get_public_report(request: Request, report_id: uuid.UUID, session: SessionDep) -> Response:
    """One published report. Anonymous; 404 unless published."""
    return cached_json(request, await reports.get_published(session, report_id))
