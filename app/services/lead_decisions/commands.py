"""Opening and editing lead decisions (DOMAIN.md "Lead-department decisions").

Who may open one (`lead_decisions:write`, then):
- a leader of `organisation_id`: a department or a city raises the matter → `requested`;
- the office of the convening organisation, with `organisation_id` that organisation: the
  convenor opens it itself → `consulting` (history row `open`);
- anyone else: 403.
The level, region, convenor and decider are resolved from the profile (`resolution`) and kept
as party rows, with the profile's code and version.

Who may edit (PATCH): the convenor's office while requested or consulting, the requester's
leader while requested; 403 for anyone else, 409 when it is too late for an editor.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors, PermissionDenied, StaleResource
from app.core.etag import check_if_match, make_etag
from app.models import (
    LeadDecision,
    LeadDecisionItem,
    LeadDecisionParty,
    LeadDecisionStatus,
    Organisation,
    PartyRole,
    ResponsibilityItem,
    Role,
    TransitionHistory,
    new_id,
    utcnow,
)
from app.profiles import get_profile
from app.schemas.lead_decisions import LeadDecisionCreate, LeadDecisionRead, LeadDecisionUpdate
from app.services import audit
from app.services.lead_decisions import access, validation
from app.services.lead_decisions.errors import NoProfile, NotEditable
from app.services.lead_decisions.queries import to_reads
from app.services.lead_decisions.resolution import resolve_bodies

S = LeadDecisionStatus


def _refused() -> PermissionDenied:
    return PermissionDenied("A matter is raised by a leader of the raising organisation, or opened by the office "
                            "of the organisation the profile names to convene it.")


def snapshot(decision: LeadDecision, participants: list[uuid.UUID], lineages: list[uuid.UUID]) -> dict[str, Any]:
    return {"status": decision.status, "version": decision.version, "title": decision.title,
            "description": decision.description, "scope_tests": decision.scope_tests,
            "participants": sorted(str(p) for p in participants), "linked_lineages": sorted(str(x) for x in lineages)}


async def replace_parties(session: AsyncSession, decision_id: uuid.UUID, role: PartyRole,
                          organisation_ids: list[uuid.UUID]) -> None:
    await session.execute(delete(LeadDecisionParty).where(LeadDecisionParty.decision_id == decision_id,
                                                          LeadDecisionParty.role == role))
    session.add_all(LeadDecisionParty(decision_id=decision_id, organisation_id=org, role=role, position=i)
                    for i, org in enumerate(dict.fromkeys(organisation_ids)))


async def _replace_items(session: AsyncSession, decision_id: uuid.UUID, items: list[ResponsibilityItem]) -> None:
    await session.execute(delete(LeadDecisionItem).where(LeadDecisionItem.decision_id == decision_id))
    session.add_all(LeadDecisionItem(decision_id=decision_id, lineage_id=i.lineage_id, item_id=i.id,
                                     organisation_id=i.organisation_id) for i in items)


def record_history(session: AsyncSession, principal: Principal, decision_id: uuid.UUID, action: str,
                   to_status: LeadDecisionStatus, acting_organisation_id: uuid.UUID | None) -> None:
    """A history row for a decision that starts in a state (there is no state before: `from_status` "")."""
    session.add(TransitionHistory(
        resource_type=access.RESOURCE, resource_id=decision_id, action=action, from_status="",
        to_status=to_status.value, actor_id=principal.actor.id, actor_name=principal.actor.name,
        acting_organisation_id=acting_organisation_id, occurred_at=utcnow()))


async def create_decision(session: AsyncSession, principal: Principal, body: LeadDecisionCreate) -> LeadDecisionRead:
    """Raise (`requested`) or open (`consulting`) a matter; see the module docstring for who may.

    403 for anyone else; 422 `no_jurisdiction_profile`, `no_region`, `no_body_designated`, or field
    errors for scope tests the profile does not use, participants outside the jurisdiction and
    items outside it or unreadable to the caller."""
    roles = principal.roles_at(body.organisation_id)
    if not roles & {Role.leader, Role.office}:
        raise _refused()
    raiser = await session.get(Organisation, body.organisation_id)
    if raiser is None or not raiser.is_active:
        raise _refused()
    bodies = await resolve_bodies(session, raiser)
    convenor_ids = [o.id for o in bodies.convenors]
    if Role.office in roles and raiser.id in convenor_ids:
        status, action = S.consulting, "open"  # opened by the convenor
    elif Role.leader in roles:
        status, action = S.requested, "request"  # a department or city raises it
    else:
        raise _refused()

    errors = FieldErrors()
    tests = validation.scope_tests(errors, bodies.profile, body.scope_tests)
    participants = await validation.organisations(session, errors, body.participant_organisation_ids,
                                                  "/participant_organisation_ids",
                                                  jurisdiction_id=bodies.jurisdiction.id)
    items = await validation.items(session, principal, errors, body.linked_item_ids,
                                   jurisdiction_id=bodies.jurisdiction.id)
    errors.raise_if_any()

    decision = LeadDecision(
        id=new_id(), jurisdiction_id=bodies.jurisdiction.id, region_id=bodies.region.id, level=bodies.level,
        status=status, version=1, title=body.title, description=body.description, scope_tests=tests,
        profile_code=bodies.profile.code, profile_version=bodies.profile.version,
        convenor_decides=bodies.convenor_decides, task_split=[], created_by=principal.actor.id)
    session.add(decision)
    await session.flush()
    if status is S.requested:
        session.add(LeadDecisionParty(decision_id=decision.id, organisation_id=raiser.id, role=PartyRole.requester))
    await replace_parties(session, decision.id, PartyRole.convenor, convenor_ids)
    await replace_parties(session, decision.id, PartyRole.decider, [o.id for o in bodies.deciders])
    await replace_parties(session, decision.id, PartyRole.participant, participants)
    await _replace_items(session, decision.id, items)
    record_history(session, principal, decision.id, action, status, raiser.id)
    await session.flush()
    audit.record(session, action=f"{access.RESOURCE}.create", resource_type=access.RESOURCE,
                 resource_id=decision.id, organisation_id=convenor_ids[0],
                 after={**snapshot(decision, participants, [i.lineage_id for i in items]),
                        "level": bodies.level, "region_id": bodies.region.id, "requester_id": raiser.id,
                        "convenor_ids": convenor_ids, "decider_ids": [o.id for o in bodies.deciders]})
    return (await to_reads(session, principal, [decision]))[0]


async def update_decision(session: AsyncSession, principal: Principal, decision_id: uuid.UUID,
                          body: LeadDecisionUpdate, if_match: str | None) -> LeadDecisionRead:
    """Change title, description, scope tests, participants or linked items (see the module
    docstring for who and when). 404 outside scope, 428/412 If-Match, 403 not an editor,
    409 `lead_decision_not_editable`, 422 field errors as for a create."""
    decision = await access.load_visible(session, principal, decision_id)
    check_if_match(if_match, decision.id, decision.version)
    parties = (await access.load_parties(session, [decision.id]))[decision.id]
    if not access.may_ever_update(principal, parties):
        raise PermissionDenied("Only the convenor's office, or the requester's leader while it is requested, "
                               "may edit this decision.")
    if not access.can_update(principal, decision, parties):
        raise NotEditable(f"The decision is {decision.status.value}: it can no longer be edited.")
    profile = get_profile(decision.profile_code)
    if profile is None:
        raise NoProfile("The decision's profile is no longer available.")
    changes = body.model_dump(exclude_unset=True)
    errors = FieldErrors()
    values: dict[str, Any] = {k: changes[k] for k in ("title", "description") if k in changes}
    if body.scope_tests is not None:
        values["scope_tests"] = validation.scope_tests(errors, profile, body.scope_tests)
    participants = None if body.participant_organisation_ids is None else await validation.organisations(
        session, errors, body.participant_organisation_ids, "/participant_organisation_ids",
        jurisdiction_id=decision.jurisdiction_id)
    items = None if body.linked_item_ids is None else await validation.items(
        session, principal, errors, body.linked_item_ids, jurisdiction_id=decision.jurisdiction_id)
    errors.raise_if_any()

    before = snapshot(decision, parties.ids(PartyRole.participant), await _lineages(session, decision.id))
    # Compare-and-set on the version: of two editors with one ETag, exactly one wins (412 for the other).
    result = await session.execute(update(LeadDecision).where(LeadDecision.id == decision.id,
                                                              LeadDecision.version == decision.version)
                                   .values(version=decision.version + 1, updated_at=utcnow(), **values)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleResource("The record changed since you read it; reload it and try again.",
                            current_etag=make_etag(decision.id, decision.version + 1))
    if participants is not None:
        await replace_parties(session, decision.id, PartyRole.participant, participants)
    if items is not None:
        await _replace_items(session, decision.id, items)
    await session.flush()
    await session.refresh(decision)
    after = snapshot(decision, participants if participants is not None else parties.ids(PartyRole.participant),
                     await _lineages(session, decision.id))
    audit.record(session, action=f"{access.RESOURCE}.update", resource_type=access.RESOURCE,
                 resource_id=decision.id, organisation_id=(parties.ids(PartyRole.convenor) or [None])[0],
                 before=before, after=after)
    return (await to_reads(session, principal, [decision]))[0]


async def _lineages(session: AsyncSession, decision_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(LeadDecisionItem.lineage_id)
                                       .where(LeadDecisionItem.decision_id == decision_id))).all())
