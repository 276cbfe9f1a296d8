"""The finding list filtered by subtree + status + overdue is index-backed and keyset-paged (no OFFSET).

The brief's 1,000,000-row list (RELIABILITY.md REL-12; DOMAIN.md "Subtree checks must be index-backed"):
here the SQL the service really sends for `GET /findings?subtree_of=…&status=in_progress&overdue=true`
is captured and EXPLAINed. On PostgreSQL, with sequential scans priced out (`enable_seqscan = off`, so
a small test table cannot hide a missing index), the plan must reach `finding` through one of its
indexes; on SQLite the plan must SEARCH or SCAN it through an index, never a bare table scan. The
second page must be a keyset predicate, never OFFSET, and a subtree inside the caller's scope needs no
per-row visibility semi-join.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import event, text

from app.core.calendar import today_in_zone
from app.models import Finding, FindingParty
from tests.conftest import TEST_DB
from tests.findings_helpers import campaign

LIST_INDEXES = ("ix_finding_status_deadline", "ix_finding_jurisdiction_id_created_at_id",
                "ix_finding_responsible_organisation_id_status_deadline")


async def test_the_filtered_finding_list_uses_indexes_and_no_offset(client, database):
    c = await campaign(database, client)
    past = today_in_zone() - timedelta(days=30)
    async with database.transaction() as s:
        for n in range(120):
            f = Finding(id=uuid.uuid4(), jurisdiction_id=c.org("root"), inspection_id=uuid.UUID(c.inspection["id"]),
                        title=f"问题{n}", status="in_progress" if n % 3 else "closed",
                        rectification_office_id=c.org("inspection_office"), inspecting_body_id=c.org("cn_group"),
                        responsible_organisation_id=c.org("water" if n % 2 else "city_env"), deadline=past)
            s.add(f)
            await s.flush()
            s.add_all([FindingParty(finding_id=f.id, organisation_id=f.responsible_organisation_id, role="responsible"),
                       FindingParty(finding_id=f.id, organisation_id=f.rectification_office_id,
                                    role="rectification_office"),
                       FindingParty(finding_id=f.id, organisation_id=f.inspecting_body_id, role="inspecting_body")])
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM finding" in statement and "ORDER BY finding.created_at" in statement:
            captured.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        params = {"subtree_of": str(c.org("gov")), "status": "in_progress", "overdue": "true", "limit": 10}
        first = await client.get("/findings", headers=c.h("root_viewer"), params=params)
        assert first.status_code == 200 and len(first.json()["items"]) == 10, first.text
        second = await client.get("/findings", headers=c.h("root_viewer"),
                                  params={**params, "cursor": first.json()["next_cursor"]})
        assert second.status_code == 200 and len(second.json()["items"]) == 10
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    # (SQLite's dialect always writes `LIMIT ? OFFSET ?`: there the offset must be 0.)
    assert len(captured) == 2 and all("OFFSET" not in sql.upper() or list(args)[-1] == 0 for sql, args in captured)
    statement, parameters = captured[1]
    assert "finding.created_at >" in statement  # the second page starts after the cursor: a keyset predicate
    # The subtree lies in the caller's scope: no per-row semi-join over the parties (visible() left out).
    assert "finding_party" not in statement, statement
    async with database.engine.connect() as conn:
        if TEST_DB == "postgres":
            await conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(r[0] for r in (await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)).all())
            assert "Seq Scan on finding" not in plan, plan
        else:
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            plan = "\n".join(str(r[-1]) for r in rows)
            assert not any(line.strip() in ("SCAN finding", "SCAN TABLE finding") for line in plan.splitlines()), plan
        await conn.rollback()
    assert any(index in plan for index in LIST_INDEXES), plan
