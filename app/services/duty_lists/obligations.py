"""Who must publish a duty list, by when, and who still has not (issue 4 item 3).

The obliged organisations are the profile's publishers: the major-duty departments
(000 §(七) the 16, 002 §(五) the 13, 004 §六 the 15). Hubei's "承担生态环境保护职责的
有关职能部门" (003 §(六)) cannot be read off the tree, so there too the departments an
admin flags `major_duty` are the obliged ones (a design choice, said in the API docs).
Cities and counties follow by analogy (参照落实): their flagged departments appear
with the same rule.

The first-publication date comes from the profile (Hainan: 2 months after 2024-03-12 =
2024-05-12, a Sunday, flagged not moved); the other texts set none, and the rows say so
(`due.undated`). `overdue` = never published and past the due date, judged as of a day in
the jurisdiction's zone; `published_late` is kept once a first publication came late.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import in_scope, within
from app.core.calendar import DEFAULT_TIMEZONE, DueDate, today_in_zone
from app.models import DutyList, DutyListStatus, Organisation, ResponsibilityItem
from app.profiles import Profile, get_profile
from app.profiles.schema import ReportKind
from app.schemas.duty_lists import (
    DecompositionProgress,
    DueRead,
    DutyListObligationFilter,
    DutyListObligationPage,
    DutyListObligationRead,
    OrganisationBrief,
)
from app.services.duty_lists.access import READ
from app.services.duty_lists.commands import LIST_OWNER_KINDS
from app.services.paging import keyset_page


def _due_read(clause: str, due: DueDate) -> DueRead:
    return DueRead(clause=clause, due_date=due.due_date, undated=due.undated, falls_on_rest_day=due.falls_on_rest_day,
                   rule_text=due.rule_text, rule_text_zh=due.rule_text_zh)


def first_publication_due(profile: Profile) -> DueRead:
    rule = profile.duty_list.first_publication
    return _due_read(rule.clause, profile.due(rule.due))


def decomposition_due(profile: Profile) -> DueRead | None:
    """The profile's dated decomposition copy, if it has one (Hainan 000 §(九): 3 months, 2024-06-12)."""
    rule = next((r for r in profile.reports if r.kind == ReportKind.task_decomposition), None)
    return _due_read(rule.clause, profile.due(rule.due)) if rule else None


async def _profiles_in_play(session: AsyncSession, principal: Principal,
                            f: DutyListObligationFilter) -> dict[uuid.UUID, Profile]:
    roots = {f.jurisdiction_id} if f.jurisdiction_id else set((await session.scalars(
        select(Organisation.jurisdiction_id).where(
            Organisation.id.in_(principal.scope_roots(READ) or {uuid.uuid4()})))).all())
    out = {}
    for root_id in roots:
        root = await session.get(Organisation, root_id)
        profile = get_profile(root.profile_code) if root and root.profile_code else None
        if profile is not None:
            out[root_id] = profile
    return out


async def list_obligations(session: AsyncSession, principal: Principal, f: DutyListObligationFilter, *,
                           limit: int, cursor: str | None, include_total: bool) -> DutyListObligationPage:
    """Obliged organisations in the caller's scope, oldest first, with their list's standing."""
    profiles = await _profiles_in_play(session, principal, f)
    as_of = f.as_of or today_in_zone(DEFAULT_TIMEZONE)
    first_published = (select(func.min(DutyList.published_on)).where(DutyList.organisation_id == Organisation.id)
                       .scalar_subquery())
    stmt = select(Organisation, first_published.label("first_published_on")).where(
        in_scope(Organisation.id, principal, READ), Organisation.major_duty.is_(True),
        Organisation.is_active.is_(True), Organisation.kind.in_(LIST_OWNER_KINDS),
        Organisation.jurisdiction_id.in_(profiles or {uuid.uuid4()}))
    if f.jurisdiction_id is not None:
        stmt = stmt.where(Organisation.jurisdiction_id == f.jurisdiction_id)
    if f.subtree_of is not None:
        stmt = stmt.where(within(Organisation.id, f.subtree_of))
    if f.published is not None:
        stmt = stmt.where(first_published.is_not(None) if f.published else first_published.is_(None))
    late_roots = [root for root, p in profiles.items()
                  if (due := first_publication_due(p).due_date) is not None and as_of > due]
    overdue = and_(first_published.is_(None), Organisation.jurisdiction_id.in_(late_roots or {uuid.uuid4()}))
    if f.overdue is not None:
        stmt = stmt.where(overdue if f.overdue else not_(overdue))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(Organisation.created_at, Organisation.id), kinds=("ts", "id"),
        scope="duty-list-obligations", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    items = await _reads(session, [(r[0], r[1]) for r in rows], profiles, as_of)
    return DutyListObligationPage(as_of=as_of, items=items, next_cursor=next_cursor, total=total)


async def _reads(session: AsyncSession, rows: list[tuple[Organisation, date | None]],
                 profiles: dict[uuid.UUID, Profile], as_of: date) -> list[DutyListObligationRead]:
    org_ids = [org.id for org, _ in rows]
    versions = (await session.scalars(select(DutyList).where(DutyList.organisation_id.in_(org_ids))
                                      .order_by(DutyList.version_no))).all() if org_ids else []
    latest = {dl.organisation_id: dl for dl in versions}  # ordered by version_no: the last one wins
    published = {dl.organisation_id: dl for dl in versions if dl.status == DutyListStatus.published}
    decomposition: dict[uuid.UUID, list[bool]] = {}
    if published:
        for list_id, rows_of_units in (await session.execute(
                select(ResponsibilityItem.duty_list_id, ResponsibilityItem.decomposition)
                .where(ResponsibilityItem.duty_list_id.in_([dl.id for dl in published.values()])))).all():
            decomposition.setdefault(list_id, []).append(bool(rows_of_units))
    reads = []
    for org, first_on in rows:
        profile = profiles[org.jurisdiction_id]
        due = first_publication_due(profile)
        current = published.get(org.id)
        split = decomposition.get(current.id, []) if current else []
        reads.append(DutyListObligationRead(
            organisation=OrganisationBrief(id=org.id, name=org.name), jurisdiction_id=org.jurisdiction_id,
            profile_code=profile.code, due=due, status=latest[org.id].status if org.id in latest else None,
            latest_version_id=latest[org.id].id if org.id in latest else None,
            published_version_id=current.id if current else None, first_published_on=first_on,
            published_late=bool(first_on and due.due_date and first_on > due.due_date),
            overdue=bool(first_on is None and due.due_date and as_of > due.due_date),
            decomposition=DecompositionProgress(due=decomposition_due(profile), items=len(split),
                                                decomposed_items=sum(split))))
    return reads

