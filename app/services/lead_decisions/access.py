"""Who sees a lead decision and who may act on it.

Seeing (CONVENTIONS.md layer 2): a decision is visible when any of its parties (requester,
convenor, decider, participant, lead, cooperating) lies in the caller's scope for
`lead_decisions:read`: one EXISTS over `lead_decision_party`. Outside it is 404.

Acting (layer 3): the transition table names the role and the guards check that the caller
holds it at the convenor or the decider the decision was opened with. Each step is one body's
(DOMAIN.md's diagram): accept, propose, decide, publish and withdraw are the convenor's, approve
and return the decider's; only roles held at that body count, so an office of the decider asking
to `accept` is told 403 (wrong organisation) in every state, not 409.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import NotFound
from app.models import LeadDecision, LeadDecisionParty, LeadDecisionStatus, Organisation, PartyRole, Role
from app.workflows.engine import allowed_actions
from app.workflows.lead_decisions import LEAD_DECISION_WORKFLOW, LeadDecisionContext

READ = Permission.lead_decisions_read
RESOURCE = "lead_decision"
# DOMAIN.md "Lead-department decisions": the body that takes each step.
ACTING_BODY: dict[str, PartyRole] = {
    "accept": PartyRole.convenor, "propose": PartyRole.convenor, "decide": PartyRole.convenor,
    "publish": PartyRole.convenor, "withdraw": PartyRole.convenor,
    "approve": PartyRole.decider, "return": PartyRole.decider,
}
EDITABLE_BY_CONVENOR = {LeadDecisionStatus.requested, LeadDecisionStatus.consulting}


@dataclass(frozen=True)
class PartyView:
    organisation_id: uuid.UUID
    name: str
    role: PartyRole
    position: int


@dataclass
class Parties:
    rows: list[PartyView] = field(default_factory=list)

    def of(self, role: PartyRole) -> list[PartyView]:
        return sorted((p for p in self.rows if p.role is role), key=lambda p: p.position)

    def ids(self, role: PartyRole) -> list[uuid.UUID]:
        return [p.organisation_id for p in self.of(role)]

    def names(self, role: PartyRole, fallback: str) -> str:
        return "、".join(p.name for p in self.of(role)) or fallback


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: some party of the decision lies in the caller's scope."""
    return exists().where(LeadDecisionParty.decision_id == LeadDecision.id,
                          in_scope(LeadDecisionParty.organisation_id, principal, READ))


async def load_visible(session: AsyncSession, principal: Principal, decision_id: uuid.UUID) -> LeadDecision:
    """The decision if the caller may see it, freshly read; else 404 (existence is not leaked)."""
    decision = await session.scalar(
        select(LeadDecision).where(LeadDecision.id == decision_id, visible(principal))
        .execution_options(populate_existing=True))
    if decision is None:
        raise NotFound("No such lead decision.")
    return decision


async def load_parties(session: AsyncSession, decision_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Parties]:
    """Party rows with organisation names, for a whole page in one query."""
    out: dict[uuid.UUID, Parties] = defaultdict(Parties)
    if decision_ids:
        rows = await session.execute(
            select(LeadDecisionParty, Organisation.name)
            .join(Organisation, Organisation.id == LeadDecisionParty.organisation_id)
            .where(LeadDecisionParty.decision_id.in_(decision_ids))
            .order_by(LeadDecisionParty.role, LeadDecisionParty.position))
        for party, name in rows:
            out[party.decision_id].rows.append(PartyView(party.organisation_id, name, party.role, party.position))
    return out


def roles_at_any(principal: Principal, organisation_ids: Iterable[uuid.UUID]) -> frozenset[str]:
    return frozenset(r.value for org in organisation_ids for r in principal.roles_at(org))


def context(principal: Principal, decision: LeadDecision, parties: Parties) -> LeadDecisionContext:
    return LeadDecisionContext(
        convenor_decides=decision.convenor_decides,
        roles_at_convenor=roles_at_any(principal, parties.ids(PartyRole.convenor)),
        roles_at_decider=roles_at_any(principal, parties.ids(PartyRole.decider)),
        convenor_name=parties.names(PartyRole.convenor, "the convening organisation"),
        decider_name=parties.names(PartyRole.decider, "the deciding organisation"))


def caller_roles(principal: Principal, parties: Parties, action: str) -> frozenset[str]:
    """The caller's roles that count for `action`: those held at the body that takes the step."""
    body = ACTING_BODY.get(action)
    orgs = parties.ids(body) if body else parties.ids(PartyRole.convenor) + parties.ids(PartyRole.decider)
    return roles_at_any(principal, orgs)


def acting_organisation(principal: Principal, parties: Parties, action: str,
                        roles: Iterable[str]) -> uuid.UUID | None:
    """The organisation of the acting body where the caller holds one of the step's roles."""
    wanted = set(roles)
    body = ACTING_BODY.get(action, PartyRole.convenor)
    return next((org for org in parties.ids(body)
                 if wanted & {r.value for r in principal.roles_at(org)}), None)


def actions_for(principal: Principal, decision: LeadDecision, parties: Parties) -> list[str]:
    """`allowed_actions` of the read schema: the table's, for the caller's roles at either body."""
    roles = roles_at_any(principal, parties.ids(PartyRole.convenor) + parties.ids(PartyRole.decider))
    return allowed_actions(LEAD_DECISION_WORKFLOW, decision.status, roles, context(principal, decision, parties))


def is_convenor_office(principal: Principal, parties: Parties) -> bool:
    return Role.office.value in roles_at_any(principal, parties.ids(PartyRole.convenor))


def can_update(principal: Principal, decision: LeadDecision, parties: Parties) -> bool:
    """PATCH: the convenor's office while requested or consulting; the requester's leader while requested."""
    if decision.status in EDITABLE_BY_CONVENOR and is_convenor_office(principal, parties):
        return True
    return decision.status is LeadDecisionStatus.requested and \
        Role.leader.value in roles_at_any(principal, parties.ids(PartyRole.requester))


def may_ever_update(principal: Principal, parties: Parties) -> bool:
    """Whether the caller is one of the editors at all (403 otherwise; 409 when it is merely too late)."""
    return is_convenor_office(principal, parties) or \
        Role.leader.value in roles_at_any(principal, parties.ids(PartyRole.requester))


def opinion_organisations(principal: Principal, decision: LeadDecision, parties: Parties,
                          given: set[uuid.UUID]) -> list[uuid.UUID]:
    """Participants the caller leads that may still give their opinion (only while consulting)."""
    if decision.status is not LeadDecisionStatus.consulting:
        return []
    return [org for org in parties.ids(PartyRole.participant)
            if org not in given and Role.leader in principal.roles_at(org)]
