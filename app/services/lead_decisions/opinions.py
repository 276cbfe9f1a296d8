"""Opinions of the participating organisations (研究会商: 000 §(八) "牵头组织研究会商",
002 §(六) "组织有关部门研究会商", 003 §(七) "协调本级有关职能部门研究明确").

A participant's leader records its organisation's opinion while the decision is `consulting`:
agree, or disagree with a reason; one per participant. Recording one bumps the decision's
version, so a convenor who read the decision before it arrived gets 412 on `propose` and reads
it first.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors, PermissionDenied
from app.models import (
    LeadDecision,
    LeadDecisionOpinion,
    LeadDecisionStatus,
    OpinionStance,
    Organisation,
    PartyRole,
    Role,
    utcnow,
)
from app.schemas.lead_decisions import OpinionCreate, OpinionList, OpinionRead
from app.services import audit
from app.services.lead_decisions import access
from app.services.lead_decisions.errors import NotConsulting, OpinionAlreadyRecorded


def _already(name: str) -> OpinionAlreadyRecorded:
    return OpinionAlreadyRecorded(f"{name} has already given its opinion on this decision; one per participant.")


async def record_opinion(session: AsyncSession, principal: Principal, decision_id: uuid.UUID,
                         body: OpinionCreate) -> OpinionRead:
    """A leader of a participating organisation records its opinion.

    404 outside scope; 403 unless the caller is a leader of `organisation_id` and it is a participant;
    409 `lead_decision_not_consulting` outside consultation; 422 a disagreement without a reason;
    409 `opinion_already_recorded` for a second opinion of the same participant."""
    decision = await access.load_visible(session, principal, decision_id)
    parties = (await access.load_parties(session, [decision.id]))[decision.id]
    if body.organisation_id not in parties.ids(PartyRole.participant) \
            or Role.leader not in principal.roles_at(body.organisation_id):
        raise PermissionDenied("Only a leader of a participating organisation records its opinion.")
    if decision.status is not LeadDecisionStatus.consulting:
        raise NotConsulting(f"The decision is {decision.status.value}; opinions are recorded while consulting.")
    if body.stance is OpinionStance.disagree and not (body.reason or "").strip():
        errors = FieldErrors()
        errors.add("/reason", "reason_required", "say why you disagree")
        errors.raise_if_any()
    name = next(p.name for p in parties.of(PartyRole.participant) if p.organisation_id == body.organisation_id)
    taken = await session.scalar(select(LeadDecisionOpinion.id).where(
        LeadDecisionOpinion.decision_id == decision.id, LeadDecisionOpinion.organisation_id == body.organisation_id))
    if taken is not None:
        raise _already(name)
    # Still consulting, as one statement: a proposal that won meanwhile leaves nothing to update.
    moved = await session.execute(update(LeadDecision).where(LeadDecision.id == decision.id,
                                                             LeadDecision.status == LeadDecisionStatus.consulting)
                                  .values(version=LeadDecision.version + 1, updated_at=utcnow())
                                  .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise NotConsulting("The consultation closed meanwhile; opinions are recorded while consulting.")
    opinion = LeadDecisionOpinion(decision_id=decision.id, organisation_id=body.organisation_id, stance=body.stance,
                                  reason=(body.reason or "").strip() or None, recorded_by_id=principal.actor.id,
                                  recorded_by_name=principal.actor.name, recorded_at=utcnow())
    try:
        async with session.begin_nested():
            session.add(opinion)
            await session.flush()
    except IntegrityError:  # the same participant's leader, concurrently: the unique index decided
        raise _already(name) from None
    audit.record(session, action=f"{access.RESOURCE}.opinion", resource_type=access.RESOURCE,
                 resource_id=decision.id, organisation_id=body.organisation_id,
                 after={"organisation_id": body.organisation_id, "stance": body.stance, "reason": opinion.reason})
    return _read(opinion, name)


def _read(opinion: LeadDecisionOpinion, name: str) -> OpinionRead:
    return OpinionRead(id=opinion.id, decision_id=opinion.decision_id, organisation_id=opinion.organisation_id,
                       organisation_name=name, stance=opinion.stance, reason=opinion.reason,
                       recorded_by_name=opinion.recorded_by_name, recorded_at=opinion.recorded_at)


async def list_opinions(session: AsyncSession, principal: Principal, decision_id: uuid.UUID) -> OpinionList:
    """Every opinion of a visible decision, oldest first (any role that sees it; 404 otherwise)."""
    decision = await access.load_visible(session, principal, decision_id)
    rows = await session.execute(
        select(LeadDecisionOpinion, Organisation.name)
        .join(Organisation, Organisation.id == LeadDecisionOpinion.organisation_id)
        .where(LeadDecisionOpinion.decision_id == decision.id)
        .order_by(LeadDecisionOpinion.recorded_at, LeadDecisionOpinion.id))
    return OpinionList(items=[_read(opinion, name) for opinion, name in rows])
