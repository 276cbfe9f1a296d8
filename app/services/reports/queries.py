"""Reading reports: one, a filtered page, and the transition history.

Every row passes `access.visible`; a filter naming an organisation outside the caller's
scope matches nothing. Pages are keyset over (created_at, id). `overdue` and the
compliance buckets are judged against today in the jurisdiction's zone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.core.errors import ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import RecipientKind, Report, ReportParty, ReportPartyRole
from app.models.report import FILED_STATUSES, UNFILED_STATUSES
from app.schemas.history import HistoryPage
from app.schemas.reports import (
    ComplianceBucket,
    DueRead,
    OrganisationName,
    ReportContent,
    ReportCopyRead,
    ReportFilter,
    ReportPage,
    ReportRead,
)
from app.services.history import history_page
from app.services.reports import access
from app.services.reports.access import PartyRow
from app.workflows.engine import allowed_actions
from app.workflows.reports import REPORT_WORKFLOW

P = ReportPartyRole


def bucket_clause(bucket: ComplianceBucket, on: date) -> ColumnElement[bool]:
    """The compliance buckets (app/schemas/reports.py), as SQL: counts and lists share them."""
    filed = Report.status.in_(FILED_STATUSES)
    return {ComplianceBucket.filed: filed, ComplianceBucket.filed_late: and_(filed, Report.submitted_late.is_(True)),
            ComplianceBucket.missing: Report.status.in_(UNFILED_STATUSES),
            ComplianceBucket.overdue: access.overdue_clause(on)}[bucket]


def filtered(stmt: Select[Any], principal: Principal, f: ReportFilter, on: date) -> Select[Any]:
    stmt = stmt.where(access.visible(principal))
    if f.organisation_id is not None:
        stmt = stmt.where(within(Report.organisation_id, f.organisation_id))
    if f.addressed_to is not None:
        stmt = stmt.where(exists().where(ReportParty.report_id == Report.id, ReportParty.role == P.recipient,
                                         ReportParty.organisation_id == f.addressed_to))
    for column, value in ((Report.jurisdiction_id, f.jurisdiction_id), (Report.kind, f.kind),
                          (Report.rule_id, f.rule_id), (Report.period_year, f.period_year), (Report.period, f.period),
                          (Report.status, f.status), (Report.submitted_late, f.submitted_late)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.overdue is not None:
        clause = access.overdue_clause(on)
        stmt = stmt.where(clause if f.overdue else ~clause)
    if f.compliance is not None:
        stmt = stmt.where(bucket_clause(f.compliance, on))
    return stmt


def _names(parties: list[PartyRow], role: ReportPartyRole) -> list[OrganisationName]:
    return [OrganisationName(id=p.organisation_id, name=p.name) for p in parties if p.role == role]


def to_read(report: Report, parties: list[PartyRow], principal: Principal, *, on: date,
            sees_content: bool) -> ReportRead:
    ctx = access.context(report, parties, principal)
    roles = ctx.roles_at_filer | ctx.roles_at_recipient | ctx.roles_at_acceptor
    copies = [ReportCopyRead(id=p.organisation_id, name=p.name, mode=p.role.value, sent_by=p.sent_by)
              for p in parties if p.role in (P.copy_up, P.copy_across)]
    unsubmitted = report.status.value in UNFILED_STATUSES
    content = ReportContent.model_validate(report.content or {}) if sees_content or not unsubmitted else None
    return ReportRead(
        id=report.id, jurisdiction_id=report.jurisdiction_id, organisation_id=report.organisation_id,
        filers=_names(parties, P.filer), recipient_kind=report.recipient_kind, recipient_label=report.recipient_label,
        recipients=_names(parties, P.recipient), copies=copies, unresolved=report.unresolved or [],
        covers=report.covers or [], profile_code=report.profile_code, profile_version=report.profile_version,
        rule_id=report.rule_id, clause=report.clause, kind=report.kind, period=report.period,
        period_year=report.period_year, period_start=report.period_start, period_end=report.period_end,
        title=report.title, status=report.status, version=report.version,
        due=DueRead(due_date=report.due_date, undated=report.undated, falls_on_rest_day=report.due_on_rest_day,
                    calendar_estimated=report.due_calendar_estimated, rule_text=report.due_rule_text,
                    rule_text_zh=report.due_rule_text_zh, cadence=report.due_cadence,
                    set_by_hand=report.due_set_at is not None,
                    set_by_organisation_id=report.due_set_by_organisation_id),
        overdue=access.is_overdue(report, on), submitted_late=report.submitted_late,
        filing_only=report.filing_only,
        needs_acceptance=report.recipient_kind != RecipientKind.none and not report.filing_only,
        recipient_arranges_approval=report.recipient_arranges_approval,
        publication_where=report.publication_where, publication_clause=report.publication_clause,
        content_required=report.content_required or [], content=content, submitted_at=report.submitted_at,
        received_at=report.received_at, accepted_at=report.accepted_at, published_at=report.published_at,
        published_on=report.published_on, portal_url=report.portal_url,
        allowed_actions=allowed_actions(REPORT_WORKFLOW, report.status, roles, ctx),
        created_at=report.created_at, updated_at=report.updated_at)


async def reads(session: AsyncSession, principal: Principal, reports: list[Report]) -> list[ReportRead]:
    ids = [r.id for r in reports]
    parties = await access.parties_of(session, ids)
    own = await access.filer_side(session, principal, ids)
    on = access.today()
    return [to_read(r, parties[r.id], principal, on=on, sees_content=r.id in own) for r in reports]


async def get_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> ReportRead:
    """Any role with `reports:read` that sees the report (filer side, recipient, copy once sent); else 404."""
    report = await access.load_visible(session, principal, report_id)
    return (await reads(session, principal, [report]))[0]


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid for this list; start again without it.", errors=[{
        "pointer": "query/cursor", "source": "query", "type": "invalid_cursor", "message": "invalid cursor"}])


async def keyset(session: AsyncSession, stmt: Select[Any], *, scope: str, limit: int, cursor: str | None,
                 include_total: bool) -> tuple[list[Any], str | None, int | None]:
    """A page of `stmt` (whose first column is a Report) over (created_at, id)."""
    total = None
    if include_total:
        total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if cursor:
        values = decode_cursor(cursor, scope=scope)
        try:
            at, last_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (ValueError, TypeError, IndexError):
            raise _invalid_cursor() from None
        stmt = stmt.where(or_(Report.created_at > at, and_(Report.created_at == at, Report.id > last_id)))
    rows = list((await session.execute(stmt.order_by(Report.created_at, Report.id).limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)], scope=scope)
    return rows, next_cursor, total


async def list_reports(session: AsyncSession, principal: Principal, f: ReportFilter, *, limit: int,
                       cursor: str | None, include_total: bool) -> ReportPage:
    """Reports the caller sees, oldest first, filtered; `total` equals the rows the filter selects."""
    stmt = filtered(select(Report), principal, f, access.today())
    rows, next_cursor, total = await keyset(session, stmt, scope="reports", limit=limit, cursor=cursor,
                                            include_total=include_total)
    return ReportPage(items=await reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                      total=total)


async def report_history(session: AsyncSession, principal: Principal, report_id: uuid.UUID, *, limit: int,
                         cursor: str | None) -> HistoryPage:
    """The report's transitions, oldest first; whoever sees the report (404 otherwise)."""
    await access.load_visible(session, principal, report_id)
    return await history_page(session, "report", report_id, limit=limit, cursor=cursor)
