"""Simultaneous steps on one finding or measure: exactly one winner, one history row, one audit row, no 5xx.

RELIABILITY.md finding 3 / REL-02: N callers released together with the same If-Match. The losers see
412 (the version moved) or 409 (the state moved); on SQLite the writers queue (BEGIN IMMEDIATE), on
PostgreSQL the compare-and-set UPDATE lets one through. Both databases run this file (`make test`).
Clauses: 001 一(三) 销号 by the office (close); DOMAIN.md measures "verify(office)"; 001 一(三) 回头看.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, Finding, FindingLookback, Measure, TransitionHistory
from tests.findings_helpers import EVIDENCE, act, campaign, measure_act, measures_of, to_in_progress

OFFICE = "inspection_office_office"
N = 20


async def released_together(n, call):
    barrier = asyncio.Barrier(n)

    async def one(i):
        await barrier.wait()
        return await call(i)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def counts(database, resource_id, action: str) -> tuple[int, int]:
    async with database.transaction(write=False) as s:
        rid = uuid.UUID(str(resource_id))
        history = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == rid,
                                                            TransitionHistory.action == action.split(".")[1]))
        audits = await s.scalar(select(func.count()).where(AuditEvent.action == action,
                                                           AuditEvent.resource_id == str(rid)))
    return history, audits


async def test_simultaneous_closes_with_one_etag_have_one_winner(client, database):
    c = await campaign(database, client)
    f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
    [m] = await measures_of(client, c, f)
    await measure_act(client, c, "water_leader", m, "complete")
    f = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
    f = await act(client, c, "water_leader", f, "request-closure", {"summary": "完成", "evidence": EVIDENCE})
    headers = {**c.h(OFFICE), "If-Match": make_etag(f["id"], f["version"])}
    answers = await released_together(N, lambda i: client.post(f"/findings/{f['id']}/close", headers=headers,
                                                               json={"verification_note": f"核验{i}"}))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409, 412}, codes
    assert await counts(database, f["id"], "finding.close") == (1, 1)
    async with database.transaction(write=False) as s:
        row = await s.get(Finding, uuid.UUID(f["id"]))
        assert (row.status.value, row.version) == ("closed", f["version"] + 1)


async def test_simultaneous_verifications_of_one_measure_have_one_winner(client, database):
    c = await campaign(database, client)
    f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
    [m] = await measures_of(client, c, f)
    m = await measure_act(client, c, "water_leader", m, "complete")
    headers = {**c.h(OFFICE), "If-Match": make_etag(m["id"], m["version"])}
    answers = await released_together(N, lambda i: client.post(f"/measures/{m['id']}/verify", headers=headers,
                                                               json={"verification_note": f"销号{i}"}))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409, 412}, codes
    assert await counts(database, m["id"], "measure.verify") == (1, 1)
    async with database.transaction(write=False) as s:
        assert (await s.get(Measure, uuid.UUID(m["id"]))).version == m["version"] + 1


async def test_simultaneous_rebounds_count_once(client, database):
    """Two look-backs finding the same problem back at once reopen it once and count one rebound."""
    c = await campaign(database, client)
    f = await to_in_progress(client, c, office=OFFICE, measures=("一",))
    [m] = await measures_of(client, c, f)
    await measure_act(client, c, "water_leader", m, "complete")
    f = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
    f = await act(client, c, "water_leader", f, "request-closure", {"summary": "完成", "evidence": EVIDENCE})
    f = await act(client, c, OFFICE, f, "close", {"verification_note": "同意"})
    users = ("cn_inspector", OFFICE, "water_leader")
    answers = await released_together(9, lambda i: client.post(
        f"/findings/{f['id']}/lookbacks", headers=c.h(users[i % 3]), json={"outcome": "rebounded", "note": "反弹"}))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1 and set(codes) <= {201, 409}, codes
    assert await counts(database, f["id"], "finding.rebound") == (1, 1)
    async with database.transaction(write=False) as s:
        row = await s.get(Finding, uuid.UUID(f["id"]))
        assert (row.status.value, row.rebound_count) == ("in_progress", 1)
        assert await s.scalar(select(func.count()).select_from(FindingLookback)) == 1
