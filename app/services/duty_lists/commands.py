"""Changing duty-list versions: start a list, edit its title, take workflow steps, revise.

Who may do what:
- starting a list and editing a version: staff of the owning organisation (DOMAIN.md roles:
  "staff drafts lists, items"), while the version is `draft` or `returned`;
- every workflow step: the roles the transition table names, at the organisation the
  profile names (`app.workflows.duty_lists`); the caller must first be able to read the
  version (404 otherwise);
- every write needs If-Match with the version's ETag (428 without, 412 when stale).

Publishing a revision supersedes the version published before it in the same
transaction, oldest first so the one-published-version index never sees two.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.scoping import in_scope
from app.core.calendar import today_in_zone
from app.core.errors import BusinessRuleViolation, Conflict, PermissionDenied, ValidationFailed
from app.core.etag import check_if_match
from app.models import (
    DutyList,
    DutyListStatus,
    Organisation,
    OrganisationKind,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
    Role,
    TransitionHistory,
    new_id,
    utcnow,
)
from app.models.duty_list import EDITABLE_STATUSES
from app.profiles import get_profile
from app.schemas.duty_lists import DutyListCreate, DutyListPublish, DutyListRead, DutyListUpdate
from app.services import audit, designations, events
from app.services.duty_lists import access
from app.services.duty_lists.queries import to_read
from app.services.transitions import apply_transition
from app.workflows.duty_lists import DUTY_LIST_WORKFLOW
from app.workflows.engine import check

# Kinds that carry duties of their own; regions group, units belong to a department's list,
# enterprises are inspected, national bodies publish under their own rules.
LIST_OWNER_KINDS = frozenset(OrganisationKind) - {OrganisationKind.region, OrganisationKind.internal_unit,
                                                   OrganisationKind.enterprise, OrganisationKind.national_body}


class DutyListExists(Conflict):
    code, title = "duty_list_exists", "The organisation already has a duty list"


class DutyListNotEditable(Conflict):
    code, title = "duty_list_not_editable", "The list version is not editable"


class NoBodyDesignated(BusinessRuleViolation):
    code, title = "no_body_designated", "No organisation is designated for a step the profile needs"


def _field_error(pointer: str, type_: str, message: str) -> ValidationFailed:
    return ValidationFailed("One or more fields are invalid; see errors.", errors=[
        {"pointer": pointer, "source": "body", "type": type_, "message": message}])


def require_staff(principal: Principal, dl: DutyList) -> None:
    if Role.staff not in principal.roles_at(dl.organisation_id):
        raise PermissionDenied("Only staff of the list's own organisation edit it.")


def require_editable(dl: DutyList) -> None:
    if dl.status.value not in EDITABLE_STATUSES:
        raise DutyListNotEditable(f"This version is {dl.status.value}: only a draft or returned version is "
                                  "edited (revise a published list to change it).")


async def create_duty_list(session: AsyncSession, principal: Principal, body: DutyListCreate) -> DutyListRead:
    """Staff of the organisation start its first list (version 1, draft).

    403 without a staff membership at that organisation; 422 for an inactive organisation, one
    of a kind that keeps no list, or one whose province has no profile;
    409 `duty_list_exists` when it has one already (revise it instead)."""
    # Only staff of that very organisation may start its list: checked first, so the answer for an
    # organisation the caller has no staff membership at is the same 403 whether it exists or not.
    if Role.staff not in principal.roles_at(body.organisation_id):
        raise PermissionDenied("Only staff of the organisation start its duty list.")
    org = await session.scalar(select(Organisation).where(
        Organisation.id == body.organisation_id, in_scope(Organisation.id, principal, access.READ)))
    if org is None:
        raise _field_error("/organisation_id", "unknown_organisation", "unknown organisation")
    if not org.is_active:
        raise _field_error("/organisation_id", "inactive_organisation", "the organisation is deactivated")
    if org.kind not in LIST_OWNER_KINDS:
        raise _field_error("/organisation_id", "no_duty_list", f"a {org.kind.value} keeps no duty list")
    root = await session.get(Organisation, org.jurisdiction_id)
    profile = get_profile(root.profile_code) if root and root.profile_code else None
    region = await designations.region_of(session, org.id)
    if profile is None or region is None:
        raise _field_error("/organisation_id", "no_profile", "the organisation's province has no profile")
    if await session.scalar(select(DutyList.id).where(DutyList.organisation_id == org.id).limit(1)):
        raise DutyListExists("This organisation already has a duty list; revise its published version.")
    dl = DutyList(organisation_id=org.id, jurisdiction_id=org.jurisdiction_id, region_id=region.id, version_no=1,
                  status=DutyListStatus.draft, title=body.title, note=body.note, profile_code=profile.code,
                  profile_version=profile.version, created_by=str(principal.id))
    try:
        async with session.begin_nested():
            session.add(dl)
            await session.flush()
    except IntegrityError:  # a concurrent create won the (organisation_id, version_no) race
        raise DutyListExists("This organisation already has a duty list; revise its published version.") from None
    audit.record(session, action="duty_list.create", resource_type=access.RESOURCE, resource_id=dl.id,
                 organisation_id=org.id, after={"status": "draft", "version_no": 1, "title": dl.title})
    return await to_read(session, principal, dl)


async def update_duty_list(session: AsyncSession, principal: Principal, list_id: uuid.UUID,
                           body: DutyListUpdate, if_match: str | None) -> DutyListRead:
    """Staff of the owner rename it or change its note while draft/returned (403/409 otherwise)."""
    dl = await access.load_visible(session, principal, list_id)
    check_if_match(if_match, dl.id, dl.version)
    require_staff(principal, dl)
    require_editable(dl)
    changes = body.model_dump(exclude_unset=True)
    if "title" in changes and changes["title"] is None:
        raise _field_error("/title", "required", "a list needs a title")
    before = {k: getattr(dl, k) for k in changes}
    result = await session.execute(update(DutyList).where(DutyList.id == dl.id, DutyList.version == dl.version)
                                   .values(version=DutyList.version + 1, updated_at=utcnow(), **changes)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("The list changed meanwhile; reload it and try again.")
    await session.refresh(dl)
    audit.record(session, action="duty_list.update", resource_type=access.RESOURCE, resource_id=dl.id,
                 organisation_id=dl.organisation_id, before=before, after=changes)
    return await to_read(session, principal, dl)


async def take_action(session: AsyncSession, principal: Principal, list_id: uuid.UUID, action: str,
                      if_match: str | None, comment: str | None, *, extra: dict[str, Any] | None = None,
                      payload: dict[str, Any] | None = None) -> DutyList:
    """The generic step for one version, with the profile's context; returns the moved row."""
    dl = await access.load_visible(session, principal, list_id)
    check_if_match(if_match, dl.id, dl.version)
    rules = await access.rules_for(session, dl.profile_code, dl.region_id)
    ctx, roles = await access.context_for(session, principal, dl, rules)
    # The organisation the caller acts for: the owner, else the reviewer or approver it belongs to.
    candidates = [dl.organisation_id, *(o.id for o in rules.review_by), *(o.id for o in rules.approval_by)]
    acting = next((org_id for org_id in candidates if principal.roles_at(org_id)), None)
    return await apply_transition(
        session, table=DUTY_LIST_WORKFLOW, model=DutyList, record_id=dl.id, action=action, principal=principal,
        caller_roles=roles, expected_version=dl.version, comment=comment, ctx=ctx,
        organisation_id=dl.organisation_id, acting_organisation_id=acting, extra_values=extra, payload=payload)


