"""The statistics buckets of DOMAIN.md "Statistics" as SQL, now or as of the end of a past day.

One definition serves both `GET /stats/findings` (which counts them) and `GET /findings?bucket=`
(which lists them), so every count equals the length of the list it links to.

Findings fall in exactly one bucket (they partition the findings counted):

    behind                 滞后: not finished (OPEN_STATUSES) and its deadline in force, or a
                           measure's, is past
    registered, assigned,  not behind, in that state
    planning,              (plan_submitted)
    unrectifiable_requested
    on_schedule            按序时推进: in_progress, no deadline past
    closure_requested      已完成待销号
    closed                 已完成并销号
    long_term              长期整改 (sustained: no end date to miss)
    unrectifiable          confirmed as impossible to rectify

`rebounded` (反弹) is counted beside them: findings a look-back found back at least once.
Measures: closed (verified, 销号), closure_requested (done), on_schedule (open), behind (open or
awaiting a cannot-complete confirmation, past its deadline), unrectifiable_requested
(cannot_complete_requested), unrectifiable (cannot_complete, 001 二(四)2).

As of a day D (`Moment.cut` = the end of D in the jurisdiction's zone, Asia/Shanghai): a record
counts when created before the cut; its state is the `to_status` of its last history row before
the cut (app/models/history.py; none: its initial state); a finding's deadline in force is the
last `extend_deadline` row's before the cut, else its original deadline; rebounded means a
look-back with outcome `rebounded` performed on or before D. Known approximation: a measure's
deadline changed by a plan amendment (no history row) is judged on its current deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    case,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.core.calendar import DEFAULT_TIMEZONE, today_in_zone
from app.models import Finding, FindingLookback, Measure, TransitionHistory
from app.models.finding import OPEN_STATUSES
from app.schemas.stats import FindingBucket

PARTITION = tuple(b for b in FindingBucket if b is not FindingBucket.rebounded)
MEASURE_BUCKETS = ("on_schedule", "behind", "unrectifiable_requested", "closure_requested", "closed", "unrectifiable")
_BY_STATUS = {"plan_submitted": "planning", "sustained": "long_term", "in_progress": "on_schedule"}
_FINISHED = ("closure_requested", "closed")
_UNFINISHED_MEASURE = ("open", "cannot_complete_requested")
_MEASURE_BY_STATUS = {"open": "on_schedule", "done": "closure_requested", "verified": "closed",
                      "cannot_complete_requested": "unrectifiable_requested", "cannot_complete": "unrectifiable"}


@dataclass(frozen=True)
class Moment:
    """The day judged and, for a past day, the instant its end falls on (UTC)."""

    day: date
    cut: datetime | None = None  # None: the rows as they are now

    @property
    def as_of(self) -> date | None:
        return self.day if self.cut is not None else None


def moment(as_of: date | None) -> Moment:
    if as_of is None:
        return Moment(today_in_zone())
    end = datetime.combine(as_of + timedelta(days=1), time(), ZoneInfo(DEFAULT_TIMEZONE))
    return Moment(as_of, end)


class _local_date(FunctionElement[date]):
    """The calendar day of a UTC timestamp in the jurisdiction's zone."""

    type = Date()
    inherit_cache = True


@compiles(_local_date)
def _local_date_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE '{DEFAULT_TIMEZONE}') AS DATE)"


@compiles(_local_date, "sqlite")
def _local_date_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    # Stored as naive UTC text; Asia/Shanghai has kept UTC+8 without DST since 1991.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


class _as_date(FunctionElement[date]):
    """An ISO date string as a date (SQLite keeps dates as ISO text already)."""

    type = Date()
    inherit_cache = True


@compiles(_as_date)
def _as_date_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(_as_date, "sqlite")
def _as_date_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def _last_status(resource: str, record_id: Any, m: Moment, initial: str) -> ColumnElement[str]:
    h = TransitionHistory
    last = (select(h.to_status).where(h.resource_type == resource, h.resource_id == record_id, h.occurred_at < m.cut)
            .order_by(h.occurred_at.desc(), h.id.desc()).limit(1).scalar_subquery())
    return func.coalesce(last, initial)


def finding_status(m: Moment) -> ColumnElement[str]:
    if m.cut is None:
        return type_coerce(Finding.status, String)
    return _last_status("finding", Finding.id, m, "registered")


def finding_exists(m: Moment) -> ColumnElement[bool]:
    return true() if m.cut is None else Finding.created_at < m.cut


