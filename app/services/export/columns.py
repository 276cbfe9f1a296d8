"""Ledger columns per resource: key, English header, Chinese header, how to read it from the list item.

Kept small on purpose: what a clerk's 台账 shows, nested values flattened (organisation names
joined with "；", a due date from its rule). The `id` column comes first so a row can be traced
back to the API and, later, re-imported.
"""

from __future__ import annotations

from typing import Any

from app.profiles.schema import BasisKind
from app.schemas.enums import LABELS
from app.services.export import SEPARATOR, Column, ExportSpec, Language, name_of, names

C = Column


def basis_entry(kind: Any, title: str | None, number: str | None, clause: str | None, lang: Language) -> str:
    """One source as the ledger writes it and the import reads it back (imports/columns.py):
    【kind】《title》（number）clause, the way a 具体事项清单 cites its 依据; a missing part is left out.
    The kind is its zh label (headers=zh) or its code, like every enum cell."""
    code = getattr(kind, "value", kind)
    label = LABELS[BasisKind].get(code, (code,))[0] if lang == "zh" and code else code
    return ((f"【{label}】" if code else "") + (f"《{title}》" if title else "") + (f"（{number}）" if number else "")
            + (clause or ""))


def decomposition_entry(unit: str | None, person: str | None, task: str | None) -> str:
    """One decomposition row: unit（responsible person）：task, as the import reads it back."""
    return (unit or "") + (f"（{person}）" if person else "") + (f"：{task}" if task else "")


def _basis(item: Any, lang: Language) -> str:
    return SEPARATOR.join(basis_entry(b.kind, b.title, b.number, b.clause, lang) for b in item.basis)


def _decomposition(item: Any) -> str:
    return SEPARATOR.join(decomposition_entry(d.unit.name, d.responsible_person, d.task) for d in item.decomposition)


def _channels(item: Any) -> str:
    return "；".join(f"{c.label}: {c.value}" if c.label else c.value for c in item.complaint_channels)


def _parties(role: str) -> Any:
    return lambda d: "；".join(p.organisation_name for p in sorted(d.parties, key=lambda p: p.position)
                              if p.role.value == role)


FINDINGS = ExportSpec("findings", "问题台账", "Findings", (
    C("id", "ID", "编号ID", width=38),
    C("code", "Code", "问题编号"),
    C("title", "Title", "问题标题", width=40),
    C("inspection", "Inspection", "督察/巡视", lambda f: f.inspection.title, width=30),
    C("category", "Category", "问题类别", lambda f: f.category.title if f.category else None),
    C("status", "Status", "状态", width=12),
    C("rectification_type", "Rectification type", "整改类型", width=12),
    C("responsible_organisation", "Responsible organisation", "责任单位", lambda f: name_of(f.responsible_organisation),
      width=24),
    C("lead_organisations", "Lead organisations", "牵头单位", lambda f: names(f.lead_organisations), width=24),
    C("cooperating_organisations", "Cooperating organisations", "配合单位",
      lambda f: names(f.cooperating_organisations), width=24),
    C("rectification_office", "Rectification office", "整改办", lambda f: f.rectification_office.name, width=24),
    C("responsible_leader", "Responsible leader", "责任领导"),
    C("responsible_person", "Responsible person", "责任人"),
    C("deadline", "Deadline", "整改时限", width=12),
    C("deadline_extended", "Deadline extended", "已延期", width=8),
    C("overdue", "Overdue", "逾期", width=8),
    C("key_problem", "Key problem", "重点督办", width=8),
    C("rebounded", "Rebounded", "反弹", width=8),
    C("measures_total", "Measures", "措施数", lambda f: f.measures.total, width=8),
    C("measures_open", "Open measures", "未完成措施", lambda f: f.measures.open, width=8),
    C("closed_on", "Closed on", "销号日期", width=12),
    C("created_at", "Registered at", "登记时间", width=20),
    C("updated_at", "Updated at", "更新时间", width=20),
))

REPORTS = ExportSpec("reports", "报告台账", "Reports", (
    C("id", "ID", "编号ID", width=38),
    C("title", "Title", "报告名称", width=40),
    C("kind", "Kind", "报告类型"),
    C("period", "Period", "报告期"),
    C("period_year", "Year", "年度", width=8),
    C("filers", "Filed by", "报送单位", lambda r: names(r.filers), width=24),
    C("recipients", "Recipients", "接收单位", lambda r: names(r.recipients) or r.recipient_label, width=24),
    C("status", "Status", "状态", width=12),
    C("due_date", "Due", "截止日期", lambda r: r.due.due_date, width=12),
    C("overdue", "Overdue", "逾期", width=8),
    C("submitted_late", "Submitted late", "迟报", width=8),
    C("submitted_at", "Submitted at", "报送时间", width=20),
    C("published_on", "Published on", "公开日期", width=12),
    C("portal_url", "Portal", "公开网址", width=30),
    C("clause", "Clause", "依据条款"),
    C("created_at", "Created at", "创建时间", width=20),
))

