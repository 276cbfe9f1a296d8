"""Provinces for the lead-decision tests: one tree per profile, with the bodies the profile names.

    <root> (region, profile) ─┬ 中共<p>省委 (party committee) ┐ the provincial decider where the
                              ├ <p>省人民政府 (government)   ┘ profile says 省委、省政府 审定
                              │    ├ 生态环境厅 (Henan, Shandong: designated convenor, 002 §(六), 004 §五)
                              │    ├ 水利厅 (raises matters)  ├ 农业农村厅  └ 自然资源厅
                              ├ Hainan: 督察领导小组 ── 督察领导小组办公室 (designated convenor, 000 §(八))
                              ├ Hubei: 省生态环境保护委员会 (designated; convenes and decides, 003 §(七))
                              └ <city> (region) ─┬ 市委 ┐ sub-provincial body (Hainan, Henan, Shandong);
                                                 ├ 市政府 ┘ Hubei: the city's 环委会 (designated)
                                                 │    ├ 市水务局  └ 市农业农村局
                                                 └ Hubei: 市生态环境保护委员会

Users, keyed like the bodies: `convenor_office`, `convenor_leadership`, `gov_leadership`, `gov_office`,
`pc_leadership`, `water_leader`, `agri_leader`, `nr_leader`, `water_staff`, `city_office` and
`city_leadership` (at the sub-provincial body), `city_water_leader`, `city_agri_leader`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.etag import make_etag
from app.models import (
    DecisionLevel,
    LeadDecision,
    LeadDecisionParty,
    LeadDecisionStatus,
    Organisation,
    OrganisationKind,
    OrganisationLevel,
    PartyRole,
    Role,
    User,
    new_id,
)
from tests.factories import auth, designate, make_organisation, make_user

K, P, C = OrganisationKind, OrganisationLevel.province, OrganisationLevel.city
NAMES = {"hainan": ("海南", "海口市"), "henan": ("河南", "郑州市"), "hubei": ("湖北", "武汉市"),
         "shandong": ("山东", "济南市")}
PROFILE_VERSION = 1


@dataclass
class Province:
    code: str
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def org(self, key: str) -> Organisation:
        return self.orgs[key]

    def id(self, key: str) -> str:
        return str(self.orgs[key].id)

    def headers(self, user_key: str) -> dict[str, str]:
        return auth(self.users[user_key])

    @property
    def convenor(self) -> Organisation:
        return self.orgs["convenor"]

    @property
    def deciders(self) -> list[Organisation]:
        """省委、省政府 (000 §(八), 002 §(六), 004 §五 by the profile); Hubei: the 环委会 itself (003 §(七))."""
        return [self.orgs["convenor"]] if self.code == "hubei" else [self.orgs["pc"], self.orgs["gov"]]

    @property
    def city_bodies(self) -> list[Organisation]:
        """Who convenes and decides a city's own matter."""
        return [self.orgs["city_committee"]] if self.code == "hubei" else [self.orgs["city_pc"], self.orgs["city_gov"]]


