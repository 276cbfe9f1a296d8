"""BOLA in the report collections (RELIABILITY.md API1-b): `GET /reports` and the compliance view hold
exactly what the caller may read, over generated organisation trees.

The trees and users are tests/authz/test_collection_leaks.py's (two provinces, random roles at random
nodes). Every node files one report, addressed to the next node and copied (抄送) to the one after,
in a state cycling pending → draft → submitted → received. The expected set is computed here from
DOMAIN.md, not by the code under test: a report is readable when its filer or its recipient lies in
one of the caller's subtrees (every role reads reports), or its copy does and it has been sent.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from sqlalchemy import delete

from app.models import Report, ReportParty
from tests.authz.test_collection_leaks import EXAMPLES, ORG_READ, Spec, _listed, _remove, _write, forests
from tests.factories import auth
from tests.report_factories import make_report

STATES = ("pending", "draft", "submitted", "received")
SENT = {"submitted", "received"}


def parties(spec: Spec, n: int) -> tuple[int | None, int | None, str]:
    count = len(spec.parents)
    recipient, copy = (n + 1) % count, (n + 2) % count
    return (recipient if recipient != n else None, copy if copy not in (n, recipient) else None,
            STATES[n % len(STATES)])


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=forests())
async def test_report_lists_hold_exactly_what_the_caller_may_read(client, database, spec: Spec):
    token = f"rleak{uuid.uuid4().hex[:10]}"
    orgs, users = await _write(database, spec, token)
    report_of: dict[int, str] = {}
    try:
        async with database.transaction() as s:
            for n, org in enumerate(orgs):
                recipient, copy, state = parties(spec, n)
                report = await make_report(
                    s, org, recipients=(orgs[recipient],) if recipient is not None else (),
                    copies=((orgs[copy], "copy_across", "filer"),) if copy is not None else (), status=state)
                report_of[n] = str(report.id)
        for i, user in enumerate(users):
            scope = spec.visible(i, ORG_READ)

            def readable(n: int, scope: set[int] = scope) -> bool:
                recipient, copy, state = parties(spec, n)
                return n in scope or recipient in scope or (copy in scope and state in SENT)

            want = {report_of[n] for n in report_of if readable(n)}
            assert await _listed(client, "/reports", auth(user), "id") == want
            for root in spec.filters:
                below = spec.subtree(root)
                listed = await _listed(client, "/reports", auth(user), "id", organisation_id=str(orgs[root].id))
                assert listed == {report_of[n] for n in below if readable(n)}
            view = await client.get("/report-compliance", headers=auth(user), params={"period_year": 2024})
            assert view.json()["total"] == len(want)
            assert sum(view.json()["counts"][b] for b in ("filed", "missing")) == len(want)
    finally:
        async with database.transaction() as s:
            ids = [uuid.UUID(r) for r in report_of.values()]
            await s.execute(delete(ReportParty).where(ReportParty.report_id.in_(ids)))
            await s.execute(delete(Report).where(Report.id.in_(ids)))
        await _remove(database, orgs, users)
