"""State × action × caller (role at an organisation) for the four profiles, over HTTP.

Written by hand from DOMAIN.md "Lead-department decisions" and the clauses, not from the table:

    requested --accept(convenor's office)--> consulting
    consulting --propose(convenor's office)--> proposed
    proposed --approve(decider's leadership)--> approved ; --return(decider's leadership)--> consulting
    consulting --decide(convenor's leadership)--> approved   where the convenor decides itself
    approved --publish(convenor's office)--> published
    requested|consulting --withdraw(convenor's office)--> withdrawn

Hainan (000 §(八)): 督察领导小组办公室 convenes, 省委、省政府 审定. Henan (002 §(六)): 省生态环境厅
convenes, 省委、省政府 审定. Shandong (004 §五): 省生态环境厅 convenes, the profile sets 省委、省政府.
Hubei (003 §(七)): the 环委会 convenes and decides itself. Below the province (000 §(八) 由市县研究明确,
003 §(七) 各级环委会): the city's own body convenes and decides.

Each shape lists, per (state, action), the callers who may take it (200). Everyone else: 404 when
the decision is not theirs to see, 403 when the step is never theirs in this shape (wrong role or
wrong organisation), 409 when it is theirs at another moment (wrong state); and where the profile
has the decider approve, the convenor's leadership asking to `decide` is told 409: the profile has
no such step (app/workflows/engine.py, WrongState), not that it is the wrong person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.core.etag import make_etag
from tests.factories_lead import make_decision, proposal_body, province

STATES = ("requested", "consulting", "proposed", "approved", "published", "withdrawn")
ACTIONS = ("accept", "propose", "approve", "return", "decide", "publish", "withdraw")


@dataclass(frozen=True)
class Shape:
    profile: str
    level: str
    callers: tuple[str, ...]
    allowed: dict[tuple[str, str], set[str]]
    hidden: set[str] = field(default_factory=set)
    lacking: dict[str, set[str]] = field(default_factory=dict)


PROVINCIAL_CALLERS = ("convenor_office", "convenor_leadership", "gov_leadership", "pc_leadership", "gov_office",
                      "water_leader", "agri_leader", "city_office", "city_leadership")
CITY_CALLERS = ("city_office", "city_leadership", "city_water_leader", "city_agri_leader", "gov_leadership",
                "convenor_office")


def convenor_proposes_decider_approves(profile: str) -> Shape:
    """000 §(八), 002 §(六), 004 §五: the convenor's office runs it, 省委 or 省政府 leadership decides."""
    office, deciders = {"convenor_office"}, {"gov_leadership", "pc_leadership"}
    return Shape(profile, "provincial", PROVINCIAL_CALLERS, {
        ("requested", "accept"): office, ("requested", "withdraw"): office,
        ("consulting", "propose"): office, ("consulting", "withdraw"): office,
        ("proposed", "approve"): deciders, ("proposed", "return"): deciders,
        ("approved", "publish"): office},
        hidden={"city_office", "city_leadership"}, lacking={"decide": {"convenor_leadership"}})


def convenor_decides(profile: str, level: str, office: str, leadership: str, callers: tuple[str, ...],
                     hidden: set[str]) -> Shape:
    """003 §(七) and every sub-provincial matter: one body convenes and decides; it may also propose
    and then approve its own proposal."""
    o, lead = {office}, {leadership}
    return Shape(profile, level, callers, {
        ("requested", "accept"): o, ("requested", "withdraw"): o,
        ("consulting", "propose"): o, ("consulting", "withdraw"): o, ("consulting", "decide"): lead,
        ("proposed", "approve"): lead, ("proposed", "return"): lead,
        ("approved", "publish"): o}, hidden=hidden)


SHAPES = {
    "hainan": convenor_proposes_decider_approves("hainan"),
    "henan": convenor_proposes_decider_approves("henan"),
    "shandong": convenor_proposes_decider_approves("shandong"),
    # 省委 is no party in Hubei (the 环委会 decides), so its leadership does not see the matter.
    "hubei": convenor_decides("hubei", "provincial", "convenor_office", "convenor_leadership", PROVINCIAL_CALLERS,
                              hidden={"pc_leadership", "city_office", "city_leadership"}),
    # A city's matter is the city's: the provincial bodies are no party and do not see it.
    "hainan-city": convenor_decides("hainan", "sub_provincial", "city_office", "city_leadership", CITY_CALLERS,
                                    hidden={"gov_leadership", "convenor_office"}),
    "hubei-city": convenor_decides("hubei", "sub_provincial", "city_office", "city_leadership", CITY_CALLERS,
                                   hidden={"gov_leadership", "convenor_office"}),
}


def expected(shape: Shape, state: str, action: str, caller: str) -> int:
    if caller in shape.hidden:
        return 404
    if caller in shape.allowed.get((state, action), set()):
        return 200
    ever = any(caller in who for (_, a), who in shape.allowed.items() if a == action)
    return 409 if ever or caller in shape.lacking.get(action, set()) else 403


def body_for(p, shape: Shape, action: str) -> dict:
    if action in ("propose", "decide"):
        sub = shape.level == "sub_provincial"
        return proposal_body(p, leads=("city_agri",) if sub else ("agri",),
                             cooperating=("city_water",) if sub else ("nr",))
    return {"return": {"comment": "请补充任务分解"},
            "publish": {"portal_url": "https://www.gov.cn/ld/1"}}.get(action, {})


@pytest.mark.parametrize("name", list(SHAPES))
async def test_state_action_caller_matrix(name, client, database):
    shape = SHAPES[name]
    p = await province(database, shape.profile)
    sub = shape.level == "sub_provincial"
    requester, participants = ("city_water", ("city_agri",)) if sub else ("water", ("agri",))

    async def fresh(state: str):
        async with database.transaction() as s:
            return await make_decision(s, p, state, level=shape.level, requester=requester,
                                       participants=participants)

    mismatches, shown = {}, {}
    for state in STATES:
        decision = await fresh(state)
        for caller in shape.callers:
            r = await client.get(f"/lead-decisions/{decision.id}", headers=p.headers(caller))
            want = sorted(a for a in ACTIONS if caller in shape.allowed.get((state, a), set()))
            got = sorted(r.json()["allowed_actions"]) if r.status_code == 200 else None
            if got != (None if caller in shape.hidden else want):
                shown[(state, caller)] = f"allowed_actions {got}, expected {want}"
        for action in ACTIONS:
            for caller in shape.callers:
                r = await client.post(f"/lead-decisions/{decision.id}/{action}", json=body_for(p, shape, action),
                                      headers={**p.headers(caller), "If-Match": make_etag(decision.id, 1)})
                want = expected(shape, state, action, caller)
                if r.status_code != want:
                    mismatches[(state, action, caller)] = f"expected {want}, got {r.status_code}: {r.text[:160]}"
                if r.status_code == 200:  # the next caller meets the state again, not its successor
                    decision = await fresh(state)
    assert mismatches == {}
    assert shown == {}


def test_every_action_of_the_diagram_is_covered_by_some_shape():
    for action in ACTIONS:
        assert any(action == a for shape in SHAPES.values() for (_, a) in shape.allowed), action
