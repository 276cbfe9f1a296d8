"""The generic finding step and the reference checks every finding command shares.

`prepare` loads the finding (404 out of scope), checks If-Match (428/412), builds the
guards' context and asks the table whether the caller may take the action now (403
wrong person, 409 wrong state, 422 missing comment) BEFORE the body's references are
checked, so a refused caller learns nothing about the organisations it named. `apply`
then takes the step through app/services/transitions.py: one conditional UPDATE, one
history row, one audit event, in the request's transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors
from app.core.etag import check_if_match
from app.models import Finding, Organisation, OrganisationClosure
from app.services.findings import access
from app.services.inspections.access import active_organisations
from app.services.transitions import apply_transition
from app.workflows.engine import check
from app.workflows.findings import FINDING_WORKFLOW, FindingContext


@dataclass
class Step:
    finding: Finding
    ctx: FindingContext
    roles: frozenset[str]
    facts: access.Facts
    expected_version: int | None


async def prepare(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, action: str,
                  if_match: str | None, comment: str | None, *, needs_if_match: bool = True,
                  assume: dict[str, Any] | None = None) -> Step:
    """Load, check If-Match and the transition. `assume` overrides context facts for this check only
    (request_closure checks the caller first and answers outstanding measures with its own 409)."""
    finding = await access.load_visible(session, principal, finding_id)
    if needs_if_match:
        check_if_match(if_match, finding.id, finding.version)
    facts = (await access.facts_for(session, [finding]))[finding.id]
    office_name = await session.scalar(select(Organisation.name).where(
        Organisation.id == finding.rectification_office_id))
    ctx, roles = access.context_for(principal, finding, facts, office_name or "the rectification office")
    check(FINDING_WORKFLOW, action, finding.status, roles, dataclasses.replace(ctx, **(assume or {})), comment)
    return Step(finding, ctx, roles, facts, finding.version if needs_if_match else None)


async def apply(session: AsyncSession, principal: Principal, step: Step, action: str, comment: str | None, *,
                extra: dict[str, Any] | None = None, payload: dict[str, Any] | None = None) -> Finding:
    finding = step.finding
    return await apply_transition(
        session, table=FINDING_WORKFLOW, model=Finding, record_id=finding.id, action=action, principal=principal,
        caller_roles=step.roles, expected_version=step.expected_version, comment=comment, ctx=step.ctx,
        organisation_id=access.audit_organisation(finding),
        acting_organisation_id=access.acting_organisation(principal, finding, action), extra_values=extra,
        payload=payload)


async def check_organisations(session: AsyncSession, errors: FieldErrors, jurisdiction_id: uuid.UUID,
                              refs: list[tuple[str, uuid.UUID]]) -> None:
    """Each (pointer, id) must be an active organisation of the finding's province (422 otherwise).

    They need not lie in the caller's scope: an office names any department as responsible."""
    orgs = await active_organisations(session, [org_id for _, org_id in refs])
    for pointer, org_id in refs:
        org = orgs.get(org_id)
        if org is None:
            errors.add(pointer, "unknown_organisation", "not an active organisation")
        elif org.jurisdiction_id != jurisdiction_id:
            errors.add(pointer, "other_province", "not an organisation of the finding's province")


async def is_within(session: AsyncSession, organisation_id: uuid.UUID, root_id: uuid.UUID) -> bool:
    """`organisation_id` is `root_id` or below it (a 责任部门 inside the responsible organisation)."""
    found = await session.scalar(select(OrganisationClosure.depth).where(
        OrganisationClosure.ancestor_id == root_id, OrganisationClosure.descendant_id == organisation_id))
    return found is not None


async def check_unit(session: AsyncSession, errors: FieldErrors, pointer: str, unit_id: uuid.UUID | None,
                     responsible_id: uuid.UUID | None) -> None:
    if unit_id is None:
        return
    if responsible_id is None:
        errors.add(pointer, "not_assigned", "the finding has no responsible organisation yet")
    elif not await is_within(session, unit_id, responsible_id):
        errors.add(pointer, "outside_responsible_organisation",
                   "not the responsible organisation or a unit below it")
