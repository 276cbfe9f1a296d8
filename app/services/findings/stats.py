"""Statistics of findings and their measures (DOMAIN.md "Statistics"; 001 二 reports them so).

Counted: the findings the caller may read (app/services/findings/access.py), narrowed by the
query: an organisation's subtree (on the responsible 主责 organisation only: cooperating and
lead organisations see a finding but are not scored on it, a DOMAIN.md design choice), one
inspection, one category node and everything below it. Out of scope → 404 for each of them.

Four statements whatever the size: the findings grouped by (responsible organisation, bucket)
and by (inspection, category node when one inspection is asked for, bucket), their measures
the same two ways, so a province returns a few hundred rows; totals, per-inspection,
per-category (rolled up the path) and per-organisation (rolled up the closure) figures are
sums of those rows. The buckets are app/services/findings/buckets.py, the same clauses the
list's `bucket=` filter uses, so each bucket's `link` lists exactly the findings counted.

`as_of=D` recomputes every state from history as of the end of D; the links carry `as_of` too
and `GET /findings?as_of=` selects by the state then (its items show the current state).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import can_reach, within
from app.core.calendar import today_in_zone
from app.core.errors import NotFound, ValidationFailed
from app.models import Finding, Inspection, InspectionCategory, Measure, Organisation, OrganisationClosure
from app.schemas.stats import (
    BucketCount,
    CategoryFigures,
    Figures,
    FindingBucket,
    FindingStatsRead,
    InspectionFigures,
    MeasureStats,
    OnTime,
    OnTimeRate,
    OrganisationFigures,
)
from app.services.findings import access, buckets
from app.services.inspections import access as inspections_access

_RATES = ("on_time_original", "due_original", "on_time_extended", "due_extended")


@dataclass
class Tally:
    findings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rebounded: int = 0
    rates: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    measures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    measure_rates: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: Tally) -> None:
        for mine, theirs in ((self.findings, other.findings), (self.rates, other.rates),
                             (self.measures, other.measures), (self.measure_rates, other.measure_rates)):
            for k, v in theirs.items():
                mine[k] += v
        self.rebounded += other.rebounded


def check_as_of(as_of: date | None) -> None:
    if as_of is not None and as_of > today_in_zone():
        raise ValidationFailed("as_of is a past day (or today).", errors=[{
            "pointer": "query/as_of", "source": "query", "type": "in_future", "message": "a day after today"}])


async def category_path(session: AsyncSession, principal: Principal, category_id: uuid.UUID) -> str:
    path = await session.scalar(select(InspectionCategory.path).where(
        InspectionCategory.id == category_id, InspectionCategory.inspection_id.in_(
            select(Inspection.id).where(inspections_access.visible(principal)))))
    if path is None:
        raise NotFound("No such category.")
    return path


def category_clause(path: str) -> ColumnElement[bool]:
    """The finding's category is the node of `path` or below it (the list's `category_id` filter)."""
    return Finding.category_id.in_(select(InspectionCategory.id).where(
        InspectionCategory.path.startswith(path, autoescape=True)))


async def _tallies(session: AsyncSession, where: list[ColumnElement[bool]], m: buckets.Moment,
                   keys: tuple[ColumnElement[Any], ...]) -> dict[tuple[Any, ...], Tally]:
    """Findings and their measures counted by `keys` and bucket: two statements, a few hundred rows for a
    province whatever its number of findings (the groups are few: campaigns, categories, organisations)."""
    labelled = tuple(k.label(f"k{i}") for i, k in enumerate(keys))
    rates = buckets.on_time_columns(m)
    inner = select(*labelled, buckets.finding_bucket(m).label("bucket"),
                   case((buckets.rebounded(m), 1), else_=0).label("rebounded"),
                   *(v.label(k) for k, v in rates.items())).where(*where).subquery()
    c = inner.c
    group = (*(c[f"k{i}"] for i in range(len(keys))), c.bucket)
    rows = await session.execute(select(*group, func.count(), func.sum(c.rebounded), *(func.sum(c[k]) for k in _RATES))
                                 .group_by(*group))
    out: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    n = len(keys)
    for row in rows.all():
        t = out[tuple(row[:n])]
        bucket, count, rebounded, *sums = row[n:]
        t.findings[bucket] += count
        t.rebounded += int(rebounded or 0)
        for k, v in zip(_RATES, sums, strict=True):
            t.rates[k] += int(v or 0)
    m_rates = buckets.measure_on_time_columns(m)
    inner = (select(*labelled, buckets.measure_bucket(m).label("bucket"), *(v.label(k) for k, v in m_rates.items()))
             .join(Finding, Finding.id == Measure.finding_id).where(*where, buckets.measure_exists(m)).subquery())
    c = inner.c
    group = (*(c[f"k{i}"] for i in range(len(keys))), c.bucket)
    rows = await session.execute(select(*group, func.count(), *(func.sum(c[k]) for k in _RATES)).group_by(*group))
    for row in rows.all():
        t = out[tuple(row[:n])]
        bucket, count, *sums = row[n:]
        t.measures[bucket] += count
        for k, v in zip(_RATES, sums, strict=True):
            t.measure_rates[k] += int(v or 0)
    return out


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for t in tallies:
        total.add(t)
    return total


def _rate(on_time: int, due: int) -> OnTimeRate:
    return OnTimeRate(due=due, on_time=on_time, rate=round(on_time / due, 4) if due else None)


def _on_time(rates: dict[str, int]) -> OnTime:
    return OnTime(original=_rate(rates["on_time_original"], rates["due_original"]),
                  extended=_rate(rates["on_time_extended"], rates["due_extended"]))


def _figures(t: Tally, query: dict[str, str]) -> Figures:
    def link(**extra: str) -> str:
        return "/findings?" + urlencode({**query, **extra})

    return Figures(
        total=sum(t.findings.values()), link=link(),
        buckets=[BucketCount(bucket=b.value, count=t.findings.get(b.value, 0), link=link(bucket=b.value))
                 for b in buckets.PARTITION],
        rebounded=BucketCount(bucket="rebounded", count=t.rebounded, link=link(bucket="rebounded")),
        on_time=_on_time(t.rates),
        measures=MeasureStats(total=sum(t.measures.values()),
                              buckets=[BucketCount(bucket=b, count=t.measures.get(b, 0))
                                       for b in buckets.MEASURE_BUCKETS],
                              on_time=_on_time(t.measure_rates)))


async def finding_stats(session: AsyncSession, principal: Principal, *, organisation_id: uuid.UUID | None,
                        inspection_id: uuid.UUID | None, category_id: uuid.UUID | None,
                        as_of: date | None) -> FindingStatsRead:
    check_as_of(as_of)
    m = buckets.moment(as_of)
    where: list[ColumnElement[bool]] = [buckets.finding_exists(m)]
    query: dict[str, str] = {}
    if organisation_id is not None:
        if not await can_reach(session, principal, access.READ, organisation_id):
            raise NotFound("No such organisation.")
        # The subtree is in the caller's scope, so each finding's responsible party is: visible() holds
        # for all of them and is left out (it costs a semi-join per finding).
        where.append(within(Finding.responsible_organisation_id, organisation_id))
        query["subtree_of"] = str(organisation_id)
    else:
        where.append(access.visible(principal))
    if inspection_id is not None:
        await inspections_access.load_visible(session, principal, inspection_id)
        where.append(Finding.inspection_id == inspection_id)
        query["inspection_id"] = str(inspection_id)
    root_path = None
    if category_id is not None:
        root_path = await category_path(session, principal, category_id)
        where.append(category_clause(root_path))
        query["category_id"] = str(category_id)
    if as_of is not None:
        query["as_of"] = as_of.isoformat()
    by_org = await _tallies(session, where, m, (Finding.responsible_organisation_id,))
    # Category trees belong to one campaign: per category node when one inspection is asked for.
    campaign = (Finding.inspection_id, Finding.category_id if inspection_id else literal(None))
    by_campaign = await _tallies(session, where, m, campaign)
    return FindingStatsRead(
        as_of=as_of, day=m.day, organisation_id=organisation_id, inspection_id=inspection_id,
        category_id=category_id, figures=_figures(_sum(by_org.values()), query),
        per_inspection=await _per_inspection(session, by_campaign, query),
        per_category=await _per_category(session, by_campaign, query, root_path),
        per_organisation=await _per_organisation(session, by_org, query, organisation_id))


async def _per_inspection(session: AsyncSession, tallies: dict[tuple[Any, ...], Tally], query: dict[str, str]
                          ) -> list[InspectionFigures]:
    by: dict[uuid.UUID, list[Tally]] = defaultdict(list)
    for (inspection_id, _), t in tallies.items():
        by[inspection_id].append(t)
    if not by:
        return []
    titles = dict((await session.execute(select(Inspection.id, Inspection.title).where(
        Inspection.id.in_(by)))).all())
    return [InspectionFigures(id=i, title=titles[i], figures=_figures(_sum(ts), {**query, "inspection_id": str(i)}))
            for i, ts in sorted(by.items(), key=lambda kv: str(kv[0]))]


async def _per_category(session: AsyncSession, tallies: dict[tuple[Any, ...], Tally], query: dict[str, str],
                        root_path: str | None) -> list[CategoryFigures]:
    own: dict[uuid.UUID, list[Tally]] = defaultdict(list)
    for (_, category_id), t in tallies.items():
        if category_id is not None:
            own[category_id].append(t)
    if not own:
        return []
    leaves = (await session.execute(select(InspectionCategory.id, InspectionCategory.path).where(
        InspectionCategory.id.in_(own)))).all()
    rolled: dict[uuid.UUID, list[Tally]] = defaultdict(list)
    for leaf_id, path in leaves:
        for part in path.strip("/").split("/"):
            rolled[uuid.UUID(hex=part)] += own[leaf_id]
    nodes = (await session.scalars(select(InspectionCategory).where(InspectionCategory.id.in_(rolled)))).all()
    shown = sorted((n for n in nodes if root_path is None or n.path.startswith(root_path)),
                   key=lambda n: (str(n.inspection_id), _tree_key(n, {x.id: x for x in nodes})))
    return [CategoryFigures(id=n.id, inspection_id=n.inspection_id, parent_id=n.parent_id, depth=n.depth,
                            code=n.code, title=n.title,
                            figures=_figures(_sum(rolled[n.id]), {**query, "category_id": str(n.id)}))
            for n in shown]


def _tree_key(node: InspectionCategory, nodes: dict[uuid.UUID, InspectionCategory]) -> list[tuple[int, str]]:
    chain = [uuid.UUID(hex=part) for part in node.path.strip("/").split("/")]
    return [(nodes[i].position, str(i)) if i in nodes else (0, str(i)) for i in chain]


async def _per_organisation(session: AsyncSession, tallies: dict[tuple[Any, ...], Tally], query: dict[str, str],
                            root: uuid.UUID | None) -> list[OrganisationFigures]:
    own = {org_id: t for (org_id,), t in tallies.items() if org_id is not None}
    if root is None:
        names = dict((await session.execute(select(Organisation.id, Organisation.name).where(
            Organisation.id.in_(own)))).all()) if own else {}
        return [OrganisationFigures(id=o, name=names[o], subtree=False, figures=_figures(
            t, {**query, "responsible_organisation_id": str(o)}))
            for o, t in sorted(own.items(), key=lambda kv: (names[kv[0]], str(kv[0])))]
    children = (await session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.parent_id == root).order_by(Organisation.name, Organisation.id))).all()
    under: dict[uuid.UUID, list[Tally]] = defaultdict(list)
    if own and children:
        rows = await session.execute(select(OrganisationClosure.ancestor_id, OrganisationClosure.descendant_id)
                                     .where(OrganisationClosure.ancestor_id.in_([c.id for c in children]),
                                            OrganisationClosure.descendant_id.in_(own)))
        for ancestor, descendant in rows.all():
            under[ancestor].append(own[descendant])
    root_name = await session.scalar(select(Organisation.name).where(Organisation.id == root))
    out = [OrganisationFigures(id=root, name=root_name or "", subtree=False, figures=_figures(
        own.get(root, Tally()), {**query, "responsible_organisation_id": str(root)}))]
    out += [OrganisationFigures(id=c.id, name=c.name, subtree=True, figures=_figures(
        _sum(under[c.id]), {**query, "subtree_of": str(c.id)})) for c in children if under.get(c.id)]
    return out


__all__ = ["FindingBucket", "finding_stats"]
