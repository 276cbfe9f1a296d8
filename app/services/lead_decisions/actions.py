"""The workflow steps of a lead decision, each through the generic step (`apply_transition`).

```
requested --accept(convenor's office)--> consulting
consulting --propose(convenor's office)--> proposed --approve(decider's leadership)--> approved
proposed --return(decider's leadership, comment)--> consulting
consulting --decide(convenor's leadership, where the convenor decides)--> approved
approved --publish(convenor's office)--> published
requested|consulting --withdraw(convenor's office)--> withdrawn
```

Order of refusals: 404 outside scope, 428/412 If-Match, then the table (403 wrong role or
organisation, 409 wrong state, 422 a missing comment), then the body (422 with pointers), so a
caller who may not act never learns what was wrong with its body. On approve and decide the
linked responsibility items take the decided lead (`apply_decided_lead`, same transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import FieldErrors
from app.core.etag import check_if_match
from app.models import LeadDecision, LeadDecisionItem, PartyRole, utcnow
from app.profiles import get_profile
from app.schemas.lead_decisions import (
    LeadDecisionComment,
    LeadDecisionProposal,
    LeadDecisionPublish,
    LeadDecisionRead,
    LeadDecisionReturn,
)
from app.services import events
from app.services.duty_lists.lead_application import apply_decided_lead
from app.services.lead_decisions import access, validation
from app.services.lead_decisions.commands import replace_parties
from app.services.lead_decisions.queries import to_reads
from app.services.transitions import apply_transition
from app.workflows.engine import check
from app.workflows.lead_decisions import LEAD_DECISION_WORKFLOW

ActionBody = LeadDecisionComment | LeadDecisionReturn | LeadDecisionProposal | LeadDecisionPublish
After = Callable[[LeadDecision], Awaitable[None]]


async def _nothing(_: LeadDecision) -> None:
    return None


async def _apply_lead(session: AsyncSession, principal: Principal, decision: LeadDecision) -> None:
    """On approval the linked items take the decided lead (DOMAIN.md; in a new list version where the
    list is already published: the duty-list service's business). Nothing linked, nothing to apply."""
    lineages = list((await session.scalars(select(LeadDecisionItem.lineage_id)
                                           .where(LeadDecisionItem.decision_id == decision.id))).all())
    if not lineages:
        return
    parties = (await access.load_parties(session, [decision.id]))[decision.id]
    await apply_decided_lead(session, principal, decision_id=decision.id, lineage_ids=lineages,
                             lead_ids=parties.ids(PartyRole.lead),
                             first_lead_id=decision.first_lead_organisation_id,
                             cooperating_ids=parties.ids(PartyRole.cooperating))


async def _prepare(session: AsyncSession, principal: Principal, decision: LeadDecision, action: str,
                   body: ActionBody) -> tuple[dict[str, Any], dict[str, Any] | None, After]:
    """(columns the step sets, the history payload, what to do once the step has won)."""
    now = utcnow()
    if isinstance(body, LeadDecisionProposal):
        proposal = await validation.proposal(session, decision, body)
        extra: dict[str, Any] = {"first_lead_organisation_id": proposal.first_lead_id,
                                 "task_split": proposal.task_split, "rationale": body.rationale, "proposed_at": now}
        if action == "decide":
            extra["decided_at"] = now
        payload = {"lead_organisation_ids": proposal.lead_ids, "first_lead_organisation_id": proposal.first_lead_id,
                   "cooperating_organisation_ids": proposal.cooperating_ids, "task_split": proposal.task_split,
                   "rationale": body.rationale}

        async def after(row: LeadDecision) -> None:
            # Lead and cooperating party rows are replaced by each proposal (a returned one is redone).
            await replace_parties(session, row.id, PartyRole.lead, proposal.lead_ids)
            await replace_parties(session, row.id, PartyRole.cooperating, proposal.cooperating_ids)
            await session.flush()
            if action == "decide":
                await _apply_lead(session, principal, row)

        return extra, payload, after
    if isinstance(body, LeadDecisionPublish):
        published_on = _published_on(decision, body.published_on)
        return ({"published_on": published_on, "published_at": now, "portal_url": body.portal_url},
                {"portal_url": body.portal_url, "published_on": published_on}, _nothing)
    if action == "approve":
        async def approved(row: LeadDecision) -> None:
            await _apply_lead(session, principal, row)

        return {"decided_at": now}, None, approved
    return {}, None, _nothing


def _published_on(decision: LeadDecision, given: date | None) -> date:
    """The publication date in the jurisdiction's zone; today when omitted, never in the future."""
    profile = get_profile(decision.profile_code)
    today = today_in_zone(profile.timezone) if profile else today_in_zone()
    if given is not None and given > today:
        errors = FieldErrors()
        errors.add("/published_on", "in_the_future", f"after today ({today.isoformat()}) in the jurisdiction")
        errors.raise_if_any()
    return given or today


async def take_action(session: AsyncSession, principal: Principal, decision_id: uuid.UUID, action: str,
                      body: ActionBody, if_match: str | None) -> LeadDecisionRead:
    """Take `action` (a name of LEAD_DECISION_WORKFLOW) on a visible decision; see the module docstring
    for the order of refusals. Raises NotFound, PreconditionRequired, StaleResource,
    TransitionNotAllowed (403/409), ValidationFailed/BusinessRuleViolation (422), Conflict (409)."""
    decision = await access.load_visible(session, principal, decision_id)
    check_if_match(if_match, decision.id, decision.version)
    parties = (await access.load_parties(session, [decision.id]))[decision.id]
    ctx = access.context(principal, decision, parties)
    roles = access.caller_roles(principal, parties, action)
    comment = getattr(body, "comment", None)
    transition = check(LEAD_DECISION_WORKFLOW, action, decision.status, roles, ctx, comment)
    extra, payload, after = await _prepare(session, principal, decision, action, body)
    row = await apply_transition(
        session, table=LEAD_DECISION_WORKFLOW, model=LeadDecision, record_id=decision.id, action=action,
        principal=principal, caller_roles=roles, expected_version=decision.version, comment=comment, ctx=ctx,
        resource_type=access.RESOURCE, organisation_id=(parties.ids(PartyRole.convenor) or [None])[0],
        acting_organisation_id=access.acting_organisation(principal, parties, action, transition.roles),
        extra_values=extra, payload=payload)
    await after(row)
    await session.flush()
    if action in ("approve", "decide"):
        await events.emit(session, "lead_decision.approved", ("lead_decision", row.id), row.jurisdiction_id,
                          {"status": row.status, "title": row.title})
    return (await to_reads(session, principal, [row]))[0]
