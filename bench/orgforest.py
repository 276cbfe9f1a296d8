"""A nation-scale organisation forest, built in memory from a seed.

Shape (DOMAIN.md "Organisations", after the demo's Hainan tree): one national root with
its ministries, then per province a root region with 省委, 省政府 and its 18 departments
(16 major-duty ones per 000 §(七)) with their internal units, the 纪委 and 检察院, the
督察领导小组 (its office, two inspection teams, the 16 departments as member units), and
three cities, each with its party committee, government, four bureaus and two counties.
That is 100 organisations per province: 31 provinces + the national tree = 3,120.

Every province draws from its own generator seeded with (seed, province number), so
province 1 is the same in the province-scale and the nation-scale dataset: the two
datasets differ in size, not in the rows the compared requests read.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # fixed, so a seed gives the same rows on every run

# (name, English name, profile code); the first four have jurisdiction profiles in app/profiles.
PROVINCES = [
    ("海南省", "Hainan", "hainan"), ("河南省", "Henan", "henan"), ("湖北省", "Hubei", "hubei"),
    ("山东省", "Shandong", "shandong"), ("北京市", "Beijing", None), ("天津市", "Tianjin", None),
    ("河北省", "Hebei", None), ("山西省", "Shanxi", None), ("内蒙古自治区", "Inner Mongolia", None),
    ("辽宁省", "Liaoning", None), ("吉林省", "Jilin", None), ("黑龙江省", "Heilongjiang", None),
    ("上海市", "Shanghai", None), ("江苏省", "Jiangsu", None), ("浙江省", "Zhejiang", None),
    ("安徽省", "Anhui", None), ("福建省", "Fujian", None), ("江西省", "Jiangxi", None), ("湖南省", "Hunan", None),
    ("广东省", "Guangdong", None), ("广西壮族自治区", "Guangxi", None), ("重庆市", "Chongqing", None),
    ("四川省", "Sichuan", None), ("贵州省", "Guizhou", None), ("云南省", "Yunnan", None),
    ("西藏自治区", "Tibet", None), ("陕西省", "Shaanxi", None), ("甘肃省", "Gansu", None),
    ("青海省", "Qinghai", None), ("宁夏回族自治区", "Ningxia", None), ("新疆维吾尔自治区", "Xinjiang", None),
]
MINISTRIES = [
    ("mee", "生态环境部"), ("ndrc", "国家发展和改革委员会"), ("mnr", "自然资源部"), ("moa", "农业农村部"),
    ("miit", "工业和信息化部"), ("mofcom", "商务部"), ("mof", "财政部"), ("mps", "公安部"), ("moj", "司法部"),
    ("mohurd", "住房和城乡建设部"), ("mot", "交通运输部"), ("nao", "审计署"), ("mwr", "水利部"),
    ("samr", "国家市场监督管理总局"), ("nfga", "国家林业和草原局"), ("moe", "教育部"), ("nhc", "国家卫生健康委员会"),
    ("insp3", "中央第三生态环境保护督察组"),
]
# (suffix, code, superior ministry); the first 16 carry major environmental duties (000 §(七)).
DEPARTMENTS = [
    ("发展和改革委员会", "ndrc", "ndrc"), ("自然资源厅", "nrp", "mnr"), ("生态环境厅", "env", "mee"),
    ("农业农村厅", "agri", "moa"), ("工业和信息化厅", "miit", "miit"), ("商务厅", "commerce", "mofcom"),
    ("财政厅", "finance", "mof"), ("公安厅", "police", "mps"), ("司法厅", "justice", "moj"),
    ("住房和城乡建设厅", "housing", "mohurd"), ("交通运输厅", "transport", "mot"), ("审计厅", "audit", "nao"),
    ("水利厅", "water", "mwr"), ("市场监督管理局", "samr", "samr"), ("林业局", "forestry", "nfga"),
    ("海洋厅", "ocean", "mnr"), ("教育厅", "edu", "moe"), ("卫生健康委员会", "health", "nhc"),
]
MAJOR_DUTY_COUNT = 16
ENV_UNITS = ["办公室", "组织人事处", "环境影响评价与排放管理处", "水生态环境处", "大气环境处", "土壤生态环境处",
             "自然生态保护处", "生态环境监测中心"]
CITY_BUREAUS = [("生态环境局", "env"), ("水务局", "water"), ("自然资源和规划局", "nrp"), ("农业农村局", "agri")]
PLACE_NAMES = ["东湖", "西山", "南江", "北原", "青河", "金沙", "白石", "红岭", "云溪", "松林", "石门", "长乐"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文辉建国红海燕玲斌波宁林峰鹏飞云"

# Column order of `organisation` as COPY receives it (migration 0001).
ORG_COLUMNS = ("id", "name", "name_en", "short_code", "kind", "level", "parent_id", "jurisdiction_id", "depth",
               "profile_code", "superior_department_id", "major_duty", "lead_person", "lead_unit_id",
               "complaint_channels", "is_active", "version", "created_at", "updated_at")


def uuid7_at(when: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 (RFC 9562 §5.7) for `when` with seeded random bits: sortable like the app's, reproducible."""
    ms = int(when.timestamp() * 1000)
    value = (ms & (1 << 48) - 1) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return uuid.UUID(int=value)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass
