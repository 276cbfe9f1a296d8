"""The finding workflow and the extension-request workflow (DOMAIN.md "Inspections and findings"), as data.

```
registered --assign(office)--> assigned --submit_plan(leader)--> plan_submitted
plan_submitted --approve_plan(office)--> in_progress ; --return(office, comment)--> assigned
in_progress --amend_plan(leader)--> plan_submitted (001 二(四)1: a measure split into two phases)
plan_submitted --return_amendment(office, comment)--> in_progress   (an amendment refused: the approved plan runs on)
in_progress|sustained --request_closure(leader; every measure settled)--> closure_requested (已完成待销号)
closure_requested --close(office)--> closed (已完成并销号) ; --reject_closure(office, comment)--> in_progress
in_progress --declare_unrectifiable(leader)--> unrectifiable_requested
unrectifiable_requested --approve_unrectifiable(office)--> unrectifiable ; --reject_unrectifiable(office)--> in_progress
in_progress --sustain(office; long-term findings)--> sustained
closed|sustained --rebound(inspector, office or the rectifying leader: a look-back found it back)--> in_progress
```

"office" is the `office` role AT the finding's rectification office, "leader" and "staff"
those roles AT its responsible (主责) organisation, "inspector" the role AT its inspecting
body: a step is taken at an organisation (DOMAIN.md "the role says what a member of that
organisation may do there"). The service resolves the caller's roles there into
`FindingContext`; a guard refusing the caller answers 403, one refusing because of the
record (`WrongState`) 409.

Design choice (DOMAIN.md's diagram returns every plan to `assigned`): returning an
amendment of a plan already under way would stop rectification and strand approved
measures, so refusing an amendment is its own action, `return_amendment`, back to
`in_progress`; `return` is for a first plan.

Two actions are self-loops the engine checks but the service never applies: they record a
row of their own (a progress update, an extension request) and leave the finding's state
and version alone. They sit in the table so that who may take them, and when, is said once
and shows in `allowed_actions`. `look_back` (a passed look-back) is a self-loop that is
applied: it leaves a history row, so the ledger shows every 回头看.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.finding import ExtensionStatus as E
from app.models.finding import FindingStatus as S
from app.models.identity import Role
from app.workflows.engine import Guard, Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class FindingContext:
    """What the guards need, resolved by the service for one caller and one finding."""

    roles_at_office: frozenset[str] = frozenset()
    roles_at_responsible: frozenset[str] = frozenset()
    roles_at_inspecting_body: frozenset[str] = frozenset()
    long_term: bool = False
    started: bool = False  # a plan was approved once: rectification is under way
    measures_settled: bool = False  # at least one measure, each done, verified or cannot_complete
    has_deadline: bool = False
    pending_extension: bool = False
    office_name: str = "the rectification office"


def office(verb: str) -> Guard:
    def guard(ctx: FindingContext) -> str | None:
        if Role.office.value not in ctx.roles_at_office:
            return f"Only the office of {ctx.office_name} may {verb} this finding."
        return None

    guard.__name__ = f"office_{verb.replace(' ', '_')}"
    return guard


def responsible(verb: str, *roles: Role) -> Guard:
    allowed = frozenset(r.value for r in roles)

    def guard(ctx: FindingContext) -> str | None:
        if allowed.isdisjoint(ctx.roles_at_responsible):
            who = " or ".join(sorted(allowed))
            return f"Only a {who} of the responsible organisation may {verb} this finding."
        return None

    guard.__name__ = f"responsible_{verb.replace(' ', '_')}"
    return guard


def _first_plan(ctx: FindingContext) -> str | None:
    if ctx.started:
        return WrongState("This is an amendment of a plan already under way: refuse it with return_amendment.")
    return None


def _amendment(ctx: FindingContext) -> str | None:
    if not ctx.started:
        return WrongState("This is a first plan, not an amendment: send it back with return.")
    return None


def _started(ctx: FindingContext) -> str | None:
    if not ctx.started:
        return WrongState("Rectification has not started: progress is reported once a plan is approved.")
    return None


def _long_term(ctx: FindingContext) -> str | None:
    if not ctx.long_term:
        return WrongState("Only a long-term (长期整改) finding is sustained; request closure instead.")
    return None


def _measures_settled(ctx: FindingContext) -> str | None:
    if not ctx.measures_settled:
        return WrongState("Every measure must be done, verified or confirmed cannot-complete before closure "
                          "is requested.")
    return None


def _can_extend(ctx: FindingContext) -> str | None:
    if not ctx.has_deadline:
        return WrongState("The finding has no deadline to extend.")
    if ctx.pending_extension:
        return WrongState("An extension request is already waiting for a decision.")
    return None


def _looks_back(ctx: FindingContext) -> str | None:
    # 001 一(三): the inspector, the office, or the rectifying organisation itself looks back.
    if Role.inspector.value in ctx.roles_at_inspecting_body or Role.office.value in ctx.roles_at_office \
            or Role.leader.value in ctx.roles_at_responsible:
        return None
    return ("Only the inspecting body's inspectors, the rectification office or the responsible organisation's "
            "leader look back on a finding.")


_OFFICE, _LEADER, _LOOKERS = {Role.office}, {Role.leader}, {Role.inspector, Role.office, Role.leader}

FINDING_WORKFLOW = WorkflowTable(
    "finding",
    states=S,
    initial=S.registered,
    transitions=[
        Transition("assign", {S.registered}, S.assigned, _OFFICE, guards=(office("assign"),),
                   description="The office names the responsible organisation and the deadline."),
        Transition("submit_plan", {S.assigned}, S.plan_submitted, _LEADER,
                   guards=(responsible("submit a plan for", Role.leader),),
                   description="The responsible leader submits the rectification plan: measures, deadlines, people."),
        Transition("approve_plan", {S.plan_submitted}, S.in_progress, _OFFICE, guards=(office("approve a plan of"),),
                   description="The office approves the plan (or an amendment); rectification runs."),
        Transition("return", {S.plan_submitted}, S.assigned, _OFFICE, guards=(office("return"), _first_plan),
                   requires_comment=True, description="The office sends a first plan back, saying why."),
        Transition("return_amendment", {S.plan_submitted}, S.in_progress, _OFFICE,
                   guards=(office("return an amendment of"), _amendment), requires_comment=True,
                   description="The office refuses an amendment; the approved plan stays in force."),
        Transition("amend_plan", {S.in_progress}, S.plan_submitted, _LEADER,
                   guards=(responsible("amend the plan of", Role.leader),),
                   description="The responsible leader changes measures or phases (001 二(四)1)."),
        Transition("request_closure", {S.in_progress, S.sustained}, S.closure_requested, _LEADER,
                   guards=(responsible("request closure of", Role.leader), _measures_settled),
                   description="Rectification done (已完成待销号), with evidence; every measure settled."),
        Transition("close", {S.closure_requested}, S.closed, _OFFICE, guards=(office("close"),),
                   description="The office verifies and closes (销号) the finding."),
        Transition("reject_closure", {S.closure_requested}, S.in_progress, _OFFICE,
                   guards=(office("reject closure of"),), requires_comment=True,
                   description="The office finds the work not done, saying why."),
        Transition("declare_unrectifiable", {S.in_progress}, S.unrectifiable_requested, _LEADER,
                   guards=(responsible("declare unrectifiable", Role.leader),),
                   description="The responsible leader says it cannot be rectified, with the confirming body."),
        Transition("approve_unrectifiable", {S.unrectifiable_requested}, S.unrectifiable, _OFFICE,
                   guards=(office("approve as unrectifiable"),), description="The office accepts that."),
        Transition("reject_unrectifiable", {S.unrectifiable_requested}, S.in_progress, _OFFICE,
                   guards=(office("reject as unrectifiable"),), requires_comment=True,
                   description="The office refuses: rectification goes on."),
        Transition("sustain", {S.in_progress}, S.sustained, _OFFICE, guards=(office("sustain"), _long_term),
                   description="The office moves long-term work to sustained (长期整改, updates continue)."),
        Transition("rebound", {S.closed, S.sustained}, S.in_progress, _LOOKERS, guards=(_looks_back,),
                   description="A look-back found the problem back (反弹): rectification reopens."),
        # Self-loops (see the module docstring): report_progress and request_extension are check-only.
        *(Transition("report_progress", {state}, state, {Role.staff, Role.leader},
                     guards=(responsible("report progress on", Role.staff, Role.leader),
                             *((_started,) if state == S.plan_submitted else ())),
                     description="Staff or the leader of the responsible organisation report progress.")
          for state in (S.in_progress, S.sustained, S.plan_submitted)),
        *(Transition("request_extension", {state}, state, _LEADER,
                     guards=(responsible("request an extension of", Role.leader), _can_extend),
                     description="The responsible leader asks for a later deadline.")
          for state in (S.assigned, S.plan_submitted, S.in_progress, S.sustained)),
        *(Transition("look_back", {state}, state, _LOOKERS, guards=(_looks_back,),
                     description="A look-back (回头看) that found the work holding is recorded.")
          for state in (S.closed, S.sustained)),
    ],
)

# Where a responsible organisation works on its measures and reports (rectification under way).
RECTIFYING_STATES = frozenset({S.in_progress.value, S.sustained.value, S.plan_submitted.value})


@dataclass(frozen=True)
class ExtensionContext:
    roles_at_office: frozenset[str] = frozenset()
    finding_open: bool = True
    office_name: str = "the rectification office"


def _ext_office(ctx: ExtensionContext) -> str | None:
    if Role.office.value not in ctx.roles_at_office:
        return f"Only the office of {ctx.office_name} decides extension requests of this finding."
    return None


def _finding_open(ctx: ExtensionContext) -> str | None:
    if not ctx.finding_open:
        return WrongState("The finding is no longer being rectified: its deadline cannot move.")
    return None


EXTENSION_WORKFLOW = WorkflowTable(
    "extension_request",
    states=E,
    initial=E.pending,
    transitions=[
        Transition("approve", {E.pending}, E.approved, _OFFICE, guards=(_ext_office, _finding_open),
                   description="The office grants the new deadline; the original stays on record."),
        Transition("reject", {E.pending}, E.rejected, _OFFICE, guards=(_ext_office,), requires_comment=True,
                   description="The office refuses, saying why; the deadline stays."),
    ],
)
