"""Who sees a report and what they may do with it.

Reading (DOMAIN.md "Users, roles and scope": recipients of a report and its copies can read
it; nothing else widens scope). A report is visible to a caller when one of its parties lies
in the caller's `reports:read` scope (`app.authz.scoping.in_scope`) and that party is
- a filer: in every state;
- a recipient: in every state (design choice: the recipient follows who has not filed yet —
  the compliance view — but sees the content only once it is submitted);
- a copy sent by the filer (抄报/抄送): from `submitted` on; a copy the recipient forwards
  (000 §(十) 并将相关情况抄送): from `received` on. A report returned to draft is out of
  the copies' sight again until it is resubmitted.
Outside that the report does not exist for the caller (404).

Acting: the roles the caller holds *at* the filing organisations and at the recipients
(`Principal.roles_at`), read by the workflow's guards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.calendar import DEFAULT_TIMEZONE, today_in_zone
from app.core.errors import NotFound
from app.models import Organisation, OrganisationKind, RecipientKind, Report, ReportParty, ReportPartyRole
from app.models.report import FILED_STATUSES, RECEIVED_STATUSES, UNFILED_STATUSES
from app.workflows.reports import ReportContext

READ = Permission.reports_read
P = ReportPartyRole


def today() -> date:
    """Today in the jurisdiction's zone (every shipped profile is Asia/Shanghai); tests pin it here."""
    return today_in_zone(DEFAULT_TIMEZONE)


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: the report is visible to the caller (see the module docstring)."""
    party = aliased(ReportParty)
    copy_readable = or_(and_(party.sent_by == "filer", Report.status.in_(FILED_STATUSES)),
                        and_(party.sent_by == "recipient", Report.status.in_(RECEIVED_STATUSES)))
    return exists().where(party.report_id == Report.id, in_scope(party.organisation_id, principal, READ),
                          or_(party.role.in_((P.filer, P.recipient)), copy_readable))


def overdue_clause(on: date) -> ColumnElement[bool]:
    """Not submitted and past its due date (DOMAIN.md: `overdue` = not submitted by the due date)."""
    return and_(Report.status.in_(UNFILED_STATUSES), Report.due_date.is_not(None), Report.due_date < on)


def is_overdue(report: Report, on: date) -> bool:
    return report.status.value in UNFILED_STATUSES and report.due_date is not None and report.due_date < on


def not_found() -> NotFound:
    return NotFound("No such report.")


async def load_visible(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    report = await session.scalar(select(Report).where(Report.id == report_id, visible(principal)))
    if report is None:
        raise not_found()
    return report


@dataclass(frozen=True)
class PartyRow:
    organisation_id: uuid.UUID
    name: str
    role: ReportPartyRole
    sent_by: str
    kind: OrganisationKind
    parent_id: uuid.UUID | None


async def parties_of(session: AsyncSession, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PartyRow]]:
    """Every party of the given reports, with names, in one query."""
    out: dict[uuid.UUID, list[PartyRow]] = {i: [] for i in report_ids}
    if report_ids:
        rows = await session.execute(
            select(ReportParty.report_id, ReportParty.organisation_id, Organisation.name, ReportParty.role,
                   ReportParty.sent_by, Organisation.kind, Organisation.parent_id)
            .join(Organisation, Organisation.id == ReportParty.organisation_id)
            .where(ReportParty.report_id.in_(report_ids)).order_by(ReportParty.report_id, ReportParty.position))
        for r in rows:
            out[r.report_id].append(PartyRow(r.organisation_id, r.name, r.role, r.sent_by, r.kind, r.parent_id))
    return out


async def filer_side(session: AsyncSession, principal: Principal, report_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The reports among these whose filer lies in the caller's scope (they see drafts' content)."""
    if not report_ids:
        return set()
    rows = await session.scalars(select(ReportParty.report_id).where(
        ReportParty.report_id.in_(report_ids), ReportParty.role == P.filer,
        in_scope(ReportParty.organisation_id, principal, READ)).distinct())
    return set(rows)


def _roles(principal: Principal, org_ids: list[uuid.UUID]) -> frozenset[str]:
    return frozenset(r.value for o in org_ids for r in principal.roles_at(o))


def context(report: Report, parties: list[PartyRow], principal: Principal) -> ReportContext:
    filers = [p.organisation_id for p in parties if p.role == P.filer]
    recipients = [p for p in parties if p.role == P.recipient]
    acceptors = [p.organisation_id for p in recipients]
    if report.recipient_arranges_approval:
        # 000 §(十) 统筹报批: the office puts the plan to the body it serves, whose leadership approves.
        acceptors += [p.parent_id for p in recipients if p.kind == OrganisationKind.coordination_office
                      and p.parent_id]
    name = report.recipient_label or "the recipient"
    return ReportContext(
        has_recipient=report.recipient_kind != RecipientKind.none, filing_only=report.filing_only,
        publishable=report.publication_where is not None, roles_at_filer=_roles(principal, filers),
        roles_at_recipient=_roles(principal, [p.organisation_id for p in recipients]),
        roles_at_acceptor=_roles(principal, acceptors), recipient_name=name)


def acting_organisation(parties: list[PartyRow], principal: Principal, roles: set[str]) -> uuid.UUID | None:
    """The filer or recipient organisation at which the caller holds one of `roles` (for the history row)."""
    for party in parties:
        if party.role in (P.filer, P.recipient) and {r.value for r in principal.roles_at(party.organisation_id)} \
                & roles:
            return party.organisation_id
    return None