class Org:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    level: str
    parent: Org | None
    created_at: datetime
    name_en: str | None = None
    profile_code: str | None = None
    superior_id: uuid.UUID | None = None
    major_duty: bool = False
    lead_person: str | None = None
    lead_unit_id: uuid.UUID | None = None
    channels: str = "[]"  # JSON text: the column is `json`, asyncpg's COPY takes it as text
    chain: list[tuple[uuid.UUID, int]] = field(default_factory=list)  # (ancestor, depth), self first

    @property
    def root(self) -> Org:
        return self.parent.root if self.parent else self

    def record(self) -> tuple[Any, ...]:
        p = self.parent
        return (self.id, self.name, self.name_en, self.code, self.kind, self.level, p.id if p else None,
                self.root.id, len(self.chain) - 1, self.profile_code, self.superior_id, self.major_duty,
                self.lead_person, self.lead_unit_id, self.channels, True, 1, self.created_at, self.created_at)


class ForestBuilder:
    """Appends organisations in creation order, parents first, computing closure chains as it goes."""

    def __init__(self) -> None:
        self.orgs: list[Org] = []
        self.by_code: dict[str, Org] = {}
        self.members: list[tuple[uuid.UUID, uuid.UUID]] = []  # (coordination body, member unit)

    def add(self, rng: random.Random, clock: list[datetime], code: str, name: str, kind: str, level: str,
            parent: Org | None, **extra: Any) -> Org:
        clock[0] += timedelta(seconds=1, milliseconds=rng.randrange(1000))
        org = Org(id=uuid7_at(clock[0], rng), code=code, name=name, kind=kind, level=level, parent=parent,
                  created_at=clock[0], **extra)
        org.chain = [(org.id, 0)] + [(a, d + 1) for a, d in (parent.chain if parent else [])]
        self.orgs.append(org)
        self.by_code[code] = org
        return org

    def closure_records(self) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
        return [(ancestor, org.id, depth) for org in self.orgs for ancestor, depth in org.chain]


def _channels(rng: random.Random, code: str) -> str:
    return json.dumps([{"kind": "hotline", "value": f"0{rng.randrange(10, 999)}-12369", "label": "举报热线"},
                       {"kind": "email", "value": f"{code.replace('.', '-')}@bench.gov.cn", "label": None}],
                      ensure_ascii=False)


def build_national(b: ForestBuilder, seed: int) -> None:
    rng, clock = random.Random(f"{seed}:national"), [EPOCH]
    root = b.add(rng, clock, "cn", "国家", "region", "national", None, name_en="National")
    for code, name in MINISTRIES:
        b.add(rng, clock, f"cn.{code}", name, "national_body", "national", root)