async def submit(session: AsyncSession, principal: Principal, list_id: uuid.UUID, if_match: str | None,
                 comment: str | None) -> DutyListRead:
    """The owner's leader submits for review/approval (Henan 002 §(五), Hubei 003 §(六)).

    422 `no_body_designated` when the profile's reviewer or approver has no organisation in the region."""
    dl = await access.load_visible(session, principal, list_id)
    rules = await access.rules_for(session, dl.profile_code, dl.region_id)
    for needed, orgs, what in ((rules.review_step, rules.review_by, "review (审核)"),
                               (rules.approval_step, rules.approval_by, "approval (审定/批准)")):
        if needed and not orgs and Role.leader in principal.roles_at(dl.organisation_id):
            raise NoBodyDesignated(f"The profile needs {what}, but no organisation is designated for it in this "
                                   "region; an admin sets it under /organisations/{region}/designations.")
    moved = await take_action(session, principal, list_id, "submit", if_match, comment,
                              extra={"submitted_at": utcnow()})
    return await to_read(session, principal, moved)


async def simple_step(session: AsyncSession, principal: Principal, list_id: uuid.UUID, action: str,
                      if_match: str | None, comment: str | None) -> DutyListRead:
    """review, approve, return: the table and the profile decide."""
    moved = await take_action(session, principal, list_id, action, if_match, comment)
    return await to_read(session, principal, moved)


