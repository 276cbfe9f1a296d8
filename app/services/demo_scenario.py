"""Workflow records for the demo, made through the services as the demo accounts would make them.

So a newcomer opening /docs finds every resource in several states, each with real history
and audit rows:
- Hainan (000 §(七): departments publish their own lists): 省生态环境厅 published on 2024-05-10
  and is revising (a v2 draft with a changed and an added item); 省水务厅 published late, on
  2024-05-20; 省发展改革委 has a draft with an item no department leads yet (塑料污染治理);
  海口市生态环境局 has a draft; the other major-duty departments have none, so they show as overdue.
- Henan (002 §(五): 审核 by 省生态环境厅, 审定 by 省委、省政府): 省生态环境厅 went the whole way
  and is published; 省发展改革委 is reviewed and waits for 审定; 省水利厅 is submitted and waits
  for review.
- Lead-department decisions in Hainan (000 §(八): the 督察办 convenes, 省委、省政府 审定): 省发展改革委
  raised 塑料污染全链条治理 (its unled item), the 督察办 consulted 省生态环境厅 (agrees) and 省水务厅
  (disagrees), and the proposal waits for 省委、省政府; 海岸带生态保护修复 was opened by the 督察办,
  approved and published.
- Reports: the 2024 obligations of both provinces are generated (annual reports due 2025-01-31
  in Hainan, inside the Spring Festival, and at the end of February 2025 in Henan); 海南省生态环境厅
  filed its annual report late, 海南省水务厅 is drafting, the rest are pending and overdue.
- Findings (app/services/findings/demo.py): a routine inspection of 海南省生态环境厅 shaped like 001,
  seven findings from registered to closed (销号 and 回头看), one task confirmed cannot-complete.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.etag import make_etag
from app.core.security import AccessClaims
from app.models import Organisation, ResponsibilityItem, User
from app.schemas.duty_lists import DutyListCreate, DutyListPublish, DutyListRead
from app.schemas.lead_decisions import (
    LeadDecisionComment,
    LeadDecisionCreate,
    LeadDecisionProposal,
    LeadDecisionPublish,
    OpinionCreate,
)
from app.schemas.reports import ReportAction, ReportContent, ReportGenerate, ReportSection, ReportUpdate
from app.schemas.responsibility_items import ResponsibilityItemCreate, ResponsibilityItemUpdate
from app.services.duty_lists import commands, items, queries
from app.services.escalations import demo as escalations_demo
from app.services.findings import demo as findings_demo
from app.services.lead_decisions import actions as ld_actions
from app.services.lead_decisions import commands as ld_commands
from app.services.lead_decisions import opinions
from app.services.lead_decisions import queries as ld_queries
from app.services.principals import load_principal
from app.services.reports import commands as report_commands

PORTAL = "https://{site}.example.gov.cn/zwgk/sthjbhjtsxqd/index.html"


async def _principal(session: AsyncSession, username: str) -> Principal:
    user = await session.scalar(select(User).where(User.username == username))
    now = datetime.now(UTC)
    return await load_principal(session, AccessClaims(subject=str(user.id), subject_kind="user",
                                                      token_version=user.token_version, scopes=(),
                                                      organisation_id=None, jti="demo", issued_at=now,
                                                      expires_at=now + timedelta(minutes=5)))


class _Demo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.orgs: dict[str, uuid.UUID] = {}

    async def org(self, short_code: str) -> uuid.UUID:
        if short_code not in self.orgs:
            self.orgs[short_code] = await self.session.scalar(
                select(Organisation.id).where(Organisation.short_code == short_code))
        return self.orgs[short_code]

    async def start(self, username: str, org: str, title: str) -> DutyListRead:
        return await commands.create_duty_list(self.session, await _principal(self.session, username),
                                               DutyListCreate(organisation_id=await self.org(org), title=title))

    async def item(self, username: str, dl: DutyListRead, **fields: Any) -> Any:
        for key in ("lead_organisation_ids", "cooperating_organisation_ids"):
            fields[key] = [await self.org(k) for k in fields.get(key, [])]
        for row in fields.get("decomposition", []):
            row["unit_id"] = await self.org(row["unit_id"])
        return await items.create_item(self.session, await _principal(self.session, username), dl.id,
                                       ResponsibilityItemCreate(**fields))

    async def step(self, username: str, dl: DutyListRead, action: str, **body: Any) -> DutyListRead:
        principal = await _principal(self.session, username)
        etag = make_etag(dl.id, dl.version)
        if action == "submit":
            return await commands.submit(self.session, principal, dl.id, etag, body.get("comment"))
        if action == "publish":
            return await commands.publish(self.session, principal, dl.id, DutyListPublish(**body), etag)
        if action == "revise":
            return await commands.revise(self.session, principal, dl.id, etag, body.get("comment"))
        return await commands.simple_step(self.session, principal, dl.id, action, etag, body.get("comment"))

    async def reread(self, username: str, dl: DutyListRead) -> DutyListRead:
        return await queries.get_duty_list(self.session, await _principal(self.session, username), dl.id)


SANDING = {"kind": "sanding", "title": "部门职能配置、内设机构和人员编制规定"}
HAINAN_DUTIES = {"kind": "responsibility_list", "title": "海南省各级党委、政府及有关部门生态环境保护工作职责",
                 "number": "琼办发(2020)68号"}
HENAN_LIST = {"kind": "responsibility_list", "title": "省委、省政府及有关部门生态环境保护责任清单"}


async def _hainan(d: _Demo) -> None:
    env = await d.start("hn.env.staff", "hn.gov.env", "海南省生态环境厅生态环境保护具体事项清单")
    await d.item("hn.env.staff", env, code="1", title="统一监督管理全省生态环境保护工作", domain="ecology",
                 basis=[SANDING, HAINAN_DUTIES], lead_organisation_ids=["hn.gov.env"],
                 decomposition=[{"unit_id": "hn.gov.env.office", "task": "综合协调、督查督办"}])
    outfalls = await d.item(
        "hn.env.staff", env, code="2", title="组织开展入河入海排污口排查整治", domain="water", basis=[SANDING],
        lead_organisation_ids=["hn.gov.env"], cooperating_organisation_ids=["hn.gov.water", "hn.gov.ocean"],
        decomposition=[{"unit_id": "hn.gov.env.water", "task": "入河排污口"},
                       {"unit_id": "hn.gov.env.marine", "task": "入海排污口"}])
    await d.item("hn.env.staff", env, code="3", title="监督指导大气污染防治工作", domain="air", basis=[SANDING],
                 lead_organisation_ids=["hn.gov.env"], decomposition=[{"unit_id": "hn.gov.env.air"}])
    env = await d.step("hn.env.leader", await d.reread("hn.env.staff", env), "publish",
                       portal_url=PORTAL.format(site="hnsthb"), published_on="2024-05-10")
    revision = await d.step("hn.env.staff", env, "revise", comment="根据职责调整及时更新 (000 §(七))")
    copy = await d.session.scalar(select(ResponsibilityItem).where(
        ResponsibilityItem.duty_list_id == revision.id, ResponsibilityItem.lineage_id == outfalls.lineage_id))
    await items.update_item(d.session, await _principal(d.session, "hn.env.staff"), copy.id,
                            ResponsibilityItemUpdate(description="含排查、监测、溯源、整治四项工作，2025年底前完成"),
                            make_etag(copy.id, copy.version))
    await d.item("hn.env.staff", revision, code="4", title="牵头推进土壤污染防治", domain="soil", basis=[SANDING],
                 lead_organisation_ids=["hn.gov.env"], cooperating_organisation_ids=["hn.gov.agri"],
                 decomposition=[{"unit_id": "hn.gov.env.soil"}])

    water = await d.start("hn.water.staff", "hn.gov.water", "海南省水务厅生态环境保护具体事项清单")
    await d.item("hn.water.staff", water, code="1", title="组织实施河湖长制", domain="water", basis=[SANDING],
                 lead_organisation_ids=["hn.gov.water"], cooperating_organisation_ids=["hn.gov.env"],
                 decomposition=[{"unit_id": "hn.gov.water.rivers"}])
    await d.item("hn.water.staff", water, code="2", title="水资源保护和节约用水管理", domain="water",
                 basis=[SANDING], lead_organisation_ids=["hn.gov.water"],
                 decomposition=[{"unit_id": "hn.gov.water.wrm"}])
    await d.step("hn.water.leader", await d.reread("hn.water.staff", water), "publish",
                 portal_url=PORTAL.format(site="hnswt"), published_on="2024-05-20")

    ndrc = await d.start("hn.ndrc.staff", "hn.gov.ndrc", "海南省发展和改革委员会生态环境保护具体事项清单")
    await d.item("hn.ndrc.staff", ndrc, code="1", title="统筹推进碳达峰碳中和工作", domain="climate",
                 basis=[SANDING, HAINAN_DUTIES], lead_organisation_ids=["hn.gov.ndrc"],
                 decomposition=[{"unit_id": "hn.gov.ndrc.rcep"}])
    # No department clearly leads this one yet: a matter for a lead-department decision (000 §(八)).
    await d.item("hn.ndrc.staff", ndrc, code="2", title="塑料污染全链条治理", domain="solid_waste",
                 basis=[{"kind": "policy_documents", "title": "海南省禁止生产销售使用一次性不可降解塑料制品条例"}])
    haikou = await d.start("haikou.env.staff", "hn.haikou.gov.env", "海口市生态环境局生态环境保护具体事项清单")
    await d.item("haikou.env.staff", haikou, code="1", title="城市建成区黑臭水体治理", domain="water",
                 basis=[SANDING], lead_organisation_ids=["hn.haikou.gov.env"],
                 cooperating_organisation_ids=["hn.haikou.gov.water"])


async def _henan(d: _Demo) -> None:
    env = await d.start("ha.env.staff", "ha.gov.env", "河南省生态环境厅生态环境保护具体事项清单")
    await d.item("ha.env.staff", env, code="1", title="统一监督管理全省生态环境保护工作", domain="ecology",
                 basis=[SANDING, HENAN_LIST], lead_organisation_ids=["ha.gov.env"],
                 decomposition=[{"unit_id": "ha.gov.env.office", "responsible_person": "周某某"}])
    await d.item("ha.env.staff", env, code="2", title="黄河流域水生态环境保护", domain="water",
                 basis=[SANDING, HENAN_LIST], lead_organisation_ids=["ha.gov.env"],
                 cooperating_organisation_ids=["ha.gov.water"],
                 decomposition=[{"unit_id": "ha.gov.env.water", "responsible_person": "吴某某"}])
    env = await d.step("ha.env.leader", await d.reread("ha.env.staff", env), "submit")
    env = await d.step("ha.env.office", env, "review", comment="会同有关部门审核通过")
    env = await d.step("ha.leadership", env, "approve", comment="审定")
    await d.step("ha.env.leader", env, "publish", portal_url=PORTAL.format(site="hnsthjt"))

    ndrc = await d.start("ha.ndrc.staff", "ha.gov.ndrc", "河南省发展和改革委员会生态环境保护具体事项清单")
    await d.item("ha.ndrc.staff", ndrc, code="1", title="统筹推进能源结构调整（含原能源局职责）", domain="climate",
                 basis=[SANDING, HENAN_LIST], lead_organisation_ids=["ha.gov.ndrc"],
                 decomposition=[{"unit_id": "ha.gov.ndrc.energy", "responsible_person": "郑某某"}])
    ndrc = await d.step("ha.ndrc.leader", await d.reread("ha.ndrc.staff", ndrc), "submit")
    await d.step("ha.env.office", ndrc, "review")

    water = await d.start("ha.water.staff", "ha.gov.water", "河南省水利厅生态环境保护具体事项清单")
    await d.item("ha.water.staff", water, code="1", title="河湖管理保护和河湖长制", domain="water", basis=[SANDING],
                 lead_organisation_ids=["ha.gov.water"], cooperating_organisation_ids=["ha.gov.env"],
                 decomposition=[{"unit_id": "ha.gov.water.rivers", "responsible_person": "王某某"}])
    await d.step("ha.water.leader", await d.reread("ha.water.staff", water), "submit")


async def _lead_decisions(d: _Demo) -> None:
    s = d.session
    office = await _principal(s, "hn.inspection.office")

    async def step(decision, action: str, body: Any, username: str = "hn.inspection.office"):
        return await ld_actions.take_action(s, await _principal(s, username), decision.id, action, body,
                                            make_etag(decision.id, decision.version))

    plastic_item = await s.scalar(select(ResponsibilityItem).where(ResponsibilityItem.title == "塑料污染全链条治理"))
    plastic = await ld_commands.create_decision(s, await _principal(s, "hn.ndrc.leader"), LeadDecisionCreate(
        organisation_id=await d.org("hn.gov.ndrc"), title="塑料污染全链条治理牵头部门",
        description="涉及生产、流通、消费、回收各环节，职责分散在多个部门，尚未明确牵头部门。",
        scope_tests=["no_lead", "wide_range", "complex"],
        participant_organisation_ids=[await d.org("hn.gov.env"), await d.org("hn.gov.water")],
        linked_item_ids=[plastic_item.id]))
    plastic = await step(plastic, "accept", LeadDecisionComment(comment="受理，组织研究会商"))
    for leader, org, stance, reason in (("hn.env.leader", "hn.gov.env", "agree", None),
                                        ("hn.water.leader", "hn.gov.water", "disagree", "本厅不涉及塑料制品生产监管")):
        await opinions.record_opinion(s, await _principal(s, leader), plastic.id, OpinionCreate(
            organisation_id=await d.org(org), stance=stance, reason=reason))
    plastic = await ld_queries.get_decision(s, office, plastic.id)  # the opinions moved its version on
    await step(plastic, "propose", LeadDecisionProposal(
        lead_organisation_ids=[await d.org("hn.gov.env")],
        cooperating_organisation_ids=[await d.org("hn.gov.ndrc"), await d.org("hn.gov.samr")],
        task_split=[{"organisation_id": await d.org("hn.gov.env"), "task": "牵头统筹禁塑工作，组织联合执法"},
                    {"organisation_id": await d.org("hn.gov.samr"), "task": "市场流通环节监督检查"}],
        rationale="禁塑条例明确由生态环境主管部门统筹协调，会商多数意见同意。"))

    coast = await ld_commands.create_decision(s, office, LeadDecisionCreate(
        organisation_id=await d.org("hn.pc.inspection.office"), title="海岸带生态保护修复牵头部门",
        scope_tests=["no_lead", "marked_impact"], participant_organisation_ids=[await d.org("hn.gov.nrp")]))
    coast = await step(coast, "propose", LeadDecisionProposal(
        lead_organisation_ids=[await d.org("hn.gov.nrp")], cooperating_organisation_ids=[await d.org("hn.gov.env")],
        rationale="海岸带保护修复属自然资源和规划部门生态修复职责。"))
    coast = await step(coast, "approve", LeadDecisionComment(comment="审定同意"), username="hn.leadership")
    await step(coast, "publish", LeadDecisionPublish(portal_url="https://www.hainan.example.gov.cn/qtgg/ld-1.html"))


async def _reports(d: _Demo) -> int:
    from app.models.report import Report

    s = d.session
    generated = 0
    for admin, root in (("hn.admin", "hn"), ("ha.admin", "ha")):
        result = await report_commands.generate(s, await _principal(s, admin),
                                                ReportGenerate(jurisdiction_id=await d.org(root), year=2024))
        generated += result.created

    async def annual(org: str) -> Report:
        return await s.scalar(select(Report).where(Report.organisation_id == await d.org(org),
                                                   Report.rule_id == "reports.annual_duty_report",
                                                   Report.period == "2024"))

    async def step(username: str, report: Report, action: str, body: Any = None) -> Any:
        read = await report_commands.act(s, await _principal(s, username), report.id, action, body or ReportAction(),
                                         make_etag(report.id, report.version))
        await s.refresh(report)
        return read

    env = await annual("hn.gov.env")
    await step("hn.env.staff", env, "start")
    await report_commands.update_content(s, await _principal(s, "hn.env.staff"), env.id, ReportUpdate(
        content=ReportContent(sections=[ReportSection(
            topic="duty_performance", heading="一、2024年生态环境保护职责履行情况",
            body="统筹推进入河入海排污口排查整治，完成全省1.2万个排口溯源……（演示文本）")])),
        make_etag(env.id, env.version))
    await s.refresh(env)
    await step("hn.env.leader", env, "submit", ReportAction(comment="报省委、省政府"))
    await step("hn.water.staff", await annual("hn.gov.water"), "start")
    return generated


async def run(session: AsyncSession) -> dict[str, int]:
    """Make the demo's workflow records; the organisations and accounts must be loaded already."""
    d = _Demo(session)
    await _hainan(d)
    await _henan(d)
    await _lead_decisions(d)
    reports = await _reports(d)
    findings = await findings_demo.run(session, _principal, d.org)
    escalations = await escalations_demo.run(session, _principal, d.org)
    return {"duty_lists": 8, "lead_decisions": 2, "reports": reports, "findings": findings,
            "escalations": escalations}