def build_province(b: ForestBuilder, seed: int, number: int) -> None:
    """Province `number` (1-based): 100 organisations, the same for a given seed in every dataset."""
    name, name_en, profile = PROVINCES[number - 1]
    rng, clock = random.Random(f"{seed}:province:{number}"), [EPOCH + timedelta(hours=number)]
    p = f"p{number:02d}"
    add = lambda code, *a, **k: b.add(rng, clock, code, *a, **k)
    root = add(p, name, "region", "province", None, name_en=name_en, profile_code=profile)
    pc = add(f"{p}.pc", f"中共{name}委员会", "party_committee", "province", root)
    gov = add(f"{p}.gov", f"{name}人民政府", "government", "province", root)
    departments = []
    for index, (suffix, code, ministry) in enumerate(DEPARTMENTS):
        dept = add(f"{p}.gov.{code}", name + suffix, "department", "province", gov,
                   superior_id=b.by_code[f"cn.{ministry}"].id, major_duty=index < MAJOR_DUTY_COUNT,
                   lead_person=person_name(rng), channels=_channels(rng, f"{p}.gov.{code}"))
        units = ENV_UNITS if code == "env" else ENV_UNITS[:1]
        first = [add(f"{p}.gov.{code}.u{i}", unit, "internal_unit", "province", dept) for i, unit in enumerate(units)]
        dept.lead_unit_id = first[0].id
        departments.append(dept)
    add(f"{p}.cdi", f"中共{name}纪律检查委员会 {name}监察委员会", "discipline_body", "province", root)
    add(f"{p}.procuratorate", f"{name}人民检察院", "judicial_body", "province", root)
    body = add(f"{p}.pc.inspection", f"{name}生态环境保护督察领导小组", "coordination_body", "province", pc)
    add(f"{p}.pc.inspection.office", f"{name}生态环境保护督察领导小组办公室", "coordination_office", "province", body)
    for team in (1, 2):
        add(f"{p}.pc.inspection.team{team}", f"{name}第{'一二'[team - 1]}生态环境保护督察组", "coordination_body",
            "province", body)
    b.members += [(body.id, d.id) for d in departments[:MAJOR_DUTY_COUNT]]
    for c in range(1, 4):
        city_name = name[:2] + PLACE_NAMES[(number + c) % len(PLACE_NAMES)] + "市"
        city = add(f"{p}.c{c}", city_name, "region", "city", root)
        add(f"{p}.c{c}.pc", f"中共{city_name}委员会", "party_committee", "city", city)
        city_gov = add(f"{p}.c{c}.gov", f"{city_name}人民政府", "government", "city", city)
        add(f"{p}.c{c}.cdi", f"中共{city_name}纪律检查委员会", "discipline_body", "city", city)
        for suffix, code in CITY_BUREAUS:
            add(f"{p}.c{c}.gov.{code}", city_name + suffix, "department", "city", city_gov,
                superior_id=b.by_code[f"{p}.gov.{code}"].id, lead_person=person_name(rng))
        for k in range(1, 3):
            county_name = city_name[:-1] + PLACE_NAMES[(number + c + k + 5) % len(PLACE_NAMES)] + "区"
            county = add(f"{p}.c{c}.k{k}", county_name, "region", "county", city)
            add(f"{p}.c{c}.k{k}.pc", f"中共{county_name}委员会", "party_committee", "county", county)
            county_gov = add(f"{p}.c{c}.k{k}.gov", f"{county_name}人民政府", "government", "county", county)
            add(f"{p}.c{c}.k{k}.gov.env", county_name + "生态环境分局", "department", "county", county_gov,
                superior_id=b.by_code[f"{p}.c{c}.gov.env"].id)


def build_forest(seed: int, provinces: int) -> ForestBuilder:
    if not 1 <= provinces <= len(PROVINCES):
        raise ValueError(f"provinces must be 1..{len(PROVINCES)}")
    b = ForestBuilder()
    build_national(b, seed)
    for number in range(1, provinces + 1):
        build_province(b, seed, number)
    return b
