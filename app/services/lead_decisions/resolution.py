"""Which level decides a matter, and which organisations convene and decide it.

The decision's region is the nearest administrative region above the raising organisation.
At the jurisdiction root the matter is provincial (属于省级事项): the profile's convenor and
decider, e.g. 督察领导小组办公室 → 省委、省政府 审定 (000 §(八)), 省生态环境厅 → 省委、省政府 审定
(002 §(六)), the 环委会 deciding itself (003 §(七)), 省生态环境厅 → the profile's decider (004 §五).
Below the root it is decided at that level (属于省级以下事项): the profile's sub-provincial body
both convenes and decides (000 §(八) "由市县研究明确", 002 §(六), 003 §(七), 004 §五).

The organisations are resolved once, when the decision is opened, and kept as party rows:
a later change of designations never rewrites who convened or decided a matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DecisionLevel, Organisation
from app.profiles import Profile, get_profile
from app.profiles.schema import Actor
from app.services.designations import region_of, resolve
from app.services.lead_decisions.errors import NoBodyDesignated, NoProfile, NoRegion


@dataclass(frozen=True)
class Bodies:
    jurisdiction: Organisation
    region: Organisation
    level: DecisionLevel
    profile: Profile
    convenors: list[Organisation]
    deciders: list[Organisation]
    convenor_decides: bool


async def _resolve_actor(session: AsyncSession, profile: Profile, region: Organisation, actor: Actor,
                         what: str) -> list[Organisation]:
    found = await resolve(session, region.id, actor.organisation)
    if not found:
        label = profile.organisation_names.get(actor.organisation, actor.organisation.value)
        raise NoBodyDesignated(
            f"No organisation is designated as the {what} ({label}, {actor.clause}) in {region.name}; "
            f"an administrator of the region sets it under /organisations/{{id}}/designations.",
            role=actor.organisation.value, region_name=region.name, clause=actor.clause)
    return found


async def resolve_bodies(session: AsyncSession, organisation: Organisation) -> Bodies:
    """The level, region, convenor and decider of a matter raised by `organisation`.

    422 `no_jurisdiction_profile` when its root has no profile, `no_region` outside any region,
    `no_body_designated` (naming the role and the region) when nobody fills a role."""
    jurisdiction = await session.get(Organisation, organisation.jurisdiction_id)
    profile = get_profile(jurisdiction.profile_code) if jurisdiction and jurisdiction.profile_code else None
    if jurisdiction is None or profile is None:
        raise NoProfile("The organisation's jurisdiction has no profile: nobody is named to convene or decide.")
    region = await region_of(session, organisation.id)
    if region is None:
        raise NoRegion("The organisation lies in no administrative region, so no level can decide the matter.")
    rules = profile.lead_decision
    if region.id == jurisdiction.id:
        convenors = await _resolve_actor(session, profile, region, rules.convenor, "convenor")
        same = rules.decider.organisation == rules.convenor.organisation
        deciders = convenors if same else await _resolve_actor(session, profile, region, rules.decider, "decider")
        return Bodies(jurisdiction, region, DecisionLevel.provincial, profile, convenors, deciders,
                      rules.convenor_decides)
    # Sub-provincial: the level's own body convenes and decides, with no provincial approval.
    bodies = await _resolve_actor(session, profile, region, rules.sub_provincial, "sub-provincial decider")
    return Bodies(jurisdiction, region, DecisionLevel.sub_provincial, profile, bodies, bodies, True)


