"""The duty-list table, per profile shape, against outcomes written by hand from DOMAIN.md.

Three shapes cover the four profiles:
    none      Hainan 000 §(七), Shandong 004 §六: the department publishes its own draft
    henan     002 §(五): 省生态环境厅 审核, then 省委、省政府 审定
    hubei     003 §(六): 省委、省政府 批准, no review step

Callers (each holds one role at one organisation):
    leader / staff   at the owning department
    reviewer         office at the reviewing organisation
    approver         leadership at the approving organisation
    outsider_leader  a leader of another department
"""

from __future__ import annotations

import pytest

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed
from app.workflows.duty_lists import DUTY_LIST_WORKFLOW, DutyListContext
from app.workflows.engine import allowed_actions, check

SHAPES = {"none": (False, False), "henan": (True, True), "hubei": (False, True)}
CALLERS = {
    "leader": {"owner": {"leader"}}, "staff": {"owner": {"staff"}},
    "reviewer": {"reviewer": {"office"}}, "approver": {"approver": {"leadership"}},
    "outsider_leader": {"elsewhere": {"leader"}},
}


def ctx_for(shape: str, caller: str, open_revision: bool = False) -> tuple[DutyListContext, frozenset[str]]:
    review, approval = SHAPES[shape]
    at = CALLERS[caller]
    ctx = DutyListContext(review_step=review, approval_step=approval,
                          roles_at_owner=frozenset(at.get("owner", ())),
                          roles_at_reviewer=frozenset(at.get("reviewer", ())),
                          roles_at_approver=frozenset(at.get("approver", ())), open_revision=open_revision)
    roles = frozenset().union(*at.values())
    return ctx, roles


# (shape, state, caller) → the actions that caller may take, by hand from DOMAIN.md's diagram.
ALLOWED = {
    ("none", "draft", "leader"): ["publish"],
    ("none", "draft", "staff"): [],
    ("none", "published", "staff"): ["revise"],
    ("none", "published", "leader"): ["retire"],
    ("none", "published", "outsider_leader"): [],
    ("henan", "draft", "leader"): ["submit"],
    ("henan", "returned", "leader"): ["submit"],
    ("henan", "submitted", "reviewer"): ["review", "return"],
    ("henan", "submitted", "approver"): ["return"],  # 审定 comes after 审核
    ("henan", "reviewed", "approver"): ["approve", "return"],
    ("henan", "reviewed", "reviewer"): ["return"],
    ("henan", "approved", "leader"): ["publish"],
    ("henan", "approved", "outsider_leader"): [],
    ("hubei", "draft", "leader"): ["submit"],
    ("hubei", "submitted", "approver"): ["approve", "return"],
    ("hubei", "submitted", "reviewer"): [],
    ("hubei", "approved", "leader"): ["publish"],
}


@pytest.mark.parametrize(("shape", "state", "caller"), sorted(ALLOWED))
def test_allowed_actions_match_the_diagram(shape, state, caller):
    ctx, roles = ctx_for(shape, caller)
    assert allowed_actions(DUTY_LIST_WORKFLOW, state, roles, ctx) == ALLOWED[(shape, state, caller)]


# (shape, state, action, caller) → the refusal status: 409 the record/profile, 403 the caller.
REFUSED = {
    ("none", "draft", "submit", "leader"): 409,           # Hainan has no sign-off: publish directly
    ("henan", "draft", "publish", "leader"): 409,         # needs 审核 and 审定 first
    ("hubei", "draft", "publish", "leader"): 409,
    ("henan", "submitted", "approve", "approver"): 409,   # review first
    ("hubei", "submitted", "review", "reviewer"): 409,    # no 审核 step in Hubei
    ("henan", "submitted", "review", "approver"): 403,    # leadership is not the reviewing office
    ("henan", "reviewed", "approve", "reviewer"): 403,
    ("none", "draft", "publish", "outsider_leader"): 403,  # a leader, but not of the owner
    ("none", "draft", "publish", "staff"): 403,
    ("none", "published", "revise", "leader"): 403,       # staff revise (DOMAIN.md)
    ("henan", "published", "publish", "leader"): 409,
}


@pytest.mark.parametrize(("shape", "state", "action", "caller"), sorted(REFUSED))
def test_refusals_say_who_or_what_is_wrong(shape, state, action, caller):
    ctx, roles = ctx_for(shape, caller)
    with pytest.raises(TransitionNotAllowed) as refused:
        check(DUTY_LIST_WORKFLOW, action, state, roles, ctx)
    assert refused.value.status == REFUSED[(shape, state, action, caller)]
    assert refused.value.extensions["allowed_actions"] == ALLOWED.get((shape, state, caller),
                                                                      refused.value.extensions["allowed_actions"])


def test_an_open_revision_blocks_a_second_revision_and_retirement():
    for caller, action in (("staff", "revise"), ("leader", "retire")):
        ctx, roles = ctx_for("none", caller, open_revision=True)
        with pytest.raises(TransitionNotAllowed) as refused:
            check(DUTY_LIST_WORKFLOW, action, "published", roles, ctx)
        assert refused.value.status == 409


def test_return_needs_a_comment():
    ctx, roles = ctx_for("henan", "reviewer")
    with pytest.raises(BusinessRuleViolation):
        check(DUTY_LIST_WORKFLOW, "return", "submitted", roles, ctx, comment="  ")
    assert check(DUTY_LIST_WORKFLOW, "return", "submitted", roles, ctx, comment="缺少依据").target == "returned"


def test_the_paths_through_each_profile_end_published():
    paths = {"none": ["publish"], "henan": ["submit", "review", "approve", "publish"],
             "hubei": ["submit", "approve", "publish"]}
    who = {"submit": "leader", "review": "reviewer", "approve": "approver", "publish": "leader"}
    for shape, actions in paths.items():
        state = "draft"
        for action in actions:
            ctx, roles = ctx_for(shape, who[action])
            state = check(DUTY_LIST_WORKFLOW, action, state, roles, ctx).target
        assert state == "published", shape
