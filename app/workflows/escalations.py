"""The escalation workflow (DOMAIN.md "Escalations"), as data.

```
(created) --> proposed            where the profile splits proposing from deciding (000 §(十二): 省生态环境厅
                                  提请, 省委、省政府 实施约谈或责任追究), for the kinds it names
(created) --> issued              elsewhere, and for the other kinds (002 §(十一): 视情采取约谈、通报、移交问责)
proposed --decide(leadership AT a deciding organisation)--> issued
proposed --reject(leadership AT a deciding organisation, comment)--> rejected
issued --reply(leader or office AT an addressee; urge only)--> replied     (督办 answered by its deadline)
```

Creation is not a transition (the service writes the first state and an audit row). A
handover that becomes `issued` (at once, or by `decide`) opens its accountability case in the
same transaction (app/services/escalations/commands.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.escalation import EscalationKind
from app.models.escalation import EscalationStatus as S
from app.models.identity import Role
from app.workflows.engine import Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class EscalationContext:
    roles_at_deciders: frozenset[str] = frozenset()
    roles_at_addressees: frozenset[str] = frozenset()
    kind: str = EscalationKind.warning.value


def _decider(ctx: EscalationContext) -> str | None:
    if Role.leadership.value not in ctx.roles_at_deciders:
        return "Only the leadership of the deciding organisation (the profile's decider) decides this proposal."
    return None


def _addressee(ctx: EscalationContext) -> str | None:
    if {Role.leader.value, Role.office.value}.isdisjoint(ctx.roles_at_addressees):
        return "Only the leader or the office of an addressed organisation replies to it."
    return None


def _urge(ctx: EscalationContext) -> str | None:
    if ctx.kind != EscalationKind.urge.value:
        return WrongState("Only an urge (督办) asks for a reply.")
    return None


ESCALATION_WORKFLOW = WorkflowTable(
    "escalation",
    states=S,
    initial=S.proposed,
    transitions=[
        Transition("decide", {S.proposed}, S.issued, {Role.leadership}, guards=(_decider,),
                   description="The decider (省委、省政府, 000 §(十二)) issues the proposed escalation."),
        Transition("reject", {S.proposed}, S.rejected, {Role.leadership}, guards=(_decider,), requires_comment=True,
                   description="The decider declines the proposal, saying why."),
        Transition("reply", {S.issued}, S.replied, {Role.leader, Role.office}, guards=(_addressee, _urge),
                   description="An addressed organisation answers an urge (督办)."),
    ],
)
