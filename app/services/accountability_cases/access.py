"""Who reads an accountability case, and what the workflow guards know.

Reading (`cases:read`): members whose scope covers one of the case's parties — the organisation
that handed it over, the responsible body, and once transferred the receiving body. Nothing else
widens scope (DOMAIN.md "a discipline body can read the cases transferred to it"): a discipline
member sees the cases transferred to its body, not the others. 404 otherwise.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import NotFound
from app.models import AccountabilityCase, CaseParty
from app.workflows.accountability_cases import CaseContext

READ = Permission.cases_read
WRITE = Permission.cases_write
RESOURCE = "accountability_case"


def not_found() -> NotFound:
    return NotFound("No such accountability case.")


def visible(principal: Principal) -> ColumnElement[bool]:
    return exists().where(CaseParty.case_id == AccountabilityCase.id,
                          in_scope(CaseParty.organisation_id, principal, READ))


async def load_visible(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> AccountabilityCase:
    found = await session.scalar(select(AccountabilityCase).where(AccountabilityCase.id == case_id,
                                                                  visible(principal))
                                 .execution_options(populate_existing=True))
    if found is None:
        raise not_found()
    return found


def _roles(principal: Principal, org_id: uuid.UUID | None) -> frozenset[str]:
    return frozenset(r.value for r in principal.roles_at(org_id)) if org_id else frozenset()


def context_for(principal: Principal, case: AccountabilityCase) -> tuple[CaseContext, frozenset[str]]:
    ctx = CaseContext(roles_at_responsible=_roles(principal, case.responsible_organisation_id),
                      roles_at_receiving=_roles(principal, case.receiving_organisation_id))
    return ctx, ctx.roles_at_responsible | ctx.roles_at_receiving
