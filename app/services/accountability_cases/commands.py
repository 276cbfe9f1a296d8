"""Opening accountability cases from handovers, and their workflow steps.

- open_case: called by the escalation service in the handover's transaction once it is issued.
  Two-stage path (000 §(十五)): `investigating` at the responsible 党委政府/省直部门. Direct path
  (002 §(十八) 依权限按程序移送, 004 §十 及时移交; Hubei, 003 §(十七) naming no stage): `transferred` to the
  receiving body the handover named.
- transfer / conclude_internally: the responsible body's leader, with the investigation (原因、经过、
  后果、影响、整改, 界定责任 — 000 §(十五)); the receiver must be a body of the kind named (纪检监察 or
  组织(人事): the profile's receivers; 公安 or 检察 for suspected crimes, 000 §(十八), 003 §(十八)).
- accept / conclude: the receiving body's discipline members or office.
Every step needs If-Match (428/412); 403 wrong person, 409 wrong state.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors
from app.core.etag import check_if_match
from app.models import (
    AccountabilityCase,
    CaseParty,
    CasePartyRole,
    CasePath,
    CaseStatus,
    Escalation,
    Organisation,
    OrganisationKind,
    ReceivingBodyKind,
    Role,
    utcnow,
)
from app.profiles import Profile, get_profile
from app.schemas.accountability_cases import CaseConclude, CaseConcludeInternally, CaseRead, CaseTransfer
from app.services import audit
from app.services.accountability_cases import access
from app.services.accountability_cases.queries import to_read
from app.services.inspections.access import active_organisations
from app.services.transitions import apply_transition
from app.workflows.accountability_cases import CASE_WORKFLOW
from app.workflows.engine import check

R = ReceivingBodyKind
# The profile's receivers (`accountability.receivers`) name these kinds; the judicial organs take
# suspected crimes everywhere (000 §(十八), 003 §(十八): 涉嫌犯罪案件及时移送).
_KIND_OF_RECEIVER = {"discipline_body": R.discipline, "organisation_department": R.organisation_department}
_ALWAYS = (R.public_security, R.procuratorate)
_ORG_KIND = {R.discipline: OrganisationKind.discipline_body, R.organisation_department: OrganisationKind.discipline_body,
             R.public_security: OrganisationKind.judicial_body, R.procuratorate: OrganisationKind.judicial_body}


def receiver_kinds(profile: Profile | None) -> set[ReceivingBodyKind]:
    named = {_KIND_OF_RECEIVER[r.value] for r in profile.accountability.receivers
             if r.value in _KIND_OF_RECEIVER} if profile else set(_KIND_OF_RECEIVER.values())
    return named | set(_ALWAYS)


def check_receiver(errors: FieldErrors, prefix: str, profile: Profile | None, kind: ReceivingBodyKind,
                   org: Organisation | None, jurisdiction_id: uuid.UUID) -> None:
    """422 unless `kind` is a receiver the profile allows and `org` an active body of that kind in the province."""
    if kind not in receiver_kinds(profile):
        errors.add(f"{prefix}/receiving_body_kind", "not_a_receiver",
                   f"the profile does not transfer cases to a {kind.value} body")
    if org is None or org.jurisdiction_id != jurisdiction_id:
        errors.add(f"{prefix}/receiving_organisation_id", "unknown_organisation",
                   "not an active organisation of the province")
    elif org.kind != _ORG_KIND[kind]:
        errors.add(f"{prefix}/receiving_organisation_id", "wrong_kind",
                   f"a {kind.value} receiver is an organisation of kind {_ORG_KIND[kind].value}")


async def open_case(session: AsyncSession, escalation: Escalation, path: CasePath, clause: str | None
                    ) -> AccountabilityCase:
    """The case of an issued handover, in the caller's transaction (one per handover: unique escalation_id)."""
    h: dict[str, Any] = escalation.handover or {}
    direct = path == CasePath.direct
    receiving = uuid.UUID(h["receiving_organisation_id"]) if direct and h.get("receiving_organisation_id") else None
    case = AccountabilityCase(
        jurisdiction_id=escalation.jurisdiction_id, escalation_id=escalation.id,
        status=CaseStatus.transferred if direct else CaseStatus.investigating, path=path, clause=clause,
        title=escalation.title, handing_over_organisation_id=escalation.issuing_organisation_id,
        responsible_organisation_id=uuid.UUID(h["responsible_organisation_id"]),
        receiving_body_kind=R(h["receiving_body_kind"]) if direct and h.get("receiving_body_kind") else None,
        receiving_organisation_id=receiving, persons_concerned=h.get("persons_concerned") or [],
        transferred_at=utcnow() if direct else None)
    session.add(case)
    await session.flush()
    parties = {(escalation.issuing_organisation_id, CasePartyRole.handing_over),
               (case.responsible_organisation_id, CasePartyRole.responsible)}
    if receiving:
        parties.add((receiving, CasePartyRole.receiving))
    session.add_all([CaseParty(case_id=case.id, organisation_id=o, role=r) for o, r in parties])
    await session.flush()
    audit.record(session, action="accountability_case.create", resource_type=access.RESOURCE, resource_id=case.id,
                 organisation_id=case.responsible_organisation_id,
                 after={"escalation_id": escalation.id, "status": case.status.value, "path": path.value,
                        "receiving_organisation_id": receiving})
    return case


