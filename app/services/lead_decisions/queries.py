"""Reading lead decisions: one, pages of them, their history.

Every read passes `access.visible` (a party in the caller's scope); out of scope is 404 and a
filter naming an organisation outside it simply matches nothing. Pages are keyset over
(created_at, id): stable while decisions are opened.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.authz.principal import Principal
from app.authz.scoping import within
from app.core.errors import ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor
from app.models import LeadDecision, LeadDecisionItem, LeadDecisionOpinion, LeadDecisionParty, Organisation
from app.schemas.history import HistoryPage
from app.schemas.lead_decisions import (
    LeadDecisionFilter,
    LeadDecisionPage,
    LeadDecisionRead,
    LinkedItemRead,
    PartyRead,
    TaskSplitEntry,
)
from app.services.history import history_page
from app.services.lead_decisions import access

LIST_SCOPE = "lead-decisions"


def bad_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid for this list; start again without it.",
                            errors=[{"pointer": "query/cursor", "source": "query", "type": "invalid_cursor",
                                     "message": "invalid cursor"}])


def cursor_values(cursor: str, scope: str) -> tuple[datetime, uuid.UUID]:
    values = decode_cursor(cursor, scope=scope)
    try:
        at, row_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
    except (ValueError, TypeError, IndexError):  # signed by us: only an older format lands here
        raise bad_cursor() from None
    return at, row_id


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict((await session.execute(select(Organisation.id, Organisation.name)
                                       .where(Organisation.id.in_(ids)))).all())


async def to_reads(session: AsyncSession, principal: Principal,
                   decisions: Sequence[LeadDecision]) -> list[LeadDecisionRead]:
    """Read schemas for a page, with a fixed number of queries whatever its length."""
    ids = [d.id for d in decisions]
    parties = await access.load_parties(session, ids)
    regions = await _names(session, {d.region_id for d in decisions})
    given: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    linked: dict[uuid.UUID, list[LinkedItemRead]] = defaultdict(list)
    if ids:
        for decision_id, org_id in (await session.execute(
                select(LeadDecisionOpinion.decision_id, LeadDecisionOpinion.organisation_id)
                .where(LeadDecisionOpinion.decision_id.in_(ids)))):
            given[decision_id].add(org_id)
        for item in await session.scalars(select(LeadDecisionItem).where(LeadDecisionItem.decision_id.in_(ids))
                                          .order_by(LeadDecisionItem.organisation_id, LeadDecisionItem.lineage_id)):
            linked[item.decision_id].append(LinkedItemRead(item_id=item.item_id, lineage_id=item.lineage_id,
                                                           organisation_id=item.organisation_id))
    out = []
    for d in decisions:
        p = parties[d.id]
        out.append(LeadDecisionRead(
            id=d.id, jurisdiction_id=d.jurisdiction_id, region_id=d.region_id, region_name=regions.get(d.region_id, ""),
            level=d.level, status=d.status, version=d.version, title=d.title, description=d.description,
            scope_tests=d.scope_tests or [], profile_code=d.profile_code, profile_version=d.profile_version,
            convenor_decides=d.convenor_decides,
            parties=[PartyRead(organisation_id=r.organisation_id, organisation_name=r.name, role=r.role,
                               position=r.position) for r in p.rows],
            first_lead_organisation_id=d.first_lead_organisation_id,
            task_split=[TaskSplitEntry.model_validate(t) for t in d.task_split or []], rationale=d.rationale,
            proposed_at=d.proposed_at, decided_at=d.decided_at, published_on=d.published_on,
            published_at=d.published_at, portal_url=d.portal_url, opinions_count=len(given[d.id]),
            linked_items=linked[d.id], allowed_actions=access.actions_for(principal, d, p),
            can_update=access.can_update(principal, d, p),
            opinion_organisation_ids=access.opinion_organisations(principal, d, p, given[d.id]),
            created_by=d.created_by, created_at=d.created_at, updated_at=d.updated_at))
    return out


async def get_decision(session: AsyncSession, principal: Principal, decision_id: uuid.UUID) -> LeadDecisionRead:
    """Any role with `lead_decisions:read`, for a decision with a party in its scope; else 404."""
    decision = await access.load_visible(session, principal, decision_id)
    return (await to_reads(session, principal, [decision]))[0]


def _has_party(condition: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    """EXISTS a party of the decision meeting `condition` (its own alias: the scope EXISTS is separate)."""
    party = aliased(LeadDecisionParty)
    return select(party.decision_id).where(party.decision_id == LeadDecision.id, condition(party)).exists()


async def list_decisions(session: AsyncSession, principal: Principal, f: LeadDecisionFilter, *, limit: int,
                         cursor: str | None, include_total: bool) -> LeadDecisionPage:
    """Decisions visible to the caller matching the filters, oldest first. 422 for a bad cursor."""
    stmt = select(LeadDecision).where(access.visible(principal))
    for column, value in ((LeadDecision.status, f.status), (LeadDecision.level, f.level),
                          (LeadDecision.jurisdiction_id, f.jurisdiction_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.organisation_id is not None:
        stmt = stmt.where(_has_party(lambda p: p.organisation_id == f.organisation_id))
    if f.subtree_of is not None:
        stmt = stmt.where(_has_party(lambda p: within(p.organisation_id, f.subtree_of)))
    if f.q:
        stmt = stmt.where(LeadDecision.title.icontains(f.q, autoescape=True))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) if include_total else None
    if cursor:
        at, last_id = cursor_values(cursor, LIST_SCOPE)
        stmt = stmt.where(or_(LeadDecision.created_at > at,
                              and_(LeadDecision.created_at == at, LeadDecision.id > last_id)))
    rows = list((await session.scalars(stmt.order_by(LeadDecision.created_at, LeadDecision.id)
                                       .limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].id)], scope=LIST_SCOPE)
    return LeadDecisionPage(items=await to_reads(session, principal, rows), next_cursor=next_cursor, total=total)


async def decision_history(session: AsyncSession, principal: Principal, decision_id: uuid.UUID, *, limit: int,
                           cursor: str | None) -> HistoryPage:
    """The transitions of a visible decision, oldest first (404 outside scope)."""
    await access.load_visible(session, principal, decision_id)
    return await history_page(session, access.RESOURCE, decision_id, limit=limit, cursor=cursor)
