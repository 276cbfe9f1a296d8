"""Who reads an escalation, and what the workflow guards know about a caller and an escalation.

Reading (`escalations:read`): members whose scope covers any of its parties — the issuer (or
proposer), the deciders, the addressees (one EXISTS over `escalation_party`, as for findings).
Everyone else gets 404. Roles count AT an organisation (app/workflows/escalations.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import NotFound
from app.models import Escalation, EscalationParty, EscalationPartyRole
from app.workflows.escalations import EscalationContext

READ = Permission.escalations_read
WRITE = Permission.escalations_write
RESOURCE = "escalation"
P = EscalationPartyRole


def not_found() -> NotFound:
    return NotFound("No such escalation.")


def visible(principal: Principal) -> ColumnElement[bool]:
    return exists().where(EscalationParty.escalation_id == Escalation.id,
                          in_scope(EscalationParty.organisation_id, principal, READ))


async def load_visible(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID) -> Escalation:
    found = await session.scalar(select(Escalation).where(Escalation.id == escalation_id, visible(principal))
                                 .execution_options(populate_existing=True))
    if found is None:
        raise not_found()
    return found


async def parties_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[P, list[uuid.UUID]]]:
    out: dict[uuid.UUID, dict[P, list[uuid.UUID]]] = {i: {} for i in ids}
    if ids:
        rows = await session.scalars(select(EscalationParty).where(EscalationParty.escalation_id.in_(ids))
                                     .order_by(EscalationParty.position))
        for row in rows.all():
            out[row.escalation_id].setdefault(P(row.role), []).append(row.organisation_id)
    return out


def roles_at(principal: Principal, orgs: Sequence[uuid.UUID]) -> frozenset[str]:
    return frozenset(r.value for o in orgs for r in principal.roles_at(o))


def context_for(principal: Principal, escalation: Escalation, parties: dict[P, list[uuid.UUID]]
                ) -> tuple[EscalationContext, frozenset[str]]:
    ctx = EscalationContext(roles_at_deciders=roles_at(principal, parties.get(P.decider, [])),
                            roles_at_addressees=roles_at(principal, parties.get(P.addressee, [])),
                            kind=escalation.kind.value)
    return ctx, ctx.roles_at_deciders | ctx.roles_at_addressees
