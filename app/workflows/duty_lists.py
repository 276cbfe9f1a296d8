"""The duty-list version workflow (DOMAIN.md "Duty lists"), as data.

```
draft|returned --submit(leader of the owner)--> submitted            (profiles with 审核 or 审定/批准)
submitted --review(office of the profile's reviewer)--> reviewed     (Henan: 002 §(五) 省生态环境厅 审核)
submitted|reviewed --approve(leadership of the profile's approver)--> approved
                                  (Henan 002 §(五) 省委、省政府 审定 after review; Hubei 003 §(六) 批准)
submitted|reviewed --return(reviewer's office or approver's leadership, comment)--> returned
draft|approved --publish(leader of the owner)--> published   (Hainan 000 §(七), Shandong 004 §六: from draft)
published --revise(staff of the owner)--> published, plus a new draft version (the service makes it)
published --retire(leader of the owner)--> retired
```

Which organisation reviews and approves comes from the profile; the service
resolves it and puts the caller's roles there in `DutyListContext`. A step the
profile does not have is refused with 409 (`WrongState`): the record is where it
is, and the caller may be exactly the right person for another step.
Publishing a revision supersedes the previously published version; that is part
of `publish` (the service records it on the old version's history), not an action.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.duty_list import DutyListStatus as S
from app.models.identity import Role
from app.workflows.engine import Guard, Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class DutyListContext:
    """What the guards need to know, resolved by the service for one caller and one version."""

    review_step: bool
    approval_step: bool
    roles_at_owner: frozenset[str] = frozenset()
    roles_at_reviewer: frozenset[str] = frozenset()
    roles_at_approver: frozenset[str] = frozenset()
    open_revision: bool = False  # another version of this list is being worked on
    reviewer_name: str = "the reviewing organisation"
    approver_name: str = "the approving organisation"


def _at_owner(role: Role, verb: str) -> Guard:
    def guard(ctx: DutyListContext) -> str | None:
        if role.value not in ctx.roles_at_owner:
            return f"Only a {role.value} of the list's own organisation may {verb} it."
        return None

    guard.__name__ = f"owner_{role.value}"
    return guard


def _needs_sign_off(ctx: DutyListContext) -> str | None:
    if not (ctx.review_step or ctx.approval_step):
        return WrongState("This jurisdiction's profile has no review or approval of duty lists: "
                          "the organisation publishes its list itself (publish).")
    return None


def _reviewer_office(ctx: DutyListContext) -> str | None:
    if not ctx.review_step:
        return WrongState("This jurisdiction's profile has no review (审核) step.")
    if Role.office.value not in ctx.roles_at_reviewer:
        return f"Only the office of {ctx.reviewer_name} may review duty lists here."
    return None


def _approver_leadership(ctx: DutyListContext) -> str | None:
    if not ctx.approval_step:
        return WrongState("This jurisdiction's profile has no approval (审定/批准) step.")
    if Role.leadership.value not in ctx.roles_at_approver:
        return f"Only the leadership of {ctx.approver_name} may approve duty lists here."
    return None


def _reviewed_first(ctx: DutyListContext) -> str | None:
    if ctx.review_step:
        return WrongState(f"The list must be reviewed by {ctx.reviewer_name} before it is approved.")
    return None


def _reviewer_or_approver(ctx: DutyListContext) -> str | None:
    if ctx.review_step and Role.office.value in ctx.roles_at_reviewer:
        return None
    if ctx.approval_step and Role.leadership.value in ctx.roles_at_approver:
        return None
    return "Only the reviewing office or the approving leadership may return a submitted list."


def _no_approval_needed(ctx: DutyListContext) -> str | None:
    if ctx.review_step or ctx.approval_step:
        return WrongState("This jurisdiction's profile needs the list reviewed or approved first: submit it.")
    return None


def _no_open_revision(ctx: DutyListContext) -> str | None:
    if ctx.open_revision:
        return WrongState("A revision of this list is already being worked on; continue that one.")
    return None


DUTY_LIST_WORKFLOW = WorkflowTable(
    "duty_list",
    states=S,
    initial=S.draft,
    transitions=[
        Transition("submit", {S.draft, S.returned}, S.submitted, {Role.leader},
                   guards=(_at_owner(Role.leader, "submit"), _needs_sign_off),
                   description="The owner's leader submits the list for review or approval."),
        Transition("review", {S.submitted}, S.reviewed, {Role.office}, guards=(_reviewer_office,),
                   description="The reviewer's office records its review (审核)."),
        Transition("approve", {S.reviewed}, S.approved, {Role.leadership}, guards=(_approver_leadership,),
                   description="The approver's leadership approves the reviewed list (审定/批准)."),
        Transition("approve", {S.submitted}, S.approved, {Role.leadership},
                   guards=(_reviewed_first, _approver_leadership),
                   description="Where there is no review step, the approver approves the submitted list."),
        Transition("return", {S.submitted, S.reviewed}, S.returned, {Role.office, Role.leadership},
                   guards=(_reviewer_or_approver,), requires_comment=True,
                   description="The reviewer or approver sends it back, saying why."),
        Transition("publish", {S.draft}, S.published, {Role.leader},
                   guards=(_no_approval_needed, _at_owner(Role.leader, "publish")),
                   description="Where no approval is needed, the owner's leader publishes the draft."),
        Transition("publish", {S.approved}, S.published, {Role.leader}, guards=(_at_owner(Role.leader, "publish"),),
                   description="The owner's leader publishes the approved list."),
        Transition("revise", {S.published}, S.published, {Role.staff},
                   guards=(_at_owner(Role.staff, "revise"), _no_open_revision),
                   description="Staff start a new draft version, the items copied; this one stays public."),
        Transition("retire", {S.published}, S.retired, {Role.leader},
                   guards=(_at_owner(Role.leader, "retire"), _no_open_revision),
                   description="The owner's leader withdraws the published list."),
    ],
)
