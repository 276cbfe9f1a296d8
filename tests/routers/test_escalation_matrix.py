"""The escalation and accountability-case workflows as matrices: state × action × caller, over HTTP.

Written by hand from DOMAIN.md "Escalations" and "Accountability cases", not derived from the tables.
Escalations (Hainan, 000 §(十二)): the decider's leadership (省政府, `gov_leadership`) decides or rejects a
proposal; the proposer (省生态环境厅's leader) cannot; an addressed organisation's leader or office (水利厅)
replies to an urge (督办), its staff cannot; a sibling department (教育厅) does not see it (404).
Cases (000 §(十五)): the responsible body's leader (水利厅) transfers or settles it while investigating;
the receiving body (省纪委监委, `discipline`) accepts and concludes; the handing-over department reads but
acts on nothing; another receiving body (省委组织部) and 教育厅 do not see it, nor does the discipline body
before the case is transferred to it. Every cell sets the state directly; a refusal leaves the record
(status, version, history) exactly as it was.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, func, insert, select, update

from app.core.etag import make_etag
from app.models import AccountabilityCase, CaseParty, Escalation, TransitionHistory
from tests.escalation_helpers import INVESTIGATION, create, escalation_body, province, step

E_CALLERS = ("gov_leadership", "env_leader", "water_leader", "water_office", "water_staff", "edu_leader")
E_STATES = ("proposed", "issued", "rejected", "replied")
E_ACTIONS = {"decide": {}, "reject": {"comment": "不同意"}, "reply": {"reply": "已办理"}}
E_ALLOWED = {("proposed", "decide", "gov_leadership"), ("proposed", "reject", "gov_leadership"),
             ("issued", "reply", "water_leader"), ("issued", "reply", "water_office")}

C_CALLERS = ("water_leader", "water_staff", "env_leader", "discipline_discipline", "org_dept_discipline",
             "edu_leader")
C_STATES = ("investigating", "transferred", "accepted", "concluded")
C_ALLOWED = {("investigating", "transfer", "water_leader"), ("investigating", "conclude-internally", "water_leader"),
             ("transferred", "accept", "discipline_discipline"), ("accepted", "conclude", "discipline_discipline")}


async def _snapshot(database, model, record_id: uuid.UUID) -> tuple:
    async with database.transaction(write=False) as s:
        row = await s.get(model, record_id, populate_existing=True)
        count = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == record_id))
        return row.status.value, row.version, count


async def test_escalation_matrix(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "summons"))
    e_id = uuid.UUID(e["id"])
    async with database.transaction() as s:  # an urge with the Hainan deciders, so every action has a cell
        await s.execute(update(Escalation).where(Escalation.id == e_id).values(kind="urge", summons_form=None,
                                                                               reply_deadline=date(2099, 1, 1)))
    mismatches = {}
    for state in E_STATES:
        for action, body in E_ACTIONS.items():
            for caller in E_CALLERS:
                async with database.transaction() as s:
                    await s.execute(delete(TransitionHistory).where(TransitionHistory.resource_id == e_id))
                    await s.execute(update(Escalation).where(Escalation.id == e_id).values(status=state, version=1))
                before = await _snapshot(database, Escalation, e_id)
                r = await client.post(f"/escalations/{e_id}/{action}", json=body,
                                      headers={**p.headers(caller), "If-Match": make_etag(e_id, 1)})
                if (state, action, caller) in E_ALLOWED:
                    ok = r.status_code == 200 and (await _snapshot(database, Escalation, e_id))[1:] == (2, 1)
                elif caller == "edu_leader":
                    ok = r.status_code == 404
                else:
                    ok = r.status_code in (403, 409) and await _snapshot(database, Escalation, e_id) == before
                if not ok:
                    mismatches[(state, action, caller)] = r.status_code
    assert mismatches == {}


async def test_case_matrix(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "handover"))
    e = await step(client, p, "gov_leadership", "escalations", e, "decide")
    case_id, discipline = uuid.UUID(e["accountability_case_id"]), p.org("discipline").id
    actions = {"transfer": {**INVESTIGATION, "receiving_body_kind": "discipline",
                            "receiving_organisation_id": str(discipline)},
               "conclude-internally": {**INVESTIGATION, "measure": "criticism_education"},
               "accept": {}, "conclude": {"outcome": "给予诫勉"}}
    mismatches = {}
    for state in C_STATES:
        for action, body in actions.items():
            for caller in C_CALLERS:
                transferred = state != "investigating"
                async with database.transaction() as s:
                    await s.execute(delete(TransitionHistory).where(TransitionHistory.resource_id == case_id))
                    await s.execute(delete(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == "receiving"))
                    await s.execute(update(AccountabilityCase).where(AccountabilityCase.id == case_id).values(
                        status=state, version=1, receiving_organisation_id=discipline if transferred else None,
                        receiving_body_kind="discipline" if transferred else None))
                    if transferred:
                        await s.execute(insert(CaseParty).values(case_id=case_id, organisation_id=discipline,
                                                                 role="receiving"))
                before = await _snapshot(database, AccountabilityCase, case_id)
                r = await client.post(f"/accountability-cases/{case_id}/{action}", json=body,
                                      headers={**p.headers(caller), "If-Match": make_etag(case_id, 1)})
                invisible = caller in ("org_dept_discipline", "edu_leader") or (
                    caller == "discipline_discipline" and not transferred)
                if (state, action, caller) in C_ALLOWED:
                    ok = r.status_code == 200 and (await _snapshot(database, AccountabilityCase, case_id))[1:] == (2, 1)
                elif invisible:
                    ok = r.status_code == 404
                else:
                    ok = r.status_code in (403, 409) and await _snapshot(database, AccountabilityCase, case_id) == before
                if not ok:
                    mismatches[(state, action, caller)] = r.status_code
    assert mismatches == {}
