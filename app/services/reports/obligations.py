"""Report obligations generated from a jurisdiction profile's calendar, idempotently.

For a province and a period year, every report rule and hearing rule of its profile gives
one obligation per filer and period (app/services/reports/resolution.py says who): annual
duty reports (000 §(十二) Jan 31, 002 §(十二) end of Feb, 003 §(十一) Jan 31 and §(十二)
undated for local departments, 004 §七 Apr 30), Hainan's semiannual reports to the
vice-governor in charge (000 §(十二)), annual work plans (000 §(十) end of Feb, 002 §(十)
备案 undated), the task decomposition copy (000 §(九), 3 months after issuance) and hearing
records (000 §(二)(三) every half year, 004 §九 quarterly dedicated study).

Local analogies (参照落实): a report rule whose `sub_provincial` names `applies_to_levels` (Henan
002 §(十二) "各省辖市、县(市、区)参照落实") also gives, under its own rule id `reports.<id>.local`, one
obligation per period to each city's and county's own filers, addressed in their own region
(app/services/reports/resolution.py) and due as the province's rule unless the analogy sets `due`;
undated stays undated. Texts that say nothing of it (000 §(十二)) give cities' departments nothing.

Periods (design choice): `previous_year`/`current_year` rules give the year itself ("2024";
an annual report on 2024 is due in 2025); `half_year` and semiannual cadences give "2024-H1"
and "2024-H2", quarterly cadences "2024-Q1" … "2024-Q4"; a one-off rule gives "once" and
belongs to the year of its due date. Ad hoc rules (及时, 004 §八) and cadences with no count
(定期, 及时) generate nothing: they are filed as they happen, and `skipped` says so.

Idempotency: every row goes in with INSERT … ON CONFLICT DO NOTHING on (rule, filer, period)
in a fixed order, returning only what was inserted; only those get parties. Two concurrent
runs therefore create each obligation once (PostgreSQL: the second waits on the first's
index entry; SQLite: writers queue on BEGIN IMMEDIATE) and a second run creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calendar import Cadence, DueDate, Undated
from app.models import Organisation, ReportKind, ReportParty, ReportPartyRole, ReportStatus, new_id, utcnow
from app.models.report import Report
from app.profiles.schema import LOCAL_RULE_SUFFIX, HearingKind, HearingRule, Profile, ReportPeriod, ReportRule
from app.schemas.reports import DueRead, GenerationRuleRead, ReportGenerationRead
from app.services import audit
from app.services.reports.resolution import Addressing, Filer, Resolver

CHUNK = 100  # rows per INSERT: well inside SQLite's bound-parameter limit


@dataclass(frozen=True)
class Period:
    key: str | None  # None: an ad hoc report
    year: int
    start: date | None
    end: date | None
    label: str  # in titles


def _year(y: int) -> Period:
    return Period(str(y), y, date(y, 1, 1), date(y, 12, 31), f"{y}年度")


def _halves(y: int) -> list[Period]:
    return [Period(f"{y}-H1", y, date(y, 1, 1), date(y, 6, 30), f"{y}年上半年"),
            Period(f"{y}-H2", y, date(y, 7, 1), date(y, 12, 31), f"{y}年下半年")]


def _quarters(y: int) -> list[Period]:
    ends = [(3, 31), (6, 30), (9, 30), (12, 31)]
    return [Period(f"{y}-Q{q}", y, date(y, 3 * q - 2, 1), date(y, *ends[q - 1]), f"{y}年第{'一二三四'[q - 1]}季度")
            for q in range(1, 5)]


_CADENCE_PERIODS = {Cadence.semiannual: _halves, Cadence.quarterly: _quarters,
                    Cadence.yearly_no_day: lambda y: [_year(y)]}


def report_periods(rule: ReportRule, year: int, due: DueDate) -> list[Period]:
    if rule.period in (ReportPeriod.previous_year, ReportPeriod.current_year):
        return [_year(year)]
    if rule.period == ReportPeriod.half_year:
        return _halves(year)
    if rule.period == ReportPeriod.one_off:
        if due.due_date is not None and due.due_date.year != year:
            return []
        return [Period("once", due.due_date.year if due.due_date else year, None, None, "")]
    return []  # as_needed: ad hoc, filed when it happens


def hearing_periods(rule: HearingRule, year: int) -> list[Period]:
    if isinstance(rule.due, Undated):
        make = _CADENCE_PERIODS.get(rule.due.cadence)
        return make(year) if make else []
    return [_year(year)]


_TITLES = {ReportKind.annual_duty_report: "生态环境保护职责履行情况报告",
           ReportKind.semiannual_duty_report: "生态环境保护职责履行情况报告",
           ReportKind.annual_work_plan: "生态环境保护年度工作计划",
           ReportKind.task_decomposition: "生态环境保护具体事项清单任务分解情况",
           ReportKind.ad_hoc: "生态环境保护工作报告"}
_HEARING_TITLES = {HearingKind.hearing: "听取生态环境保护工作汇报记录", HearingKind.study: "研究生态环境保护工作记录",
                   HearingKind.dedicated_study: "专题研究生态环境保护工作记录"}


def due_read(due: DueDate) -> DueRead:
    return DueRead(due_date=due.due_date, undated=due.undated, falls_on_rest_day=due.falls_on_rest_day,
                   calendar_estimated=due.calendar_estimated, rule_text=due.rule_text, rule_text_zh=due.rule_text_zh,
                   cadence=due.cadence.value if due.cadence else None)


@dataclass
class Candidate:
    row: dict[str, Any]
    parties: list[tuple[Organisation, ReportPartyRole, str]] = field(default_factory=list)


def candidate(profile: Profile, root: Organisation, *, rule_id: str, clause: str, kind: ReportKind, filer: Filer,
              period: Period, due: DueDate, addressing: Addressing, title: str, content: list[str],
              filing_only: bool = False, arranges: bool = False, publication: Any = None,
              created_by: str | None = None) -> Candidate:
    now = utcnow()
    names = "、".join(o.name for o in filer.members)
    row = {"id": new_id(), "jurisdiction_id": root.id, "organisation_id": filer.principal.id,
           "profile_code": profile.code, "profile_version": profile.version, "rule_id": rule_id, "clause": clause,
           "kind": kind, "period": period.key, "period_year": period.year, "period_start": period.start,
           "period_end": period.end, "title": f"{names}{period.label}{title}"[:300], "status": ReportStatus.pending,
           "version": 1, "due_date": due.due_date, "undated": due.undated, "due_on_rest_day": due.falls_on_rest_day,
           "due_calendar_estimated": due.calendar_estimated, "due_rule_text": due.rule_text[:200],
           "due_rule_text_zh": due.rule_text_zh[:200], "due_cadence": due.cadence.value if due.cadence else None,
           "recipient_kind": addressing.recipient_kind, "recipient_label": addressing.recipient_label,
           "filing_only": filing_only, "recipient_arranges_approval": arranges,
           "publication_where": publication.where.value if publication else None,
           "publication_clause": publication.clause if publication else None, "content_required": content,
           "content": {}, "unresolved": addressing.unresolved, "covers": filer.covers, "submitted_late": False,
           "created_by": created_by, "created_at": now, "updated_at": now}
    parties = [(o, ReportPartyRole.filer, "filer") for o in filer.members] + addressee_parties(addressing)
    return Candidate(row, parties)


def addressee_parties(addressing: Addressing) -> list[tuple[Organisation, ReportPartyRole, str]]:
    """The recipients, then the copies in the rule's order: the parties after the filers."""
    parties = [(o, ReportPartyRole.recipient, "filer") for o in addressing.recipients]
    parties += [(o, ReportPartyRole(mode.value), sent_by) for o, mode, sent_by in addressing.copies]
    return parties


