"""Ad hoc reports (及时, no schedule): filed as things happen, so nothing generates them.

004 §八: 省政府各部门…应及时向省政府分管领导同志报告 — a rule whose period is `as_needed`. Staff
of a filing organisation the rule names open one (in `draft`) and it then follows the same
workflow as any report; it has no period (NULL), so any number of them may be filed.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import PermissionDenied, ValidationFailed
from app.models import Organisation, ReportKind, ReportParty, ReportStatus, Role
from app.models.report import Report
from app.profiles import get_profile
from app.profiles.schema import ReportPeriod
from app.schemas.reports import ReportCreate, ReportRead
from app.services import audit
from app.services.reports import access, content, queries
from app.services.reports.obligations import Period, candidate
from app.services.reports.resolution import Resolver


def _refused(pointer: str, type_: str, message: str) -> ValidationFailed:
    return ValidationFailed("One or more fields are invalid; see errors.", errors=[{
        "pointer": pointer, "source": "body", "type": type_, "message": message}])


async def create_ad_hoc(session: AsyncSession, principal: Principal, body: ReportCreate) -> ReportRead:
    """Staff of the filer open an ad hoc report under their profile's `as_needed` rule.

    422 `unknown_organisation` for an organisation outside the caller's `reports:write` scope,
    `not_an_ad_hoc_rule` for a rule the province's profile lacks or that is scheduled,
    `not_a_filer` when the rule does not name this organisation; then 403 unless the caller is
    staff of the filer."""
    org = await session.scalar(select(Organisation).where(
        Organisation.id == body.organisation_id, Organisation.is_active.is_(True),
        in_scope(Organisation.id, principal, Permission.reports_write)))
    if org is None:
        raise _refused("/organisation_id", "unknown_organisation", "unknown organisation")
    root = await session.get(Organisation, org.jurisdiction_id)
    profile = get_profile(root.profile_code) if root is not None and root.profile_code else None
    rule = profile.report(body.rule_id.removeprefix("reports.")) if profile else None
    if root is None or profile is None or rule is None or rule.period != ReportPeriod.as_needed:
        raise _refused("/rule_id", "not_an_ad_hoc_rule",
                       "not an ad hoc (as needed) report rule of this province's profile")
    resolver = Resolver(session, root, profile)
    await resolver.load()
    filers, _ = await resolver.filers(rule.filers)
    filer = next((f for f in filers if org.id in {m.id for m in f.members}), None)
    if filer is None:
        raise _refused("/organisation_id", "not_a_filer", f"{rule.clause} does not name this organisation")
    if not any(Role.staff in principal.roles_at(m.id) for m in filer.members):
        raise PermissionDenied("Only staff of the filing organisation open an ad hoc report.")
    on = access.today()
    made = candidate(profile, root, rule_id=f"reports.{rule.id}", clause=rule.clause, kind=ReportKind.ad_hoc,
                     filer=filer, period=Period(None, on.year, None, None, ""),
                     due=profile.due(rule.due, period_year=on.year),
                     addressing=await resolver.addressing(rule.recipient, rule.copies, filer), title="",
                     content=[c.value for c in rule.content], created_by=principal.actor.id)
    row = {**made.row, "title": body.title, "status": ReportStatus.draft,
           "content": content.stored(body.content) if body.content else {}}
    report = Report(**row)
    if body.content:
        await content.check_shape(session, report, body.content)
    await session.execute(insert(Report).values(row))
    await session.execute(insert(ReportParty), [
        {"report_id": row["id"], "organisation_id": o.id, "role": role, "sent_by": sent_by, "position": i}
        for i, (o, role, sent_by) in enumerate(made.parties)])
    audit.record(session, action="report.create", resource_type="report", resource_id=row["id"],
                 organisation_id=org.id, after={"rule_id": row["rule_id"], "title": body.title,
                                                "status": "draft"})
    return await queries.get_report(session, principal, row["id"])
