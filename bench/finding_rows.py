"""The findings step of bench/generate.py: 1,000,000 findings at nation scale, with measures and parties.

Per province its share of the nation's total (bench/reports.py `province_quota`: 32,259 for
province 1 at both scales), from its own generator: 12 inspections (central, provincial,
巡视, audit) rectified through the province's 督察办, each with a category tree of five 方面 of
four topics; each finding is the responsibility (主责) of a department, city or county
government or bureau of the province, drawn uniformly, with its three party rows (rectification
office, inspecting body, responsible). States follow age as a real ledger's do: findings of old
campaigns are mostly closed, recent ones mostly in progress, and about one in eight unfinished
findings is past its deadline (滞后). Two measures per finding on average (one to three), in the
states their finding implies. No history rows: the statistics scenario reads the current state
(as-of figures are not benchmarked).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from bench.orgforest import EPOCH, Org, uuid7_at
from bench.reports import province_quota

INSPECTION_COLUMNS = ("id", "jurisdiction_id", "kind", "title", "inspecting_body_id", "rectification_office_id",
                      "dispatch_cadence", "version", "created_at", "updated_at")
CATEGORY_COLUMNS = ("id", "inspection_id", "parent_id", "path", "depth", "position", "code", "title", "created_at",
                    "updated_at")
FINDING_COLUMNS = ("id", "jurisdiction_id", "inspection_id", "category_id", "code", "title", "status", "version",
                   "rectification_office_id", "inspecting_body_id", "responsible_organisation_id",
                   "rectification_type", "deadline", "original_deadline", "key_problem", "closure_evidence",
                   "unrectifiable_evidence", "rebounded", "rebound_count", "rectification_started_on",
                   "closure_requested_at", "closed_at", "closed_on", "created_at", "updated_at")
PARTY_COLUMNS = ("finding_id", "organisation_id", "role", "position")
MEASURE_COLUMNS = ("id", "finding_id", "jurisdiction_id", "position", "title", "deadline", "original_deadline",
                   "status", "version", "evidence", "completed_on", "created_at", "updated_at")
KINDS = ("central_inspection", "provincial_routine", "party_inspection", "audit")
ASPECTS = ("(一)", "(二)", "(三)", "(四)", "(五)")
TODAY = date(2026, 12, 1)  # the datasets' "now": deadlines before it are past
# Status weights by the campaign's age (0 oldest … 3 newest).
STATES = [
    {"closed": 80, "sustained": 8, "closure_requested": 4, "in_progress": 6, "unrectifiable": 2},
    {"closed": 60, "sustained": 8, "closure_requested": 10, "in_progress": 20, "unrectifiable": 2},
    {"closed": 25, "sustained": 5, "closure_requested": 15, "in_progress": 50, "plan_submitted": 5},
    {"closed": 5, "closure_requested": 5, "in_progress": 55, "plan_submitted": 15, "assigned": 15,
     "registered": 5},
]
MEASURES_BY_STATUS = {"closed": ("verified",), "closure_requested": ("done", "verified"),
                      "unrectifiable": ("verified", "cannot_complete"), "sustained": ("verified", "open"),
                      "in_progress": ("open", "open", "done", "verified")}


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _responsible(forest: dict[str, Org], p: str) -> list[Org]:
    return [o for c, o in forest.items() if c.startswith(f"{p}.") and o.kind in ("department", "government")]


def province_rows(seed: int, number: int, quota: int, forest: dict[str, Org]) -> Iterator[tuple[str, tuple]]:
    """("inspection" | "io" | "category" | "finding" | "party" | "measure", row) for province `number`."""
    rng = random.Random(f"{seed}:findings:{number}")
    p = f"p{number:02d}"
    root, office = forest[p], forest[f"{p}.pc.inspection.office"]
    bodies = [forest[f"{p}.pc.inspection.team1"], forest[f"{p}.pc.inspection.team2"], forest[f"{p}.pc.inspection"]]
    responsible = _responsible(forest, p)
    clock = EPOCH + timedelta(days=100, hours=number)
    campaigns = []
    for n in range(12):
        clock += timedelta(days=60)
        inspection_id = uuid7_at(clock, rng)
        body = bodies[n % len(bodies)]
        yield "inspection", (inspection_id, root.id, KINDS[n % len(KINDS)], f"{root.name}第{n + 1}轮督察",
                             body.id, office.id, "monthly", 1, clock, clock)
        yield "io", (inspection_id, forest[f"{p}.gov"].id, 0)
        topics = []
        for a, aspect in enumerate(ASPECTS):
            aspect_id = uuid7_at(clock, rng)
            yield "category", (aspect_id, inspection_id, None, f"{aspect_id.hex}/", 0, a, aspect, f"{aspect}方面",
                               clock, clock)
            for t in range(4):
                topic_id = uuid7_at(clock, rng)
                yield "category", (topic_id, inspection_id, aspect_id, f"{aspect_id.hex}/{topic_id.hex}/", 1, t,
                                   f"{t + 1}.", f"{aspect}{t + 1}.专题", clock, clock)
                topics.append(topic_id)
        campaigns.append((inspection_id, body, topics, n * 4 // 12))
    per = quota // len(campaigns)
    for c, (inspection_id, body, topics, age) in enumerate(campaigns):
        count = per + (quota - per * len(campaigns) if c == len(campaigns) - 1 else 0)
        started = (EPOCH + timedelta(days=160 + 60 * c)).date()
        for k in range(count):
            created = datetime.combine(started, datetime.min.time(), EPOCH.tzinfo) + timedelta(
                seconds=k * 7 + rng.randrange(7))
            finding_id = uuid7_at(created, rng)
            status = _weighted(rng, STATES[age])
            org = rng.choice(responsible)
            assigned = status != "registered"
            original = started + timedelta(days=rng.randrange(90, 900)) if assigned else None
            # About one in eight unfinished findings is past its deadline; the rest are due later.
            if original and status in ("in_progress", "plan_submitted", "assigned"):
                original = TODAY - timedelta(days=rng.randrange(1, 200)) if rng.random() < 0.125 else \
                    TODAY + timedelta(days=rng.randrange(1, 700))
            deadline = original + timedelta(days=180) if original and rng.random() < 0.1 else original
            finished = status in ("closure_requested", "closed")
            done_at = created + timedelta(days=rng.randrange(60, 700)) if finished else None
            yield "finding", (
                finding_id, root.id, inspection_id, rng.choice(topics), f"{c + 1}-{k + 1}", f"问题{c + 1}-{k + 1}",
                status, 1, office.id, body.id, org.id if assigned else None,
                "long_term" if status == "sustained" else "time_limited", deadline, original, rng.random() < 0.05,
                "[]", "[]", False, 0, started + timedelta(days=30) if status not in (
                    "registered", "assigned", "plan_submitted") else None, done_at,
                done_at + timedelta(days=20) if status == "closed" else None,
                (done_at + timedelta(days=20)).date() if status == "closed" else None, created, created)
            yield "party", (finding_id, office.id, "rectification_office", 0)
            yield "party", (finding_id, body.id, "inspecting_body", 0)
            if assigned:
                yield "party", (finding_id, org.id, "responsible", 0)
            states = MEASURES_BY_STATUS.get(status)
            if not states:
                continue
            for m in range(rng.randrange(1, 4)):
                state = states[m % len(states)] if status != "in_progress" else rng.choice(states)
                m_deadline = deadline if rng.random() < 0.7 else (
                    TODAY - timedelta(days=rng.randrange(1, 100)) if state == "open" and rng.random() < 0.3
                    else deadline)
                yield "measure", (uuid7_at(created, rng), finding_id, root.id, m, f"措施{m + 1}", m_deadline or TODAY,
                                  m_deadline or TODAY, state, 1, "[]",
                                  (done_at or created + timedelta(days=90)).date() if state in ("done", "verified")
                                  else None, created, created)


async def load_findings(conn: asyncpg.Connection, ctx: Any) -> dict[str, int]:
    from bench.generate import CHUNK, copy_in

    tables = {"inspection": ("inspection", INSPECTION_COLUMNS),
              "io": ("inspection_organisation", ("inspection_id", "organisation_id", "position")),
              "category": ("inspection_category", CATEGORY_COLUMNS), "finding": ("finding", FINDING_COLUMNS),
              "party": ("finding_party", PARTY_COLUMNS), "measure": ("measure", MEASURE_COLUMNS)}
    order = list(tables)  # parents before children: the foreign keys hold at every COPY
    counts = {table: 0 for table, _ in tables.values()}
    buffers: dict[str, list[tuple]] = {kind: [] for kind in tables}

    async def flush() -> None:
        for kind in order:
            table, columns = tables[kind]
            counts[table] += await copy_in(conn, table, columns, buffers[kind])
            buffers[kind] = []

    for number in range(1, ctx.scale.provinces + 1):
        quota = province_quota(ctx.scale.findings, number)
        for kind, row in province_rows(ctx.seed, number, quota, ctx.forest.by_code):
            buffers[kind].append(row)
            if len(buffers[kind]) >= CHUNK:
                await flush()
    await flush()
    return counts
