"""Statistics of findings and their measures (DOMAIN.md "Statistics"; 001 二 reports them so).

Counted: the findings the caller may read (app/services/findings/access.py), narrowed by the
query: an organisation's subtree (on the responsible 主责 organisation only: cooperating and
lead organisations see a finding but are not scored on it, a DOMAIN.md design choice), one
inspection, one category node and everything below it. Out of scope → 404 for each of them.

ONE counting statement whatever the size (issue 6; figures and plans in BENCHMARKS.md, "Findings:
list and statistics", stats-speed section), so that its work is the subtree's findings, not the
nation's:
- the subtree is first read from the closure (`scoping.subtree_ids`, one index range) and passed
  as `responsible_organisation_id IN (…)`: PostgreSQL then prices the subtree's findings exactly
  and reads them by `ix_finding_responsible_organisation_id_status_deadline` (a bitmap scan), where
  an EXISTS on the closure was priced as a hash join over a parallel seq scan of every finding;
- CTE `measured`: the counted findings' measures, with their keys, bucket, late flag and rate
  columns; on PostgreSQL each finding probes `ix_measure_finding_id_position_id` through a LATERAL
  subquery, where a plain join hash-joined a seq scan of every measure of the nation;
- CTE `counted`: the findings with their keys, bucket, rebounded and rate columns, each computed
  once; "behind because of a late measure" is a hashed test against `measured` (the subtree's late
  measures) instead of an EXISTS per finding, which PostgreSQL ran as a hash of every late measure
  of the nation (buckets.behind takes the replacement, so the rule has one definition);
- four GROUP BYs, UNION ALL: findings and measures by (responsible organisation, bucket) and by
  (inspection, category node when one inspection is asked for, bucket), a few hundred rows for a
  province (GROUPING SETS would say it shorter, but SQLite has none). Totals, per-inspection,
  per-category (rolled up the path) and per-organisation (rolled up the closure) figures are sums
  of those rows. The buckets are app/services/findings/buckets.py, the same clauses the list's
  `bucket=` filter uses, so each bucket's `link` lists exactly the findings counted.

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

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    case,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import can_reach, subtree_ids
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


_KEYS = ("org", "inspection", "category")
# Which keys each grouping keeps: findings and measures, by responsible organisation and by campaign.
_GROUPINGS = ((0, "findings", ("org",)), (1, "findings", ("inspection", "category")),
              (2, "measures", ("org",)), (3, "measures", ("inspection", "category")))


def _counting_statement(where: list[ColumnElement[bool]], m: buckets.Moment, per_category: bool,
                        lateral: bool) -> CompoundSelect:
    """ONE statement (see the module docstring): CTE `measured`, the counted findings' measures with
    their keys, bucket, late flag and rate columns; CTE `counted`, the findings with theirs, a finding
    behind by a late measure when `measured` holds one (instead of an EXISTS per finding over all
    measures); four GROUP BYs over them as UNION ALL branches tagged as in `_GROUPINGS`, the key
    columns a branch does not group by NULL."""
    keys = (Finding.responsible_organisation_id.label("org"), Finding.inspection_id.label("inspection"),
            # Category trees belong to one campaign: per category node when one inspection is asked for.
            (Finding.category_id if per_category else type_coerce(null(), Finding.category_id.type)).label("category"))
    per_measure = (buckets.measure_bucket(m).label("bucket"),
                   case((buckets.measure_late(m), 1), else_=0).label("late"), literal(0).label("rebounded"),
                   *(v.label(k) for k, v in buckets.measure_on_time_columns(m).items()))
    if lateral:
        # PostgreSQL: each finding probes ix_measure_finding_id_position_id (OFFSET 0 keeps the
        # subquery from being flattened into a hash join over every measure of the nation).
        own = (select(*per_measure).where(Measure.finding_id == Finding.id, buckets.measure_exists(m))
               .offset(0).lateral("own_measure"))
        measured = (select(Finding.id.label("finding_id"), *keys, *own.c).select_from(Finding).join(own, true())
                    .where(*where))
    else:
        measured = (select(Finding.id.label("finding_id"), *keys, *per_measure).select_from(Finding)
                    .join(Measure, Measure.finding_id == Finding.id).where(*where, buckets.measure_exists(m)))
    mc = measured.cte("measured")
    late = Finding.id.in_(select(mc.c.finding_id).where(mc.c.late == 1))
    counted = select(*keys, buckets.finding_bucket(m, late).label("bucket"),
                     case((buckets.rebounded(m), 1), else_=0).label("rebounded"),
                     *(v.label(k) for k, v in buckets.on_time_columns(m).items())).where(*where).cte("counted")
    branches = []
    for tag, source, kept in _GROUPINGS:
        c = (counted if source == "findings" else mc).c
        branches.append(select(literal(tag).label("tag"), *(c[k] if k in kept else type_coerce(null(), c[k].type) for k in _KEYS),
                               c.bucket, func.count(), func.sum(c.rebounded), *(func.sum(c[k]) for k in _RATES))
                        .group_by(*(c[k] for k in kept), c.bucket))
    return union_all(*branches)


async def _tallies(session: AsyncSession, where: list[ColumnElement[bool]], m: buckets.Moment, per_category: bool
                   ) -> tuple[dict[tuple[Any, ...], Tally], dict[tuple[Any, ...], Tally]]:
    """Figures by (responsible organisation,) and by (inspection, category node or None): a few
    hundred rows for a province whatever its number of findings."""
    by_org: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    by_campaign: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    statement = _counting_statement(where, m, per_category, lateral=session.get_bind().dialect.name == "postgresql")
    for tag, org, inspection, category, bucket, count, rebounded, *sums in (await session.execute(statement)).all():
        t = by_org[(org,)] if tag in (0, 2) else by_campaign[(inspection, category)]
        if tag < 2:
            t.findings[bucket] += count
            t.rebounded += int(rebounded or 0)
            rates = t.rates
        else:
            t.measures[bucket] += count
            rates = t.measure_rates
        for k, v in zip(_RATES, sums, strict=True):
            rates[k] += int(v or 0)
    return by_org, by_campaign


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
        # The subtree as a list of ids, read from the closure first: PostgreSQL prices an IN list
        # exactly and reads the subtree's findings by their index, where an EXISTS on the closure
        # was priced as a seq scan of the nation's findings (module docstring).
        ids = list(await session.scalars(subtree_ids({organisation_id})))
        where.append(Finding.responsible_organisation_id.in_(ids))
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
    by_org, by_campaign = await _tallies(session, where, m, per_category=inspection_id is not None)
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
