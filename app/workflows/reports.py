"""The report workflow (DOMAIN.md "Reports"), as data.

```
pending --start(staff of the filer)--> draft
draft --submit(leader of the filer)--> submitted
submitted --receive(office of the recipient)--> received          (no recipient: a hearing record ends at submitted)
received --accept(leadership of the recipient)--> accepted        (not for a filing, 备案: received is final, 002 §(十))
accepted --publish(leader of the filer)--> published              (where the text says so: 000 §(十二), 002 §(十三),
                                                                   003 §(十一)(十二), 004 §七)
submitted|received --return(office or leadership of the recipient, comment)--> draft
```

The recipient comes from the profile (`ReportRule.recipient`): 省委、省政府 jointly, the
same-level 党委和政府, a coordination office, or a person — the vice-governor in charge
(000 §(十二), 004 §八), who is a `leadership` member of the provincial government; that
government's office receives for them. Where the receiving office arranges approval
(统筹报批, 000 §(十)), the leadership of the body it serves accepts as well.

Copy recipients (抄报/抄送) hold no role here: whatever role they have at their own
organisation, the guards look at the filer's and the recipient's organisations only,
so they can read a report and never act on it.

Pure Python: the service resolves the organisations and puts the caller's roles there
in `ReportContext`. (Kept in the reports service package for now; it is a table like
app/workflows/duty_lists.py and may move there.)
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.identity import Role
from app.models.report import ReportStatus as S
from app.workflows.engine import Guard, Transition, WorkflowTable, WrongState


@dataclass(frozen=True)
class ReportContext:
    """What the guards need, resolved by the service for one caller and one report."""

    has_recipient: bool
    filing_only: bool
    publishable: bool
    roles_at_filer: frozenset[str] = frozenset()
    roles_at_recipient: frozenset[str] = frozenset()
    roles_at_acceptor: frozenset[str] = frozenset()  # the recipient, plus the body an arranging office serves
    recipient_name: str = "the recipient"


def _at_filer(role: Role, verb: str) -> Guard:
    def guard(ctx: ReportContext) -> str | None:
        if role.value not in ctx.roles_at_filer:
            return f"Only a {role.value} of the filing organisation may {verb} this report."
        return None

    guard.__name__ = f"filer_{role.value}"
    return guard


def _has_recipient(ctx: ReportContext) -> str | None:
    if not ctx.has_recipient:
        return WrongState("This record has no recipient: submitting it was the last step.")
    return None


def _recipient_office(ctx: ReportContext) -> str | None:
    if Role.office.value not in ctx.roles_at_recipient:
        return f"Only the office of {ctx.recipient_name} may receive this report."
    return None


def _needs_acceptance(ctx: ReportContext) -> str | None:
    if ctx.filing_only:
        return WrongState("This is a filing (备案): once received it is complete; there is no acceptance.")
    return None


def _acceptor_leadership(ctx: ReportContext) -> str | None:
    if Role.leadership.value not in ctx.roles_at_acceptor:
        return f"Only the leadership of {ctx.recipient_name} may accept this report."
    return None


def _recipient_returns(ctx: ReportContext) -> str | None:
    if not ({Role.office.value, Role.leadership.value} & ctx.roles_at_recipient):
        return f"Only the office or the leadership of {ctx.recipient_name} may return this report."
    return None


def _publishable(ctx: ReportContext) -> str | None:
    if not ctx.publishable:
        return WrongState("The profile does not say this report is published; accepted is its last step.")
    return None


REPORT_WORKFLOW = WorkflowTable(
    "report",
    states=S,
    initial=S.pending,
    transitions=[
        Transition("start", {S.pending}, S.draft, {Role.staff}, guards=(_at_filer(Role.staff, "start"),),
                   description="Staff of the filer start drafting the report."),
        Transition("submit", {S.draft}, S.submitted, {Role.leader}, guards=(_at_filer(Role.leader, "submit"),),
                   description="The filer's leader signs it off and sends it (copies become readable)."),
        Transition("receive", {S.submitted}, S.received, {Role.office}, guards=(_has_recipient, _recipient_office),
                   description="The recipient's office receives it; for a filing (备案) this is final."),
        Transition("accept", {S.received}, S.accepted, {Role.leadership},
                   guards=(_has_recipient, _needs_acceptance, _acceptor_leadership),
                   description="The recipient's leadership accepts it."),
        Transition("publish", {S.accepted}, S.published, {Role.leader},
                   guards=(_publishable, _at_filer(Role.leader, "publish")),
                   description="The filer's leader publishes it, where the text says it is published."),
        Transition("return", {S.submitted, S.received}, S.draft, {Role.office, Role.leadership},
                   guards=(_has_recipient, _recipient_returns), requires_comment=True,
                   description="The recipient sends it back to the filer, saying why."),
    ],
)
