"""Issuing (or proposing) escalations, and their workflow steps.

Who may do what:
- create: a member with `office`, `leader` or `leadership` AT the issuing organisation (403 for
  anyone else, and for an issuing organisation outside your memberships). Where the profile
  splits proposing from deciding for this kind (Hainan, 000 §(十二): 省生态环境厅 提请 约谈或责任追究,
  省委、省政府 decide), the issuer must be the profile's proposer in its region and the escalation
  is `proposed` to the decider resolved there (app/services/designations.py); otherwise it is
  `issued` at once (002 §(十一): 省生态环境厅 视情采取约谈、通报、移交问责; 003/004 name no rule);
- decide / reject: `leadership` AT a deciding organisation (reject needs a comment);
- reply: `leader` or `office` AT an addressed organisation, urges (督办) only.
A handover (移交问责) that becomes `issued` opens its accountability case in the same transaction
(app/services/accountability_cases/commands.py). Steps need If-Match (428/412).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import BusinessRuleViolation, FieldErrors, PermissionDenied
from app.core.etag import check_if_match
from app.models import (
    CasePath,
    Escalation,
    EscalationKind,
    EscalationParty,
    EscalationPartyRole,
    EscalationStatus,
    Organisation,
    Role,
    utcnow,
)
from app.profiles import Profile, get_profile
from app.schemas.escalations import EscalationCreate, EscalationRead, EscalationReply
from app.services import audit
from app.services.accountability_cases import commands as cases
from app.services.designations import region_of, resolve
from app.services.escalations import access, links
from app.services.escalations.queries import to_read
from app.services.findings import access as findings_access
from app.services.inspections.access import active_organisations
from app.services.transitions import apply_transition
from app.workflows.engine import check
from app.workflows.escalations import ESCALATION_WORKFLOW

K, P = EscalationKind, EscalationPartyRole
ISSUERS = frozenset({Role.office, Role.leader, Role.leadership})


class NoBodyDesignated(BusinessRuleViolation):
    code, title = "no_body_designated", "No organisation fills a role the profile names"


class NotTheProposer(BusinessRuleViolation):
    code, title = "not_the_proposer", "The profile names another proposer for this kind"


def profile_of(jurisdiction: Organisation | None) -> Profile | None:
    return get_profile(jurisdiction.profile_code) if jurisdiction and jurisdiction.profile_code else None


def split_kinds(profile: Profile | None) -> frozenset[str]:
    """Kinds the profile has proposed and then decided (Hainan: summons, handover — 000 §(十二))."""
    rule = profile.escalation if profile else None
    if rule is None or rule.decider is None:
        return frozenset()
    return frozenset(m.value for m in rule.measures)


def case_path(profile: Profile | None) -> tuple[CasePath, str | None]:
    """two_stage only where the profile says so (000 §(十五)); direct otherwise: 002 §(十八) and 004 §十
    transfer directly, and 003 §(十七) names no investigation stage (Hubei's `not_stated`)."""
    if profile is None:
        return CasePath.direct, None
    rule = profile.accountability
    return (CasePath.two_stage if rule.path.value == "two_stage" else CasePath.direct), rule.clause


def _kind_fields(body: EscalationCreate, errors: FieldErrors) -> None:
    if body.kind == K.urge and body.reply_deadline is None:
        errors.add("/reply_deadline", "required", "an urge (督办) sets a reply deadline")
    if body.kind != K.urge and body.reply_deadline is not None:
        errors.add("/reply_deadline", "not_applicable", "only an urge has a reply deadline")
    if body.kind == K.urge and body.reply_deadline is not None and body.reply_deadline < today_in_zone():
        errors.add("/reply_deadline", "past_date", "the reply deadline is already past")
    if body.kind == K.summons and body.summons_form is None:
        errors.add("/summons_form", "required", "a summons (约谈) is collective or individual")
    if body.kind != K.summons and body.summons_form is not None:
        errors.add("/summons_form", "not_applicable", "only a summons has a form")
    if body.public and body.kind not in (K.summons, K.circular):
        errors.add("/public", "not_applicable", "only summonses and circulars are public or internal")
    if body.kind == K.handover and body.handover is None:
        errors.add("/handover", "required", "a handover names the body concerned")
    if body.kind != K.handover and body.handover is not None:
        errors.add("/handover", "not_applicable", "only a handover hands a case over")
    if body.kind != K.handover and not body.addressee_organisation_ids and not body.addressee_persons:
        errors.add("/addressee_organisation_ids", "required", "address at least one organisation or person")


async def _check_handover(session: AsyncSession, body: EscalationCreate, errors: FieldErrors,
                          jurisdiction_id: uuid.UUID, path: CasePath, profile: Profile | None) -> None:
    h = body.handover
    if h is None:
        return
    orgs = await active_organisations(session, [h.responsible_organisation_id,
                                                *([h.receiving_organisation_id] if h.receiving_organisation_id else [])])
    org = orgs.get(h.responsible_organisation_id)
    if org is None or org.jurisdiction_id != jurisdiction_id:
        errors.add("/handover/responsible_organisation_id", "unknown_organisation",
                   "not an active organisation of the issuer's province")
    if path == CasePath.two_stage:
        for name in ("receiving_body_kind", "receiving_organisation_id"):
            if getattr(h, name) is not None:
                errors.add(f"/handover/{name}", "not_applicable", "on the two-stage path (000 §(十五)) the "
                           "responsible body transfers the case once it has determined responsibility")
        return
    if h.receiving_body_kind is None:
        errors.add("/handover/receiving_body_kind", "required", "a direct handover names its receiving body")
    if h.receiving_organisation_id is None:
        errors.add("/handover/receiving_organisation_id", "required", "a direct handover names its receiving body")
    if h.receiving_body_kind is not None and h.receiving_organisation_id is not None:
        cases.check_receiver(errors, "/handover", profile, h.receiving_body_kind,
                             orgs.get(h.receiving_organisation_id), jurisdiction_id)


async def create(session: AsyncSession, principal: Principal, body: EscalationCreate,
                 finding_id: uuid.UUID | None = None) -> EscalationRead:
    """Issue or propose an escalation (see the module docstring). `finding_id` (from
    `/findings/{id}/escalations`) links that finding: 404 when you cannot see it. `finding_ids`,
    `report_ids` and `duty_list_ids` must be records you can read: 422 `unknown_finding`,
    `unknown_report`, `unknown_duty_list` at each one's pointer otherwise (app/services/escalations/links.py)."""
    if finding_id is not None:
        await findings_access.load_visible(session, principal, finding_id)
    if ISSUERS.isdisjoint(principal.roles_at(body.issuing_organisation_id)):
        raise PermissionDenied("Only the office, a leader or the leadership of the issuing organisation issues "
                               "an escalation.")
    issuer = await session.get(Organisation, body.issuing_organisation_id)
    if issuer is None or not issuer.is_active:
        raise PermissionDenied("The issuing organisation is not active.")
    jurisdiction = await session.get(Organisation, issuer.jurisdiction_id)
    profile = profile_of(jurisdiction)
    errors = FieldErrors()
    _kind_fields(body, errors)
    addressees = list(dict.fromkeys(body.addressee_organisation_ids))
    found = await active_organisations(session, addressees)
    for i, org_id in enumerate(body.addressee_organisation_ids):
        org = found.get(org_id)
        if org is None or org.jurisdiction_id != issuer.jurisdiction_id:
            errors.add(f"/addressee_organisation_ids/{i}", "unknown_organisation",
                       "not an active organisation of the issuer's province")
    person_orgs = await active_organisations(session, [p.organisation_id for p in body.addressee_persons
                                                       if p.organisation_id])
    for i, person in enumerate(body.addressee_persons):
        if person.organisation_id and person.organisation_id not in person_orgs:
            errors.add(f"/addressee_persons/{i}/organisation_id", "unknown_organisation", "not an active organisation")
    linked = await links.check(session, principal, body, errors, finding_id)
    path, path_clause = case_path(profile)
    await _check_handover(session, body, errors, issuer.jurisdiction_id, path, profile)
    errors.raise_if_any()

    deciders: list[Organisation] = []
    proposed = body.kind.value in split_kinds(profile)
    clause = profile.escalation.clause if profile and profile.escalation else None
    if proposed:
        rule = profile.escalation  # type: ignore[union-attr]
        region = await region_of(session, issuer.id)
        proposers = await resolve(session, region.id, rule.proposer) if region else []
        deciders = await resolve(session, region.id, rule.decider) if region else []
        if not proposers or not deciders:
            missing = rule.proposer if not proposers else rule.decider
            raise NoBodyDesignated(
                f"No organisation is designated as {profile.organisation_names.get(missing, missing.value)} "
                f"({rule.clause}) in the issuer's region; an administrator sets it under "
                "/organisations/{id}/designations.")
        if issuer.id not in {o.id for o in proposers}:
            names = "、".join(o.name for o in proposers)
            raise NotTheProposer(f"Under {rule.clause} a {body.kind.value} is proposed by {names}; it is then "
                                 "decided by " + "、".join(o.name for o in deciders) + ".")
    now = utcnow()
    handover = body.handover.model_dump(mode="json") if body.handover else None
    escalation = Escalation(
        jurisdiction_id=issuer.jurisdiction_id, kind=body.kind,
        status=EscalationStatus.proposed if proposed else EscalationStatus.issued, title=body.title,
        content=body.content, issuing_organisation_id=issuer.id,
        addressee_persons=[p.model_dump(mode="json") for p in body.addressee_persons],
        reply_deadline=body.reply_deadline, summons_form=body.summons_form, public=body.public, handover=handover,
        profile_code=profile.code if profile else None, profile_version=profile.version if profile else None,
        clause=clause, proposed_at=now if proposed else None, issued_at=None if proposed else now,
        created_by=str(principal.id))
    session.add(escalation)
    await session.flush()
    extra = [body.handover.responsible_organisation_id] if body.handover else []
    if body.handover and body.handover.receiving_organisation_id:
        extra.append(body.handover.receiving_organisation_id)
    parties = [EscalationParty(escalation_id=escalation.id, organisation_id=issuer.id, role=P.issuer),
               *(EscalationParty(escalation_id=escalation.id, organisation_id=o.id, role=P.decider, position=i)
                 for i, o in enumerate(deciders)),
               *(EscalationParty(escalation_id=escalation.id, organisation_id=o, role=P.addressee, position=i)
                 for i, o in enumerate(dict.fromkeys([*addressees, *extra])))]
    session.add_all([*parties, *linked.rows(escalation.id)])
    await session.flush()
    audit.record(session, action="escalation.create", resource_type=access.RESOURCE, resource_id=escalation.id,
                 organisation_id=issuer.id,
                 after={"kind": body.kind.value, "status": escalation.status.value, "title": body.title,
                        "addressee_organisation_ids": [str(a) for a in addressees],
                        **linked.audit(), "clause": clause})
    if escalation.status == EscalationStatus.issued and body.kind == K.handover:
        await cases.open_case(session, escalation, path, path_clause)
    return await to_read(session, principal, escalation)


async def _prepare(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID, action: str,
                   if_match: str | None, comment: str | None) -> tuple[Escalation, Any, frozenset[str],
                                                                     dict[P, list[uuid.UUID]]]:
    escalation = await access.load_visible(session, principal, escalation_id)
    check_if_match(if_match, escalation.id, escalation.version)
    parties = (await access.parties_of(session, [escalation.id]))[escalation.id]
    ctx, roles = access.context_for(principal, escalation, parties)
    check(ESCALATION_WORKFLOW, action, escalation.status, roles, ctx, comment)
    return escalation, ctx, roles, parties


def _acting(principal: Principal, orgs: list[uuid.UUID], wanted: set[Role]) -> uuid.UUID | None:
    return next((o for o in orgs if wanted & principal.roles_at(o)), None)


async def decide(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID, action: str,
                 if_match: str | None, comment: str | None) -> EscalationRead:
    """proposed → issued (`decide`) or rejected (`reject`, comment required), by the decider's leadership.
    A handover issued opens its accountability case."""
    escalation, ctx, roles, parties = await _prepare(session, principal, escalation_id, action, if_match, comment)
    now = utcnow()
    extra: dict[str, Any] = {"decided_at": now, "decided_by_name": principal.name,
                             "decision_comment": (comment or "").strip() or None}
    if action == "decide":
        extra["issued_at"] = now
    moved = await apply_transition(
        session, table=ESCALATION_WORKFLOW, model=Escalation, record_id=escalation.id, action=action,
        principal=principal, caller_roles=roles, expected_version=escalation.version, comment=comment, ctx=ctx,
        organisation_id=escalation.issuing_organisation_id,
        acting_organisation_id=_acting(principal, parties.get(P.decider, []), {Role.leadership}), extra_values=extra)
    if action == "decide" and moved.kind == K.handover:
        jurisdiction = await session.get(Organisation, moved.jurisdiction_id)
        path, clause = case_path(profile_of(jurisdiction))
        await cases.open_case(session, moved, path, clause)
    return await to_read(session, principal, moved)


async def reply(session: AsyncSession, principal: Principal, escalation_id: uuid.UUID, body: EscalationReply,
                if_match: str | None) -> EscalationRead:
    """issued → replied: an addressed organisation's leader or office answers an urge (督办). With
    `organisation_id` the caller names which addressee it answers for (422 when it is none it acts for)."""
    escalation, ctx, roles, parties = await _prepare(session, principal, escalation_id, "reply", if_match,
                                                     body.comment)
    addressees = parties.get(P.addressee, [])
    wanted = {Role.leader, Role.office}
    if body.organisation_id is not None:
        if body.organisation_id not in addressees or not wanted & principal.roles_at(body.organisation_id):
            errors = FieldErrors()
            errors.add("/organisation_id", "not_an_addressee", "not an addressed organisation you answer for")
            errors.raise_if_any()
        acting = body.organisation_id
    else:
        acting = _acting(principal, addressees, wanted)
    moved = await apply_transition(
        session, table=ESCALATION_WORKFLOW, model=Escalation, record_id=escalation.id, action="reply",
        principal=principal, caller_roles=roles, expected_version=escalation.version, comment=body.comment,
        ctx=ctx, organisation_id=escalation.issuing_organisation_id, acting_organisation_id=acting,
        extra_values={"reply": body.reply, "replied_at": utcnow(), "replying_organisation_id": acting},
        payload={"organisation_id": str(acting) if acting else None, "on_time": bool(
            escalation.reply_deadline and today_in_zone() <= escalation.reply_deadline)})
    return await to_read(session, principal, moved)

