"""The finding and measure workflows as matrices: state × action × caller, over HTTP.

Written by hand from DOMAIN.md "Inspections and findings" (the diagram) and 001, not derived from the
tables: the 督察办 (`office`, the campaign's rectification office) assigns, approves and returns plans,
closes (销号, 001 一(三)), rejects, decides unrectifiable claims, sustains long-term work (001 一(三)
"对长期整改的,紧盯不放"); the responsible organisation's leader (水利厅, `leader`) plans, amends (001
二(四)1), requests closure, declares unrectifiable, asks for extensions; its staff and leader report
progress; inspectors, the office and the leader look back (001 一(三) 回头看). Measures: the leader
completes or declares cannot-complete, the office verifies, confirms, reopens (001 二(四)2).

Callers, one membership each: office, leader, staff (水利厅), inspector (中央督察组, the inspecting body),
gov_leadership (省政府: above 水利厅, sees it, holds no role there), edu_leader (a sibling department:
404). `amendment` is plan_submitted after a first approval. The finding is long-term with one verified
measure, so sustain and request_closure can pass where the state allows them. Every cell sets the state
directly; a refusal must leave the finding (status, version, history, records) exactly as it was.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select, update

from app.core.etag import make_etag
from app.models import (
    ExtensionRequest,
    Finding,
    FindingLookback,
    FindingParty,
    Measure,
    ProgressUpdate,
    TransitionHistory,
    utcnow,
)
from tests.findings_helpers import EVIDENCE, LATER, SOON, TODAY, campaign, register

CALLERS = {"office": "inspection_office_office", "leader": "water_leader", "staff": "water_staff",
           "inspector": "cn_inspector", "gov_leadership": "gov_leadership", "edu_leader": "edu_leader"}
STATES = ("registered", "assigned", "plan_submitted", "amendment", "in_progress", "closure_requested", "closed",
          "unrectifiable_requested", "unrectifiable", "sustained")
COMMENT = {"comment": "请补充"}
ACTIONS = {  # action → (path under the finding, body, takes If-Match)
    "assign": ("assign", {"responsible_organisation_id": "{water}", "deadline": SOON}, True),
    "submit-plan": ("submit-plan", {"measures": [{"title": "一", "deadline": SOON}]}, True),
    "approve-plan": ("approve-plan", {}, True),
    "return": ("return", COMMENT, True),
    "return-amendment": ("return-amendment", COMMENT, True),
    "amend-plan": ("amend-plan", {"measures": [{"title": "二", "deadline": SOON}]}, True),
    "request-closure": ("request-closure", {"summary": "完成", "evidence": EVIDENCE}, True),
    "close": ("close", {"verification_note": "同意销号"}, True),
    "reject-closure": ("reject-closure", COMMENT, True),
    "declare-unrectifiable": ("declare-unrectifiable", {"reason": "无法", "confirming_organisation_id": "{gov}"},
                              True),
    "approve-unrectifiable": ("approve-unrectifiable", {}, True),
    "reject-unrectifiable": ("reject-unrectifiable", COMMENT, True),
    "sustain": ("sustain", {}, True),
    "look_back": ("lookbacks", {"outcome": "passed", "note": "回头看"}, False),
    "rebound": ("lookbacks", {"outcome": "rebounded", "note": "反弹"}, False),
    "progress": ("progress-updates", {"summary": "进展"}, False),
    "extension": ("extension-requests", {"requested_deadline": LATER, "reason": "延期"}, False),
}
LOOKERS = ("office", "leader", "inspector")
ALLOWED = {
    ("registered", "assign", "office"),
    ("assigned", "submit-plan", "leader"), ("assigned", "extension", "leader"),
    ("plan_submitted", "approve-plan", "office"), ("plan_submitted", "return", "office"),
    ("plan_submitted", "extension", "leader"),
    ("amendment", "approve-plan", "office"), ("amendment", "return-amendment", "office"),
    ("amendment", "extension", "leader"), ("amendment", "progress", "leader"), ("amendment", "progress", "staff"),
    ("in_progress", "amend-plan", "leader"), ("in_progress", "request-closure", "leader"),
    ("in_progress", "declare-unrectifiable", "leader"), ("in_progress", "sustain", "office"),
    ("in_progress", "progress", "leader"), ("in_progress", "progress", "staff"), ("in_progress", "extension", "leader"),
    ("closure_requested", "close", "office"), ("closure_requested", "reject-closure", "office"),
    ("unrectifiable_requested", "approve-unrectifiable", "office"),
    ("unrectifiable_requested", "reject-unrectifiable", "office"),
    ("sustained", "request-closure", "leader"), ("sustained", "progress", "leader"), ("sustained", "progress", "staff"),
    ("sustained", "extension", "leader"),
    *((state, action, who) for state in ("closed", "sustained") for action in ("look_back", "rebound")
      for who in LOOKERS),
}
INVISIBLE = {"edu_leader"}
UNASSIGNED = {"leader", "staff", "gov_leadership"}  # 水利厅 is no party of a registered finding yet: 404


def invisible(state: str, caller: str) -> bool:
    return caller in INVISIBLE or (state == "registered" and caller in UNASSIGNED)


async def reset(database, c, finding_id: uuid.UUID, state: str) -> None:
    """The finding in `state` at version 1, with one verified measure and no records."""
    status = "plan_submitted" if state == "amendment" else state
    started = None if state in ("registered", "assigned", "plan_submitted") else TODAY - timedelta(days=10)
    proposed = ({"amendment": state == "amendment", "summary": None, "submitted_at": utcnow().isoformat(),
                 "measures": [{"title": "新措施", "deadline": SOON}]} if status == "plan_submitted" else None)
    water, deadline = c.org("water"), date.fromisoformat(SOON)
    async with database.transaction() as s:
        await s.execute(delete(TransitionHistory).where(TransitionHistory.resource_id == finding_id))
        for model in (Measure, FindingLookback, ProgressUpdate, ExtensionRequest):
            await s.execute(delete(model).where(model.finding_id == finding_id))
        await s.execute(delete(FindingParty).where(FindingParty.finding_id == finding_id,
                                                   FindingParty.role == "responsible"))
        await s.execute(update(Finding).where(Finding.id == finding_id).values(
            status=status, version=1, rectification_started_on=started, proposed_plan=proposed,
            responsible_organisation_id=None if state == "registered" else water, deadline=deadline,
            original_deadline=deadline, rectification_type="long_term", rebounded=False, rebound_count=0))
        if state != "registered":
            await s.execute(insert(FindingParty).values(finding_id=finding_id, organisation_id=water,
                                                        role="responsible", position=0))
        await s.execute(insert(Measure).values(id=uuid.uuid4(), finding_id=finding_id, jurisdiction_id=c.org("root"),
                                               position=0, title="已完成的措施", deadline=deadline, status="verified",
                                               version=1, evidence=[]))


async def snapshot(database, finding_id: uuid.UUID) -> tuple:
    async with database.transaction(write=False) as s:
        f = await s.get(Finding, finding_id, populate_existing=True)
        counted = [await s.scalar(select(func.count()).where(TransitionHistory.resource_id == finding_id))]
        for model in (Measure, FindingLookback, ProgressUpdate, ExtensionRequest):
            counted.append(await s.scalar(select(func.count()).where(model.finding_id == finding_id)))
        return (f.status.value, f.version, f.rebound_count, *counted)


def fill(body: dict, c) -> dict:
    return {k: (v.format(water=c.org("water"), gov=c.org("gov")) if isinstance(v, str) else v)
            for k, v in body.items()}


async def test_finding_matrix(client, database):
    c = await campaign(database, client)
    finding_id = uuid.UUID((await register(client, c))["id"])
    mismatches = {}
    for state in STATES:
        for action, (path, body, if_match) in ACTIONS.items():
            for caller, user in CALLERS.items():
                await reset(database, c, finding_id, state)
                before = await snapshot(database, finding_id)
                headers = {**c.h(user), **({"If-Match": make_etag(finding_id, 1)} if if_match else {})}
                r = await client.post(f"/findings/{finding_id}/{path}", json=fill(body, c), headers=headers)
                allowed = (state, action, caller) in ALLOWED
                if allowed:
                    ok = r.status_code == (200 if if_match else 201)
                elif invisible(state, caller):
                    ok = r.status_code == 404
                else:
                    ok = r.status_code in (403, 409) and await snapshot(database, finding_id) == before
                if not ok:
                    mismatches[(state, action, caller)] = (r.status_code, "allowed" if allowed else "refused")
    assert mismatches == {}


# ------------------------------------------------------------------------------------------ measures

M_STATES = ("open", "done", "verified", "cannot_complete_requested", "cannot_complete")
M_ACTIONS = {"complete": {}, "declare-cannot-complete": {"reason": "无法完成", "confirming_organisation_id": "{gov}",
                                                         "evidence": EVIDENCE},
             "verify": {}, "reopen": COMMENT, "confirm": {}, "reject-cannot-complete": COMMENT}
M_ALLOWED = {
    "in_progress": {("open", "complete", "leader"), ("open", "declare-cannot-complete", "leader"),
                    ("done", "verify", "office"), ("done", "reopen", "office"),
                    ("cannot_complete_requested", "confirm", "office"),
                    ("cannot_complete_requested", "reject-cannot-complete", "office")},
    # Closure requested: the office may still 销号 a task or confirm a claim; nothing else moves.
    "closure_requested": {("done", "verify", "office"), ("cannot_complete_requested", "confirm", "office")},
    "closed": set(),
}


async def test_measure_matrix(client, database):
    c = await campaign(database, client)
    finding_id = uuid.UUID((await register(client, c))["id"])
    mismatches = {}
    for situation, allowed_cells in M_ALLOWED.items():
        await reset(database, c, finding_id, situation)
        async with database.transaction(write=False) as s:
            measure_id = await s.scalar(select(Measure.id).where(Measure.finding_id == finding_id))
        for state in M_STATES:
            for action, body in M_ACTIONS.items():
                for caller, user in CALLERS.items():
                    async with database.transaction() as s:
                        await s.execute(update(Measure).where(Measure.id == measure_id).values(status=state, version=1))
                        await s.execute(delete(TransitionHistory).where(TransitionHistory.resource_id == measure_id))
                    r = await client.post(f"/measures/{measure_id}/{action}", json=fill(body, c),
                                          headers={**c.h(user), "If-Match": make_etag(measure_id, 1)})
                    async with database.transaction(write=False) as s:
                        row = await s.get(Measure, measure_id, populate_existing=True)
                        moved = (row.status.value, row.version) != (state, 1)
                    allowed = (state, action, caller) in allowed_cells
                    if allowed:
                        ok = r.status_code == 200 and moved
                    elif caller in INVISIBLE:
                        ok = r.status_code == 404 and not moved
                    else:
                        ok = r.status_code in (403, 409) and not moved
                    if not ok:
                        mismatches[(situation, state, action, caller)] = r.status_code
    assert mismatches == {}
