"""The finding, measure and extension tables, pure (no database), against expectations written by hand
from DOMAIN.md "Inspections and findings" and the clauses:

- 001 一(三): the 整改工作领导小组办公室 assigns to 责任处室 with 责任领导、责任部门、责任人和整改时限 (assign),
  has plans detailed (submit_plan / approve_plan), 销号 (close); 回头看 by inspector, office or the unit itself;
- 001 二(四)1: a measure split into two phases (amend_plan), 二(四)2: "无法继续整改落实" (cannot_complete);
- DOMAIN.md's diagram for the rest; `return_amendment` is our addition (app/workflows/findings.py).

Callers are the roles the service finds AT the finding's organisations: `office` at the rectification
office, `leader`/`staff` at the responsible organisation, `inspector` at the inspecting body, and
`nobody` (a role elsewhere counts for nothing here).
"""

from __future__ import annotations

import pytest

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed
from app.workflows.engine import allowed_actions, check
from app.workflows.findings import EXTENSION_WORKFLOW, FINDING_WORKFLOW, ExtensionContext, FindingContext
from app.workflows.measures import MEASURE_WORKFLOW, MeasureContext

AT = {"office": {"roles_at_office": frozenset({"office"})},
      "leader": {"roles_at_responsible": frozenset({"leader"})},
      "staff": {"roles_at_responsible": frozenset({"staff"})},
      "inspector": {"roles_at_inspecting_body": frozenset({"inspector"})},
      "nobody": {}}
ROLE = {"office": "office", "leader": "leader", "staff": "staff", "inspector": "inspector", "nobody": "viewer"}

# (state, started) → caller → allowed, with long_term=False, measures_settled=False, a deadline, no pending extension.
LOOK = {"look_back", "rebound"}
BASE = {
    ("registered", False): {"office": {"assign"}},
    ("assigned", False): {"leader": {"submit_plan", "request_extension"}},
    ("plan_submitted", False): {"office": {"approve_plan", "return"}, "leader": {"request_extension"}},
    ("plan_submitted", True): {"office": {"approve_plan", "return_amendment"},
                               "leader": {"request_extension", "report_progress"}, "staff": {"report_progress"}},
    ("in_progress", True): {"leader": {"amend_plan", "declare_unrectifiable", "report_progress", "request_extension"},
                            "staff": {"report_progress"}},
    ("closure_requested", True): {"office": {"close", "reject_closure"}},
    ("closed", True): {"office": LOOK, "leader": LOOK, "inspector": LOOK},
    ("unrectifiable_requested", True): {"office": {"approve_unrectifiable", "reject_unrectifiable"}},
    ("unrectifiable", True): {},
    ("sustained", True): {"office": LOOK, "inspector": LOOK, "staff": {"report_progress"},
                          "leader": LOOK | {"report_progress", "request_extension"}},
}


def ctx_for(caller: str, **facts) -> tuple[FindingContext, set[str]]:
    return FindingContext(**AT[caller], **{"has_deadline": True, **facts}), {ROLE[caller]}


@pytest.mark.parametrize(("state", "started"), sorted(BASE))
@pytest.mark.parametrize("caller", sorted(AT))
def test_allowed_actions_by_state_and_caller(state, started, caller):
    ctx, roles = ctx_for(caller, started=started)
    assert set(allowed_actions(FINDING_WORKFLOW, state, roles, ctx)) == BASE[(state, started)].get(caller, set())


def test_closure_is_offered_once_every_measure_is_settled():
    """DOMAIN.md: request_closure(leader; every measure done/verified/cannot_complete)."""
    for state in ("in_progress", "sustained"):
        ctx, roles = ctx_for("leader", started=True, measures_settled=True)
        assert "request_closure" in allowed_actions(FINDING_WORKFLOW, state, roles, ctx)
        ctx, roles = ctx_for("leader", started=True)
        with pytest.raises(TransitionNotAllowed) as refused:
            check(FINDING_WORKFLOW, "request_closure", state, roles, ctx)
        assert refused.value.status == 409  # the right person at the wrong moment


def test_only_a_long_term_finding_is_sustained():
    ctx, roles = ctx_for("office", started=True, long_term=True)
    assert check(FINDING_WORKFLOW, "sustain", "in_progress", roles, ctx).target == "sustained"
    ctx, roles = ctx_for("office", started=True)
    with pytest.raises(TransitionNotAllowed) as refused:
        check(FINDING_WORKFLOW, "sustain", "in_progress", roles, ctx)
    assert refused.value.status == 409 and "long-term" in refused.value.detail


