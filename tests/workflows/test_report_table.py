"""The report workflow table against outcomes written by hand from DOMAIN.md "Reports".

Shapes (what the profile rule makes of a report):
    annual     a recipient, acceptance, publication (000 §(十二) annual duty report)
    unpublished  a recipient and acceptance, nothing published (000 §(十二) semiannual, to a person)
    filing     备案: received is final (002 §(十) work plans)
    hearing    no recipient: the record of a meeting (000 §(二)(三), 004 §九)

Callers hold one role at one organisation; the copy recipient is an office at an
organisation that only receives a copy (抄送), so it holds nothing at filer or recipient.
"""

from __future__ import annotations

import pytest

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed
from app.workflows.engine import allowed_actions, check
from app.workflows.reports import REPORT_WORKFLOW, ReportContext

SHAPES = {"annual": {"has_recipient": True, "filing_only": False, "publishable": True},
          "unpublished": {"has_recipient": True, "filing_only": False, "publishable": False},
          "filing": {"has_recipient": True, "filing_only": True, "publishable": False},
          "hearing": {"has_recipient": False, "filing_only": False, "publishable": False}}
# caller → (its role, where it holds it)
CALLERS = {"filer_staff": ("staff", "filer"), "filer_leader": ("leader", "filer"),
           "recipient_office": ("office", "recipient"), "recipient_leadership": ("leadership", "recipient"),
           "copy_office": ("office", "copy"), "copy_leadership": ("leadership", "copy"),
           "filer_office": ("office", "filer")}
STATES = ("pending", "draft", "submitted", "received", "accepted", "published")


def ctx_for(shape: str, caller: str) -> tuple[ReportContext, set[str]]:
    role, where = CALLERS[caller]
    at = {where: frozenset({role})}
    ctx = ReportContext(**SHAPES[shape], roles_at_filer=at.get("filer", frozenset()),
                        roles_at_recipient=at.get("recipient", frozenset()),
                        roles_at_acceptor=at.get("recipient", frozenset()), recipient_name="省委、省政府")
    return ctx, {role}


# (shape, state, caller) → actions allowed; every other cell allows nothing.
ALLOWED = {
    ("annual", "pending", "filer_staff"): ["start"],
    ("annual", "draft", "filer_leader"): ["submit"],
    ("annual", "submitted", "recipient_office"): ["receive", "return"],
    ("annual", "submitted", "recipient_leadership"): ["return"],
    ("annual", "received", "recipient_office"): ["return"],
    ("annual", "received", "recipient_leadership"): ["accept", "return"],
    ("annual", "accepted", "filer_leader"): ["publish"],
    ("unpublished", "pending", "filer_staff"): ["start"],
    ("unpublished", "draft", "filer_leader"): ["submit"],
    ("unpublished", "submitted", "recipient_office"): ["receive", "return"],
    ("unpublished", "submitted", "recipient_leadership"): ["return"],
    ("unpublished", "received", "recipient_office"): ["return"],
    ("unpublished", "received", "recipient_leadership"): ["accept", "return"],
    ("filing", "pending", "filer_staff"): ["start"],
    ("filing", "draft", "filer_leader"): ["submit"],
    ("filing", "submitted", "recipient_office"): ["receive", "return"],
    ("filing", "submitted", "recipient_leadership"): ["return"],
    ("filing", "received", "recipient_office"): ["return"],
    ("filing", "received", "recipient_leadership"): ["return"],  # 备案: no acceptance
    ("hearing", "pending", "filer_staff"): ["start"],
    ("hearing", "draft", "filer_leader"): ["submit"],
}
CELLS = [(s, st, c) for s in SHAPES for st in STATES for c in CALLERS]


@pytest.mark.parametrize(("shape", "state", "caller"), CELLS)
def test_allowed_actions(shape, state, caller):
    ctx, roles = ctx_for(shape, caller)
    assert allowed_actions(REPORT_WORKFLOW, state, roles, ctx) == ALLOWED.get((shape, state, caller), [])


def test_every_action_of_the_diagram_is_in_the_table():
    assert REPORT_WORKFLOW.actions == {"start", "submit", "receive", "accept", "publish", "return"}


# (shape, state, action, caller) → status of the refusal, by hand: 409 when the caller is the right
# person at the wrong moment (or the profile has no such step), 403 when it is the wrong person.
REFUSED = [
    ("annual", "pending", "submit", "filer_leader", 409),  # not started yet
    ("annual", "draft", "start", "filer_leader", 403),  # a leader never starts
    ("annual", "submitted", "receive", "copy_office", 403),  # 抄送: reads, never acts
    ("annual", "received", "accept", "copy_leadership", 403),
    ("annual", "submitted", "return", "copy_office", 403),
    ("annual", "submitted", "receive", "filer_office", 403),  # an office, but of the filer
    ("annual", "received", "receive", "recipient_office", 409),  # already received
    ("annual", "received", "publish", "filer_leader", 409),  # acceptance first
    ("annual", "published", "return", "recipient_office", 409),
    ("filing", "received", "accept", "recipient_leadership", 409),  # 备案: received is final
    ("unpublished", "accepted", "publish", "filer_leader", 409),  # the text asks no publication
    ("hearing", "submitted", "receive", "recipient_office", 409),  # nobody receives a meeting record
]


@pytest.mark.parametrize(("shape", "state", "action", "caller", "status"), REFUSED)
def test_refusals(shape, state, action, caller, status):
    ctx, roles = ctx_for(shape, caller)
    with pytest.raises(TransitionNotAllowed) as refused:
        check(REPORT_WORKFLOW, action, state, roles, ctx, comment="理由")
    assert refused.value.status == status
    assert refused.value.extensions["allowed_actions"] == ALLOWED.get((shape, state, caller), [])


def test_return_needs_a_comment():
    ctx, roles = ctx_for("annual", "recipient_office")
    with pytest.raises(BusinessRuleViolation) as refused:
        check(REPORT_WORKFLOW, "return", "submitted", roles, ctx, comment="  ")
    assert refused.value.extensions["errors"][0]["type"] == "comment_required"


def test_an_arranging_office_s_body_accepts():
    # 000 §(十) 统筹报批: the leadership of the body the office serves counts as the acceptor.
    ctx = ReportContext(has_recipient=True, filing_only=False, publishable=False,
                        roles_at_acceptor=frozenset({"leadership"}), recipient_name="六水共治攻坚战指挥部办公室")
    assert allowed_actions(REPORT_WORKFLOW, "received", {"leadership"}, ctx) == ["accept"]
