"""The lead-decision table against outcomes written by hand from DOMAIN.md.

Two shapes: Hainan/Henan/Shandong, where the convenor proposes and 省委、省政府 decide
(000 §(八), 002 §(六), 004 §五), and Hubei, where the 环委会 convenes and decides itself
(003 §(七)). Callers hold one role at the convenor or at the decider.
"""

from __future__ import annotations

import pytest

from app.core.errors import TransitionNotAllowed
from app.workflows.engine import allowed_actions, check
from app.workflows.lead_decisions import LEAD_DECISION_WORKFLOW, LeadDecisionContext

CALLERS = {"convenor_office": ("convenor", "office"), "convenor_leadership": ("convenor", "leadership"),
           "decider_leadership": ("decider", "leadership"), "decider_office": ("decider", "office")}


def ctx_for(convenor_decides: bool, caller: str) -> tuple[LeadDecisionContext, frozenset[str]]:
    where, role = CALLERS[caller]
    ctx = LeadDecisionContext(convenor_decides=convenor_decides,
                              roles_at_convenor=frozenset({role}) if where == "convenor" else frozenset(),
                              roles_at_decider=frozenset({role}) if where == "decider" else frozenset())
    return ctx, frozenset({role})


ALLOWED = {
    (False, "requested", "convenor_office"): ["accept", "withdraw"],
    (False, "consulting", "convenor_office"): ["propose", "withdraw"],
    (False, "consulting", "convenor_leadership"): [],          # the decider decides, not the convenor
    (False, "proposed", "decider_leadership"): ["approve", "return"],
    (False, "proposed", "convenor_office"): [],
    (False, "approved", "convenor_office"): ["publish"],
    (False, "approved", "decider_leadership"): [],
    (True, "consulting", "convenor_leadership"): ["decide"],   # Hubei: 环委会 decides itself
    (True, "consulting", "convenor_office"): ["propose", "withdraw"],
    (False, "published", "convenor_office"): [],
    (False, "withdrawn", "convenor_office"): [],
}


@pytest.mark.parametrize(("decides", "state", "caller"), sorted(ALLOWED))
def test_allowed_actions_match_the_diagram(decides, state, caller):
    ctx, roles = ctx_for(decides, caller)
    assert allowed_actions(LEAD_DECISION_WORKFLOW, state, roles, ctx) == ALLOWED[(decides, state, caller)]


REFUSED = {
    (False, "consulting", "decide", "convenor_leadership"): 409,  # propose first, the decider approves
    (False, "proposed", "approve", "decider_office"): 403,
    (False, "proposed", "approve", "convenor_leadership"): 403,   # leadership, but of the convenor
    (False, "requested", "propose", "convenor_office"): 409,      # accept first
    (True, "consulting", "decide", "decider_office"): 403,
    (False, "approved", "withdraw", "convenor_office"): 409,
}


@pytest.mark.parametrize(("decides", "state", "action", "caller"), sorted(REFUSED))
def test_refusals(decides, state, action, caller):
    ctx, roles = ctx_for(decides, caller)
    with pytest.raises(TransitionNotAllowed) as refused:
        check(LEAD_DECISION_WORKFLOW, action, state, roles, ctx)
    assert refused.value.status == REFUSED[(decides, state, action, caller)]


def test_return_to_consulting_needs_a_comment_and_a_returned_proposal_can_be_proposed_again():
    ctx, roles = ctx_for(False, "decider_leadership")
    assert check(LEAD_DECISION_WORKFLOW, "return", "proposed", roles, ctx, comment="任务分解不清").target \
        == "consulting"
    office_ctx, office_roles = ctx_for(False, "convenor_office")
    assert check(LEAD_DECISION_WORKFLOW, "propose", "consulting", office_roles, office_ctx).target == "proposed"