async def publish(session: AsyncSession, principal: Principal, list_id: uuid.UUID, body: DutyListPublish,
                  if_match: str | None) -> DutyListRead:
    """The owner's leader publishes (from draft where no approval is needed, else from approved),
    recording the day and the portal address (000 §(七) deadline). A published predecessor is
    superseded in the same transaction. 422 for a date in the future."""
    dl = await access.load_visible(session, principal, list_id)
    profile = access.profile_of(dl.profile_code)
    today = today_in_zone(profile.timezone)
    published_on = body.published_on or today
    if published_on > today:
        raise _field_error("/published_on", "future_date", "a list cannot have been published in the future")
    previous = await session.scalar(select(DutyList).where(
        DutyList.organisation_id == dl.organisation_id, DutyList.status == DutyListStatus.published,
        DutyList.id != dl.id))
    if previous is not None:
        # Checked first, so a refused publish does not touch the predecessor (the request rolls back anyway).
        rules = await access.rules_for(session, dl.profile_code, dl.region_id)
        ctx, roles = await access.context_for(session, principal, dl, rules)
        check(DUTY_LIST_WORKFLOW, "publish", dl.status, roles, ctx, body.comment)
        await _supersede(session, principal, previous, dl)
    moved = await take_action(session, principal, list_id, "publish", if_match, body.comment,
                              extra={"published_on": published_on, "published_at": utcnow(),
                                     "portal_url": body.portal_url},
                              payload={"portal_url": body.portal_url, "published_on": published_on.isoformat()})
    await events.emit(session, "duty_list.published", ("duty_list", moved.id), moved.organisation_id,
                      {"version_no": moved.version_no, "published_on": published_on, "title": moved.title})
    return await to_read(session, principal, moved)


