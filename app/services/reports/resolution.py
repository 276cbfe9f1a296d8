"""Who files, who receives and who gets copies: a profile's symbols resolved against one province.

Filers (`Subject`, design choices where the texts only name groups):
- `major_duty_departments`: the province's own departments flagged `major_duty` (admins flag the
  profile's list, which ends in 等: 000 §(七), 002 §(五), 003 §(十一), 004 §六). A listed department
  whose duties the profile assigns to another (002 closing line: 省能源局 → 省发展改革委) files
  nothing of its own; the assignee's obligation `covers` it.
- `provincial_departments` (省直部门): every department of the province itself.
- `functional_departments_all_levels`: every department at any level; `local_departments`: those
  below the province.
- `…party_committees_and_governments`: one joint filer per region of those levels — its 党委 and
  政府 (the region's designation, by default its party_committee and government children). The
  government is the principal filer; both act for it. Hubei's 各级 is province, city and county.

Recipients and copies (`OrgRole`): `same_level_*` resolve in the filer's own region (the nearest
region above it), other designated roles in the province. `vice_governor_in_charge` is a person:
a `leadership` member of the provincial government, which is recorded as the recipient
organisation. `superior_department` and `national_competent_department` are the filer's
`superior_department_id` (departments only; the latter only when it is a national body).
`corresponding_coordination_office` (000 §(十) 相应的省级议事协调机构的办事机构) is the office of
each provincial coordination body the filer is a member unit of; a filer that is a member of none
goes to the 督察领导小组办公室, the 兜底 office of 000 §(八) (inferred). What nothing fills is
reported in `unresolved`, never guessed.

Local analogies (参照落实, 002 §(十二) "各省辖市、县(市、区)参照落实"): `local_filers` gives each region of
the analogy's levels its own filers (its own departments flagged `major_duty`, or all its own
departments), marked `local`. For a local filer every provincial role the rule names is read as the
filer's own region's (省委、省政府 → its 党委和政府, 省生态环境厅 → its environment department, the
督察办 / 环委办 → its own; the vice-governor → a leader of its government); relational roles
(superior department) stay the filer's own.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CoordinationMember, Organisation, OrganisationKind, OrganisationLevel, RecipientKind
from app.profiles.schema import Copy, CopyMode, LocalLevel, OrgRole, Profile, Subject
from app.services import designations

K, L = OrganisationKind, OrganisationLevel
_IN_PROVINCE = {OrgRole.provincial_party_committee_and_government, OrgRole.environment_department,
                OrgRole.inspection_office, OrgRole.environment_committee, OrgRole.environment_committee_office,
                OrgRole.discipline_body, OrgRole.organisation_department}
_SAME_LEVEL = {OrgRole.same_level_party_committee_and_government, OrgRole.same_level_environment_committee,
               OrgRole.same_level_environment_committee_office}
_JOINT_LEVELS = {
    Subject.city_party_committees_and_governments: {L.city},
    Subject.city_county_party_committees_and_governments: {L.city, L.county},
    Subject.provincial_party_committee_and_government: {L.province},
    Subject.party_and_government_all_levels: {L.province, L.city, L.county},
}
_SUFFIX = re.compile(r"(委员会|厅|局|委|办公室)$")


@dataclass
class Filer:
    principal: Organisation
    members: list[Organisation]  # every filing organisation, the principal first
    region: Organisation  # where same-level roles resolve
    covers: list[dict[str, Any]] = field(default_factory=list)
    local: bool = False  # filing by analogy (参照落实): provincial roles resolve in `region` too


@dataclass
class Addressing:
    recipient_kind: RecipientKind
    recipient_label: str
    recipients: list[Organisation]
    copies: list[tuple[Organisation, CopyMode, str]]
    unresolved: list[dict[str, Any]]


def core_name(name: str, province: str) -> str:
    """发展和改革委员会 / 省发展改革委 / 发展改革 → 发展改革: how a profile's department names meet the tree's."""
    for prefix in (province, "省"):
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
            break
    return _SUFFIX.sub("", name.replace("和", ""))


class Resolver:
    """Resolves one province's filers and addressees; load() reads its active organisations once."""

    def __init__(self, session: AsyncSession, root: Organisation, profile: Profile) -> None:
        self.session, self.root, self.profile = session, root, profile
        self.orgs: dict[uuid.UUID, Organisation] = {}
        self._designated: dict[tuple[uuid.UUID, OrgRole], list[Organisation]] = {}
        self._member_of: dict[uuid.UUID, list[uuid.UUID]] = {}

    async def load(self) -> None:
        rows = await self.session.scalars(select(Organisation).where(
            Organisation.jurisdiction_id == self.root.id, Organisation.is_active.is_(True)))
        self.orgs = {o.id: o for o in rows}
        members = await self.session.execute(select(CoordinationMember.member_id, CoordinationMember.body_id)
                                             .where(CoordinationMember.body_id.in_(list(self.orgs))))
        for member_id, body_id in members:
            self._member_of.setdefault(member_id, []).append(body_id)

    def region_of(self, org: Organisation) -> Organisation:
        node: Organisation | None = org
        while node is not None and node.kind != K.region:
            node = self.orgs.get(node.parent_id) if node.parent_id else None
        return node or self.root

    async def designated(self, region: Organisation, role: OrgRole) -> list[Organisation]:
        key = (region.id, role)
        if key not in self._designated:
            self._designated[key] = await designations.resolve(self.session, region.id, role)
        return self._designated[key]

    # ----------------------------------------------------------------------------- filers

    def _sorted(self, orgs: list[Organisation]) -> list[Organisation]:
        return sorted(orgs, key=lambda o: (o.depth, o.name, str(o.id)))

    def _departments(self, subject: Subject) -> list[Organisation]:
        depts = [o for o in self.orgs.values() if o.kind == K.department]
        provincial = [d for d in depts if self.region_of(d).id == self.root.id]
        if subject == Subject.major_duty_departments:
            return [d for d in provincial if d.major_duty]
        if subject == Subject.provincial_departments:
            return provincial
        if subject == Subject.local_departments:
            return [d for d in depts if self.region_of(d).id != self.root.id]
        return depts  # functional_departments_all_levels, departments_with_environmental_duties

    async def filers(self, subjects: list[Subject]) -> tuple[list[Filer], list[dict[str, Any]]]:
        """The filers of a rule (deduplicated across its subjects) and the regions that cannot file."""
        found: dict[uuid.UUID, Filer] = {}
        skipped: list[dict[str, Any]] = []
        for subject in subjects:
            if subject in _JOINT_LEVELS:
                regions = [o for o in self.orgs.values() if o.kind == K.region and o.level in _JOINT_LEVELS[subject]]
                for region in self._sorted(regions):
                    joint = await self.designated(region, OrgRole.same_level_party_committee_and_government)
                    if not joint:
                        skipped.append({"subject": subject.value, "organisation_id": str(region.id),
                                        "reason": f"{region.name} has no 党委 or 政府 to file"})
                    elif joint[0].id not in found:
                        found[joint[0].id] = Filer(joint[0], joint, region)
                continue
            departments = self._departments(subject)
            if subject == Subject.major_duty_departments:
                departments = self._assign_duties(departments, found)
            for dept in self._sorted(departments):
                found.setdefault(dept.id, Filer(dept, [dept], self.region_of(dept)))
        return list(found.values()), skipped

    def local_filers(self, subjects: list[Subject], levels: list[LocalLevel]) -> list[Filer]:
        """A local analogy's filers: in each region of `levels`, its own departments (flagged `major_duty`
        for major_duty_departments), the region's nearest; one filer each, in tree order."""
        wanted = {L(level.value) for level in levels}
        found: dict[uuid.UUID, Filer] = {}
        depts = [o for o in self.orgs.values() if o.kind == K.department]
        for dept in self._sorted(depts):
            region = self.region_of(dept)
            if region.id == self.root.id or region.level not in wanted:
                continue
            if any(s == Subject.provincial_departments or dept.major_duty for s in subjects):
                found.setdefault(dept.id, Filer(dept, [dept], region, local=True))
        return list(found.values())

    def _assign_duties(self, departments: list[Organisation], found: dict[uuid.UUID, Filer]) -> list[Organisation]:
        """Drop departments whose duties another carries, noting them on the assignee (002 closing line)."""
        province = self.root.name
        kept = list(departments)
        for listed in self.profile.major_duty_departments.departments:
            if not listed.duties_assigned_to:
                continue
            gone = core_name(listed.name, province)
            kept = [d for d in kept if core_name(d.name, province) != gone]
            assignee = core_name(listed.duties_assigned_to, province)
            for dept in kept:
                if assignee and assignee == core_name(dept.name, province):
                    filer = found.setdefault(dept.id, Filer(dept, [dept], self.region_of(dept)))
                    filer.covers.append({"name": listed.name, "clause": listed.clause, "quote": listed.quote})
        return kept

    # ------------------------------------------------------------------------- addressees

    async def organisations_for(self, role: OrgRole, filer: Filer) -> tuple[list[Organisation], str | None]:
        """The organisations filling `role` for this filer, or [] and the reason nothing does."""
        home = filer.region if filer.local else self.root  # 参照落实: the region's own bodies
        if role in _IN_PROVINCE or role in _SAME_LEVEL:
            region = filer.region if role in _SAME_LEVEL else home
            found = await self.designated(region, role)
            return found, None if found else f"no organisation is designated for {role.value} in {region.name}"
        if role == OrgRole.vice_governor_in_charge:
            joint = await self.designated(home, OrgRole.provincial_party_committee_and_government)
            government = [o for o in joint if o.kind == K.government]
            return government, None if government else f"{home.name} has no government"
        if role in (OrgRole.superior_department, OrgRole.national_competent_department):
            return await self._superior(role, filer)
        if role == OrgRole.corresponding_coordination_office:
            offices = [o for body_id in self._member_of.get(filer.principal.id, [])
                       if (body := self.orgs.get(body_id)) and self.region_of(body).id == home.id
                       for o in self.orgs.values() if o.parent_id == body_id and o.kind == K.coordination_office]
            if offices:
                return self._sorted(offices), None
            return await self.organisations_for(OrgRole.inspection_office, filer)
        return [], f"{role.value} is not resolved for reports"

    async def _superior(self, role: OrgRole, filer: Filer) -> tuple[list[Organisation], str | None]:
        dept = filer.principal
        if dept.kind != K.department:
            return [], None  # a 党委政府 has no 上级主管部门: nothing to copy, nothing missing
        superior = await self.session.get(Organisation, dept.superior_department_id) \
            if dept.superior_department_id else None
        if superior is None or not superior.is_active:
            return [], f"{dept.name} has no superior department set"
        if role == OrgRole.national_competent_department and superior.kind != K.national_body:
            return [], f"{dept.name}'s superior department is not a national body"
        return [superior], None

    async def addressing(self, recipient: OrgRole | None, copies: list[Copy], filer: Filer) -> Addressing:
        unresolved: list[dict[str, Any]] = []
        names = self.profile.organisation_names
        if recipient is None:
            return Addressing(RecipientKind.none, "", [], [], [])
        orgs, reason = await self.organisations_for(recipient, filer)
        if reason:
            unresolved.append({"role": "recipient", "organisation_role": recipient.value, "reason": reason})
        if recipient == OrgRole.vice_governor_in_charge:
            kind, label = RecipientKind.person, names.get(recipient, "分管领导同志")
        else:
            fallback = recipient.value if filer.local else names.get(recipient, recipient.value)
            kind, label = RecipientKind.organisation, designations.names(orgs, fallback)
        taken = {o.id for o in filer.members} | {o.id for o in orgs}
        sent: list[tuple[Organisation, CopyMode, str]] = []
        for copy in copies:
            found, why = await self.organisations_for(copy.organisation, filer)
            if why:
                unresolved.append({"role": copy.mode.value, "organisation_role": copy.organisation.value,
                                   "reason": why})
            for org in found:
                if org.id not in taken:
                    taken.add(org.id)
                    sent.append((org, copy.mode, copy.sent_by))
        return Addressing(kind, label[:300], orgs, sent, unresolved)
