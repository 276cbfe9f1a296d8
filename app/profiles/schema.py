"""The shape of a jurisdiction profile: every rule that differs between provinces.

Each rule names the clause it rests on (``"000 §(七)"``: seed file, then clause)
and, where practical, a few words quoted from it. A rule the text does not state
but the service needs is marked ``inferred`` with a note saying why.

Organisations are referenced symbolically (``OrgRole``, ``Subject``) and resolved
against the organisation tree by the services; the profile never names a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum, auto
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from app.core.calendar import DueDate, DueRule, MonthsAfterIssuance, evaluate, parse_rule, rule_to_dict


class OrgRole(StrEnum):
    """One organisation (or person) a rule points at.

    Keys without ``same_level_`` mean the provincial body; ``same_level_`` keys
    resolve at the level of the organisation the rule applies to; relational keys
    (``superior_department``, ``responsible_organisation``) resolve from the filer
    or the case.
    """

    provincial_party_committee_and_government = auto()  # 省委、省政府, jointly
    same_level_party_committee_and_government = auto()  # 同级党委和政府
    environment_department = auto()  # 省生态环境厅 / 省级生态环境部门
    inspection_office = auto()  # 省(…)督察领导小组办公室
    environment_committee = auto()  # 省生态环境保护委员会 (环委会)
    environment_committee_office = auto()  # 省环委办
    same_level_environment_committee = auto()  # 各级/本级环委会
    same_level_environment_committee_office = auto()  # 同级环委办
    corresponding_coordination_office = auto()  # 相应议事协调机构的办事机构
    vice_governor_in_charge = auto()  # a person: 省政府分管领导同志
    superior_department = auto()  # the filer's 上级主管部门
    national_competent_department = auto()  # 国务院主管部门
    discipline_body = auto()  # 纪检监察机关
    organisation_department = auto()  # 组织(人事)部门
    responsible_organisation = auto()  # the 党委政府 or department a problem belongs to


class Subject(StrEnum):
    """A group of organisations a duty falls on."""

    major_duty_departments = auto()  # the profile's major-duty list
    provincial_departments = auto()  # 省直部门 / 省委和省政府有关部门
    departments_with_environmental_duties = auto()  # 承担…职责的有关职能部门
    functional_departments_all_levels = auto()  # 全省各级有关职能部门
    local_departments = auto()  # 地方有关职能部门 (below the province)
    city_party_committees_and_governments = auto()  # 省辖市/市州党委和政府
    city_county_party_committees_and_governments = auto()  # 市县党委政府
    provincial_party_committee_and_government = auto()
    party_and_government_all_levels = auto()  # 各级党委和政府


# The subjects a local analogy (参照落实) can name: read as the region's own departments.
LOCAL_FILER_SUBJECTS = frozenset({Subject.major_duty_departments, Subject.provincial_departments})


class BasisKind(StrEnum):
    laws_and_regulations = auto()  # 法律法规
    policy_documents = auto()  # 政策文件
    sanding = auto()  # 三定 方案/规定
    responsibility_list = auto()  # 责任清单 (or a province's 工作职责 document)
    superior_department_list = auto()  # 上级主管部门公开的具体事项清单
    duty_boundary_list = auto()  # 职责边界清单


class PublishWhere(StrEnum):
    own_portal = auto()  # 本部门/本地门户网站
    provincial_government_portal = auto()  # 省政府门户网站
    public_unspecified = auto()  # 向社会公开, no channel named


class LeadScope(StrEnum):
    no_lead = auto()  # 尚未明确牵头部门
    wide_range = auto()  # 涉及范围广
    complex = auto()  # 情况复杂
    marked_impact = auto()  # 对生态环境保护影响明显
    outside_list = auto()  # 清单外


class ReportKind(StrEnum):
    annual_duty_report = auto()
    semiannual_duty_report = auto()
    annual_work_plan = auto()
    task_decomposition = auto()
    ad_hoc = auto()


class ReportPeriod(StrEnum):
    previous_year = auto()  # 上年度
    current_year = auto()  # the plan's own year
    half_year = auto()
    one_off = auto()
    as_needed = auto()


class ReportContent(StrEnum):
    duty_performance = auto()  # 生态环境保护职责履行情况
    work_situation = auto()  # 生态环境保护工作情况
    lead_item_implementation = auto()  # 牵头负责的具体事项落实情况
    inspection_rectification = auto()  # 中央生态环境保护督察整改
    pollution_battle = auto()  # 污染防治攻坚战
    four_reductions_four_increases = auto()  # 四减四增
    annual_goals = auto()  # 全年目标
    quarterly_goals = auto()  # 季度目标
    key_tasks = auto()  # 重点任务
    measures = auto()  # 推进措施
    responsible_units = auto()  # 责任单位
    decomposition = auto()  # 任务分解情况


class CopyMode(StrEnum):
    copy_up = auto()  # 抄报 (to a superior)
    copy_across = auto()  # 抄送 (sideways)


class HearingKind(StrEnum):
    hearing = auto()  # 听取汇报
    study = auto()  # 研究 (matters put to the meeting)
    dedicated_study = auto()  # 专题研究


class EscalationKind(StrEnum):
    summons = auto()  # 约谈
    circular = auto()  # 通报
    handover = auto()  # 移交问责 / 责任追究


class AccountabilityPath(StrEnum):
    two_stage = auto()  # investigate and determine responsibility, then transfer
    direct = auto()  # transfer directly
    not_stated = auto()


DueRuleField = Annotated[
    DueRule,
    PlainValidator(parse_rule),
    PlainSerializer(rule_to_dict, return_type=dict),
    WithJsonSchema({"type": "object", "description": "A due rule: {kind, ...} (app.core.calendar)"}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Model):
    clause: str = Field(pattern=r"^\d{3} \S", description="Seed file and clause, e.g. '000 §(七)'")
    quote: str | None = Field(None, description="A few words of the clause, verbatim")
    inferred: bool = Field(False, description="Not stated by the text; set by the profile")
    note: str | None = None


class SourceDocument(_Model):
    seed_file: str = Field(pattern=r"^\d{3}$")
    number: str | None = None  # 文号; only 000 bears one
    title: str
    issuer: str | None = None
    issued_on: date | None  # 印发 date; deadlines count from it
    issued_on_note: str | None = None


class Department(_Model):
    name: str  # as the text writes it
    duties_assigned_to: str | None = None  # another department carries its duties
    clause: str | None = Field(None, pattern=r"^\d{3} \S")
    quote: str | None = None


class MajorDutyDepartments(Rule):
    departments: list[Department]
    open_ended: bool = True  # the list ends in 等: admins may add


class LocalLevel(StrEnum):
    """The levels below the province a text tells to follow a rule by analogy (参照落实)."""

    city = auto()  # 市 / 省辖市 / 市州
    county = auto()  # 县(市、区)


class SubProvincial(Rule):
    """参照落实: the text tells cities and counties to follow the provincial rule by analogy.

    `applies_to` keeps the text's words. On a report rule, `applies_to_levels` makes the analogy
    operative: in every region of those levels the `filers` (read as the region's own: its own
    major-duty departments, its own departments) file the same report to the region's own bodies
    (the provincial bodies the rule names are read as the region's: 省委、省政府 → 同级党委和政府,
    省生态环境厅 → the region's environment department), due as the province's rule unless `due`
    says otherwise. Empty `applies_to_levels`: the analogy is recorded, not scheduled.
    """

    applies_to: str  # the levels told to follow by analogy (参照落实), in the text's words
    applies_to_levels: list[LocalLevel] = []
    filers: list[Subject] = []
    due: DueRuleField | None = None

    @model_validator(mode="after")
    def _operative(self) -> SubProvincial:
        if self.applies_to_levels and not self.filers:
            raise ValueError("a local analogy with applies_to_levels names its filers")
        unsupported = set(self.filers) - LOCAL_FILER_SUBJECTS
        if unsupported:
            raise ValueError(f"a local analogy files with the region's own departments, not {sorted(unsupported)}")
        return self


class Actor(Rule):
    organisation: OrgRole
    verb: str | None = None  # 审核, 审定, 批准 …
    together_with: str | None = None  # 会同有关部门


class Obligation(Rule):
    due: DueRuleField


class Publication(Rule):
    where: PublishWhere


class Publishers(Rule):
    subjects: list[Subject]
    sub_provincial: SubProvincial | None = None


class Basis(Rule):
    kinds: list[BasisKind]
    documents: list[dict[str, str]] = []  # {"number": ..., "title": ...}


class ComplaintChannels(Rule):
    public: bool  # published with the list (举报受理途径和处理流程)


class DutyListRules(_Model):
    publishers: Publishers
    first_publication: Obligation
    review: Actor | None  # 审核; None: no review step
    approval: Actor | None  # 审定/批准; None: the department publishes
    updates: Obligation | None
    basis: Basis
    publication: Publication
    complaint_channels: ComplaintChannels


class TaskDecomposition(Rule):
    subjects: list[Subject]
    to_units: bool
    to_persons: bool
    names_lead_person: bool = False
    names_lead_unit: bool = False


class LeadDecisionRules(Rule):
    scope: list[LeadScope]
    convenor: Actor
    decider: Actor
    convenor_decides: bool  # Hubei: consulting --decide--> approved
    sub_provincial: Actor
    publication: Publication | None = None
    sets_leads_for_listed_items: bool = False

    @model_validator(mode="after")
    def _decides_itself(self) -> LeadDecisionRules:
        if self.convenor_decides and self.convenor.organisation != self.decider.organisation:
            raise ValueError("convenor_decides needs convenor and decider to be the same organisation")
        return self


class Copy(_Model):
    organisation: OrgRole
    mode: CopyMode
    sent_by: Literal["filer", "recipient"] = "filer"


class ReportRule(Rule):
    id: str = Field(pattern=r"^[a-z_.]+$")
    kind: ReportKind
    filers: list[Subject]
    recipient: OrgRole
    due: DueRuleField
    period: ReportPeriod
    content: list[ReportContent]
    copies: list[Copy] = []
    copies_open_ended: bool = False  # 等
    filing_only: bool = False  # 备案: received is final, no acceptance
    recipient_arranges_approval: bool = False  # 统筹报批
    publication: Publication | None = None
    sub_provincial: SubProvincial | None = None  # 参照落实; operative when it names applies_to_levels

    @model_validator(mode="after")
    def _id_free_for_local(self) -> ReportRule:
        if self.id.endswith(LOCAL_RULE_SUFFIX):
            raise ValueError(f"report rule ids may not end in {LOCAL_RULE_SUFFIX!r}: local analogies use it")
        return self


LOCAL_RULE_SUFFIX = ".local"  # reports.<id>.local: the obligations a rule's local analogy gives


class HearingRule(Rule):
    id: str = Field(pattern=r"^[a-z_.]+$")
    held_by: Subject
    forum: str | None = None
    kind: HearingKind
    due: DueRuleField
    at_least: bool = False  # 至少: the cadence is a minimum


class EscalationRule(Rule):
    proposer: OrgRole
    decider: OrgRole | None  # None: the proposer issues them itself
    measures: list[EscalationKind]


class AccountabilityRule(Rule):
    path: AccountabilityPath
    investigator: OrgRole | None = None
    receivers: list[OrgRole]
    by_cadre_authority: bool = False  # 按照干部管理权限


class Profile(_Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    name: str
    name_en: str
    timezone: str = "Asia/Shanghai"
    document: SourceDocument
    organisation_names: dict[OrgRole, str] = {}  # how this text names each role
    major_duty_departments: MajorDutyDepartments
    duty_list: DutyListRules
    task_decomposition: TaskDecomposition
    lead_decision: LeadDecisionRules
    reports: list[ReportRule]
    hearings: list[HearingRule]
    escalation: EscalationRule | None  # None: the text gives no 约谈/通报 rule
    accountability: AccountabilityRule

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        for ids in ([r.id for r in self.reports], [h.id for h in self.hearings]):
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate ids: {ids}")
        if self.document.issued_on is None:
            # 004 bears no date: nothing may count from issuance.
            for path, rule in self.iter_rules():
                if isinstance(getattr(rule, "due", None), MonthsAfterIssuance):
                    raise ValueError(f"{path} counts from issuance but the document has no date")  # noqa: TRY004
        return self

    def iter_rules(self) -> Iterator[tuple[str, Rule]]:
        """Every rule in the profile with its dotted path (for citation checks and the UI)."""
        yield from _walk(self, "")

    def report(self, report_id: str) -> ReportRule | None:
        return next((r for r in self.reports if r.id == report_id), None)

    def due(
        self, rule: DueRule, *, period_year: int | None = None, event_date: date | None = None
    ) -> DueDate:
        """Evaluate a rule of this profile, counting from its document's issuance."""
        issued_on = self.document.issued_on
        return evaluate(rule, period_year=period_year, issued_on=issued_on, event_date=event_date)


def _walk(model: BaseModel, prefix: str) -> Iterator[tuple[str, Rule]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            if isinstance(item, BaseModel):
                # list items with an id (reports, hearings) are named by it: stable when the list is reordered
                key = getattr(item, "id", None)
                path = (f"{prefix}{name}" if i is None else
                        f"{prefix}{name}.{key}" if isinstance(key, str) else f"{prefix}{name}[{i}]")
                if isinstance(item, Rule):
                    yield path, item
                yield from _walk(item, path + ".")
