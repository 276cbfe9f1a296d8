"""Chinese and English labels for every enum the API exposes (`GET /meta/enums`).

The API speaks English snake_case; the SPA shows these labels. A test checks
that every member of every listed enum has both labels."""

from __future__ import annotations

import enum

from app.models import (
    AttachmentPurpose,
    CasePath,
    CaseStatus,
    DecisionLevel,
    DesignationKey,
    DispatchCadence,
    DutyDomain,
    DutyListStatus,
    EscalationKind,
    EscalationStatus,
    ExtensionStatus,
    FindingRelation,
    FindingStatus,
    InspectionKind,
    InternalMeasure,
    ItemRelation,
    LeadDecisionStatus,
    LookbackOutcome,
    LookbackPerformer,
    MeasureStatus,
    OpinionStance,
    OrganisationKind,
    OrganisationLevel,
    PartyRole,
    ReceivingBodyKind,
    RecipientKind,
    RectificationType,
    ReportKind,
    ReportPartyRole,
    ReportStatus,
    Role,
    SummonsForm,
)
from app.profiles.schema import BasisKind, CopyMode, LeadScope
from app.schemas.measures import EvidenceKind
from app.schemas.organisations import ComplaintChannelKind
from app.schemas.reports import ComplianceBucket, ComplianceStanding, SectionTopic

