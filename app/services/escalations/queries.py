"""Reading escalations: one, pages, history, those of a finding.

Any role with `escalations:read` whose scope covers a party (issuer, decider, addressee); 404
otherwise. Pages are keyset pages over (created_at, id); a page's read models cost a fixed
number of statements (parties, names, one per link kind — findings, reports, duty lists —, cases).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.core.calendar import today_in_zone
from app.models import (
    AccountabilityCase,
    Escalation,
    EscalationKind,
    EscalationParty,
    EscalationPartyRole,
    EscalationStatus,
)
from app.schemas.escalations import (
    EscalationFilter,
    EscalationPage,
    EscalationRead,
    FindingEscalationFilter,
    PersonRead,
)
from app.schemas.history import HistoryPage
from app.services import history
from app.services.escalations import access, links
from app.services.findings import access as findings_access
from app.services.inspections.access import briefs
from app.services.paging import keyset_page
from app.workflows.engine import allowed_actions
from app.workflows.escalations import ESCALATION_WORKFLOW

P = EscalationPartyRole


def overdue(escalation: Escalation, today: date) -> bool:
    """An urge (督办) issued and not answered by its reply deadline."""
    return bool(escalation.kind == EscalationKind.urge and escalation.status == EscalationStatus.issued
                and escalation.reply_deadline and escalation.reply_deadline < today)


async def to_reads(session: AsyncSession, principal: Principal, rows: Sequence[Escalation]) -> list[EscalationRead]:
    if not rows:
        return []
    ids = [e.id for e in rows]
    parties = await access.parties_of(session, ids)
    linked = await links.links_of(session, ids)
    case_of = dict((await session.execute(select(AccountabilityCase.escalation_id, AccountabilityCase.id).where(
        AccountabilityCase.escalation_id.in_(ids)))).all())
    names = await briefs(session, {*(o for p in parties.values() for orgs in p.values() for o in orgs),
                                   *(e.issuing_organisation_id for e in rows)})
    today = today_in_zone()
    reads = []
    for e in rows:
        p = parties[e.id]
        ctx, roles = access.context_for(principal, e, p)
        reads.append(EscalationRead(
            id=e.id, jurisdiction_id=e.jurisdiction_id, kind=e.kind, status=e.status, version=e.version,
            title=e.title, content=e.content, issuing_organisation=names[e.issuing_organisation_id],
            deciding_organisations=[names[o] for o in p.get(P.decider, [])],
            addressee_organisations=[names[o] for o in p.get(P.addressee, [])],
            addressee_persons=[PersonRead(name=x["name"], title=x.get("title"),
                                          organisation_id=x.get("organisation_id")) for x in e.addressee_persons or []],
            finding_ids=linked[e.id].finding_ids, report_ids=linked[e.id].report_ids,
            duty_list_ids=linked[e.id].duty_list_ids, reply_deadline=e.reply_deadline, overdue=overdue(e, today),
            summons_form=e.summons_form, public=e.public, clause=e.clause, proposed_at=e.proposed_at,
            issued_at=e.issued_at, decided_at=e.decided_at, decision_comment=e.decision_comment, reply=e.reply,
            replied_at=e.replied_at, accountability_case_id=case_of.get(e.id),
            allowed_actions=allowed_actions(ESCALATION_WORKFLOW, e.status, roles, ctx),
            created_at=e.created_at, updated_at=e.updated_at))
    return reads


async def to_read(session: AsyncSession, principal: Principal, escalation: Escalation) -> EscalationRead:
    return (await to_reads(session, principal, [escalation]))[0]


async def get_escalation(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID) -> EscalationRead:
    return await to_read(session, principal, await access.load_visible(session, principal, escalation_id))


async def list_escalations(session: AsyncSession, principal: Principal, f: EscalationFilter | FindingEscalationFilter, *, limit: int,
                           cursor: str | None, include_total: bool,
                           finding_id: uuid.UUID | None = None) -> EscalationPage:
    """Escalations the caller may read, oldest first; `finding_id` (the sub-collection), and a `report_id` or
    `duty_list_id` filtered on, must be visible (404 otherwise)."""
    if finding_id is not None:
        await findings_access.load_visible(session, principal, finding_id)
    stmt = select(Escalation).where(access.visible(principal))
    for column, value in ((Escalation.kind, f.kind), (Escalation.status, f.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.organisation_id is not None:
        stmt = stmt.where(exists().where(EscalationParty.escalation_id == Escalation.id,
                                         within(EscalationParty.organisation_id, f.organisation_id)))
    stmt = await links.filter_by(session, principal, stmt,
                                 finding_ids={x for x in (f.finding_id, finding_id) if x is not None},
                                 report_id=f.report_id, duty_list_id=f.duty_list_id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(Escalation.created_at, Escalation.id), kinds=("ts", "id"), scope="escalations",
        limit=limit, cursor=cursor, include_total=include_total, key_values=lambda r: (r[0].created_at, r[0].id))
    return EscalationPage(items=await to_reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                          total=total)


async def escalation_history(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID, *, limit: int,
                             cursor: str | None) -> HistoryPage:
    await access.load_visible(session, principal, escalation_id)
    return await history.history_page(session, access.RESOURCE, escalation_id, limit=limit, cursor=cursor)
