"""Who sees a finding, and what the workflow guards know about a caller and a finding.

Reading (`findings:read`): members whose scope covers any of the finding's parties: its
responsible (主责), lead or cooperating organisations, its rectification office, its
inspecting body (one EXISTS over `finding_party`, as lead decisions do over their
parties). Everyone else gets 404 (existence does not leak).

Roles count AT an organisation: `office` at the rectification office, `leader`/`staff`
at the responsible organisation, `inspector` at the inspecting body
(app/workflows/findings.py). The facts the guards need about many findings (measure
counts, a pending extension) are read for a whole page at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.calendar import today_in_zone
from app.core.errors import NotFound
from app.models import (
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    FindingParty,
    FindingPartyRole,
    Measure,
    MeasureStatus,
    RectificationType,
)
from app.workflows.findings import FINDING_WORKFLOW, RECTIFYING_STATES, FindingContext

READ = Permission.findings_read
WRITE = Permission.findings_write
RESOURCE = "finding"
_UNFINISHED_MEASURES = (MeasureStatus.open, MeasureStatus.cannot_complete_requested)


def not_found() -> NotFound:
    return NotFound("No such finding.")


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: findings the caller may read."""
    return exists().where(FindingParty.finding_id == Finding.id,
                          in_scope(FindingParty.organisation_id, principal, READ))


async def load_visible(session: AsyncSession, principal: Principal, finding_id: uuid.UUID) -> Finding:
    found = await session.scalar(select(Finding).where(Finding.id == finding_id, visible(principal))
                                 .execution_options(populate_existing=True))
    if found is None:
        raise not_found()
    return found


@dataclass
class Facts:
    """What a finding's read model and guards need beyond its own row."""

    counts: dict[str, int] = field(default_factory=dict)  # measures by status
    overdue_measures: int = 0
    pending_extension: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def settled(self) -> bool:
        """At least one measure, and none open or awaiting confirmation: closure may be requested."""
        return self.total > 0 and not any(self.counts.get(s.value, 0) for s in _UNFINISHED_MEASURES)


async def facts_for(session: AsyncSession, findings: Sequence[Finding]) -> dict[uuid.UUID, Facts]:
    ids = [f.id for f in findings]
    facts = {i: Facts() for i in ids}
    if not ids:
        return facts
    today = today_in_zone()
    late = case((Measure.status.in_(_UNFINISHED_MEASURES) & (Measure.deadline < today), 1), else_=0)
    rows = await session.execute(select(Measure.finding_id, Measure.status, func.count(), func.sum(late))
                                 .where(Measure.finding_id.in_(ids)).group_by(Measure.finding_id, Measure.status))
    for finding_id, status, count, overdue in rows.all():
        facts[finding_id].counts[status.value if hasattr(status, "value") else str(status)] = count
        facts[finding_id].overdue_measures += int(overdue or 0)
    pending = await session.scalars(select(ExtensionRequest.finding_id).where(
        ExtensionRequest.finding_id.in_(ids), ExtensionRequest.status == ExtensionStatus.pending))
    for finding_id in pending.all():
        facts[finding_id].pending_extension = True
    return facts


def roles_at(principal: Principal, organisation_id: uuid.UUID | None) -> frozenset[str]:
    if organisation_id is None:
        return frozenset()
    return frozenset(r.value for r in principal.roles_at(organisation_id))


def context_for(principal: Principal, finding: Finding, facts: Facts,
                office_name: str = "the rectification office") -> tuple[FindingContext, frozenset[str]]:
    """The guards' context for this caller and finding, and the roles that count for it."""
    ctx = FindingContext(
        roles_at_office=roles_at(principal, finding.rectification_office_id),
        roles_at_responsible=roles_at(principal, finding.responsible_organisation_id),
        roles_at_inspecting_body=roles_at(principal, finding.inspecting_body_id),
        long_term=finding.rectification_type == RectificationType.long_term,
        started=finding.rectification_started_on is not None, measures_settled=facts.settled,
        has_deadline=finding.deadline is not None, pending_extension=facts.pending_extension,
        office_name=office_name)
    return ctx, ctx.roles_at_office | ctx.roles_at_responsible | ctx.roles_at_inspecting_body


def acting_organisation(principal: Principal, finding: Finding, action: str) -> uuid.UUID | None:
    """The finding's organisation at which the caller holds a role the action needs."""
    needed = set().union(*(t.roles for t in FINDING_WORKFLOW.transitions_for(action)))
    for org_id in (finding.rectification_office_id, finding.responsible_organisation_id, finding.inspecting_body_id):
        if org_id is not None and needed & roles_at(principal, org_id):
            return org_id
    return None


def rectifying(finding: Finding) -> bool:
    """The responsible organisation is working on it: measures move, progress is reported."""
    return finding.status.value in RECTIFYING_STATES and finding.rectification_started_on is not None


def audit_organisation(finding: Finding) -> uuid.UUID:
    """Where the finding's audit events are filed: its responsible organisation once assigned."""
    return finding.responsible_organisation_id or finding.rectification_office_id


# The parties a read model lists; the others (responsible, office, inspecting body) are columns of the finding.
_LISTED_ROLES = (FindingPartyRole.lead, FindingPartyRole.cooperating)


async def parties_of(session: AsyncSession, ids: Sequence[uuid.UUID]
                     ) -> dict[uuid.UUID, dict[FindingPartyRole, list[uuid.UUID]]]:
    """The lead and cooperating organisations of each finding, in their order (plain rows, no entities:
    a page has three to five party rows per finding)."""
    out: dict[uuid.UUID, dict[FindingPartyRole, list[uuid.UUID]]] = {i: {} for i in ids}
    if ids:
        rows = await session.execute(
            select(FindingParty.finding_id, FindingParty.role, FindingParty.organisation_id)
            .where(FindingParty.finding_id.in_(ids), FindingParty.role.in_(_LISTED_ROLES))
            .order_by(FindingParty.position))
        for finding_id, role, organisation_id in rows.all():
            out[finding_id].setdefault(FindingPartyRole(role), []).append(organisation_id)
    return out
