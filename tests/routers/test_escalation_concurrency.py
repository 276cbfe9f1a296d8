"""Simultaneous decisions and transfers: exactly one winner, one history row, one audit row, one case, no 5xx.

RELIABILITY.md finding 3 / REL-02, as tests/routers/test_finding_concurrency.py: N callers released together
with the same If-Match. 000 §(十二) (省委、省政府 decide a handover) and §(十五) (the responsible body transfers).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AccountabilityCase, AuditEvent, CaseParty, TransitionHistory
from tests.escalation_helpers import INVESTIGATION, create, escalation_body, get, province, step
from tests.routers.test_finding_concurrency import released_together

N = 12


async def _counts(database, resource_id, action: str) -> tuple[int, int]:
    async with database.transaction(write=False) as s:
        rid = uuid.UUID(str(resource_id))
        history = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == rid,
                                                            TransitionHistory.action == action.split(".")[1]))
        audits = await s.scalar(select(func.count()).where(AuditEvent.action == action,
                                                           AuditEvent.resource_id == str(rid)))
    return history, audits


async def test_simultaneous_decisions_open_one_case(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "handover"))
    headers = {**p.headers("gov_leadership"), "If-Match": make_etag(e["id"], e["version"])}
    answers = await released_together(N, lambda i: client.post(f"/escalations/{e['id']}/decide", headers=headers,
                                                               json={"comment": f"同意{i}"}))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409, 412}, codes
    assert await _counts(database, e["id"], "escalation.decide") == (1, 1)
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(AccountabilityCase)) == 1
        assert await s.scalar(select(func.count()).where(AuditEvent.action == "accountability_case.create")) >= 1


async def test_simultaneous_transfers_have_one_winner(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "handover"))
    e = await step(client, p, "gov_leadership", "escalations", e, "decide")
    case = await get(client, p, "water_leader", "accountability-cases", e["accountability_case_id"])
    headers = {**p.headers("water_leader"), "If-Match": make_etag(case["id"], case["version"])}
    body = {**INVESTIGATION, "receiving_body_kind": "discipline", "receiving_organisation_id": str(p.org("discipline").id)}
    answers = await released_together(N, lambda i: client.post(f"/accountability-cases/{case['id']}/transfer",
                                                               headers=headers, json=body))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409, 412}, codes
    assert await _counts(database, case["id"], "accountability_case.transfer") == (1, 1)
    async with database.transaction(write=False) as s:
        row = await s.get(AccountabilityCase, uuid.UUID(case["id"]))
        assert (row.status.value, row.version) == ("transferred", case["version"] + 1)
        assert await s.scalar(select(func.count()).where(CaseParty.case_id == row.id,
                                                         CaseParty.role == "receiving")) == 1