RESPONSIBILITY_ITEMS = ExportSpec("responsibility-items", "具体事项清单", "Responsibility items", (
    C("id", "ID", "编号ID", width=38),
    C("organisation", "Organisation", "单位", lambda i: i.organisation.name, width=24),
    C("duty_list_status", "List status", "清单状态", width=12),
    C("position", "No.", "序号", width=6),
    C("code", "Code", "事项编号"),
    C("title", "Title", "事项名称", width=40),
    C("domain", "Domain", "领域", width=12),
    C("description", "Description", "具体内容", width=50),
    C("basis", "Basis", "职责依据", width=40, localised=_basis),
    C("lead_organisations", "Lead organisations", "牵头部门", lambda i: names(i.lead_organisations), width=24),
    C("cooperating_organisations", "Cooperating organisations", "配合部门",
      lambda i: names(i.cooperating_organisations), width=24),
    C("decomposition", "Decomposition", "分解落实（内设机构/责任人/任务）", _decomposition, width=40),
    C("complaint_channels", "Complaint channels", "投诉举报渠道", _channels, width=30),
    C("updated_at", "Updated at", "更新时间", width=20),
))

DUTY_LISTS = ExportSpec("duty-lists", "清单台账", "Duty lists", (
    C("id", "ID", "编号ID", width=38),
    C("organisation", "Organisation", "单位", lambda d: d.organisation.name, width=24),
    C("title", "Title", "清单名称", width=40),
    C("version_no", "Version", "版本", width=6),
    C("status", "Status", "状态", width=12),
    C("item_count", "Items", "事项数", width=8),
    C("review_by", "Reviewed by", "审核单位", lambda d: names(d.review_by), width=24),
    C("approval_by", "Approved by", "审定单位", lambda d: names(d.approval_by), width=24),
    C("submitted_at", "Submitted at", "报送时间", width=20),
    C("published_on", "Published on", "公布日期", width=12),
    C("portal_url", "Portal", "公布网址", width=30),
    C("updated_at", "Updated at", "更新时间", width=20),
))

LEAD_DECISIONS = ExportSpec("lead-decisions", "牵头部门认定台账", "Lead decisions", (
    C("id", "ID", "编号ID", width=38),
    C("title", "Title", "事项名称", width=40),
    C("region_name", "Region", "地区", width=16),
    C("level", "Level", "层级", width=10),
    C("status", "Status", "状态", width=12),
    C("requesters", "Requested by", "申请单位", _parties("requester"), width=24),
    C("leads", "Lead organisations", "牵头部门", _parties("lead"), width=24),
    C("cooperating", "Cooperating organisations", "配合部门", _parties("cooperating"), width=24),
    C("rationale", "Rationale", "认定理由", width=40),
    C("decided_at", "Decided at", "认定时间", width=20),
    C("published_on", "Published on", "公布日期", width=12),
    C("created_at", "Created at", "创建时间", width=20),
))

INSPECTIONS = ExportSpec("inspections", "督察巡视台账", "Inspections", (
    C("id", "ID", "编号ID", width=38),
    C("code", "Code", "编号"),
    C("title", "Title", "名称", width=40),
    C("kind", "Kind", "类型", width=14),
    C("inspecting_body", "Inspecting body", "督察/巡视机构", lambda i: i.inspecting_body.name, width=24),
    C("inspected_organisations", "Inspected", "被督察单位", lambda i: names(i.inspected_organisations), width=30),
    C("rectification_office", "Rectification office", "整改办", lambda i: i.rectification_office.name, width=24),
    C("onsite_start_date", "On site from", "进驻日期", width=12),
    C("onsite_end_date", "On site until", "结束日期", width=12),
    C("feedback_date", "Feedback", "反馈日期", width=12),
    C("dispatch_cadence", "Progress cadence", "调度频次", width=10),
))

ORGANISATIONS = ExportSpec("organisations", "组织机构", "Organisations", (
    C("id", "ID", "编号ID", width=38),
    C("name", "Name", "名称", width=30),
    C("short_code", "Short code", "简称代码"),
    C("kind", "Kind", "类型", width=16),
    C("level", "Level", "层级", width=10),
    C("parent_id", "Parent ID", "上级ID", width=38),
    C("major_duty", "Major duty", "负有重要生态环境保护职责", width=10),
    C("lead_person", "Lead person", "负责人"),
    C("complaint_channels", "Complaint channels", "投诉举报渠道", _channels, width=30),
    C("is_active", "Active", "启用", width=8),
))

USERS = ExportSpec("users", "用户", "Users", (
    C("id", "ID", "编号ID", width=38),
    C("username", "Username", "用户名"),
    C("display_name", "Name", "姓名"),
    C("email", "E-mail", "电子邮箱", width=24),
    C("phone", "Phone", "电话"),
    C("memberships", "Memberships", "所属单位/角色",
      lambda u: "；".join(f"{m.organisation_name} ({m.role.value})" for m in u.memberships), width=40),
    C("is_active", "Active", "启用", width=8),
    C("last_login_at", "Last sign-in", "最近登录", width=20),
))