async def _prepare(session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: str,
                   if_match: str | None, comment: str | None) -> tuple[AccountabilityCase, Any, frozenset[str]]:
    case = await access.load_visible(session, principal, case_id)
    check_if_match(if_match, case.id, case.version)
    ctx, roles = access.context_for(principal, case)
    check(CASE_WORKFLOW, action, case.status, roles, ctx, comment)
    return case, ctx, roles


async def _apply(session: AsyncSession, principal: Principal, case: AccountabilityCase, action: str, ctx: Any,
                 roles: frozenset[str], comment: str | None, acting: uuid.UUID | None, extra: dict[str, Any],
                 payload: dict[str, Any] | None = None) -> AccountabilityCase:
    return await apply_transition(
        session, table=CASE_WORKFLOW, model=AccountabilityCase, record_id=case.id, action=action,
        principal=principal, caller_roles=roles, expected_version=case.version, comment=comment, ctx=ctx,
        organisation_id=case.responsible_organisation_id, acting_organisation_id=acting, extra_values=extra,
        payload=payload)


def _investigation(body: CaseTransfer | CaseConcludeInternally) -> dict[str, Any]:
    return {k: getattr(body, k) for k in ("cause", "course", "consequences", "impact", "rectification",
                                          "responsibility_determination")}


async def transfer(session: AsyncSession, principal: Principal, case_id: uuid.UUID, body: CaseTransfer,
                   if_match: str | None) -> CaseRead:
    """investigating → transferred, by the responsible body's leader, responsibility determined (000 §(十五)).
    422 for a receiver the profile does not name or an organisation of the wrong kind."""
    case, ctx, roles = await _prepare(session, principal, case_id, "transfer", if_match, body.comment)
    errors = FieldErrors()
    jurisdiction = await session.get(Organisation, case.jurisdiction_id)
    profile = get_profile(jurisdiction.profile_code) if jurisdiction and jurisdiction.profile_code else None
    org = (await active_organisations(session, [body.receiving_organisation_id])).get(body.receiving_organisation_id)
    check_receiver(errors, "", profile, body.receiving_body_kind, org, case.jurisdiction_id)
    errors.raise_if_any()
    moved = await _apply(session, principal, case, "transfer", ctx, roles, body.comment,
                         case.responsible_organisation_id,
                         {**_investigation(body), "receiving_body_kind": body.receiving_body_kind,
                          "receiving_organisation_id": body.receiving_organisation_id, "transferred_at": utcnow()},
                         {"receiving_body_kind": body.receiving_body_kind.value,
                          "receiving_organisation_id": str(body.receiving_organisation_id)})
    session.add(CaseParty(case_id=moved.id, organisation_id=body.receiving_organisation_id,
                          role=CasePartyRole.receiving))
    await session.flush()
    return await to_read(session, principal, moved)


async def conclude_internally(session: AsyncSession, principal: Principal, case_id: uuid.UUID,
                              body: CaseConcludeInternally, if_match: str | None) -> CaseRead:
    """investigating → concluded by the responsible body itself: 批评教育、提醒谈话 or 组织处理."""
    case, ctx, roles = await _prepare(session, principal, case_id, "conclude_internally", if_match, body.comment)
    moved = await _apply(session, principal, case, "conclude_internally", ctx, roles, body.comment,
                         case.responsible_organisation_id,
                         {**_investigation(body), "internal_measure": body.measure, "concluded_at": utcnow()},
                         {"measure": body.measure.value})
    return await to_read(session, principal, moved)


def _receiving_acting(principal: Principal, case: AccountabilityCase) -> uuid.UUID | None:
    org = case.receiving_organisation_id
    return org if org and {Role.discipline, Role.office} & principal.roles_at(org) else None


async def accept(session: AsyncSession, principal: Principal, case_id: uuid.UUID, if_match: str | None,
                 comment: str | None) -> CaseRead:
    """transferred → accepted, by the receiving body (按照干部管理权限受理, 002 §(十八), 004 §十)."""
    case, ctx, roles = await _prepare(session, principal, case_id, "accept", if_match, comment)
    moved = await _apply(session, principal, case, "accept", ctx, roles, comment, _receiving_acting(principal, case),
                         {"accepted_at": utcnow()})
    return await to_read(session, principal, moved)


async def conclude(session: AsyncSession, principal: Principal, case_id: uuid.UUID, body: CaseConclude,
                   if_match: str | None) -> CaseRead:
    """accepted → concluded, by the receiving body, with the outcome (问责结果)."""
    case, ctx, roles = await _prepare(session, principal, case_id, "conclude", if_match, body.comment)
    moved = await _apply(session, principal, case, "conclude", ctx, roles, body.comment,
                         _receiving_acting(principal, case), {"outcome": body.outcome, "concluded_at": utcnow()})
    return await to_read(session, principal, moved)
