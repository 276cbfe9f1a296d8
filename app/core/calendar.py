"""Working days and due-date rules, in the jurisdiction's calendar.

Deadlines in the policy texts are calendar rules ("每年1月底前", "本文件印发两个月内");
working-day arithmetic (a design choice for 督办 reply windows) follows China's
statutory holidays and make-up working days (调休) from the ``chinese_calendar``
library, never a hand-kept list. Outside the years the library covers we fall back
to Monday-Friday and say so (``calendar_estimated``), because a guessed holiday
table would be wrong silently.

This module is in ``app.core``: it imports nothing from ``app``.
"""

from __future__ import annotations

import calendar as _stdcal
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

DEFAULT_TIMEZONE = "Asia/Shanghai"


# --- the working-day calendar -------------------------------------------------


@lru_cache(maxsize=1)
def _library_years() -> tuple[int, int]:
    # The library refuses dates outside the years its holiday table spans.
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def calendar_covers(year: int) -> bool:
    """True when the holiday library has the official schedule for ``year``."""
    first, last = _library_years()
    return first <= year <= last


def is_workday(d: date) -> bool:
    """A working day: Mon-Fri that is not a statutory holiday, or a 调休 make-up day.

    For years the library does not cover, Mon-Fri (check ``calendar_covers``).
    """
    if calendar_covers(d.year):
        return bool(chinese_calendar.is_workday(d))
    return d.weekday() < 5


