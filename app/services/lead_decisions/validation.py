"""Checking the organisations, items, scope tests and proposals a body names (422 with pointers).

References that do not qualify answer "unknown organisation"/"unknown item" the same whether
they do not exist or merely lie elsewhere, so a body cannot probe another jurisdiction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope, within
from app.core.errors import FieldErrors
from app.models import DecisionLevel, LeadDecision, Organisation, ResponsibilityItem
from app.profiles import Profile
from app.profiles.schema import LeadScope
from app.schemas.lead_decisions import LeadDecisionProposal


def scope_tests(errors: FieldErrors, profile: Profile, tests: list[LeadScope]) -> list[str]:
    """The claimed tests, each one of the profile's (000 §(八), 002 §(六), 003 §(七), 004 §五)."""
    allowed = set(profile.lead_decision.scope)
    for i, test in enumerate(tests):
        if test not in allowed:
            errors.add(f"/scope_tests/{i}", "not_in_profile",
                       f"{profile.code} ({profile.lead_decision.clause}) does not use this test; "
                       f"it uses {', '.join(s.value for s in profile.lead_decision.scope)}")
    return list(dict.fromkeys(t.value for t in tests))


async def organisations(session: AsyncSession, errors: FieldErrors, ids: list[uuid.UUID], pointer: str, *,
                        jurisdiction_id: uuid.UUID, region_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Active organisations of the jurisdiction (and inside `region_id` when given), duplicates dropped."""
    stmt = select(Organisation.id).where(Organisation.id.in_(set(ids)), Organisation.is_active.is_(True),
                                         Organisation.jurisdiction_id == jurisdiction_id)
    if region_id is not None:
        stmt = stmt.where(within(Organisation.id, region_id))
    found = set((await session.scalars(stmt)).all()) if ids else set()
    where = "inside the decision's region" if region_id is not None else "in this jurisdiction"
    for i, org_id in enumerate(ids):
        if org_id not in found:
            errors.add(f"{pointer}/{i}", "unknown_organisation", f"not an active organisation {where}")
    return [org_id for org_id in dict.fromkeys(ids) if org_id in found]


async def items(session: AsyncSession, principal: Principal, errors: FieldErrors, ids: list[uuid.UUID], *,
                jurisdiction_id: uuid.UUID) -> list[ResponsibilityItem]:
    """Responsibility items of the jurisdiction the caller may read (the duty-list rule: the item's
    organisation in the caller's scope), one per lineage."""
    found: dict[uuid.UUID, ResponsibilityItem] = {}
    if ids:
        rows = await session.scalars(select(ResponsibilityItem).where(
            ResponsibilityItem.id.in_(set(ids)), ResponsibilityItem.jurisdiction_id == jurisdiction_id,
            in_scope(ResponsibilityItem.organisation_id, principal, Permission.duty_lists_read)))
        found = {item.id: item for item in rows}
    out: dict[uuid.UUID, ResponsibilityItem] = {}
    seen: set[uuid.UUID] = set()
    for i, item_id in enumerate(ids):
        item = found.get(item_id)
        if item is None:
            errors.add(f"/linked_item_ids/{i}", "unknown_item", "not a responsibility item you can read here")
        elif item_id in seen:
            continue
        elif item.lineage_id in out:
            errors.add(f"/linked_item_ids/{i}", "same_lineage", "another version of an item already linked")
        else:
            out[item.lineage_id] = item
        seen.add(item_id)
    return list(out.values())


@dataclass
class Proposal:
    lead_ids: list[uuid.UUID]
    first_lead_id: uuid.UUID | None
    cooperating_ids: list[uuid.UUID]
    task_split: list[dict[str, Any]] = field(default_factory=list)


async def proposal(session: AsyncSession, decision: LeadDecision, body: LeadDecisionProposal) -> Proposal:
    """The proposed lead, first lead, cooperating orgs and task split (提出明确牵头部门意见和任务分解意见,
    000 §(八)). Organisations: active, in the jurisdiction, and for a sub-provincial matter inside
    its region (decided at that level: 000 §(八), 002 §(六), 003 §(七), 004 §五). 422 with pointers."""
    errors = FieldErrors()
    region = decision.region_id if decision.level is DecisionLevel.sub_provincial else None
    scope = {"jurisdiction_id": decision.jurisdiction_id, "region_id": region}
    leads = await organisations(session, errors, body.lead_organisation_ids, "/lead_organisation_ids", **scope)
    cooperating = await organisations(session, errors, body.cooperating_organisation_ids,
                                      "/cooperating_organisation_ids", **scope)
    first = body.first_lead_organisation_id
    if first is None and len(set(body.lead_organisation_ids)) > 1:
        errors.add("/first_lead_organisation_id", "first_lead_required",
                   "name the first lead (第一牵头) among several leads")
    elif first is not None and first not in body.lead_organisation_ids:
        errors.add("/first_lead_organisation_id", "not_a_lead", "the first lead must be one of the leads")
    for i, org_id in enumerate(body.cooperating_organisation_ids):
        if org_id in body.lead_organisation_ids:
            errors.add(f"/cooperating_organisation_ids/{i}", "also_a_lead",
                       "an organisation is either a lead or cooperating, not both")
    named = set(body.lead_organisation_ids) | set(body.cooperating_organisation_ids)
    for i, task in enumerate(body.task_split):
        if task.organisation_id not in named:
            errors.add(f"/task_split/{i}/organisation_id", "not_in_proposal",
                       "tasks go to the proposal's lead or cooperating organisations")
    errors.raise_if_any()
    return Proposal(leads, first, [c for c in cooperating if c not in leads],
                    [{"organisation_id": str(t.organisation_id), "task": t.task} for t in body.task_split])
