"""Re-addressing reports not yet filed when what their addressing resolves from changes (issue 5, item 2).

Recipients and copies are resolved from designations when an obligation is generated
(app/services/reports/resolution.py). When an admin changes a designation (which organisation is
a region's 环委办, its environment department, its 党委和政府), the reports of that region that
nobody has filed yet — `pending` and `draft`, a draft returned by its recipient included — are
resolved again against the new designations and their recipients and copies replaced. Filed
reports (submitted and after) keep whom they were sent to: "changing it never rewrites history"
(DOMAIN.md "Jurisdiction profiles"). The filers never change (they are the obligation's key).

The same happens when an organisation's own inputs to the resolution change (PATCH
/organisations/{id}, cause `organisation_change`): its `superior_department_id` (抄报 to the
superior department), its parent (the region whose 党委和政府 and offices it files with), or a
coordination body's member units (the office a member files with, 000 §(十)) — then the reports
filed inside that organisation, or by the member units that joined or left, are resolved again. A
move to another province leaves them alone: they are the old province's obligations.

Why a step inside the designation change rather than a separate action (design choice): done in
the same transaction, there is no moment at which a pending report is addressed to an
organisation that no longer fills the role, and nobody has to remember to run anything. A person
in charge (the vice-governor: a `leadership` member of the government, 000 §(十二), 004 §八) is not
stored on a report at all — the government is — so a change of person needs no re-addressing:
whoever holds the membership acts.

Each re-addressed report gets version + 1 (its ETag changes), one history row (`re_address`,
state unchanged, before/after parties in the payload) and one audit event. The UPDATE is
conditional on (id, version, unfiled state): a report submitted at the same moment either
commits first and is left alone, or waits and is then refused as stale (412), never half moved.
Reports whose rule the current profile no longer has are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.models import Organisation, RecipientKind, Report, ReportParty, TransitionHistory, utcnow
from app.models.report import UNFILED_STATUSES
from app.profiles import get_profile
from app.profiles.schema import LOCAL_RULE_SUFFIX, Profile, ReportRule
from app.services import audit
from app.services.reports import access
from app.services.reports.access import P, PartyRow
from app.services.reports.obligations import addressee_parties
from app.services.reports.resolution import Filer, Resolver

ACTION = "re_address"


@dataclass(frozen=True)
class Cause:
    """Why a report was re-addressed: the history row's payload `cause` and its comment."""

    code: str
    comment: str


DESIGNATION_CHANGE = Cause("designation_change", "designations changed; recipients and copies follow them")
# An organisation's own addressing inputs changed: its superior department (抄报 to 上级主管部门), its
# parent (which region's 党委和政府 and offices it reports to), or the member units of a coordination
# body (whose office a member files its work plan with, 000 §(十)).
ORGANISATION_CHANGE = Cause("organisation_change", "the organisation's superior, place in the tree or "
                            "coordination membership changed; recipients and copies follow it")


def rule_of(profile: Profile, rule_id: str) -> tuple[ReportRule | None, bool]:
    """The profile rule a report was generated from, and whether it is the rule's local analogy."""
    if not rule_id.startswith("reports."):
        return None, False  # hearing records: no recipient, nothing to re-address
    key = rule_id.removeprefix("reports.")
    local = key.endswith(LOCAL_RULE_SUFFIX)
    return profile.report(key.removesuffix(LOCAL_RULE_SUFFIX) if local else key), local


def _party_json(rows: list[tuple[Organisation | PartyRow, str, str]]) -> list[dict[str, Any]]:
    out = []
    for org, role, sent_by in rows:
        org_id = org.organisation_id if isinstance(org, PartyRow) else org.id
        out.append({"organisation_id": str(org_id), "name": org.name, "role": role, "sent_by": sent_by})
    return out


