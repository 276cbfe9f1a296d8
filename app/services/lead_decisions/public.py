"""Published lead decisions for anonymous readers (`/public/lead-decisions`).

000 §(八) "通过省政府门户网站向社会公开", 002 §(六) / 004 §五 "依法依规向社会公开", 003 §(七)
"并向社会公开": what is published is the decided lead. Only `published` decisions are read here,
and only the fields of `PublicLeadDecisionRead`: never opinions, the rationale, the requester,
participants or anything about decisions not yet published (they are simply not found).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import encode_cursor
from app.models import LeadDecision, LeadDecisionParty, LeadDecisionStatus, Organisation, PartyRole
from app.schemas.public_lead_decisions import (
    PublicLeadDecisionFilter,
    PublicLeadDecisionPage,
    PublicLeadDecisionRead,
    PublicOrganisationRef,
    PublicTaskRead,
)
from app.services.lead_decisions.queries import cursor_values

SCOPE = "public/lead-decisions"
PUBLISHED = LeadDecision.status == LeadDecisionStatus.published


async def _to_public(session: AsyncSession, decisions: Sequence[LeadDecision]) -> list[PublicLeadDecisionRead]:
    ids = [d.id for d in decisions]
    parties: dict[uuid.UUID, dict[PartyRole, list[PublicOrganisationRef]]] = {i: {} for i in ids}
    if ids:
        rows = await session.execute(
            select(LeadDecisionParty.decision_id, LeadDecisionParty.role, Organisation.id, Organisation.name)
            .join(Organisation, Organisation.id == LeadDecisionParty.organisation_id)
            .where(LeadDecisionParty.decision_id.in_(ids),
                   LeadDecisionParty.role.in_((PartyRole.lead, PartyRole.cooperating)))
            .order_by(LeadDecisionParty.position))
        for decision_id, role, org_id, name in rows:
            parties[decision_id].setdefault(role, []).append(PublicOrganisationRef(id=org_id, name=name))
    wanted = {d.region_id for d in decisions} | {uuid.UUID(t["organisation_id"]) for d in decisions
                                                 for t in d.task_split or []}
    names = dict((await session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(wanted)))).all()) if wanted else {}
    out = []
    for d in decisions:
        leads = parties[d.id].get(PartyRole.lead, [])
        first = next((o for o in leads if o.id == d.first_lead_organisation_id), None)
        out.append(PublicLeadDecisionRead(
            id=d.id, title=d.title, description=d.description, level=d.level,
            region_name=names.get(d.region_id, ""), lead_organisations=leads, first_lead_organisation=first,
            cooperating_organisations=parties[d.id].get(PartyRole.cooperating, []),
            task_split=[PublicTaskRead(organisation_id=t["organisation_id"], task=t["task"],
                                       organisation_name=names.get(uuid.UUID(t["organisation_id"]), ""))
                        for t in d.task_split or []],
            published_on=d.published_on, portal_url=d.portal_url or ""))
    return out


async def get_public(session: AsyncSession, decision_id: uuid.UUID) -> PublicLeadDecisionRead:
    """A published decision; 404 for any other (unpublished ones do not exist here)."""
    decision = await session.scalar(select(LeadDecision).where(LeadDecision.id == decision_id, PUBLISHED))
    if decision is None:
        raise NotFound("No such published lead decision.")
    return (await _to_public(session, [decision]))[0]


async def list_public(session: AsyncSession, f: PublicLeadDecisionFilter, *, limit: int, cursor: str | None,
                      include_total: bool) -> PublicLeadDecisionPage:
    """Published decisions, most recently published first, filtered. 422 for a bad cursor."""
    stmt = select(LeadDecision).where(PUBLISHED)
    if f.jurisdiction_id is not None:
        stmt = stmt.where(LeadDecision.jurisdiction_id == f.jurisdiction_id)
    if f.lead_organisation_id is not None:
        stmt = stmt.where(select(LeadDecisionParty.decision_id).where(
            LeadDecisionParty.decision_id == LeadDecision.id, LeadDecisionParty.role == PartyRole.lead,
            LeadDecisionParty.organisation_id == f.lead_organisation_id).exists())
    if f.q:
        stmt = stmt.where(LeadDecision.title.icontains(f.q, autoescape=True))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) if include_total else None
    if cursor:
        at, last_id = cursor_values(cursor, SCOPE)
        stmt = stmt.where(or_(LeadDecision.published_at < at,
                              and_(LeadDecision.published_at == at, LeadDecision.id < last_id)))
    rows = list((await session.scalars(stmt.order_by(LeadDecision.published_at.desc(), LeadDecision.id.desc())
                                       .limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].published_at.isoformat(), str(rows[-1].id)], scope=SCOPE)
    return PublicLeadDecisionPage(items=await _to_public(session, rows), next_cursor=next_cursor, total=total)
