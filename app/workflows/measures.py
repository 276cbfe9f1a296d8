"""The measure workflow (DOMAIN.md "Inspections and findings"), as data.

```
open --complete(leader of the responsible org)--> done --verify(office)--> verified     (销号 of the task)
open --declare_cannot_complete(leader: reason, confirming org, evidence)--> cannot_complete_requested
cannot_complete_requested --confirm(office)--> cannot_complete          (001 二(四)2 "无法继续整改落实")
```

Two additions of ours, both the office's and both with a comment, so a wrong claim is not
stuck forever: `reopen` (done → open: the office finds the task not done) and
`reject_cannot_complete` (cannot_complete_requested → open).

A measure exists once a plan is approved (a proposed plan lives on the finding), and moves
only while its finding is being rectified (in_progress, sustained, or an amendment under
review); the office may still verify and confirm while the finding's closure is requested. Roles count AT the
finding's responsible organisation (leader) and rectification office (office), as in
app/workflows/findings.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.finding import MeasureStatus as M
from app.models.identity import Role
from app.workflows.engine import Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class MeasureContext:
    roles_at_office: frozenset[str] = frozenset()
    roles_at_responsible: frozenset[str] = frozenset()
    finding_rectifying: bool = False  # the finding is in_progress / sustained / amending
    finding_verifiable: bool = False  # rectifying, or its closure is requested
    office_name: str = "the rectification office"


def _leader(ctx: MeasureContext) -> str | None:
    if Role.leader.value not in ctx.roles_at_responsible:
        return "Only a leader of the finding's responsible organisation reports on its measures."
    return None


def _office(ctx: MeasureContext) -> str | None:
    if Role.office.value not in ctx.roles_at_office:
        return f"Only the office of {ctx.office_name} verifies or confirms this finding's measures."
    return None


def _rectifying(ctx: MeasureContext) -> str | None:
    if not ctx.finding_rectifying:
        return WrongState("The finding is not being rectified now: its measures do not move.")
    return None


def _verifiable(ctx: MeasureContext) -> str | None:
    if not ctx.finding_verifiable:
        return WrongState("The finding is not being rectified now: its measures do not move.")
    return None


_OFFICE, _LEADER = {Role.office}, {Role.leader}

MEASURE_WORKFLOW = WorkflowTable(
    "measure",
    states=M,
    initial=M.open,
    transitions=[
        Transition("complete", {M.open}, M.done, _LEADER, guards=(_leader, _rectifying),
                   description="The responsible leader reports the task done."),
        Transition("declare_cannot_complete", {M.open}, M.cannot_complete_requested, _LEADER,
                   guards=(_leader, _rectifying),
                   description="The responsible leader says the task cannot be completed, with the confirming "
                               "organisation and evidence (001 二(四)2)."),
        Transition("verify", {M.done}, M.verified, _OFFICE, guards=(_office, _verifiable),
                   description="The office verifies the task (销号)."),
        Transition("reopen", {M.done}, M.open, _OFFICE, guards=(_office, _rectifying), requires_comment=True,
                   description="The office finds the task not done, saying why."),
        Transition("confirm", {M.cannot_complete_requested}, M.cannot_complete, _OFFICE,
                   guards=(_office, _verifiable), description="The office confirms it cannot be completed."),
        Transition("reject_cannot_complete", {M.cannot_complete_requested}, M.open, _OFFICE,
                   guards=(_office, _rectifying), requires_comment=True,
                   description="The office refuses: the task goes on."),
    ],
)
