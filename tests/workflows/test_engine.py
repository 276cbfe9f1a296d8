"""The workflow engine on a small example table; the expected matrix is written by hand.

    draft     --submit (leader)----------------------------> submitted
    submitted --approve (leadership)-----------------------> approved
    submitted --return (leadership, comment required)------> draft
    submitted --withdraw (leader)--------------------------> draft
    approved  --withdraw (office)--------------------------> submitted
    approved  --archive (office; guard: no open tasks)-----> archived

Refusal rule under test (DOMAIN.md: 409 wrong state, 403 wrong role): no transition for the
action from this state → 403 if the caller holds none of the action's roles anywhere, else 409;
a transition exists but not for the caller's roles → 403.
"""

from __future__ import annotations

import enum

import pytest

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed
from app.models import Role
from app.workflows.engine import Transition, WorkflowTable, allowed_actions, check


class S(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    archived = "archived"


def no_open_tasks(ctx):
    open_tasks = (ctx or {}).get("open_tasks", 0)
    return f"{open_tasks} task(s) are still open." if open_tasks else None


TABLE = WorkflowTable("report", S, S.draft, [
    Transition("submit", {S.draft}, S.submitted, frozenset({Role.leader})),
    Transition("approve", {S.submitted}, S.approved, frozenset({Role.leadership})),
    Transition("return", {S.submitted}, S.draft, frozenset({Role.leadership}), requires_comment=True),
    Transition("withdraw", {S.submitted}, S.draft, frozenset({Role.leader})),
    Transition("withdraw", {S.approved}, S.submitted, frozenset({Role.office})),
    Transition("archive", {S.approved}, S.archived, frozenset({Role.office}), guards=(no_open_tasks,)),
])

ROLES = ["leader", "leadership", "office", "staff"]
# action → state → outcome per role, in ROLES order.  ok = allowed, 409 / 403 = refused.
EXPECTED = {
    "submit": {
        "draft":     ["ok",  "403", "403", "403"],
        "submitted": ["409", "403", "403", "403"],
        "approved":  ["409", "403", "403", "403"],
        "archived":  ["409", "403", "403", "403"],
    },
    "approve": {
        "draft":     ["403", "409", "403", "403"],
        "submitted": ["403", "ok",  "403", "403"],
        "approved":  ["403", "409", "403", "403"],
        "archived":  ["403", "409", "403", "403"],
    },
    "return": {
        "draft":     ["403", "409", "403", "403"],
        "submitted": ["403", "ok",  "403", "403"],
        "approved":  ["403", "409", "403", "403"],
        "archived":  ["403", "409", "403", "403"],
    },
    "withdraw": {
        "draft":     ["409", "403", "409", "403"],
        "submitted": ["ok",  "403", "403", "403"],
        "approved":  ["403", "403", "ok",  "403"],
        "archived":  ["409", "403", "409", "403"],
    },
    "archive": {
        "draft":     ["403", "403", "409", "403"],
        "submitted": ["403", "403", "409", "403"],
        "approved":  ["403", "403", "ok",  "403"],
        "archived":  ["403", "403", "409", "403"],
    },
}
CELLS = [(action, state, role, outcome) for action, rows in EXPECTED.items() for state, outcomes in rows.items()
         for role, outcome in zip(ROLES, outcomes, strict=True)]
TARGETS = {("submit", "draft"): "submitted", ("approve", "submitted"): "approved", ("return", "submitted"): "draft",
           ("withdraw", "submitted"): "draft", ("withdraw", "approved"): "submitted",
           ("archive", "approved"): "archived"}


class TestMatrix:
    def test_the_hand_written_matrix_covers_every_action_and_state(self):
        assert set(EXPECTED) == TABLE.actions
        assert all(set(rows) == {s.value for s in S} for rows in EXPECTED.values())

    @pytest.mark.parametrize(("action", "state", "role", "outcome"), CELLS)
    def test_cell(self, action, state, role, outcome):
        roles = {Role(role)}
        if outcome == "ok":
            transition = check(TABLE, action, state, roles, {"open_tasks": 0}, comment="reason given")
            assert transition.action == action
            assert transition.target == TARGETS[(action, state)]
            assert action in allowed_actions(TABLE, state, roles, {"open_tasks": 0})
            return
        with pytest.raises(TransitionNotAllowed) as refused:
            check(TABLE, action, state, roles, {"open_tasks": 0}, comment="reason given")
        assert refused.value.status == int(outcome)
        assert refused.value.code == ("action_forbidden" if outcome == "403" else "transition_not_allowed")
        assert refused.value.extensions["allowed_actions"] == allowed_actions(TABLE, state, roles,
                                                                              {"open_tasks": 0})
        assert action not in refused.value.extensions["allowed_actions"]

    def test_states_and_roles_may_be_enums_or_plain_strings(self):
        assert check(TABLE, "submit", S.draft, {Role.leader}).target == "submitted"
        assert check(TABLE, "submit", "draft", {"leader"}).target == "submitted"

    def test_any_one_of_several_roles_is_enough(self):
        assert check(TABLE, "approve", "submitted", {Role.staff, Role.leadership}).target == "approved"


class TestAllowedActions:
    @pytest.mark.parametrize(("state", "roles", "ctx", "expected"), [
        ("draft", {Role.leader}, None, ["submit"]),
        ("draft", {Role.leadership, Role.office, Role.staff}, None, []),
        ("submitted", {Role.leadership}, None, ["approve", "return"]),
        ("submitted", {Role.leader}, None, ["withdraw"]),
        ("submitted", {Role.leader, Role.leadership}, None, ["approve", "return", "withdraw"]),
        ("approved", {Role.office}, {"open_tasks": 0}, ["withdraw", "archive"]),
        ("approved", {Role.office}, {"open_tasks": 2}, ["withdraw"]),
        ("approved", {Role.leader}, None, []),
        ("archived", set(Role), None, []),
        ("draft", set(), None, []),
    ])
    def test_allowed_actions(self, state, roles, ctx, expected):
        assert allowed_actions(TABLE, state, roles, ctx) == expected

    def test_an_unknown_state_is_a_programming_error(self):
        with pytest.raises(ValueError, match="no state 'deleted'"):
            allowed_actions(TABLE, "deleted", {Role.leader})


class TestGuardsAndComments:
    def test_a_guard_refusal_is_403_with_its_reason(self):
        with pytest.raises(TransitionNotAllowed) as refused:
            check(TABLE, "archive", "approved", {Role.office}, {"open_tasks": 2})
        assert (refused.value.status, refused.value.code) == (403, "action_forbidden")
        assert refused.value.detail == "2 task(s) are still open."
        assert refused.value.extensions["allowed_actions"] == ["withdraw"]

    def test_a_guard_gets_the_context_unchanged(self):
        seen = []
        table = WorkflowTable("thing", ["a", "b"], "a", [
            Transition("go", {"a"}, "b", frozenset({Role.staff}), guards=(lambda ctx: seen.append(ctx),))])
        marker = object()
        check(table, "go", "a", {Role.staff}, marker)
        assert seen == [marker]

    def test_guards_run_in_order_and_the_first_refusal_wins(self):
        table = WorkflowTable("thing", ["a", "b"], "a", [
            Transition("go", {"a"}, "b", frozenset({Role.staff}),
                       guards=(lambda _: None, lambda _: "first", lambda _: "second"))])
        with pytest.raises(TransitionNotAllowed, match="first"):
            check(table, "go", "a", {Role.staff})

    def test_guards_are_not_consulted_for_a_caller_without_the_role(self):
        with pytest.raises(TransitionNotAllowed) as refused:
            check(TABLE, "archive", "approved", {Role.leader}, {"open_tasks": 2})
        assert refused.value.status == 403
        assert "still open" not in refused.value.detail

    @pytest.mark.parametrize("comment", [None, "", "   ", "\n\t"])
    def test_an_action_that_needs_a_comment_refuses_a_blank_one_with_422(self, comment):
        with pytest.raises(BusinessRuleViolation) as refused:
            check(TABLE, "return", "submitted", {Role.leadership}, comment=comment)
        assert (refused.value.status, refused.value.code) == (422, "business_rule_violation")
        assert refused.value.extensions["errors"][0]["pointer"] == "/comment"

    def test_a_real_comment_is_accepted(self):
        assert check(TABLE, "return", "submitted", {Role.leadership}, comment="补充佐证材料").target == "draft"

    def test_state_and_role_are_checked_before_the_comment(self):
        with pytest.raises(TransitionNotAllowed) as wrong_role:
            check(TABLE, "return", "submitted", {Role.staff}, comment=None)
        assert wrong_role.value.status == 403
        with pytest.raises(TransitionNotAllowed) as wrong_state:
            check(TABLE, "return", "draft", {Role.leadership}, comment=None)
        assert wrong_state.value.status == 409

    def test_a_guard_refusal_comes_before_the_comment_rule(self):
        table = WorkflowTable("thing", ["a", "b"], "a", [
            Transition("go", {"a"}, "b", frozenset({Role.staff}), guards=(lambda _: "not yours",),
                       requires_comment=True)])
        with pytest.raises(TransitionNotAllowed, match="not yours"):
            check(table, "go", "a", {Role.staff}, comment="")

    def test_an_unknown_action_is_a_programming_error(self):
        with pytest.raises(ValueError, match="no action 'publish'"):
            check(TABLE, "publish", "draft", {Role.leader})


class TestTableValidation:
    def _t(self, action="go", source=("a",), target="b", roles=(Role.staff,), **kw):
        return Transition(action, set(source), target, frozenset(roles), **kw)

    def test_a_valid_table_normalises_to_plain_strings(self):
        table = WorkflowTable("thing", S, S.draft, [self._t(source=(S.draft,), target=S.submitted)])
        assert table.initial == "draft"
        assert table.states == {"draft", "submitted", "approved", "archived"}
        (transition,) = table.transitions
        assert transition.source == frozenset({"draft"}) and transition.target == "submitted"
        assert transition.roles == frozenset({"staff"})

    @pytest.mark.parametrize(("build", "message"), [
        (lambda t: WorkflowTable("thing", ["a", "b"], "z", [t()]), "initial state 'z'"),
        (lambda t: WorkflowTable("thing", ["a", "b"], "a", [t(source=("x",))]), "unknown states \\['x'\\]"),
        (lambda t: WorkflowTable("thing", ["a", "b"], "a", [t(target="y")]), "unknown states \\['y'\\]"),
        (lambda t: WorkflowTable("thing", ["a", "b"], "a", [t(), t(target="a")]), "defined twice from \\['a'\\]"),
        (lambda t: WorkflowTable("thing", ["a", "b", "c"], "a", [t(source=("a", "b")), t(source=("b", "c"))]),
         "defined twice from \\['b'\\]"),
        (lambda t: WorkflowTable("thing", [], "a", []), "no states"),
        (lambda t: WorkflowTable("x" * 60, ["a", "b"], "a", [t(action="go_on")]), "64-character"),
        (lambda t: t(source=()), "no source state"),
        (lambda t: t(roles=()), "names no role"),
        (lambda t: t(action="Go-Now"), "snake_case"),
        (lambda t: t(action=""), "snake_case"),
    ])
    def test_invalid_tables_fail_when_built(self, build, message):
        with pytest.raises(ValueError, match=message):
            build(self._t)

    def test_a_guard_must_be_callable(self):
        with pytest.raises(TypeError, match="not callable"):
            self._t(guards=("no_open_tasks",))

    def test_the_same_action_may_leave_different_states(self):
        table = WorkflowTable("thing", ["a", "b", "c"], "a", [self._t(source=("a",), target="b"),
                                                              self._t(source=("b",), target="c")])
        assert check(table, "go", "a", {Role.staff}).target == "b"
        assert check(table, "go", "b", {Role.staff}).target == "c"
