"""A province shaped like its source text, for workflow tests of any of the four profiles.

    root (region, profile) ─┬ pc 省委 ─┬ inspection (督察领导小组) ── inspection_office (办公室)
                            │          └ committee (环委会) ── committee_office (环委办)
                            ├ gov 省政府 ─┬ env 省生态环境厅 (major duty) ── env_unit (水生态环境处)
                            │             ├ water 省水利/水务厅 (major duty) ── water_unit
                            │             └ edu 省教育厅 (no major duty)
                            └ city (region) ─┬ city_pc, city_gov ── city_env ── city_env_unit
                                             └ city_committee (市环委会)

Designations (app.models.designation): env is the environment department, the inspection
office and the committees are designated in their regions; 党委和政府 are the default
(the region's party_committee and government children).

Users, each with one membership: `<org>_<role>` for every org and role a test needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organisation, OrganisationKind, OrganisationLevel, Role, User
from tests.factories import auth, designate, make_organisation, make_user

NAMES = {"hainan": "海南省", "henan": "河南省", "hubei": "湖北省", "shandong": "山东省"}
K, L = OrganisationKind, OrganisationLevel


@dataclass
class Province:
    code: str
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def org(self, key: str) -> Organisation:
        return self.orgs[key]

    def headers(self, user_key: str) -> dict[str, str]:
        return auth(self.users[user_key])


USERS = [("root", Role.viewer), ("env", Role.staff), ("env", Role.leader), ("env", Role.office), ("env", Role.viewer),
         ("water", Role.staff), ("water", Role.leader), ("edu", Role.leader),
         ("pc", Role.leadership), ("gov", Role.leadership), ("gov", Role.office), ("inspection_office", Role.office),
         ("committee", Role.leadership), ("committee", Role.office), ("committee_office", Role.office),
         ("city_env", Role.staff), ("city_env", Role.leader), ("city_gov", Role.leadership),
         ("city_gov", Role.office), ("city_committee", Role.leadership), ("city_committee", Role.office)]


async def build_province(session: AsyncSession, code: str) -> Province:
    p = Province(code)
    name = NAMES[code]
    o = p.orgs
    o["root"] = await make_organisation(session, name, kind=K.region, level=L.province, profile_code=code)
    o["pc"] = await make_organisation(session, f"中共{name}委", kind=K.party_committee, parent=o["root"])
    o["gov"] = await make_organisation(session, f"{name}人民政府", kind=K.government, parent=o["root"])
    o["env"] = await make_organisation(session, f"{name}生态环境厅", parent=o["gov"], major_duty=True)
    o["env_unit"] = await make_organisation(session, "水生态环境处", kind=K.internal_unit, parent=o["env"])
    o["water"] = await make_organisation(session, f"{name}水利厅", parent=o["gov"], major_duty=True)
    o["water_unit"] = await make_organisation(session, "河湖管理处", kind=K.internal_unit, parent=o["water"])
    o["edu"] = await make_organisation(session, f"{name}教育厅", parent=o["gov"])
    o["inspection"] = await make_organisation(session, "生态环境保护督察领导小组", kind=K.coordination_body,
                                              parent=o["pc"])
    o["inspection_office"] = await make_organisation(session, "督察领导小组办公室", kind=K.coordination_office,
                                                     parent=o["inspection"])
    o["committee"] = await make_organisation(session, "生态环境保护委员会", kind=K.coordination_body, parent=o["pc"])
    o["committee_office"] = await make_organisation(session, "生态环境保护委员会办公室",
                                                    kind=K.coordination_office, parent=o["committee"])
    o["city"] = await make_organisation(session, "某市", kind=K.region, level=L.city, parent=o["root"])
    o["city_pc"] = await make_organisation(session, "中共某市委", kind=K.party_committee, level=L.city,
                                           parent=o["city"])
    o["city_gov"] = await make_organisation(session, "某市人民政府", kind=K.government, level=L.city, parent=o["city"])
    o["city_env"] = await make_organisation(session, "某市生态环境局", level=L.city, parent=o["city_gov"],
                                            major_duty=True)
    o["city_env_unit"] = await make_organisation(session, "水环境科", kind=K.internal_unit, level=L.city,
                                                 parent=o["city_env"])
    o["city_committee"] = await make_organisation(session, "某市生态环境保护委员会", kind=K.coordination_body,
                                                  level=L.city, parent=o["city_pc"])
    await designate(session, o["root"], "environment_department", o["env"])
    await designate(session, o["root"], "inspection_office", o["inspection_office"])
    await designate(session, o["root"], "environment_committee", o["committee"])
    await designate(session, o["root"], "environment_committee_office", o["committee_office"])
    await designate(session, o["city"], "environment_department", o["city_env"])
    await designate(session, o["city"], "environment_committee", o["city_committee"])
    for org_key, role in USERS:
        p.users[f"{org_key}_{role.value}"] = await make_user(session, f"{code}.{org_key}.{role.value}",
                                                             (o[org_key], role))
    return p