async def build_province(session: AsyncSession, code: str) -> Province:
    short, city_name = NAMES[code]
    w = Province(code)
    o = w.orgs
    o["root"] = await make_organisation(session, f"{short}省", kind=K.region, level=P, profile_code=code)
    o["pc"] = await make_organisation(session, f"中共{short}省委", kind=K.party_committee, parent=o["root"])
    o["gov"] = await make_organisation(session, f"{short}省人民政府", kind=K.government, parent=o["root"])
    o["env"] = await make_organisation(session, f"{short}省生态环境厅", parent=o["gov"])
    o["water"] = await make_organisation(session, f"{short}省水利厅", parent=o["gov"])
    o["agri"] = await make_organisation(session, f"{short}省农业农村厅", parent=o["gov"])
    o["nr"] = await make_organisation(session, f"{short}省自然资源厅", parent=o["gov"])
    if code == "hainan":
        group = await make_organisation(session, "督察领导小组", kind=K.coordination_body, parent=o["root"])
        o["convenor"] = await make_organisation(session, "督察领导小组办公室", kind=K.coordination_office, parent=group)
        await designate(session, o["root"], "inspection_office", o["convenor"])
    elif code == "hubei":
        o["convenor"] = await make_organisation(session, "湖北省生态环境保护委员会", kind=K.coordination_body,
                                                parent=o["root"])
        await designate(session, o["root"], "environment_committee", o["convenor"])
    else:
        o["convenor"] = o["env"]
        await designate(session, o["root"], "environment_department", o["env"])
    o["city"] = await make_organisation(session, city_name, kind=K.region, level=C, parent=o["root"])
    o["city_pc"] = await make_organisation(session, f"中共{city_name}委", kind=K.party_committee, level=C,
                                           parent=o["city"])
    o["city_gov"] = await make_organisation(session, f"{city_name}人民政府", kind=K.government, level=C,
                                            parent=o["city"])
    o["city_water"] = await make_organisation(session, f"{city_name}水务局", level=C, parent=o["city_gov"])
    o["city_agri"] = await make_organisation(session, f"{city_name}农业农村局", level=C, parent=o["city_gov"])
    if code == "hubei":
        o["city_committee"] = await make_organisation(session, f"{city_name}生态环境保护委员会",
                                                      kind=K.coordination_body, level=C, parent=o["city"])
        await designate(session, o["city"], "environment_committee", o["city_committee"])
    city_body = o["city_committee"] if code == "hubei" else o["city_gov"]

    people = {"convenor_office": (o["convenor"], Role.office), "convenor_leadership": (o["convenor"], Role.leadership),
              "gov_leadership": (o["gov"], Role.leadership), "gov_office": (o["gov"], Role.office),
              "pc_leadership": (o["pc"], Role.leadership), "water_leader": (o["water"], Role.leader),
              "agri_leader": (o["agri"], Role.leader), "nr_leader": (o["nr"], Role.leader),
              "water_staff": (o["water"], Role.staff), "city_office": (city_body, Role.office),
              "city_leadership": (city_body, Role.leadership),
              "city_water_leader": (o["city_water"], Role.leader), "city_agri_leader": (o["city_agri"], Role.leader)}
    for key, membership in people.items():
        w.users[key] = await make_user(session, f"{code}.{key}", membership)
    await session.flush()
    return w


async def make_decision(session: AsyncSession, province: Province, status: str, *, level: str = "provincial",
                        requester: str | None = "water", participants: tuple[str, ...] = ("agri",),
                        title: str = "农业面源污染治理牵头部门") -> LeadDecision:
    """A decision row straight in the database, in any state, with the parties the profile gives it
    (proposed and later states carry a proposal: agri leads, nr cooperates)."""
    sub = level == "sub_provincial"
    convenors = province.city_bodies if sub else [province.convenor]
    deciders = province.city_bodies if sub else province.deciders
    proposed = status in ("proposed", "approved", "published")
    decision = LeadDecision(
        id=new_id(), jurisdiction_id=province.org("root").id,
        region_id=province.org("city" if sub else "root").id, level=DecisionLevel(level),
        status=LeadDecisionStatus(status), version=1, title=title, scope_tests=["no_lead"],
        profile_code=province.code, profile_version=PROFILE_VERSION,
        convenor_decides=sub or province.code == "hubei", task_split=[],
        rationale="职责相近" if proposed else None)
    session.add(decision)
    await session.flush()
    rows: list[tuple[Organisation, PartyRole]] = [(o, PartyRole.convenor) for o in convenors]
    rows += [(o, PartyRole.decider) for o in deciders]
    if requester:
        rows.append((province.org(requester), PartyRole.requester))
    rows += [(province.org(p), PartyRole.participant) for p in participants]
    if proposed:
        lead, cooperating = ("city_agri", "city_water") if sub else ("agri", "nr")
        rows += [(province.org(lead), PartyRole.lead), (province.org(cooperating), PartyRole.cooperating)]
    positions: dict[PartyRole, int] = {}
    for org, role in rows:
        session.add(LeadDecisionParty(decision_id=decision.id, organisation_id=org.id, role=role,
                                      position=positions.get(role, 0)))
        positions[role] = positions.get(role, 0) + 1
    await session.flush()
    return decision