def deadline_in_force(m: Moment) -> ColumnElement[date]:
    if m.cut is None:
        return Finding.deadline
    h = TransitionHistory
    moved = (select(h.payload["deadline"].as_string()).where(
        h.resource_type == "finding", h.resource_id == Finding.id, h.action == "extend_deadline",
        h.occurred_at < m.cut).order_by(h.occurred_at.desc(), h.id.desc()).limit(1).scalar_subquery())
    return func.coalesce(_as_date(moved), Finding.original_deadline)


def measure_status(m: Moment) -> ColumnElement[str]:
    if m.cut is None:
        return type_coerce(Measure.status, String)
    return _last_status("measure", Measure.id, m, "open")


def measure_exists(m: Moment) -> ColumnElement[bool]:
    return true() if m.cut is None else Measure.created_at < m.cut


def measure_late(m: Moment) -> ColumnElement[bool]:
    return and_(measure_status(m).in_(_UNFINISHED_MEASURE), Measure.deadline < m.day)


def _past(deadline: ColumnElement[date], m: Moment) -> ColumnElement[bool]:
    return and_(deadline.is_not(None), deadline < m.day)


def behind(m: Moment, late_measure: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """滞后: not finished, and the finding's deadline in force or one of its measures' is past.

    `late_measure` may replace the EXISTS over `measure` by a test against measures already read
    (the statistics: the counted findings' measures with `measure_late` true), the same rule."""
    if late_measure is None:
        late_measure = exists().where(Measure.finding_id == Finding.id, measure_exists(m), measure_late(m))
    return and_(finding_status(m).in_(OPEN_STATUSES), or_(_past(deadline_in_force(m), m), late_measure))


def rebounded(m: Moment) -> ColumnElement[bool]:
    if m.cut is None:
        return Finding.rebounded.is_(True)
    return exists().where(FindingLookback.finding_id == Finding.id, FindingLookback.outcome == "rebounded",
                          FindingLookback.performed_on <= m.day)


def finding_bucket(m: Moment, late_measure: ColumnElement[bool] | None = None) -> ColumnElement[str]:
    """The partition bucket of each finding, as one CASE (`late_measure`: see `behind`)."""
    status = finding_status(m)
    return case((behind(m, late_measure), "behind"), *((status == s, b) for s, b in _BY_STATUS.items()),
                else_=status)


def bucket_clause(bucket: FindingBucket, m: Moment) -> ColumnElement[bool]:
    """WHERE clause of `GET /findings?bucket=` (explicit, so the status index can serve it)."""
    if bucket is FindingBucket.rebounded:
        return rebounded(m)
    if bucket is FindingBucket.behind:
        return behind(m)
    statuses = [s for s, b in _BY_STATUS.items() if b == bucket.value] or [bucket.value]
    clause = finding_status(m).in_(statuses)
    if any(s in OPEN_STATUSES for s in statuses):
        clause = and_(clause, not_(behind(m)))
    return clause


def measure_bucket(m: Moment) -> ColumnElement[str]:
    status = measure_status(m)
    return case((measure_late(m), "behind"), *((status == s, b) for s, b in _MEASURE_BY_STATUS.items()),
                else_=status)


def on_time_columns(m: Moment) -> dict[str, ColumnElement[int]]:
    """Per finding, 0/1: finished (closure requested or closed) with a deadline, on or before it, and
    due (finished, or not finished with the deadline past) — against the original deadline and the
    one in force after extensions (app/services/findings/extensions.py keeps the original)."""
    status = finding_status(m)
    finished = status.in_(_FINISHED)
    done_on = _local_date(Finding.closure_requested_at)
    out = {}
    for name, deadline in (("original", Finding.original_deadline), ("extended", deadline_in_force(m))):
        on_time = and_(finished, deadline.is_not(None), done_on <= deadline)
        due = and_(deadline.is_not(None), or_(finished, and_(status.in_(OPEN_STATUSES), deadline < m.day)))
        out[f"on_time_{name}"] = case((on_time, 1), else_=0)
        out[f"due_{name}"] = case((due, 1), else_=0)
    return out


def measure_on_time_columns(m: Moment) -> dict[str, ColumnElement[int]]:
    status = measure_status(m)
    finished = status.in_(("done", "verified"))
    out = {}
    for name, deadline in (("original", func.coalesce(Measure.original_deadline, Measure.deadline)),
                           ("extended", Measure.deadline)):
        out[f"on_time_{name}"] = case((and_(finished, Measure.completed_on <= deadline), 1), else_=0)
        out[f"due_{name}"] = case((or_(finished, and_(status.in_(_UNFINISHED_MEASURE), deadline < m.day)), 1),
                                  else_=0)
    return out
