"""The compliance view: for an organisation subtree and a period year, who filed, who is late,
who is missing — the table a coordination office reads every February (000 §(十)(十二)).

Counts and rows come from the same filtered query as `GET /reports`, so each count equals
the length of the list its link names (DOMAIN.md "Statistics": every count equals the length
of the list query it links to). Buckets (app/schemas/reports.py `ComplianceBucket`):
`filed` (submitted or beyond) ⊇ `filed_late`; `missing` (pending or draft) ⊇ `overdue`
(missing and past its due date, today in the jurisdiction's zone). Each row carries one
`standing`: filed_on_time, filed_late, overdue or not_yet_due (undated ones included).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.models import Organisation, Report
from app.models.report import FILED_STATUSES
from app.schemas.reports import (
    ComplianceBucket,
    ComplianceRead,
    ComplianceRowRead,
    ComplianceStanding,
    ReportFilter,
)
from app.services.reports import access
from app.services.reports.queries import bucket_clause, filtered, keyset


def standing(report: Report, on: date) -> ComplianceStanding:
    if report.status.value in FILED_STATUSES:
        return ComplianceStanding.filed_late if report.submitted_late else ComplianceStanding.filed_on_time
    return ComplianceStanding.overdue if access.is_overdue(report, on) else ComplianceStanding.not_yet_due


async def compliance(session: AsyncSession, principal: Principal, f: ReportFilter, *, limit: int,
                     cursor: str | None) -> ComplianceRead:
    """Any role with `reports:read`; only the reports the caller sees are counted and listed.

    `f.period_year` is required (the route makes it so); `f.compliance` is ignored here (it is
    what the links set). 422 for a bad cursor."""
    on = access.today()
    f.compliance = None
    sums = [func.coalesce(func.sum(case((bucket_clause(b, on), 1), else_=0)), 0) for b in ComplianceBucket]
    totals = (await session.execute(filtered(select(func.count(Report.id), *sums), principal, f, on))).one()
    stmt = filtered(select(Report, Organisation.name).join(Organisation, Organisation.id == Report.organisation_id),
                    principal, f, on)
    rows, next_cursor, _ = await keyset(session, stmt, scope=f"reports/compliance/{f.period_year}", limit=limit,
                                        cursor=cursor, include_total=False)
    query = f.query()
    return ComplianceRead(
        organisation_id=f.organisation_id, period_year=f.period_year or 0, as_of=on, total=totals[0],
        counts={b: int(totals[i + 1]) for i, b in enumerate(ComplianceBucket)},
        links={b: "/reports?" + urlencode({**query, "compliance": b.value}) for b in ComplianceBucket},
        items=[ComplianceRowRead(report_id=r.id, organisation_id=r.organisation_id, organisation_name=name,
                                 rule_id=r.rule_id, kind=r.kind, period=r.period, status=r.status,
                                 due_date=r.due_date, submitted_at=r.submitted_at, standing=standing(r, on))
               for r, name in rows],
        next_cursor=next_cursor)
