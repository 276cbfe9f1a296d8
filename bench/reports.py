"""The reports step of bench/generate.py: report obligations in every province, 50,000 at nation scale.

Per province the same rows in both datasets (its own generator, seeded with the province number):
the annual duty report of each department, city and county (000 §(十二) shape: to 省委、省政府, 抄送
the 上级主管部门 and the 生态环境厅), the 16 major-duty departments' half-yearly reports, every
department's and city's work plan (000 §(十), to the 督察办), and the cities' and counties'
half-yearly hearing records, for period years counting back from 2026 until the province's
quota is reached. States follow age: old periods are mostly published or accepted, the current
ones mostly pending or in draft; about a fifth of submissions are late. The compliance scenario
reads period year 2025 for province 1 (bench/wrk.py): the table a coordination office reads in February.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from bench.orgforest import EPOCH, PROVINCES, Org, uuid7_at

REPORT_COLUMNS = (
    "id", "jurisdiction_id", "organisation_id", "profile_code", "profile_version", "rule_id", "clause", "kind",
    "period", "period_year", "period_start", "period_end", "title", "status", "version", "due_date", "undated",
    "due_on_rest_day", "due_calendar_estimated", "due_rule_text", "due_rule_text_zh", "due_cadence", "recipient_kind",
    "recipient_label", "filing_only", "recipient_arranges_approval", "publication_where", "publication_clause",
    "content_required", "content", "unresolved", "covers", "submitted_at", "submitted_on", "submitted_late",
    "received_at", "accepted_at", "published_at", "published_on", "portal_url", "created_by", "created_at",
    "updated_at")
PARTY_COLUMNS = ("report_id", "organisation_id", "role", "sent_by", "position")
SECTIONS = json.dumps({"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况",
                                     "body": "本年度认真履行生态环境保护职责……"}]}, ensure_ascii=False)
# (rule, kind, clause, period suffixes, due (month, year offset) or None, publication)
RULES = [("reports.annual_duty_report", "annual_duty_report", "000 §(十二)", ("",), (1, 1), "own_portal"),
         ("reports.semiannual_duty_report", "semiannual_duty_report", "000 §(十二)", ("-H1", "-H2"), None, None),
         ("reports.annual_work_plan", "annual_work_plan", "000 §(十)", ("",), (2, 0), None),
         ("hearings.city_county_semiannual", "hearing_record", "000 §(三)", ("-H1", "-H2"), None, None)]
STATES_BY_AGE = [("published", 5), ("accepted", 2), ("received", 1), ("submitted", 1)]
CURRENT = [("pending", 5), ("draft", 3), ("submitted", 2)]


def province_quota(total: int, number: int) -> int:
    """Province `number`'s share of the nation's `total` (the first provinces take the remainder), the
    same whichever dataset it is loaded into: province 1 holds 1,613 of 50,000 at both scales."""
    share, extra = divmod(total, len(PROVINCES))
    return share + (1 if number <= extra else 0)


def _end_of_month(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def _filers(forest: dict[str, Org], p: str) -> dict[str, list[Org]]:
    depts = [o for c, o in forest.items() if c.startswith(f"{p}.gov.") and c.count(".") == 2]
    regions = [o for c, o in forest.items() if c.startswith(f"{p}.c") and c.endswith(".gov")]
    return {"reports.annual_duty_report": depts + regions,
            "reports.semiannual_duty_report": [d for d in depts if d.major_duty],
            "reports.annual_work_plan": depts + regions, "hearings.city_county_semiannual": regions}


def province_rows(seed: int, number: int, quota: int, forest: dict[str, Org]
                  ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(report row, party rows) for province `number`, newest period year first, until `quota`."""
    rng = random.Random(f"{seed}:reports:{number}")
    p = f"p{number:02d}"
    root, pc, gov = forest[p], forest[f"{p}.pc"], forest[f"{p}.gov"]
    env, office = forest[f"{p}.gov.env"], forest[f"{p}.pc.inspection.office"]
    filers, made, clock = _filers(forest, p), 0, EPOCH + timedelta(days=60, hours=number)
    for year in range(2026, 1999, -1):
        for rule_id, kind, clause, suffixes, due, publication in RULES:
            for org in filers[rule_id]:
                for suffix in suffixes:
                    if made == quota:
                        return
                    made += 1
                    clock += timedelta(seconds=7, milliseconds=rng.randrange(1000))
                    yield _row(rng, clock, root, org, (pc, gov, env, office), rule_id, kind, clause, year, suffix,
                               due, publication)


