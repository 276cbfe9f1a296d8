"""Races on reports (RELIABILITY.md REL-02, finding 3/4), on SQLite and PostgreSQL.

- N simultaneous generations of one province's obligations (a start gate releases them
  together, each its own request and transaction) create each obligation exactly once:
  the unique key (rule, filer, period) with INSERT … ON CONFLICT DO NOTHING.
- N simultaneous identical `submit`s with the same If-Match: one 200, the rest 412, one
  history row, one audit event, version +1.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, Report, ReportParty, Role, TransitionHistory
from tests.factories import auth, make_user
from tests.report_factories import BUILDERS, COMPLETE_SECTIONS, make_report

N = 8


async def gate(n: int, call):
    start = asyncio.Event()

    async def one():
        await start.wait()
        return await call()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0.05)
    start.set()
    return await asyncio.gather(*tasks)


class TestConcurrentGeneration:
    async def test_simultaneous_runs_create_each_obligation_once(self, client, database):
        async with database.transaction() as s:
            p = await BUILDERS["hainan"](s)
            admin = await make_user(s, "t.hn.admin", (p.root, Role.admin))
        body = {"jurisdiction_id": str(p.root.id), "year": 2024}
        answers = await gate(N, lambda: client.post("/report-obligations", headers=auth(admin), json=body))
        assert [r.status_code for r in answers] == [200] * N, [r.text for r in answers if r.status_code != 200]
        created = [r.json()["created"] for r in answers]
        assert sum(created) == 92 and all(r.json()["created"] + r.json()["existing"] == 92 for r in answers)
        async with database.transaction(write=False) as s:
            keys = (await s.execute(select(Report.rule_id, Report.organisation_id, Report.period))).all()
            parties = await s.scalar(select(func.count()).select_from(ReportParty))
            events = await s.scalar(select(func.count()).where(AuditEvent.action == "report.generate",
                                                               AuditEvent.organisation_id == p.root.id))
        assert len(keys) == len(set(keys)) == 92
        # Parties only for inserted rows: as many as one run alone writes (checked by rerunning from empty).
        assert events == sum(1 for c in created if c)
        async with database.transaction() as s:
            await s.execute(ReportParty.__table__.delete())
            await s.execute(Report.__table__.delete())
        alone = await client.post("/report-obligations", headers=auth(admin), json=body)
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(ReportParty)) == parties
        assert alone.json()["created"] == 92


class TestConcurrentTransition:
    async def test_same_if_match_submits_give_one_winner_and_one_history_row(self, client, database):
        async with database.transaction() as s:
            p = await BUILDERS["hainan"](s)
            leader = await make_user(s, "t.hn.env.leader", (p.org("env"), Role.leader))
            report = await make_report(s, p.org("env"), recipients=(p.org("pc"), p.org("gov")),
                                       status="draft", content=COMPLETE_SECTIONS)
        headers = {**auth(leader), "If-Match": make_etag(report.id, report.version)}
        answers = await gate(N, lambda: client.post(f"/reports/{report.id}/submit", headers=headers))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [412] * (N - 1), [r.text for r in answers]
        async with database.transaction(write=False) as s:
            row = await s.get(Report, report.id)
            history = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == report.id))
            events = await s.scalar(select(func.count()).where(AuditEvent.resource_id == str(report.id),
                                                               AuditEvent.action == "report.submit"))
        assert (row.status.value, row.version, history, events) == ("submitted", report.version + 1, 1, 1)