def is_rest_day(d: date) -> bool:
    """A weekend day or statutory holiday that is not a make-up working day."""
    return not is_workday(d)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start``.

    ``start`` itself is never counted, working day or not (the period starts the
    day after the triggering event, as Chinese administrative deadlines count);
    ``n == 0`` returns ``start`` unchanged.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    d = start
    remaining = n
    while remaining:
        d += timedelta(days=1)
        if is_workday(d):
            remaining -= 1
    return d


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` calendar months, clamped to the month's last day
    (Jan 31 + 1 month -> Feb 28/29)."""
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    last = _stdcal.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def end_of_month(year: int, month: int) -> date:
    return date(year, month, _stdcal.monthrange(year, month)[1])


def today_in_zone(tz: str = DEFAULT_TIMEZONE, *, now: datetime | None = None) -> date:
    """Today's calendar date in ``tz``; ``now`` (aware) lets tests pin the instant."""
    moment = now if now is not None else datetime.now(ZoneInfo("UTC"))
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(ZoneInfo(tz)).date()


# --- due-date rules -----------------------------------------------------------


class DueRuleKind(StrEnum):
    fixed_date_of_period_year = "fixed_date_of_period_year"
    end_of_month = "end_of_month"
    months_after_issuance = "months_after_issuance"
    working_days_after = "working_days_after"
    undated = "undated"


class Cadence(StrEnum):
    """How often an undated obligation recurs, as the texts word it."""

    periodic = "periodic"  # 定期
    promptly = "promptly"  # 及时 (as things happen)
    yearly_no_day = "yearly_no_day"  # 每年, no day given
    semiannual = "semiannual"  # 每半年, no day given
    quarterly = "quarterly"  # 每季度, no day given
    no_date = "no_date"  # a one-off duty the text gives no date


_CADENCE_TEXT = {
    Cadence.periodic: ("定期", "periodically, no date"),
    Cadence.promptly: ("及时", "promptly, no date"),
    Cadence.yearly_no_day: ("每年（未定日期）", "every year, no day given"),
    Cadence.semiannual: ("每半年（未定日期）", "every half year, no day given"),
    Cadence.quarterly: ("每季度（未定日期）", "every quarter, no day given"),
    Cadence.no_date: ("未规定时限", "no date given"),
}


@dataclass(frozen=True)
class FixedDateOfPeriodYear:
    """A fixed day in the year ``period_year + year_offset`` ("Jan 31 of the following year")."""

    month: int
    day: int
    year_offset: int = 1
    kind: DueRuleKind = field(default=DueRuleKind.fixed_date_of_period_year, init=False)

    def __post_init__(self) -> None:
        # Feb 29 would not exist every year; use end_of_month for "end of February".
        date(2023, self.month, self.day)


@dataclass(frozen=True)
class EndOfMonth:
    """The last day of ``month`` in ``period_year + year_offset`` ("X月底前")."""

    month: int
    year_offset: int = 1
    kind: DueRuleKind = field(default=DueRuleKind.end_of_month, init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")


@dataclass(frozen=True)
class MonthsAfterIssuance:
    """``months`` calendar months after the document's issuance (印发) date."""

    months: int
    kind: DueRuleKind = field(default=DueRuleKind.months_after_issuance, init=False)

    def __post_init__(self) -> None:
        if self.months < 0:
            raise ValueError("months must be >= 0")


@dataclass(frozen=True)
class WorkingDaysAfter:
    """``n`` working days after an event (see ``add_working_days``)."""

    n: int
    kind: DueRuleKind = field(default=DueRuleKind.working_days_after, init=False)

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("n must be >= 0")


@dataclass(frozen=True)
class Undated:
    """An obligation with no computable date (定期, 及时, 每年 with no day)."""

    cadence: Cadence
    kind: DueRuleKind = field(default=DueRuleKind.undated, init=False)


DueRule = FixedDateOfPeriodYear | EndOfMonth | MonthsAfterIssuance | WorkingDaysAfter | Undated

_RULE_CLASSES: dict[DueRuleKind, type] = {
    DueRuleKind.fixed_date_of_period_year: FixedDateOfPeriodYear,
    DueRuleKind.end_of_month: EndOfMonth,
    DueRuleKind.months_after_issuance: MonthsAfterIssuance,
    DueRuleKind.working_days_after: WorkingDaysAfter,
    DueRuleKind.undated: Undated,
}
# The JSON fields of each kind, in order: the dataclass fields minus ``kind``.
_FIELDS = {kind: tuple(f.name for f in fields(cls) if f.init) for kind, cls in _RULE_CLASSES.items()}


def parse_rule(data: dict[str, Any] | DueRule) -> DueRule:
    """A rule from its JSON form, e.g. ``{"kind": "end_of_month", "month": 2}``.

    Unknown kinds and unknown or missing fields raise ``ValueError``.
    """
    if isinstance(data, tuple(_RULE_CLASSES.values())):
        return data  # type: ignore[return-value]
    if not isinstance(data, dict):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation error.
        raise ValueError(f"a due rule is an object, got {type(data).__name__}")  # noqa: TRY004
    try:
        kind = DueRuleKind(data.get("kind"))
    except ValueError:
        raise ValueError(f"unknown due rule kind: {data.get('kind')!r}") from None
    allowed = _FIELDS[kind]
    extra = set(data) - set(allowed) - {"kind"}
    if extra:
        raise ValueError(f"unknown fields for {kind}: {sorted(extra)}")
    args = {k: data[k] for k in allowed if k in data}
    for k, v in args.items():
        if k == "cadence":
            args[k] = Cadence(v)
        elif not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"{kind}.{k} must be an integer")
    try:
        return _RULE_CLASSES[kind](**args)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"bad {kind} rule: {exc}") from None


def rule_to_dict(rule: DueRule) -> dict[str, Any]:
    """The JSON form ``parse_rule`` reads back."""
    out: dict[str, Any] = {"kind": rule.kind.value}
    for name in _FIELDS[rule.kind]:
        value = getattr(rule, name)
        out[name] = value.value if isinstance(value, StrEnum) else value
    return out


def describe(rule: DueRule) -> tuple[str, str]:
    """Human wording of a rule: (zh, en)."""
    match rule:
        case FixedDateOfPeriodYear(month=m, day=d, year_offset=o):
            return f"{_year_zh(o)}{m}月{d}日前", f"by {_MONTHS[m]} {d} of {_year_en(o)}"
        case EndOfMonth(month=m, year_offset=o):
            return f"{_year_zh(o)}{m}月底前", f"by the end of {_MONTHS[m]} of {_year_en(o)}"
        case MonthsAfterIssuance(months=m):
            return f"印发后{m}个月内", f"within {m} months of issuance"
        case WorkingDaysAfter(n=n):
            return f"{n}个工作日内", f"within {n} working days"
        case Undated(cadence=c):
            return _CADENCE_TEXT[c]
    raise TypeError(f"not a due rule: {rule!r}")


_MONTHS = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _year_zh(offset: int) -> str:
    return {0: "当年", 1: "次年"}.get(offset, f"第{offset}年后")


def _year_en(offset: int) -> str:
    return {0: "the same year", 1: "the following year"}.get(offset, f"year +{offset}")


@dataclass(frozen=True)
class DueDate:
    """A rule evaluated. A date on a rest day stays as written (the texts say
    "before the end of January") and is flagged, never moved."""

    due_date: date | None
    undated: bool
    falls_on_rest_day: bool
    calendar_estimated: bool
    rule_text: str  # English
    rule_text_zh: str
    cadence: Cadence | None = None


def evaluate(
    rule: DueRule,
    *,
    period_year: int | None = None,
    issued_on: date | None = None,
    event_date: date | None = None,
) -> DueDate:
    """The due date of ``rule``.

    ``period_year`` is the year the obligation is about (the report's 上年度, the
    work plan's own year); ``issued_on`` the source document's 印发 date;
    ``event_date`` the trigger of a working-day window. A missing input the rule
    needs raises ``ValueError``.
    """
    zh, en = describe(rule)
    estimated = False
    match rule:
        case Undated(cadence=c):
            return DueDate(None, True, False, False, en, zh, cadence=c)
        case FixedDateOfPeriodYear(month=m, day=d, year_offset=o):
            due = date(_need(period_year, "period_year", rule) + o, m, d)
        case EndOfMonth(month=m, year_offset=o):
            due = end_of_month(_need(period_year, "period_year", rule) + o, m)
        case MonthsAfterIssuance(months=m):
            due = add_months(_need(issued_on, "issued_on", rule), m)
        case WorkingDaysAfter(n=n):
            start = _need(event_date, "event_date", rule)
            due = add_working_days(start, n)
            # Any uncovered year in the window makes the count a guess.
            estimated = any(not calendar_covers(y) for y in range(start.year, due.year + 1))
        case _:
            raise TypeError(f"not a due rule: {rule!r}")
    estimated = estimated or not calendar_covers(due.year)
    return DueDate(due, False, is_rest_day(due), estimated, en, zh)


def _need(value: Any, name: str, rule: DueRule) -> Any:
    if value is None:
        raise ValueError(f"{rule.kind} rule needs {name}")
    return value
