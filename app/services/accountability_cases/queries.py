"""Reading accountability cases: one, pages, history (parties only: app/services/accountability_cases/access.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import within
from app.models import AccountabilityCase, CaseParty, EscalationFinding
from app.schemas.accountability_cases import CaseFilter, CasePage, CaseRead
from app.schemas.escalations import PersonRead
from app.schemas.history import HistoryPage
from app.services import history
from app.services.accountability_cases import access
from app.services.inspections.access import briefs
from app.services.paging import keyset_page
from app.workflows.accountability_cases import CASE_WORKFLOW
from app.workflows.engine import allowed_actions


async def to_reads(session: AsyncSession, principal: Principal, rows: Sequence[AccountabilityCase]) -> list[CaseRead]:
    if not rows:
        return []
    links: dict[uuid.UUID, list[uuid.UUID]] = {c.escalation_id: [] for c in rows}
    for link in (await session.scalars(select(EscalationFinding).where(
            EscalationFinding.escalation_id.in_(list(links))).order_by(EscalationFinding.finding_id))).all():
        links[link.escalation_id].append(link.finding_id)
    names = await briefs(session, {*(c.handing_over_organisation_id for c in rows),
                                   *(c.responsible_organisation_id for c in rows),
                                   *(c.receiving_organisation_id for c in rows)})
    reads = []
    for c in rows:
        ctx, roles = access.context_for(principal, c)
        reads.append(CaseRead(
            id=c.id, jurisdiction_id=c.jurisdiction_id, escalation_id=c.escalation_id, status=c.status,
            version=c.version, path=c.path, clause=c.clause, title=c.title,
            handing_over_organisation=names[c.handing_over_organisation_id],
            responsible_organisation=names[c.responsible_organisation_id],
            receiving_body_kind=c.receiving_body_kind,
            receiving_organisation=names.get(c.receiving_organisation_id) if c.receiving_organisation_id else None,
            persons_concerned=[PersonRead(name=p["name"], title=p.get("title"), organisation_id=p.get("organisation_id"))
                               for p in c.persons_concerned or []],
            finding_ids=links[c.escalation_id], cause=c.cause, course=c.course, consequences=c.consequences,
            impact=c.impact, rectification=c.rectification, responsibility_determination=c.responsibility_determination,
            internal_measure=c.internal_measure, outcome=c.outcome, transferred_at=c.transferred_at,
            accepted_at=c.accepted_at, concluded_at=c.concluded_at,
            allowed_actions=allowed_actions(CASE_WORKFLOW, c.status, roles, ctx),
            created_at=c.created_at, updated_at=c.updated_at))
    return reads


async def to_read(session: AsyncSession, principal: Principal, case: AccountabilityCase) -> CaseRead:
    return (await to_reads(session, principal, [case]))[0]


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> CaseRead:
    return await to_read(session, principal, await access.load_visible(session, principal, case_id))


async def list_cases(session: AsyncSession, principal: Principal, f: CaseFilter, *, limit: int, cursor: str | None,
                     include_total: bool) -> CasePage:
    """Cases the caller may read (its parties only), oldest first."""
    stmt = select(AccountabilityCase).where(access.visible(principal))
    for column, value in ((AccountabilityCase.status, f.status),
                          (AccountabilityCase.receiving_body_kind, f.receiving_body_kind)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.organisation_id is not None:
        stmt = stmt.where(exists().where(CaseParty.case_id == AccountabilityCase.id,
                                         within(CaseParty.organisation_id, f.organisation_id)))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(AccountabilityCase.created_at, AccountabilityCase.id), kinds=("ts", "id"),
        scope="accountability_cases", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    return CasePage(items=await to_reads(session, principal, [r[0] for r in rows]), next_cursor=next_cursor,
                    total=total)


async def case_history(session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, limit: int,
                       cursor: str | None) -> HistoryPage:
    await access.load_visible(session, principal, case_id)
    return await history.history_page(session, access.RESOURCE, case_id, limit=limit, cursor=cursor)
