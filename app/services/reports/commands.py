"""Changing reports: generating obligations, editing a draft's content, and the workflow actions.

Every action goes through the generic step (`app.services.transitions.apply_transition`):
conditional UPDATE on (id, version, status), one history row, one audit event. The caller
must see the report (404 otherwise, `access.visible`); which role at which organisation may
take each step is the workflow table's (app/workflows/reports.py): 403 for the wrong
role or organisation, 409 for the wrong state, both naming the allowed actions; If-Match is
required (428) and must be current (412).
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import DEFAULT_TIMEZONE, calendar_covers, is_rest_day
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.core.etag import check_if_match, make_etag
from app.models import Organisation, Report, ReportStatus, Role, utcnow
from app.models.report import UNFILED_STATUSES
from app.profiles import OrgRole, get_profile
from app.schemas.reports import (
    ReportDueDateSet,
    ReportGenerate,
    ReportGenerationRead,
    ReportRead,
    ReportUpdate,
)
from app.services import audit, designations, events
from app.services.reports import access, content, queries
from app.services.reports.obligations import generate_for
from app.services.transitions import apply_transition
from app.services.versioned import update_if_current
from app.workflows.engine import check
from app.workflows.reports import REPORT_WORKFLOW

# The offices that coordinate a province's reporting and may generate its obligations: the
# 督察领导小组办公室 (000 §(八)(九)(十)) and the 环委办 (002 §(十), 003 §(十一)).
GENERATING_OFFICES = (OrgRole.inspection_office, OrgRole.environment_committee_office)


class NotEditable(Conflict):
    code, title = "report_not_editable", "Report is not editable"


def _unknown_jurisdiction() -> ValidationFailed:
    return ValidationFailed("No such province: give the id of a root organisation with a profile.", errors=[{
        "pointer": "/jurisdiction_id", "source": "body", "type": "unknown_jurisdiction",
        "message": "not a province you belong to, or it has no jurisdiction profile"}])


async def generate(session: AsyncSession, principal: Principal, body: ReportGenerate) -> ReportGenerationRead:
    """Create a province's missing report obligations for a year (idempotent: a rerun creates nothing).

    For an admin whose membership is at the province's root, or the office of the organisation
    designated as the province's 督察领导小组办公室 or 环委办; 403 for anyone else with a membership
    in the province; 422 `unknown_jurisdiction` for a province the caller has no membership in, an
    organisation that is not a root, or a root without a profile."""
    root = await session.get(Organisation, body.jurisdiction_id)
    grant_orgs = [g.organisation_id for g in principal.grants]
    member = root is not None and grant_orgs and await session.scalar(select(func.count()).select_from(
        Organisation).where(Organisation.id.in_(grant_orgs), Organisation.jurisdiction_id == root.id))
    profile = get_profile(root.profile_code) if root is not None and root.profile_code else None
    if root is None or root.parent_id is not None or not root.is_active or not member or profile is None:
        raise _unknown_jurisdiction()
    allowed = Role.admin in principal.roles_at(root.id)
    for role in GENERATING_OFFICES:
        offices = await designations.resolve(session, root.id, role)
        allowed = allowed or any(Role.office in principal.roles_at(o.id) for o in offices)
    if not allowed:
        raise PermissionDenied("Only the province's administrators or its coordinating office (督察领导小组办公室, "
                               "环委办) generate report obligations.")
    return await generate_for(session, root, profile, body.year, created_by=principal.actor.id)


async def _for_write(session: AsyncSession, principal: Principal, report_id: uuid.UUID,
                     if_match: str | None) -> Report:
    report = await access.load_visible(session, principal, report_id)
    check_if_match(if_match, report.id, report.version)
    return report


async def update_content(session: AsyncSession, principal: Principal, report_id: uuid.UUID, body: ReportUpdate,
                         if_match: str | None) -> ReportRead:
    """Replace a draft's content: staff or leader of the filer, while the report is `draft`.

    404 out of sight, 428/412 If-Match, 403 for anyone else, 409 `report_not_editable` in any
    other state, 422 for content the kind does not take (app/services/reports/content.py)."""
    report = await _for_write(session, principal, report_id, if_match)
    parties = (await access.parties_of(session, [report.id]))[report.id]
    ctx = access.context(report, parties, principal)
    if not {Role.staff.value, Role.leader.value} & ctx.roles_at_filer:
        raise PermissionDenied("Only staff or a leader of the filing organisation edit a report's content.")
    if report.status != ReportStatus.draft:
        raise NotEditable(f"The content can be changed only while the report is a draft, not {report.status.value}.",
                          allowed_actions=queries.to_read(report, parties, principal, on=access.today(),
                                                          sees_content=True).allowed_actions)
    await content.check_shape(session, report, body.content)
    before = {"version": report.version, "content": report.content}
    await update_if_current(session, report, Report.status == report.status, noun="report",
                            content=content.stored(body.content))
    audit.record(session, action="report.update", resource_type="report", resource_id=report.id,
                 organisation_id=report.organisation_id, before=before,
                 after={"version": report.version, "content": report.content})
    return await queries.get_report(session, principal, report.id)


class DueDateFixed(Conflict):
    code, title = "report_due_date_fixed", "The text fixes this due date"


class AlreadyFiled(Conflict):
    code, title = "report_already_filed", "Report already filed"


async def _setting_office(session: AsyncSession, principal: Principal, report: Report,
                         parties: list[access.PartyRow]) -> uuid.UUID | None:
    """The organisation at which the caller is the office allowed to date this report: a recipient
    (the body it goes to), else the province's 督察领导小组办公室 or 环委办. None when there is none."""
    for party in parties:
        if party.role == access.P.recipient and Role.office in principal.roles_at(party.organisation_id):
            return party.organisation_id
    for role in GENERATING_OFFICES:
        for office in await designations.resolve(session, report.jurisdiction_id, role):
            if Role.office in principal.roles_at(office.id):
                return office.id
    return None