async def _supersede(session: AsyncSession, principal: Principal, old: DutyList, new: DutyList) -> None:
    """The previously published version steps back as the revision is published (no route of its own)."""
    result = await session.execute(
        update(DutyList).where(DutyList.id == old.id, DutyList.status == DutyListStatus.published)
        .values(status=DutyListStatus.superseded, superseded_at=utcnow(), version=DutyList.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("The published version changed meanwhile; reload and try again.")
    actor = principal.actor
    session.add(TransitionHistory(resource_type=access.RESOURCE, resource_id=old.id, action="supersede",
                                  from_status="published", to_status="superseded", actor_id=actor.id,
                                  actor_name=actor.name, payload={"superseded_by": str(new.id),
                                                                  "version_no": new.version_no},
                                  occurred_at=utcnow()))
    audit.record(session, action="duty_list.supersede", resource_type=access.RESOURCE, resource_id=old.id,
                 organisation_id=old.organisation_id, before={"status": "published"},
                 after={"status": "superseded", "superseded_by": str(new.id)})
    await session.flush()


async def retire(session: AsyncSession, principal: Principal, list_id: uuid.UUID, if_match: str | None,
                 comment: str | None) -> DutyListRead:
    """The owner's leader withdraws the published list (409 while a revision is open)."""
    moved = await take_action(session, principal, list_id, "retire", if_match, comment,
                              extra={"retired_at": utcnow()})
    return await to_read(session, principal, moved)


async def revise(session: AsyncSession, principal: Principal, list_id: uuid.UUID, if_match: str | None,
                 comment: str | None) -> DutyListRead:
    """Staff of the owner open a new draft version of the published list, its items copied
    (same lineage). The published version stays public until the revision is published.
    409 while another revision is open; a concurrent second revise loses on the open-version index."""
    published = await access.load_visible(session, principal, list_id)
    new_id_ = new_id()
    await take_action(session, principal, list_id, "revise", if_match, comment,
                      payload={"revision_id": str(new_id_)})
    revision = await open_revision(session, published, new_id_, created_by=str(principal.id))
    return await to_read(session, principal, revision)


async def open_revision(session: AsyncSession, published: DutyList, revision_id: uuid.UUID | None = None, *,
                        created_by: str | None) -> DutyList:
    """A new draft version copying every item of `published` (also used by lead decisions)."""
    version_no = (await session.scalar(select(func.max(DutyList.version_no))
                                       .where(DutyList.organisation_id == published.organisation_id)) or 0) + 1
    revision = DutyList(id=revision_id or new_id(), organisation_id=published.organisation_id,
                        jurisdiction_id=published.jurisdiction_id, region_id=published.region_id,
                        version_no=version_no, previous_version_id=published.id, status=DutyListStatus.draft,
                        title=published.title, note=published.note, profile_code=published.profile_code,
                        profile_version=published.profile_version, created_by=created_by)
    try:
        async with session.begin_nested():
            session.add(revision)
            await session.flush()
    except IntegrityError:  # the one-open-version index: someone else opened a revision first
        raise Conflict("A revision of this list is already being worked on; continue that one.") from None
    await _copy_items(session, published.id, revision.id)
    audit.record(session, action="duty_list.create", resource_type=access.RESOURCE, resource_id=revision.id,
                 organisation_id=revision.organisation_id,
                 after={"status": "draft", "version_no": version_no, "revision_of": str(published.id)})
    return revision


async def _copy_items(session: AsyncSession, from_list: uuid.UUID, to_list: uuid.UUID) -> None:
    items = (await session.scalars(select(ResponsibilityItem).where(ResponsibilityItem.duty_list_id == from_list)
                                   .order_by(ResponsibilityItem.position, ResponsibilityItem.id))).all()
    id_map = {}
    for item in items:
        copy = ResponsibilityItem(
            id=new_id(), duty_list_id=to_list, organisation_id=item.organisation_id,
            jurisdiction_id=item.jurisdiction_id, lineage_id=item.lineage_id, position=item.position, code=item.code,
            title=item.title, description=item.description, domain=item.domain, basis=item.basis,
            first_lead_organisation_id=item.first_lead_organisation_id, decomposition=item.decomposition,
            complaint_channels=item.complaint_channels, lead_decision_id=item.lead_decision_id)
        id_map[item.id] = copy.id
        session.add(copy)
    await session.flush()
    if id_map:
        rows = (await session.scalars(select(ResponsibilityItemOrganisation)
                                      .where(ResponsibilityItemOrganisation.item_id.in_(id_map)))).all()
        if rows:
            await session.execute(insert(ResponsibilityItemOrganisation), [
                {"item_id": id_map[r.item_id], "organisation_id": r.organisation_id, "relation": r.relation,
                 "position": r.position} for r in rows])
