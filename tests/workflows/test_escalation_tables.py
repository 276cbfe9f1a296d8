"""The escalation and accountability-case tables, pure (no database), against DOMAIN.md by hand.

000 §(十二): the decider's leadership decides or rejects a proposal (a comment to reject); DOMAIN.md: an
addressee answers an urge (督办), nothing else is answered. 000 §(十五): the responsible body's leader
transfers or settles; the receiving body (discipline or office) accepts and concludes. Roles count only AT
the organisation the context names; a refusal about the record is 409, about the caller 403.
"""

from __future__ import annotations

import pytest

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed
from app.workflows.accountability_cases import CASE_WORKFLOW, CaseContext
from app.workflows.engine import allowed_actions, check
from app.workflows.escalations import ESCALATION_WORKFLOW, EscalationContext

LEADERSHIP_AT_DECIDER = EscalationContext(roles_at_deciders=frozenset({"leadership"}), kind="summons")
LEADER_AT_ADDRESSEE = EscalationContext(roles_at_addressees=frozenset({"leader"}), kind="urge")


def _status(action, table, state, roles, ctx, comment=None) -> int:
    try:
        check(table, action, state, roles, ctx, comment)
    except TransitionNotAllowed as refused:
        return refused.status
    except BusinessRuleViolation as refused:
        return refused.status
    return 200


@pytest.mark.parametrize(("action", "state", "roles", "ctx", "comment", "status"), [
    ("decide", "proposed", {"leadership"}, LEADERSHIP_AT_DECIDER, None, 200),
    ("reject", "proposed", {"leadership"}, LEADERSHIP_AT_DECIDER, "不同意", 200),
    ("reject", "proposed", {"leadership"}, LEADERSHIP_AT_DECIDER, " ", 422),  # a comment says why
    ("decide", "proposed", {"leadership"}, EscalationContext(), None, 403),  # leadership elsewhere
    ("decide", "issued", {"leadership"}, LEADERSHIP_AT_DECIDER, None, 409),
    ("decide", "proposed", {"leader"}, LEADER_AT_ADDRESSEE, None, 403),
    ("reply", "issued", {"leader"}, LEADER_AT_ADDRESSEE, None, 200),
    ("reply", "issued", {"leader"}, EscalationContext(roles_at_addressees=frozenset({"leader"}), kind="summons"),
     None, 409),  # only an urge is answered
    ("reply", "issued", {"staff"}, EscalationContext(roles_at_addressees=frozenset({"staff"}), kind="urge"),
     None, 403),
    ("reply", "replied", {"leader"}, LEADER_AT_ADDRESSEE, None, 409),
])
def test_escalation_table(action, state, roles, ctx, comment, status):
    assert _status(action, ESCALATION_WORKFLOW, state, roles, ctx, comment) == status


RESPONSIBLE = CaseContext(roles_at_responsible=frozenset({"leader"}))
RECEIVING = CaseContext(roles_at_receiving=frozenset({"discipline"}))


@pytest.mark.parametrize(("action", "state", "roles", "ctx", "status"), [
    ("transfer", "investigating", {"leader"}, RESPONSIBLE, 200),
    ("conclude_internally", "investigating", {"leader"}, RESPONSIBLE, 200),
    ("transfer", "investigating", {"leader"}, CaseContext(), 403),  # a leader elsewhere
    ("transfer", "transferred", {"leader"}, RESPONSIBLE, 409),
    ("accept", "transferred", {"discipline"}, RECEIVING, 200),
    ("accept", "transferred", {"office"}, CaseContext(roles_at_receiving=frozenset({"office"})), 200),
    ("accept", "investigating", {"discipline"}, RECEIVING, 409),
    ("accept", "transferred", {"leader"}, RESPONSIBLE, 403),  # the responsible body does not accept
    ("conclude", "accepted", {"discipline"}, RECEIVING, 200),
    ("conclude", "concluded", {"discipline"}, RECEIVING, 409),
    ("transfer", "investigating", {"discipline"}, RECEIVING, 403),
])
def test_case_table(action, state, roles, ctx, status):
    assert _status(action, CASE_WORKFLOW, state, roles, ctx) == status


def test_allowed_actions_name_what_each_party_may_do():
    assert allowed_actions(ESCALATION_WORKFLOW, "proposed", {"leadership"}, LEADERSHIP_AT_DECIDER) == ["decide",
                                                                                                      "reject"]
    assert allowed_actions(CASE_WORKFLOW, "investigating", {"leader"}, RESPONSIBLE) == ["transfer",
                                                                                         "conclude_internally"]
    assert allowed_actions(CASE_WORKFLOW, "concluded", {"discipline", "leader"}, RECEIVING) == []