LABELS: dict[type[enum.Enum], dict[str, tuple[str, str]]] = {
    OrganisationKind: {
        "region": ("行政区域", "Administrative region"),
        "party_committee": ("党委/党工委", "Party committee"),
        "government": ("人民政府/管委会", "Government"),
        "department": ("职能部门", "Functional department"),
        "coordination_body": ("议事协调机构", "Coordination body"),
        "coordination_office": ("办事机构", "Coordination office"),
        "discipline_body": ("纪检监察/组织人事", "Discipline or personnel body"),
        "judicial_body": ("公安/检察/法院/司法行政", "Judicial body"),
        "national_body": ("国务院主管部门/中央督察组", "National body"),
        "enterprise": ("企业", "Enterprise"),
        "internal_unit": ("内设处室/直属单位", "Internal unit"),
    },
    OrganisationLevel: {
        "national": ("国家", "National"), "province": ("省级", "Provincial"), "city": ("市级", "City"),
        "county": ("县级", "County"), "township": ("乡镇/街道", "Township"),
    },
    ComplaintChannelKind: {
        "hotline": ("举报电话", "Hotline"), "email": ("电子邮箱", "E-mail"), "web": ("网上举报", "Web form"),
        "mail": ("来信地址", "Postal mail"), "in_person": ("来访地点", "In person"),
    },
    Role: {
        "admin": ("系统管理员", "Administrator"), "staff": ("经办人", "Staff"), "leader": ("负责人", "Leader"),
        "office": ("办公室/办事机构", "Office"), "leadership": ("领导", "Leadership"),
        "inspector": ("督察组", "Inspector"), "discipline": ("纪检监察/组织人事", "Discipline"),
        "viewer": ("查阅", "Viewer"),
    },
    DutyListStatus: {
        "draft": ("草稿", "Draft"), "submitted": ("已报送", "Submitted"), "reviewed": ("已审核", "Reviewed"),
        "approved": ("已审定", "Approved"), "returned": ("已退回", "Returned"), "published": ("已公开", "Published"),
        "superseded": ("已被新版本替代", "Superseded"), "retired": ("已废止", "Retired"),
    },
    DutyDomain: {
        "water": ("水生态环境", "Water"), "air": ("大气环境", "Air"), "soil": ("土壤", "Soil"),
        "solid_waste": ("固体废物", "Solid waste"), "marine": ("海洋生态环境", "Marine"), "ecology": ("生态保护", "Ecology"),
        "climate": ("应对气候变化", "Climate"), "nature_reserves": ("自然保护地", "Nature reserves"),
        "noise": ("噪声", "Noise"), "radiation": ("核与辐射", "Radiation"), "rural": ("农村环境", "Rural environment"),
        "other": ("其他", "Other"),
    },
    ItemRelation: {"lead": ("牵头", "Lead"), "cooperating": ("配合", "Cooperating")},
    BasisKind: {
        "laws_and_regulations": ("法律法规", "Laws and regulations"), "policy_documents": ("政策文件", "Policy documents"),
        "sanding": ("“三定”方案/规定", "Sanding (functions, bodies, staffing)"),
        "responsibility_list": ("生态环境保护责任清单", "Responsibility list"),
        "superior_department_list": ("上级主管部门具体事项清单", "Superior department's list"),
        "duty_boundary_list": ("职责边界清单", "Duty boundary list"),
    },
    DesignationKey: {
        "party_committee_and_government": ("党委和政府", "Party committee and government"),
        "environment_department": ("生态环境部门", "Environment department"),
        "inspection_office": ("督察领导小组办公室", "Inspection office"),
        "environment_committee": ("生态环境保护委员会", "Environment committee"),
        "environment_committee_office": ("生态环境保护委员会办公室", "Environment committee office"),
        "discipline_body": ("纪检监察机关", "Discipline body"), "organisation_department": ("组织部门", "Organisation department"),
    },
    # Lead-department decisions (牵头部门认定): 000 §(八), 002 §(六), 003 §(七), 004 §五.
    LeadDecisionStatus: {
        "requested": ("已提请", "Requested"), "consulting": ("研究会商中", "Consulting"),
        "proposed": ("已提出意见待审定", "Proposed"), "approved": ("已审定", "Approved"),
        "published": ("已公开", "Published"), "withdrawn": ("已撤回", "Withdrawn"),
    },
    DecisionLevel: {
        "provincial": ("省级事项", "Provincial matter"), "sub_provincial": ("省级以下事项", "Sub-provincial matter"),
    },
    PartyRole: {
        "requester": ("提请单位", "Requester"), "convenor": ("牵头组织会商单位", "Convenor"),
        "decider": ("审定单位", "Decider"), "participant": ("参与会商单位", "Participant"),
        "lead": ("牵头部门", "Lead"), "cooperating": ("配合部门", "Cooperating"),
    },
    OpinionStance: {"agree": ("同意", "Agree"), "disagree": ("不同意", "Disagree")},
    LeadScope: {
        "no_lead": ("尚未明确牵头部门", "No lead department yet"), "wide_range": ("涉及范围广", "Wide range"),
        "complex": ("情况复杂", "Complex"), "marked_impact": ("对生态环境保护影响明显", "Marked environmental impact"),
        "outside_list": ("清单外事项", "Outside the duty lists"),
    },
    ReportKind: {
        "annual_duty_report": ("年度报告", "Annual duty report"),
        "semiannual_duty_report": ("半年报告", "Semiannual duty report"),
        "annual_work_plan": ("年度工作计划", "Annual work plan"),
        "task_decomposition": ("任务分解情况", "Task decomposition"),
        "hearing_record": ("听取汇报/专题研究记录", "Hearing record"),
        "rectification_progress": ("整改进展报告", "Rectification progress"),
        "ad_hoc": ("专项报告（及时报告）", "Ad hoc report"),
    },
    ReportStatus: {
        "pending": ("待报送", "Pending"), "draft": ("起草中", "Draft"), "submitted": ("已报送", "Submitted"),
        "received": ("已接收", "Received"), "accepted": ("已审定", "Accepted"), "published": ("已公开", "Published"),
    },
    RecipientKind: {
        "organisation": ("单位", "Organisation"), "person": ("领导同志", "Person"), "none": ("无", "None"),
    },
    ReportPartyRole: {
        "filer": ("报送单位", "Filer"), "recipient": ("接收单位", "Recipient"), "copy_up": ("抄报", "Copy up"),
        "copy_across": ("抄送", "Copy across"),
    },
    CopyMode: {"copy_up": ("抄报", "Copy up"), "copy_across": ("抄送", "Copy across")},
    SectionTopic: {
        "duty_performance": ("职责履行情况", "Duty performance"),
        "work_situation": ("工作情况", "Work situation"),
        "lead_item_implementation": ("牵头事项落实情况", "Lead items"),
        "inspection_rectification": ("督察整改", "Inspection rectification"),
        "pollution_battle": ("污染防治攻坚战", "Pollution battle"),
        "four_reductions_four_increases": ("四减四增", "Four reductions, four increases"),
        "decomposition": ("任务分解情况", "Task decomposition"), "other": ("其他", "Other"),
    },
    ComplianceStanding: {
        "filed_on_time": ("按时报送", "Filed on time"), "filed_late": ("逾期报送", "Filed late"),
        "overdue": ("逾期未报", "Overdue"), "not_yet_due": ("未到期", "Not yet due"),
    },
    ComplianceBucket: {
        "filed": ("已报送", "Filed"), "filed_late": ("逾期报送", "Filed late"), "missing": ("未报送", "Missing"),
        "overdue": ("逾期未报", "Overdue"),
    },
    InspectionKind: {
        "central_inspection": ("中央生态环境保护督察", "Central environmental inspection"),
        "provincial_routine": ("省级例行督察", "Provincial routine inspection"),
        "provincial_special": ("专项督察", "Special inspection"),
        "daily": ("日常督察", "Daily inspection"),
        "party_inspection": ("巡视", "Party inspection"),
        "audit": ("审计", "Audit"),
        "self_inspection": ("自查", "Self-inspection"),
        "complaint_transfer": ("信访举报移交", "Transferred complaints"),
    },
    DispatchCadence: {
        "weekly": ("每周调度", "Weekly"), "biweekly": ("每两周调度", "Every two weeks"),
        "monthly": ("每月调度", "Monthly"), "quarterly": ("每季度调度", "Quarterly"),
        "semiannual": ("每半年调度", "Every half year"),
    },
    FindingStatus: {
        "registered": ("已登记", "Registered"), "assigned": ("已交办", "Assigned"),
        "plan_submitted": ("整改方案待审", "Plan submitted"), "in_progress": ("整改中", "In progress"),
        "closure_requested": ("已完成待销号", "Closure requested"), "closed": ("已完成并销号", "Closed"),
        "unrectifiable_requested": ("申请认定无法整改", "Unrectifiable requested"),
        "unrectifiable": ("无法整改", "Unrectifiable"), "sustained": ("长期整改持续推进", "Sustained"),
    },
    RectificationType: {
        "immediate": ("立行立改", "Immediate"), "time_limited": ("限期整改", "Time-limited"),
        "long_term": ("长期整改", "Long-term"),
    },
    MeasureStatus: {
        "open": ("推进中", "Open"), "done": ("已完成待销号", "Done"), "verified": ("已销号", "Verified"),
        "cannot_complete_requested": ("申请认定无法完成", "Cannot complete (requested)"),
        "cannot_complete": ("无法继续整改落实", "Cannot complete"),
    },
    ExtensionStatus: {
        "pending": ("待审批", "Pending"), "approved": ("已同意延期", "Approved"), "rejected": ("不同意延期", "Rejected"),
    },
    LookbackOutcome: {"passed": ("未反弹", "Passed"), "rebounded": ("反弹", "Rebounded")},
    LookbackPerformer: {
        "inspector": ("督察组/巡视组", "Inspector"), "rectification_office": ("整改办公室", "Rectification office"),
        "rectifying_organisation": ("整改责任单位", "Rectifying organisation"),
    },
    FindingRelation: {"same_problem": ("同一问题", "Same problem"), "follow_up": ("举一反三", "Follow-up")},
    EvidenceKind: {"document": ("文件", "Document"), "attachment": ("附件", "Attachment"), "link": ("链接", "Link")},
    AttachmentPurpose: {"evidence": ("佐证材料", "Evidence"), "plan": ("整改方案", "Rectification plan"),
                        "progress": ("进展情况", "Progress"), "closure": ("销号佐证", "Closure evidence"),
                        "verification": ("核验材料", "Verification"), "report": ("报告正文", "Report"),
                        "annex": ("附件", "Annex")},
    EscalationKind: {"warning": ("预警", "Warning"), "urge": ("督办", "Urge"), "summons": ("约谈", "Summons"),
                     "circular": ("通报", "Circular"), "handover": ("移交问责", "Handover")},
    EscalationStatus: {"proposed": ("已提请", "Proposed"), "issued": ("已印发", "Issued"),
                       "rejected": ("未同意", "Rejected"), "replied": ("已回复", "Replied")},
    SummonsForm: {"collective": ("集体约谈", "Collective"), "individual": ("个别约谈", "Individual")},
    CaseStatus: {"investigating": ("调查中", "Investigating"), "transferred": ("已移送", "Transferred"),
                 "accepted": ("已受理", "Accepted"), "concluded": ("已办结", "Concluded")},
    CasePath: {"two_stage": ("调查后移送", "Investigate, then transfer"), "direct": ("直接移送", "Direct transfer")},
    ReceivingBodyKind: {"discipline": ("纪检监察机关", "Discipline body"),
                        "organisation_department": ("组织(人事)部门", "Organisation department"),
                        "public_security": ("公安机关", "Public security"), "procuratorate": ("检察机关", "Procuratorate")},
    InternalMeasure: {"criticism_education": ("批评教育", "Criticism and education"),
                      "reminder_talk": ("提醒谈话", "Reminder talk"),
                      "organisational_handling": ("组织处理", "Organisational handling")},
}

