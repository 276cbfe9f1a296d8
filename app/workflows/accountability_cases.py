"""The accountability-case workflow (DOMAIN.md "Accountability cases"), as data.

```
investigating --transfer(leader AT the responsible body: cause, course, consequences, impact,
                rectification, responsibility determined — 000 §(十五))--> transferred
investigating --conclude_internally(leader AT the responsible body: 批评教育、提醒谈话、组织处理)--> concluded
(created as transferred where the profile has no investigation stage: 002 §(十八), 004 §十)
transferred --accept(discipline or office AT the receiving body)--> accepted
accepted --conclude(discipline or office AT the receiving body: outcome)--> concluded
```

The receiving body acts "按照干部管理权限…受理" (002 §(十八), 004 §十): its `discipline` members
(纪检监察/组织人事, DOMAIN.md roles) or its office, the secretariat that receives what is addressed to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.accountability_case import CaseStatus as S
from app.models.identity import Role
from app.workflows.engine import Transition, WorkflowTable


@dataclass(frozen=True)
class CaseContext:
    roles_at_responsible: frozenset[str] = frozenset()
    roles_at_receiving: frozenset[str] = frozenset()


def _responsible(ctx: CaseContext) -> str | None:
    if Role.leader.value not in ctx.roles_at_responsible:
        return "Only the leader of the responsible body investigates, transfers or settles this case."
    return None


def _receiving(ctx: CaseContext) -> str | None:
    if {Role.discipline.value, Role.office.value}.isdisjoint(ctx.roles_at_receiving):
        return "Only the receiving body (its discipline members or its office) accepts and concludes this case."
    return None


_RECEIVERS = {Role.discipline, Role.office}

CASE_WORKFLOW = WorkflowTable(
    "accountability_case",
    states=S,
    initial=S.investigating,
    transitions=[
        Transition("transfer", {S.investigating}, S.transferred, {Role.leader}, guards=(_responsible,),
                   description="Responsibility determined, the responsible body transfers the case (000 §(十五))."),
        Transition("conclude_internally", {S.investigating}, S.concluded, {Role.leader}, guards=(_responsible,),
                   description="The responsible body settles it itself: 批评教育、提醒谈话 or 组织处理."),
        Transition("accept", {S.transferred}, S.accepted, _RECEIVERS, guards=(_receiving,),
                   description="The receiving body accepts the case by cadre-management authority."),
        Transition("conclude", {S.accepted}, S.concluded, _RECEIVERS, guards=(_receiving,),
                   description="The receiving body records the outcome (问责结果)."),
    ],
)
