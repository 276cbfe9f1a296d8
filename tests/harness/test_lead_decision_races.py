"""Races on lead decisions over HTTP, on SQLite and PostgreSQL (RELIABILITY.md REL-01..REL-04, as in
tests/harness/test_http_races.py): many callers with one ETag released at once.

Exactly one `approve` (and one `accept`) wins; every loser is 412 (its If-Match is stale by the
time it is served) or 409 (it lost the conditional update and found the decision moved on), never
a 5xx; one history row and one audit row for the step. Concurrent opinions of one participant: one
is recorded, the rest are 409 `opinion_already_recorded`.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, LeadDecision, LeadDecisionOpinion, TransitionHistory
from tests.factories_lead import make_decision, province
from tests.harness.test_http_races import assert_no_server_errors, released_together

N = 30


@pytest.fixture
async def hainan(database):
    return await province(database, "hainan")


async def counts(database, decision_id, action: str) -> tuple[int, int, int]:
    async with database.transaction(write=False) as s:
        history = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == decision_id,
                                                            TransitionHistory.action == action))
        audit = await s.scalar(select(func.count()).where(AuditEvent.resource_id == str(decision_id),
                                                          AuditEvent.action == f"lead_decision.{action}"))
        version = (await s.get(LeadDecision, decision_id)).version
    return history, audit, version


@pytest.mark.parametrize(("state", "action", "user", "target"), [
    ("proposed", "approve", "gov_leadership", "approved"),  # 000 §(八) 审定, by one of 省委、省政府
    ("requested", "accept", "convenor_office", "consulting"),
])
async def test_one_etag_many_callers_one_step(client, hainan, database, state, action, user, target):
    async with database.transaction() as s:
        decision = await make_decision(s, hainan, state)
    tag = make_etag(decision.id, 1)
    headers = {**hainan.headers(user), "If-Match": tag}
    responses = await released_together(N, lambda i: client.post(
        f"/lead-decisions/{decision.id}/{action}", json={"comment": f"第{i}个"}, headers=headers))
    assert_no_server_errors(responses)
    got = Counter(r.status_code for r in responses)
    assert got[200] == 1 and set(got) <= {200, 409, 412}, got
    [won] = [r for r in responses if r.status_code == 200]
    assert (won.json()["status"], won.headers["ETag"]) == (target, make_etag(decision.id, 2))
    for lost in (r for r in responses if r.status_code != 200):
        assert lost.headers["content-type"].startswith("application/problem+json")
        assert lost.json()["code"] in ("stale_resource", "transition_not_allowed")
    assert await counts(database, decision.id, action) == (1, 1, 2)


async def test_one_participant_many_opinions_at_once_one_recorded(client, hainan, database):
    async with database.transaction() as s:
        decision = await make_decision(s, hainan, "consulting")
    body = {"organisation_id": hainan.id("agri"), "stance": "agree"}
    responses = await released_together(10, lambda i: client.post(
        f"/lead-decisions/{decision.id}/opinions", json=body, headers=hainan.headers("agri_leader")))
    assert_no_server_errors(responses)
    got = Counter(r.status_code for r in responses)
    assert got == {201: 1, 409: 9}, got
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"opinion_already_recorded"}
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(LeadDecisionOpinion)) == 1
        assert (await s.get(LeadDecision, decision.id)).version == 2