def _row(rng: random.Random, clock: datetime, root: Org, org: Org, bodies: tuple[Org, ...], rule_id: str,
         kind: str, clause: str, year: int, suffix: str, due: tuple[int, int] | None, publication: str | None
         ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    pc, gov, env, office = bodies
    report_id = uuid7_at(clock, rng)
    due_date = _end_of_month(year + due[1], due[0]) if due else None
    hearing = kind == "hearing_record"
    weights = CURRENT if year >= 2025 else STATES_BY_AGE
    status = rng.choices([s for s, _ in weights], [w for _, w in weights])[0]
    if status == "published" and not publication:
        status = "accepted"
    if hearing and status in ("received", "accepted", "published"):
        status = "submitted"
    filed = status not in ("pending", "draft")
    submitted = (datetime.combine(due_date or date(year + 1, 1, 15), datetime.min.time(), clock.tzinfo)
                 + timedelta(days=rng.randrange(-20, 10))) if filed else None
    late = bool(filed and due_date and submitted.date() > due_date)
    half = {"-H1": (date(year, 1, 1), date(year, 6, 30)), "-H2": (date(year, 7, 1), date(year, 12, 31))}
    start, end = half.get(suffix, (date(year, 1, 1), date(year, 12, 31)))
    recipients = [] if hearing else [office] if kind == "annual_work_plan" else [gov, pc]
    row = (report_id, root.id, org.id, "hainan", 1, rule_id, clause, kind, f"{year}{suffix}", year, start, end,
           f"{org.name}{year}年度报告", status, 1 + ["pending", "draft", "submitted", "received", "accepted",
                                                      "published"].index(status), due_date, due_date is None,
           False, year > 2026, "bench", "bench", None if due_date else "semiannual",
           "none" if hearing else "organisation", "、".join(o.name for o in recipients), False,
           kind == "annual_work_plan", publication, clause if publication else None,
           '["duty_performance"]', SECTIONS if status != "pending" else "{}", "[]", "[]", submitted,
           submitted.date() if submitted else None, late,
           submitted + timedelta(days=2) if status in ("received", "accepted", "published") else None,
           submitted + timedelta(days=9) if status in ("accepted", "published") else None,
           submitted + timedelta(days=15) if status == "published" else None,
           (submitted + timedelta(days=15)).date() if status == "published" else None, None, None, clock, clock)
    parties = [(report_id, org.id, "filer", "filer", 0)]
    parties += [(report_id, o.id, "recipient", "filer", i + 1) for i, o in enumerate(recipients)]
    if kind == "annual_duty_report":
        copies = [c for c in (org.superior_id, env.id) if c and c != org.id]
        parties += [(report_id, c, "copy_across", "filer", i + 3) for i, c in enumerate(copies)]
    return row, parties


async def load_reports(conn: asyncpg.Connection, ctx: Any) -> dict[str, int]:
    from bench.generate import copy_in

    forest = ctx.forest.by_code
    reports: list[tuple[Any, ...]] = []
    parties: list[tuple[Any, ...]] = []
    for number in range(1, ctx.scale.provinces + 1):
        quota = province_quota(ctx.scale.reports, number)
        for row, rows in province_rows(ctx.seed, number, quota, forest):
            reports.append(row)
            parties += rows
    return {"report": await copy_in(conn, "report", REPORT_COLUMNS, reports),
            "report_party": await copy_in(conn, "report_party", PARTY_COLUMNS, parties)}