def etag(decision_id: uuid.UUID | str, version: int) -> str:
    return make_etag(decision_id, version)


async def act(client, headers: dict[str, str], decision_id: uuid.UUID | str, action: str,
              body: dict | None = None):
    """POST an action with the ETag of a fresh read (what a client does)."""
    current = await client.get(f"/lead-decisions/{decision_id}", headers=headers)
    tag = current.headers.get("ETag") or '"0-none"'
    return await client.post(f"/lead-decisions/{decision_id}/{action}", json=body or {},
                             headers={**headers, "If-Match": tag})


async def province(database, code: str) -> Province:
    """A committed province (tests call it from their fixtures)."""
    async with database.transaction() as session:
        return await build_province(session, code)


async def make_item(session: AsyncSession, province: Province, owner: str, *, title: str = "农业面源污染防治"):
    """A responsibility item in a draft list of `owner` (the minimum valid rows)."""
    from app.models import DutyDomain, DutyList, ResponsibilityItem

    org = province.org(owner)
    duty_list = DutyList(organisation_id=org.id, jurisdiction_id=province.org("root").id,
                         region_id=province.org("root").id, version_no=1, title=f"{org.name}清单",
                         profile_code=province.code, profile_version=PROFILE_VERSION)
    session.add(duty_list)
    await session.flush()
    item = ResponsibilityItem(duty_list_id=duty_list.id, organisation_id=org.id,
                              jurisdiction_id=province.org("root").id, position=1, title=title,
                              domain=DutyDomain.rural)
    session.add(item)
    await session.flush()
    return item


def raise_body(province: Province, organisation: str, **fields) -> dict:
    return {"organisation_id": province.id(organisation), "title": fields.pop("title", "农业面源污染治理牵头部门"),
            "scope_tests": fields.pop("scope_tests", ["no_lead"]),
            "participant_organisation_ids": [province.id(p) for p in fields.pop("participants", ("agri", "nr"))],
            **fields}


def proposal_body(province: Province, leads=("agri",), cooperating=("nr",), first: str | None = None,
                  **fields) -> dict:
    body = {"lead_organisation_ids": [province.id(x) for x in leads],
            "cooperating_organisation_ids": [province.id(x) for x in cooperating],
            "task_split": [{"organisation_id": province.id(leads[0]), "task": "牵头制定治理方案"}],
            "rationale": "该事项主要涉及农业面源污染防治,属农业农村部门职责", **fields}
    if first:
        body["first_lead_organisation_id"] = province.id(first)
    return body


async def make_world_decision(session: AsyncSession, world) -> uuid.UUID:
    """A requested decision in the world of tests/factories.py: env raised it, 督察领导小组办公室
    convenes and 省政府 decides (Hainan, 000 §(八))."""
    root = world.org("hainan")
    decision = LeadDecision(id=new_id(), jurisdiction_id=root.id, region_id=root.id,
                            level=DecisionLevel.provincial, status=LeadDecisionStatus.requested, version=1,
                            title="env 提请的事项", scope_tests=["no_lead"], profile_code="hainan",
                            profile_version=PROFILE_VERSION, convenor_decides=False, task_split=[])
    session.add(decision)
    await session.flush()
    for key, role in (("env", PartyRole.requester), ("office", PartyRole.convenor), ("gov", PartyRole.decider)):
        session.add(LeadDecisionParty(decision_id=decision.id, organisation_id=world.org(key).id, role=role))
    await session.flush()
    return decision.id
