"""Chinese and English labels for every enum the API exposes (`GET /meta/enums`).

The API speaks English snake_case; the SPA shows these labels. A test checks
that every member of every listed enum has both labels."""

from __future__ import annotations

import enum

from app.models import (
    DispatchCadence,
    ExtensionStatus,
    FindingRelation,
    FindingStatus,
    InspectionKind,
    LookbackOutcome,
    LookbackPerformer,
    MeasureStatus,
    OrganisationKind,
    OrganisationLevel,
    RectificationType,
    Role,
)
from app.schemas.measures import EvidenceKind
from app.schemas.organisations import ComplaintChannelKind

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
}

ENUM_NAMES: dict[type[enum.Enum], str] = {
    OrganisationKind: "organisation_kind", OrganisationLevel: "organisation_level", Role: "role",
    ComplaintChannelKind: "complaint_channel_kind", InspectionKind: "inspection_kind",
    DispatchCadence: "dispatch_cadence", FindingStatus: "finding_status", RectificationType: "rectification_type",
    MeasureStatus: "measure_status", ExtensionStatus: "extension_status", LookbackOutcome: "lookback_outcome",
    LookbackPerformer: "lookback_performer", FindingRelation: "finding_relation", EvidenceKind: "evidence_kind",
}