ENUM_NAMES: dict[type[enum.Enum], str] = {
    OrganisationKind: "organisation_kind", OrganisationLevel: "organisation_level", Role: "role",
    ComplaintChannelKind: "complaint_channel_kind", DutyListStatus: "duty_list_status", DutyDomain: "duty_domain",
    ItemRelation: "item_relation", BasisKind: "basis_kind", DesignationKey: "designation_key",
    LeadDecisionStatus: "lead_decision_status",
    DecisionLevel: "decision_level", PartyRole: "lead_decision_party_role", OpinionStance: "opinion_stance",
    LeadScope: "lead_scope",
    ReportKind: "report_kind", ReportStatus: "report_status",
    RecipientKind: "recipient_kind", ReportPartyRole: "report_party_role", CopyMode: "copy_mode",
    SectionTopic: "section_topic", ComplianceStanding: "compliance_standing", ComplianceBucket: "compliance_bucket",
    InspectionKind: "inspection_kind",
    DispatchCadence: "dispatch_cadence", FindingStatus: "finding_status", RectificationType: "rectification_type",
    MeasureStatus: "measure_status", ExtensionStatus: "extension_status", LookbackOutcome: "lookback_outcome",
    LookbackPerformer: "lookback_performer", FindingRelation: "finding_relation", EvidenceKind: "evidence_kind",
    AttachmentPurpose: "attachment_purpose",
    EscalationKind: "escalation_kind", EscalationStatus: "escalation_status", SummonsForm: "summons_form",
    CaseStatus: "case_status", CasePath: "case_path", ReceivingBodyKind: "receiving_body_kind",
    InternalMeasure: "internal_measure",
}