@pytest.mark.parametrize(("action", "state", "caller", "status"), [
    ("assign", "registered", "leader", 403),  # not the office's role
    ("assign", "registered", "nobody", 403),
    ("assign", "closed", "office", 409),
    ("submit_plan", "assigned", "staff", 403),  # staff draft; the leader submits
    ("return_amendment", "plan_submitted", "office", 409),  # a first plan goes back with `return`
    ("rebound", "in_progress", "inspector", 409),
    ("close", "closure_requested", "inspector", 403),
    ("request_extension", "closed", "leader", 409),
])
def test_refusals(action, state, caller, status):
    ctx, roles = ctx_for(caller, started=state not in ("registered", "assigned", "plan_submitted"))
    with pytest.raises(TransitionNotAllowed) as refused:
        check(FINDING_WORKFLOW, action, state, roles, ctx)
    assert refused.value.status == status


def test_sending_back_needs_a_comment():
    for action, state, started in (("return", "plan_submitted", False), ("return_amendment", "plan_submitted", True),
                                   ("reject_closure", "closure_requested", True),
                                   ("reject_unrectifiable", "unrectifiable_requested", True)):
        ctx, roles = ctx_for("office", started=started)
        with pytest.raises(BusinessRuleViolation):
            check(FINDING_WORKFLOW, action, state, roles, ctx, comment=" ")
        assert check(FINDING_WORKFLOW, action, state, roles, ctx, comment="不具体").target in (
            "assigned", "in_progress")


def test_one_extension_request_waits_at_a_time():
    ctx, roles = ctx_for("leader", started=True, pending_extension=True)
    assert "request_extension" not in allowed_actions(FINDING_WORKFLOW, "in_progress", roles, ctx)
    ctx, roles = ctx_for("leader", started=True, has_deadline=False)
    assert "request_extension" not in allowed_actions(FINDING_WORKFLOW, "in_progress", roles, ctx)


# ------------------------------------------------------------------------------------------ measures

# finding situation → measure state → caller → allowed
MEASURES = {
    "rectifying": {"open": {"leader": {"complete", "declare_cannot_complete"}},
                   "done": {"office": {"verify", "reopen"}},
                   "cannot_complete_requested": {"office": {"confirm", "reject_cannot_complete"}}},
    "closure_requested": {"done": {"office": {"verify"}}, "cannot_complete_requested": {"office": {"confirm"}}},
    "closed": {},
}
SITUATION = {"rectifying": {"finding_rectifying": True, "finding_verifiable": True},
             "closure_requested": {"finding_verifiable": True}, "closed": {}}


@pytest.mark.parametrize("situation", sorted(MEASURES))
@pytest.mark.parametrize("state", ["open", "done", "verified", "cannot_complete_requested", "cannot_complete"])
@pytest.mark.parametrize("caller", ["office", "leader", "staff", "inspector", "nobody"])
def test_measure_actions(situation, state, caller):
    """001 二(四)2: the leader declares, the office confirms; 销号 of a task is the office's verify."""
    at = {k: v for k, v in AT[caller].items() if k in ("roles_at_office", "roles_at_responsible")}
    ctx = MeasureContext(**at, **SITUATION[situation])
    got = set(allowed_actions(MEASURE_WORKFLOW, state, {ROLE[caller]}, ctx))
    assert got == MEASURES[situation].get(state, {}).get(caller, set())


def test_extension_decisions_are_the_offices_and_a_rejection_says_why():
    office = ExtensionContext(roles_at_office=frozenset({"office"}))
    assert set(allowed_actions(EXTENSION_WORKFLOW, "pending", {"office"}, office)) == {"approve", "reject"}
    assert allowed_actions(EXTENSION_WORKFLOW, "pending", {"leader"}, ExtensionContext()) == []
    closed = ExtensionContext(roles_at_office=frozenset({"office"}), finding_open=False)
    assert allowed_actions(EXTENSION_WORKFLOW, "pending", {"office"}, closed) == ["reject"]
    with pytest.raises(BusinessRuleViolation):
        check(EXTENSION_WORKFLOW, "reject", "pending", {"office"}, office, comment="")