async def set_due_date(session: AsyncSession, principal: Principal, report_id: uuid.UUID, body: ReportDueDateSet,
                       if_match: str | None) -> ReportRead:
    """Give an undated obligation (定期, 及时, 每年 without a day) a due date by hand.

    DOMAIN.md "Jurisdiction profiles": the texts leave some obligations undated and "an office can
    set one by hand; the API shows which" (`due.set_by_hand`). For the office of a recipient or of
    the province's 督察领导小组办公室 / 环委办 (403 for anyone else); only while the report is not yet
    filed (409 `report_already_filed`: lateness is judged against the date known when it was
    filed) and only where the text gives no date (409 `report_due_date_fixed`: a date the profile
    computes from the text is never overridden). Setting it again replaces the hand-set date.
    The day stays as given; a weekend or holiday is flagged, as computed dates are."""
    report = await _for_write(session, principal, report_id, if_match)
    parties = (await access.parties_of(session, [report.id]))[report.id]
    office = await _setting_office(session, principal, report, parties)
    if office is None:
        raise PermissionDenied("Only the office the report goes to, or the province's coordinating office "
                               "(督察领导小组办公室, 环委办), sets a due date by hand.")
    if not report.undated:
        raise DueDateFixed(f"The text fixes this report's due date ({report.due_rule_text}); it cannot be set by "
                           "hand.")
    if report.status.value not in UNFILED_STATUSES:
        raise AlreadyFiled(f"The report is already {report.status.value}; its due date no longer changes.")
    before = {"version": report.version, "due_date": report.due_date}
    await update_if_current(session, report, Report.status == report.status, noun="report",
                            due_date=body.due_date, due_on_rest_day=is_rest_day(body.due_date),
                            due_calendar_estimated=not calendar_covers(body.due_date.year), due_set_at=utcnow(),
                            due_set_by_organisation_id=office)
    audit.record(session, action="report.set_due_date", resource_type="report", resource_id=report.id,
                 organisation_id=report.organisation_id, before=before,
                 after={"version": report.version, "due_date": report.due_date,
                        "set_by_organisation_id": office, "comment": body.comment})
    return await queries.get_report(session, principal, report.id)


def _now_fields(action: str, report: Report, body: Any) -> dict[str, Any]:
    now = utcnow()
    if action == "submit":
        on = now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
        late = report.submitted_late or (report.due_date is not None and on > report.due_date)
        return {"submitted_at": now, "submitted_on": on, "submitted_late": late}
    extra = {"receive": {"received_at": now}, "accept": {"accepted_at": now}}.get(action, {})
    if action == "publish":
        extra = {"published_at": now, "published_on": now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date(),
                 "portal_url": getattr(body, "portal_url", None)}
    return extra


async def act(session: AsyncSession, principal: Principal, report_id: uuid.UUID, action: str, body: Any,
              if_match: str | None) -> ReportRead:
    """Take a workflow action (start, submit, receive, accept, publish, return): see the module docstring.

    `submit` also needs the content the profile asks for (422 `report_incomplete`) and records
    `submitted_late` when it comes after the due date (never cleared afterwards)."""
    report = await _for_write(session, principal, report_id, if_match)
    parties = (await access.parties_of(session, [report.id]))[report.id]
    ctx = access.context(report, parties, principal)
    roles = set(ctx.roles_at_filer | ctx.roles_at_recipient | ctx.roles_at_acceptor)
    comment = getattr(body, "comment", None)
    transition = check(REPORT_WORKFLOW, action, report.status, roles, ctx, comment)
    if action == "submit":
        content.require_complete(report)
    row = await apply_transition(
        session, table=REPORT_WORKFLOW, model=Report, record_id=report.id, action=action, principal=principal,
        caller_roles=roles, expected_version=report.version, comment=comment, ctx=ctx,
        organisation_id=report.organisation_id,
        acting_organisation_id=access.acting_organisation(parties, principal, set(transition.roles)),
        extra_values=_now_fields(action, report, body),
        payload={"portal_url": body.portal_url} if action == "publish" and body and body.portal_url else None)
    if event_type := {"submit": "report.submitted", "return": "report.returned"}.get(action):
        await events.emit(session, event_type, ("report", row.id), report.organisation_id, {"status": row.status})
    return await queries.get_report(session, principal, row.id)


def etag(read: ReportRead) -> str:
    return make_etag(read.id, read.version)