def _title(rule: ReportRule) -> str:
    if "work_situation" in [c.value for c in rule.content]:
        return "生态环境保护工作情况报告"  # 003 §(十一): cities report on their work, not on duties
    return _TITLES.get(ReportKind(rule.kind.value), "报告")


async def collect(session: AsyncSession, root: Organisation, profile: Profile, year: int, created_by: str | None
                  ) -> tuple[list[Candidate], list[GenerationRuleRead], list[dict[str, Any]]]:
    """Every obligation the profile gives the province for `year` (nothing is written)."""
    resolver = Resolver(session, root, profile)
    await resolver.load()
    out: list[Candidate] = []
    rules: list[GenerationRuleRead] = []
    skipped: list[dict[str, Any]] = []
    for rule in profile.reports:
        scopes = [(f"reports.{rule.id}", rule.clause, rule.due, False)]
        local = rule.sub_provincial
        if local is not None and local.applies_to_levels:
            scopes.append((f"reports.{rule.id}{LOCAL_RULE_SUFFIX}", local.clause, local.due or rule.due, True))
        for rule_id, clause, due_rule, is_local in scopes:
            kind = ReportKind(rule.kind.value)
            try:
                due = profile.due(due_rule, period_year=year)
            except ValueError:  # a working-day window counts from an event, not from the calendar year
                skipped.append({"rule_id": rule_id, "reason": f"{due_rule.kind.value}: counts from an event"})
                continue
            periods = report_periods(rule, year, due)
            if not periods:
                if rule.period == ReportPeriod.as_needed:
                    skipped.append({"rule_id": rule_id, "reason": "ad hoc (及时): filed as it happens, not scheduled"})
                continue
            if is_local:
                filers = resolver.local_filers(local.filers, local.applies_to_levels) if local else []
            else:
                filers, missing = await resolver.filers(rule.filers)
                skipped += [{"rule_id": rule_id, **m} for m in missing]
            made = []
            for filer in filers:
                addressing = await resolver.addressing(rule.recipient, rule.copies, filer)
                made += [candidate(profile, root, rule_id=rule_id, clause=clause, kind=kind, filer=filer, period=p,
                                   due=due, addressing=addressing, title=_title(rule),
                                   content=[c.value for c in rule.content], filing_only=rule.filing_only,
                                   arranges=rule.recipient_arranges_approval, publication=rule.publication,
                                   created_by=created_by) for p in periods]
            out += made
            rules.append(GenerationRuleRead(rule_id=rule_id, clause=clause, kind=kind,
                                            periods=[p.key for p in periods], due=due_read(due),
                                            obligations=len(made), created=0))
    for hearing in profile.hearings:
        rule_id = f"hearings.{hearing.id}"
        try:
            due = profile.due(hearing.due, period_year=year)
        except ValueError:
            skipped.append({"rule_id": rule_id, "reason": f"{hearing.due.kind.value}: counts from an event"})
            continue
        periods = hearing_periods(hearing, year)
        if not periods:
            skipped.append({"rule_id": rule_id, "reason": f"{due.rule_text}: the text gives no count of meetings"})
            continue
        filers, missing = await resolver.filers([hearing.held_by])
        skipped += [{"rule_id": rule_id, **m} for m in missing]
        title = f"{hearing.forum or ''}{_HEARING_TITLES[hearing.kind]}"
        none = await resolver.addressing(None, [], filers[0]) if filers else None
        made = [candidate(profile, root, rule_id=rule_id, clause=hearing.clause, kind=ReportKind.hearing_record,
                          filer=f, period=p, due=due, addressing=none, title=title, content=[],
                          created_by=created_by) for f in filers for p in periods if none]
        out += made
        rules.append(GenerationRuleRead(rule_id=rule_id, clause=hearing.clause, kind=ReportKind.hearing_record,
                                        periods=[p.key for p in periods], due=due_read(due), obligations=len(made),
                                        created=0))
    return out, rules, skipped