async def readdress_region(session: AsyncSession, principal: Principal, region: Organisation,
                           cause: Cause = DESIGNATION_CHANGE) -> int:
    """Re-resolve the recipients and copies of the unfiled reports filed inside `region` (all of
    the province's when it is the root); the number of reports whose addressing changed.

    Called after the change is flushed, in its transaction, by `designations.replace_designations`
    and by `organisations.update_organisation` (see ORGANISATION_CHANGE); the caller has checked the
    admin's authority. Never commits."""
    root = await session.get(Organisation, region.jurisdiction_id)
    profile = get_profile(root.profile_code) if root is not None and root.profile_code else None
    if root is None or profile is None:
        return 0
    stmt = select(Report).where(Report.jurisdiction_id == root.id, Report.status.in_(UNFILED_STATUSES),
                                Report.recipient_kind != RecipientKind.none)
    if region.id != root.id:
        stmt = stmt.where(within(Report.organisation_id, region.id))
    reports = list((await session.scalars(stmt.order_by(Report.id))).all())  # id order: a fixed lock order
    if not reports:
        return 0
    resolver = Resolver(session, root, profile)
    await resolver.load()
    parties = await access.parties_of(session, [r.id for r in reports])
    changed = 0
    for report in reports:
        changed += await _readdress_one(session, principal, region, resolver, profile, report, parties[report.id],
                                        cause)
    return changed


async def _readdress_one(session: AsyncSession, principal: Principal, region: Organisation, resolver: Resolver,
                         profile: Profile, report: Report, parties: list[PartyRow], cause: Cause) -> int:
    rule, local = rule_of(profile, report.rule_id)
    members = [resolver.orgs.get(p.organisation_id) for p in parties if p.role == P.filer]
    principal_filer = resolver.orgs.get(report.organisation_id)
    if rule is None or principal_filer is None or None in members:
        return 0  # a rule the profile dropped, or a filer since deactivated: left as it was
    filer = Filer(principal_filer, [m for m in members if m is not None], resolver.region_of(principal_filer),
                  local=local)
    addressing = await resolver.addressing(rule.recipient, rule.copies, filer)
    new = [(o, role.value, sent_by) for o, role, sent_by in addressee_parties(addressing)]
    old = [(p, p.role.value, p.sent_by) for p in parties if p.role != P.filer]
    if ([(o.id, r, s) for o, r, s in new] == [(p.organisation_id, r, s) for p, r, s in old]
            and addressing.recipient_label == report.recipient_label and addressing.unresolved == report.unresolved):
        return 0
    moved = await session.execute(
        update(Report).where(Report.id == report.id, Report.version == report.version,
                             Report.status.in_(UNFILED_STATUSES))
        .values(recipient_label=addressing.recipient_label, unresolved=addressing.unresolved,
                version=report.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return 0  # filed (or changed) meanwhile: it keeps whom it was sent to
    await session.execute(delete(ReportParty).where(ReportParty.report_id == report.id,
                                                    ReportParty.role != P.filer))
    first = len(members)
    if new:
        await session.execute(insert(ReportParty), [
            {"report_id": report.id, "organisation_id": o.id, "role": role, "sent_by": sent_by, "position": first + i}
            for i, (o, role, sent_by) in enumerate(new)])
    before = {"version": report.version, "recipient_label": report.recipient_label, "parties": _party_json(old),
              "unresolved": report.unresolved}
    after = {"version": report.version + 1, "recipient_label": addressing.recipient_label,
             "parties": _party_json(new), "unresolved": addressing.unresolved}
    actor = principal.actor
    status = report.status.value
    session.add(TransitionHistory(
        resource_type="report", resource_id=report.id, action=ACTION, from_status=status, to_status=status,
        actor_id=actor.id, actor_name=actor.name, acting_organisation_id=region.id,
        comment=f"{region.name}: {cause.comment}",
        payload=audit.jsonable({"cause": cause.code, "region_id": region.id,
                                "profile_version": profile.version, "before": before, "after": after}),
        occurred_at=utcnow()))
    audit.record(session, action=f"report.{ACTION}", resource_type="report", resource_id=report.id,
                 organisation_id=report.organisation_id, before=before, after=after)
    session.expire(report)
    return 1
