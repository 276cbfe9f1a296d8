"""Published reports for anonymous readers (`/public/reports`): only `published` rows, never a
draft, a copy or an unpublished kind (a report reaches `published` only where its profile rule
says it is published: 000 §(十二), 002 §(十三), 003 §(十一)(十二), 004 §七)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.scoping import within
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import Report, ReportPartyRole, ReportStatus
from app.schemas.public_reports import PublicReportFilter, PublicReportPage, PublicReportRead
from app.schemas.reports import OrganisationName, ReportContent
from app.services.reports.access import parties_of

SCOPE = "public/reports"


def _read(report: Report, filers: list[OrganisationName]) -> PublicReportRead:
    return PublicReportRead(
        id=report.id, jurisdiction_id=report.jurisdiction_id, title=report.title, kind=report.kind, filers=filers,
        recipient_label=report.recipient_label, period=report.period, period_year=report.period_year,
        clause=report.publication_clause or report.clause, publication_where=report.publication_where,
        published_on=report.published_on, portal_url=report.portal_url,
        content=ReportContent.model_validate(report.content or {}))


async def _reads(session: AsyncSession, reports: list[Report]) -> list[PublicReportRead]:
    parties = await parties_of(session, [r.id for r in reports])
    return [_read(r, [OrganisationName(id=p.organisation_id, name=p.name) for p in parties[r.id]
                      if p.role == ReportPartyRole.filer]) for r in reports]


async def get_published(session: AsyncSession, report_id: uuid.UUID) -> PublicReportRead:
    """Anyone; 404 unless the report is published."""
    report = await session.scalar(select(Report).where(Report.id == report_id,
                                                       Report.status == ReportStatus.published))
    if report is None:
        raise NotFound("No such published report.")
    return (await _reads(session, [report]))[0]


async def list_published(session: AsyncSession, f: PublicReportFilter, *, limit: int,
                         cursor: str | None) -> PublicReportPage:
    """Anyone; published reports in order of publication, keyset over (published_at, id)."""
    stmt = select(Report).where(Report.status == ReportStatus.published)
    if f.organisation_id is not None:
        stmt = stmt.where(within(Report.organisation_id, f.organisation_id))
    for column, value in ((Report.jurisdiction_id, f.jurisdiction_id), (Report.kind, f.kind),
                          (Report.period_year, f.period_year)):
        if value is not None:
            stmt = stmt.where(column == value)
    if cursor:
        values = decode_cursor(cursor, scope=SCOPE)
        try:
            at, last_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (ValueError, TypeError, IndexError):
            raise ValidationFailed("The cursor is not valid for this list; start again without it.", errors=[{
                "pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                "message": "invalid cursor"}]) from None
        stmt = stmt.where(or_(Report.published_at > at, and_(Report.published_at == at, Report.id > last_id)))
    rows = list((await session.scalars(stmt.order_by(Report.published_at, Report.id).limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].published_at.isoformat(), str(rows[-1].id)], scope=SCOPE)
    return PublicReportPage(items=await _reads(session, rows), next_cursor=next_cursor)
