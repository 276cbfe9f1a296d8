"""Province trees for the report tests, one per profile, built from the texts' own lists.

Each builder writes a province (a `region` root with the profile), its 党委 and 政府, the
departments the text names (flagged `major_duty` as an admin would flag them), a department
outside the list, a city (and for Hainan a county under the province) with its 党委/政府 and a
local department, the national bodies that are the departments' 上级主管部门, and the
designations the profile's roles need. Users are made by the tests that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    CoordinationMember,
    Organisation,
    OrganisationKind,
    OrganisationLevel,
    RecipientKind,
    Report,
    ReportKind,
    ReportParty,
    ReportPartyRole,
    ReportStatus,
)
from tests.factories import designate, make_organisation

K, L = OrganisationKind, OrganisationLevel

# 000 §(七): the 16 major-duty departments (the tree's full names, as Hainan's portal writes them).
HAINAN_16 = ["海南省发展和改革委员会", "海南省自然资源和规划厅", "海南省生态环境厅", "海南省农业农村厅",
             "海南省工业和信息化厅", "海南省海洋厅", "海南省商务厅", "海南省财政厅", "海南省公安厅", "海南省司法厅",
             "海南省住房和城乡建设厅", "海南省交通运输厅", "海南省审计厅", "海南省水务厅", "海南省市场监督管理局",
             "海南省林业局"]
# 002 §(五): 13 named; 能源 has no department of its own (closing line: its duties fall to 发展改革委).
HENAN_12 = ["河南省发展和改革委员会", "河南省工业和信息化厅", "河南省财政厅", "河南省自然资源厅", "河南省生态环境厅",
            "河南省住房和城乡建设厅", "河南省交通运输厅", "河南省水利厅", "河南省农业农村厅", "河南省商务厅",
            "河南省市场监督管理局", "河南省林业局"]
# 003 §(十一): the 13.
HUBEI_13 = ["湖北省发展和改革委员会", "湖北省经济和信息化厅", "湖北省财政厅", "湖北省自然资源厅", "湖北省生态环境厅",
            "湖北省住房和城乡建设厅", "湖北省交通运输厅", "湖北省水利厅", "湖北省农业农村厅", "湖北省商务厅",
            "湖北省市场监督管理局", "湖北省能源局", "湖北省林业局"]
# 004 §六/§七: the 15, exactly as the text names them.
SHANDONG_15 = ["山东省发展和改革委员会", "山东省工业和信息化厅", "山东省财政厅", "山东省自然资源厅", "山东省生态环境厅",
               "山东省住房和城乡建设厅", "山东省交通运输厅", "山东省水利厅", "山东省农业农村厅", "山东省商务厅",
               "山东省卫生健康委员会", "山东省市场监督管理局", "山东省能源局", "山东省海洋局", "山东省畜牧兽医局"]


@dataclass
class Province:
    code: str
    orgs: dict[str, Organisation] = field(default_factory=dict)
    departments: list[Organisation] = field(default_factory=list)  # the text's major-duty list, in order

    def org(self, key: str) -> Organisation:
        return self.orgs[key]

    @property
    def root(self) -> Organisation:
        return self.orgs["root"]


async def _national(session: AsyncSession) -> dict[str, Organisation]:
    cn = await make_organisation(session, "国家", kind=K.region, level=L.national)
    return {"mee": await make_organisation(session, "生态环境部", kind=K.national_body, level=L.national, parent=cn),
            "mwr": await make_organisation(session, "水利部", kind=K.national_body, level=L.national, parent=cn)}


async def _province(session: AsyncSession, code: str, name: str, short: str) -> Province:
    p = Province(code)
    p.orgs["root"] = await make_organisation(session, name, kind=K.region, level=L.province, profile_code=code)
    p.orgs["pc"] = await make_organisation(session, f"中共{short}委", kind=K.party_committee, parent=p.root)
    p.orgs["gov"] = await make_organisation(session, f"{name}人民政府", kind=K.government, parent=p.root)
    return p


async def _departments(session: AsyncSession, p: Province, names: list[str], national: dict[str, Organisation]
                       ) -> None:
    for name in names:
        superior = national["mee"] if "生态环境" in name else national["mwr"] if "水" in name else None
        dept = await make_organisation(session, name, parent=p.org("gov"), major_duty=True,
                                       superior_department_id=superior.id if superior else None)
        p.departments.append(dept)
        if "生态环境厅" in name:
            p.orgs["env"] = dept
        if "水务厅" in name or "水利厅" in name:
            p.orgs["water"] = dept
    p.orgs["other_dept"] = await make_organisation(session, f"{p.root.name}教育厅", parent=p.org("gov"))


async def _city(session: AsyncSession, p: Province, key: str, name: str, level: OrganisationLevel = L.city,
                *, party: str = "市委", government: str = "市人民政府", bureau: bool = True) -> Organisation:
    region = await make_organisation(session, name, kind=K.region, level=level, parent=p.root)
    short = name.removesuffix("市")
    p.orgs[key] = region
    p.orgs[f"{key}_pc"] = await make_organisation(session, f"中共{short}{party}", kind=K.party_committee, level=level,
                                                  parent=region)
    p.orgs[f"{key}_gov"] = await make_organisation(session, f"{short}{government}", kind=K.government, level=level,
                                                   parent=region)
    if bureau:
        p.orgs[f"{key}_env"] = await make_organisation(session, f"{short}市生态环境局", level=level,
                                                       parent=p.org(f"{key}_gov"),
                                                       superior_department_id=p.org("env").id)
    return region


async def build_hainan(session: AsyncSession) -> Province:
    """000: 16 departments; 市县 (海口, and 琼海 directly under the province); the 督察领导小组 with its
    office (designated inspection_office) and the 六水共治 指挥部 with its office."""
    national = await _national(session)
    p = await _province(session, "hainan", "海南省", "海南省")
    await _departments(session, p, HAINAN_16, national)
    body = await make_organisation(session, "督察领导小组", kind=K.coordination_body, parent=p.org("pc"))
    p.orgs["inspection_body"] = body
    p.orgs["inspection_office"] = await make_organisation(session, "督察领导小组办公室", kind=K.coordination_office,
                                                          parent=body)
    water_body = await make_organisation(session, "六水共治攻坚战指挥部", kind=K.coordination_body, parent=p.org("gov"))
    p.orgs["water_body"] = water_body
    p.orgs["water_office"] = await make_organisation(session, "六水共治攻坚战指挥部办公室",
                                                     kind=K.coordination_office, parent=water_body)
    for dept in p.departments:
        session.add(CoordinationMember(body_id=body.id, member_id=dept.id))
    session.add(CoordinationMember(body_id=water_body.id, member_id=p.org("water").id))
    await _city(session, p, "haikou", "海口市")
    await _city(session, p, "qionghai", "琼海市", L.county, bureau=False)
    await designate(session, p.root, "environment_department", p.org("env"))
    await designate(session, p.root, "inspection_office", p.org("inspection_office"))
    return p


async def build_henan(session: AsyncSession) -> Province:
    """002: 12 departments for 13 names (能源 → 发展改革委); 郑州 and 济源示范区 (党工委/管委会); the 环委办."""
    national = await _national(session)
    p = await _province(session, "henan", "河南省", "河南省")
    await _departments(session, p, HENAN_12, national)
    p.orgs["committee_office"] = await make_organisation(session, "河南省生态环境保护委员会办公室",
                                                         kind=K.coordination_office, parent=p.org("gov"))
    await _city(session, p, "zhengzhou", "郑州市")
    await _city(session, p, "jiyuan", "济源示范区", party="党工委", government="管委会", bureau=False)
    await designate(session, p.root, "environment_department", p.org("env"))
    await designate(session, p.root, "environment_committee_office", p.org("committee_office"))
    return p


async def build_hubei(session: AsyncSession) -> Province:
    """003: the 13; 武汉 with its 生态环境局 and its own 环委办; the provincial 环委办."""
    national = await _national(session)
    p = await _province(session, "hubei", "湖北省", "湖北省")
    await _departments(session, p, HUBEI_13, national)
    p.orgs["committee_office"] = await make_organisation(session, "湖北省生态环境保护委员会办公室",
                                                         kind=K.coordination_office, parent=p.org("gov"))
    await _city(session, p, "wuhan", "武汉市")
    p.orgs["wuhan_committee_office"] = await make_organisation(session, "武汉市生态环境保护委员会办公室",
                                                               kind=K.coordination_office, level=L.city,
                                                               parent=p.org("wuhan_gov"))
    await designate(session, p.root, "environment_department", p.org("env"))
    await designate(session, p.root, "environment_committee_office", p.org("committee_office"))
    await designate(session, p.org("wuhan"), "environment_committee_office", p.org("wuhan_committee_office"))
    return p


async def build_shandong(session: AsyncSession) -> Province:
    """004: the 15 only; 济南 (a city: no annual report of its own under 004 §七, but §九 study sessions)."""
    national = await _national(session)
    p = await _province(session, "shandong", "山东省", "山东省")
    await _departments(session, p, SHANDONG_15, national)
    await _city(session, p, "jinan", "济南市")
    await designate(session, p.root, "environment_department", p.org("env"))
    return p


BUILDERS = {"hainan": build_hainan, "henan": build_henan, "hubei": build_hubei, "shandong": build_shandong}


COMPLETE_SECTIONS = {"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况", "body": "已履行"}]}


async def make_report(session: AsyncSession, filer: Organisation, *, recipients: tuple[Organisation, ...] = (),
                      copies: tuple[tuple[Organisation, str, str], ...] = (), rule_id: str = "reports.test",
                      period: str | None = "2024", **fields: object) -> Report:
    """A minimal annual duty report of `filer` (000 §(十二) shape), written straight to the database."""
    values: dict[str, object] = {
        "jurisdiction_id": filer.jurisdiction_id, "organisation_id": filer.id, "profile_code": "hainan",
        "profile_version": 1, "rule_id": rule_id, "clause": "000 §(十二)", "kind": ReportKind.annual_duty_report,
        "period": period, "period_year": 2024, "period_start": date(2024, 1, 1), "period_end": date(2024, 12, 31),
        "title": f"{filer.name}2024年度生态环境保护职责履行情况报告", "status": ReportStatus.pending,
        "due_date": date(2025, 1, 31), "due_on_rest_day": True, "due_rule_text": "by the end of Jan of the "
        "following year", "due_rule_text_zh": "次年1月底前",
        "recipient_kind": RecipientKind.organisation if recipients else RecipientKind.none,
        "recipient_label": "、".join(o.name for o in recipients), "publication_where": "own_portal",
        "publication_clause": "000 §(十二)", "content_required": ["duty_performance"], "content": {},
        "unresolved": [], "covers": [], **fields}
    report = Report(**values)
    session.add(report)
    await session.flush()
    parties = [(filer, ReportPartyRole.filer, "filer")] + [(o, ReportPartyRole.recipient, "filer") for o in recipients]
    parties += [(o, ReportPartyRole(mode), sent_by) for o, mode, sent_by in copies]
    for i, (org, role, sent_by) in enumerate(parties):
        session.add(ReportParty(report_id=report.id, organisation_id=org.id, role=role, sent_by=sent_by, position=i))
    await session.flush()
    return report
