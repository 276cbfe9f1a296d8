"""The lead-department decision workflow (DOMAIN.md "Lead-department decisions"), as data.

```
requested (a department or city raises it) --accept(convenor's office)--> consulting
opened by the convenor's office ----------------------------------------> consulting   (the service)
consulting: each participant's leader records one opinion (a sub-collection, not a transition)
consulting --propose(convenor's office: lead org, first lead, cooperating orgs, task split, rationale)--> proposed
proposed --approve(decider's leadership)--> approved --publish(convenor's office)--> published
proposed --return(decider's leadership, comment)--> consulting
consulting --decide(convenor's leadership)--> approved     (where the convenor decides itself: Hubei's
                                                            环委会 003 §(七); every sub-provincial matter)
requested|consulting --withdraw(convenor's office)--> withdrawn
```

Convenor and decider are organisations resolved from the profile when the
decision is opened (000 §(八) 督察领导小组办公室 → 省委、省政府 审定; 002 §(六)
省生态环境厅 → 省委、省政府 审定; 003 §(七) 各级环委会 itself; 004 §五 省生态环境厅 →
the decider the profile sets). Sub-provincial matters are decided at that level
by the body the profile names (市县 / 省辖市、县党委和政府 / 各级环委会 / 各市党委、政府).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.identity import Role
from app.models.lead_decision import LeadDecisionStatus as S
from app.workflows.engine import Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class LeadDecisionContext:
    convenor_decides: bool
    roles_at_convenor: frozenset[str] = frozenset()
    roles_at_decider: frozenset[str] = frozenset()
    convenor_name: str = "the convening organisation"
    decider_name: str = "the deciding organisation"


def _convenor_office(ctx: LeadDecisionContext) -> str | None:
    if Role.office.value not in ctx.roles_at_convenor:
        return f"Only the office of {ctx.convenor_name} may take this step."
    return None


def _convenor_leadership(ctx: LeadDecisionContext) -> str | None:
    if Role.leadership.value not in ctx.roles_at_convenor:
        return f"Only the leadership of {ctx.convenor_name} may decide this matter."
    return None


def _decider_leadership(ctx: LeadDecisionContext) -> str | None:
    if Role.leadership.value not in ctx.roles_at_decider:
        return f"Only the leadership of {ctx.decider_name} may decide on the proposal."
    return None


def _convenor_decides(ctx: LeadDecisionContext) -> str | None:
    if not ctx.convenor_decides:
        return WrongState(f"Here the convenor proposes and {ctx.decider_name} decides: propose first.")
    return None


LEAD_DECISION_WORKFLOW = WorkflowTable(
    "lead_decision",
    states=S,
    initial=S.requested,
    transitions=[
        Transition("accept", {S.requested}, S.consulting, {Role.office}, guards=(_convenor_office,),
                   description="The convenor's office takes up a request and opens the consultation."),
        Transition("propose", {S.consulting}, S.proposed, {Role.office}, guards=(_convenor_office,),
                   description="The convenor's office proposes the lead, cooperating orgs and task split."),
        Transition("approve", {S.proposed}, S.approved, {Role.leadership}, guards=(_decider_leadership,),
                   description="The decider's leadership approves the proposal (审定)."),
        Transition("return", {S.proposed}, S.consulting, {Role.leadership}, guards=(_decider_leadership,),
                   requires_comment=True, description="The decider sends the proposal back, saying why."),
        Transition("decide", {S.consulting}, S.approved, {Role.leadership},
                   guards=(_convenor_decides, _convenor_leadership),
                   description="Where the convenor decides itself, its leadership settles the lead."),
        Transition("publish", {S.approved}, S.published, {Role.office}, guards=(_convenor_office,),
                   description="The convenor's office publishes the decided lead."),
        Transition("withdraw", {S.requested, S.consulting}, S.withdrawn, {Role.office},
                   guards=(_convenor_office,), description="The convenor's office closes the matter undecided."),
    ],
)