def _insert_statement(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return (make(Report).values(rows)
            .on_conflict_do_nothing(index_elements=["rule_id", "organisation_id", "period"])
            .returning(Report.id, Report.rule_id))


async def insert_or_skip(session: AsyncSession, candidates: list[Candidate]) -> dict[str, int]:
    """Insert what does not exist yet (in key order, so concurrent runs never deadlock); the count per rule."""
    ordered = sorted(candidates, key=lambda c: (c.row["rule_id"], str(c.row["organisation_id"]), c.row["period"]))
    created: dict[str, int] = {}
    by_id = {c.row["id"]: c for c in ordered}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        inserted = (await session.execute(_insert_statement(session, [c.row for c in chunk]))).all()
        parties = []
        for report_id, rule_id in inserted:
            created[rule_id] = created.get(rule_id, 0) + 1
            parties += [{"report_id": report_id, "organisation_id": org.id, "role": role, "sent_by": sent_by,
                         "position": i} for i, (org, role, sent_by) in enumerate(by_id[report_id].parties)]
        if parties:
            await session.execute(insert(ReportParty), parties)
    return created


async def generate_for(session: AsyncSession, root: Organisation, profile: Profile, year: int, *,
                       created_by: str | None = None) -> ReportGenerationRead:
    """Create the province's missing obligations for `year`; audited once when anything was created.

    Callers check authority (app/services/reports/commands.py, the CLI). Never commits."""
    candidates, rules, skipped = await collect(session, root, profile, year, created_by)
    created = await insert_or_skip(session, candidates)
    rules = [r.model_copy(update={"created": created.get(r.rule_id, 0)}) for r in rules]
    total = sum(created.values())
    if total:
        audit.record(session, action="report.generate", resource_type="report_obligations",
                     resource_id=f"{root.id}:{year}", organisation_id=root.id,
                     after={"profile": profile.code, "profile_version": profile.version, "year": year,
                            "created": created})
    await session.flush()
    return ReportGenerationRead(jurisdiction_id=root.id, profile_code=profile.code, profile_version=profile.version,
                                year=year, created=total, existing=len(candidates) - total, rules=rules,
                                skipped=skipped)
