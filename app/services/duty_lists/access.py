"""Who sees which duty-list version, and what the profile makes of a version's workflow.

Reading (`duty_lists:read`) covers the lists of organisations in the caller's scope
(DOMAIN.md: a membership covers its organisation and everything below it). One
widening, a design choice in the spirit of "recipients can read": the members
(office, leadership) of the organisation that reviews or approves lists in a
region under its profile read that region's lists once submitted (every state but
`draft`), since they cannot review what they cannot see. Henan's 省生态环境厅 thus
reads the other departments' submitted lists (002 §(五)); 省委、省政府 read what they
审定 or 批准 (002 §(五), 003 §(六)).

Which step exists and who takes it comes from the version's profile, resolved in the
version's region (the owner's nearest region: a city's lists by the city's bodies,
000 §(七) "市县参照落实", 002 §(五) "参照落实").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import NotFound
from app.models import DutyList, DutyListStatus, Organisation, Role
from app.models.duty_list import OPEN_STATUSES
from app.profiles import Profile, get_profile
from app.services import designations
from app.workflows.duty_lists import DutyListContext

READ = Permission.duty_lists_read
WRITE = Permission.duty_lists_write
RESOURCE = "duty_list"
_SIGN_OFF_ROLES = {Role.office, Role.leadership}


@dataclass(frozen=True)
class ListRules:
    """The profile's duty-list steps in one region, with the organisations that take them."""

    profile: Profile
    review_by: tuple[Organisation, ...]
    approval_by: tuple[Organisation, ...]

    @property
    def review_step(self) -> bool:
        return self.profile.duty_list.review is not None

    @property
    def approval_step(self) -> bool:
        return self.profile.duty_list.approval is not None


def not_found() -> NotFound:
    return NotFound("No such duty list.")


def profile_of(code: str) -> Profile:
    profile = get_profile(code)
    if profile is None:  # a profile removed from the release while lists still cite it: a deployment bug
        raise RuntimeError(f"duty lists cite the unknown profile {code!r}")
    return profile


async def rules_for(session: AsyncSession, profile_code: str, region_id: uuid.UUID) -> ListRules:
    """Cached per request: every version of a page in one region shares them."""
    cache: dict[tuple[str, uuid.UUID], ListRules] = session.info.setdefault("duty_list_rules", {})
    key = (profile_code, region_id)
    if key not in cache:
        profile = profile_of(profile_code)
        rules = profile.duty_list
        review = await designations.resolve(session, region_id, rules.review.organisation) if rules.review else []
        approval = (await designations.resolve(session, region_id, rules.approval.organisation)
                    if rules.approval else [])
        cache[key] = ListRules(profile, tuple(review), tuple(approval))
    return cache[key]


async def sign_off_regions(session: AsyncSession, principal: Principal) -> set[uuid.UUID]:
    """Regions whose lists the caller's organisations review or approve under the region's profile."""
    cache = session.info.get("duty_list_sign_off")
    if cache is not None and cache[0] == principal.id:
        return cache[1]
    org_ids = {g.organisation_id for g in principal.grants if g.role in _SIGN_OFF_ROLES}
    regions: set[uuid.UUID] = set()
    for region_id, key in await designations.keys_held(session, org_ids):
        region = await session.get(Organisation, region_id)
        root = await session.get(Organisation, region.jurisdiction_id) if region else None
        profile = get_profile(root.profile_code) if root and root.profile_code else None
        if profile is None:
            continue
        steps = [s for s in (profile.duty_list.review, profile.duty_list.approval) if s is not None]
        if any(designations.KEY_OF_ROLE.get(step.organisation) == key for step in steps):
            regions.add(region_id)
    session.info["duty_list_sign_off"] = (principal.id, regions)
    return regions


async def visible(session: AsyncSession, principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: versions the caller may read."""
    regions = await sign_off_regions(session, principal)
    widened = (and_(DutyList.region_id.in_(regions), DutyList.status != DutyListStatus.draft)
               if regions else false())
    return or_(in_scope(DutyList.organisation_id, principal, READ), widened)


async def load_visible(session: AsyncSession, principal: Principal, list_id: uuid.UUID) -> DutyList:
    """The version if the caller may read it; 404 otherwise (existence does not leak)."""
    found = await session.scalar(select(DutyList).where(DutyList.id == list_id, await visible(session, principal)))
    if found is None:
        raise not_found()
    return found


async def has_open_revision(session: AsyncSession, dl: DutyList) -> bool:
    """Another version of the same list is being worked on (draft … approved)."""
    found = await session.scalar(select(DutyList.id).where(
        DutyList.organisation_id == dl.organisation_id, DutyList.id != dl.id,
        DutyList.status.in_(OPEN_STATUSES)).limit(1))
    return found is not None


def _roles_at(principal: Principal, orgs: tuple[Organisation, ...]) -> frozenset[str]:
    roles: set[str] = set()
    for org in orgs:
        roles |= {r.value for r in principal.roles_at(org.id)}
    return frozenset(roles)


async def context_for(session: AsyncSession, principal: Principal, dl: DutyList,
                      rules: ListRules) -> tuple[DutyListContext, frozenset[str]]:
    """The guards' context for this caller and version, and the roles that count for it."""
    ctx = DutyListContext(
        review_step=rules.review_step, approval_step=rules.approval_step,
        roles_at_owner=frozenset(r.value for r in principal.roles_at(dl.organisation_id)),
        roles_at_reviewer=_roles_at(principal, rules.review_by),
        roles_at_approver=_roles_at(principal, rules.approval_by),
        open_revision=dl.status == DutyListStatus.published and await has_open_revision(session, dl),
        reviewer_name=designations.names(list(rules.review_by), "the reviewing organisation (none designated)"),
        approver_name=designations.names(list(rules.approval_by), "the approving organisation (none designated)"))
    return ctx, ctx.roles_at_owner | ctx.roles_at_reviewer | ctx.roles_at_approver
