"""Demo records: a small inspection of 海南省生态环境厅 shaped like 001, with findings in several states.

Made through the services as the demo accounts would (app/services/demo_scenario.py calls `run`), so
each record has real history and audit rows. The demo dataset has no 巡视组 and no `office` account at
the department, so the campaign is a provincial routine inspection by 省第一生态环境保护督察组
(`hn.inspection.inspector`) rectified through the 督察办 (`hn.inspection.office`, the region's designated
inspection office); its categories and items follow 001's 方面 and wording:

- 城镇内河(湖)水污染治理: a key problem, closed (销号) and looked back on (回头看, passed);
- 饮用水水源地划定保护: long-term, sustained (按时序推进);
- 审计整改: closure requested; the fee refund confirmed cannot-complete by 省财政厅 (001 二(四)2);
- 入海排污口排查整治: in progress, its deadline extended (the original kept), a progress update;
- 河湖长制落实 (省水务厅): a plan waiting for the office; 围填海整治修复: assigned; 禁塑: registered.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.etag import make_etag
from app.models import DispatchCadence, InspectionKind
from app.schemas.findings import (
    ExtensionRequestCreate,
    FindingAssign,
    FindingClose,
    FindingClosureRequest,
    FindingCreate,
    FindingPlanSubmit,
    FindingRead,
    LookbackCreate,
    ProgressUpdateCreate,
)
from app.schemas.inspections import CategoryCreate, InspectionCreate, RectificationPlan
from app.schemas.measures import (
    EvidenceReference,
    MeasureCannotComplete,
    MeasureComplete,
    MeasureVerify,
    PlanMeasure,
)
from app.services.findings import commands, extensions, lookbacks, measures, plan, progress, queries
from app.services.inspections import categories
from app.services.inspections import commands as inspection_commands

PrincipalOf = Callable[[AsyncSession, str], Awaitable[Principal]]
OrgOf = Callable[[str], Awaitable[uuid.UUID]]
INSPECTOR, OFFICE, ENV, WATER = "hn.inspection.inspector", "hn.inspection.office", "hn.env.leader", "hn.water.leader"
EVIDENCE = [EvidenceReference(kind="document", title="《整改情况报告》", reference="琼环函〔2024〕1号（演示）")]


def _etag(f: FindingRead) -> str:
    return make_etag(f.id, f.version)


async def run(session: AsyncSession, principal_of: PrincipalOf, org: OrgOf) -> int:
    """Make the campaign and its findings; returns how many findings were made."""
    async def who(username: str) -> Principal:
        return await principal_of(session, username)

    today = today_in_zone()
    due = today + timedelta(days=120)
    inspection = await inspection_commands.create_inspection(session, await who(INSPECTOR), InspectionCreate(
        kind=InspectionKind.provincial_routine, title="省第一生态环境保护督察组例行督察省生态环境厅（演示）",
        inspecting_body_id=await org("hn.pc.inspection.team1"), inspected_organisation_ids=[await org("hn.gov.env")],
        onsite_start_date=today - timedelta(days=200), onsite_end_date=today - timedelta(days=170),
        feedback_date=today - timedelta(days=150), dispatch_cadence=DispatchCadence.monthly,
        rectification_plan=RectificationPlan(issued_date=today - timedelta(days=140),
                                             document_title="省生态环境厅落实督察反馈意见整改工作方案（演示）")))
    nodes = {}
    for code, title in (("(一)", "落实党的路线方针政策和党中央决策部署方面"),
                        ("(四)", "落实中央环保督察、国家海洋督察及审计反馈问题整改方面")):
        nodes[code] = (await categories.create_category(session, await who(OFFICE), inspection.id,
                                                        CategoryCreate(code=code, title=title))).id

    async def finding(title: str, category: str, **fields) -> FindingRead:
        return await commands.register_finding(session, await who(INSPECTOR), FindingCreate(
            inspection_id=inspection.id, category_id=nodes[category], title=title, **fields))

    async def assigned(f: FindingRead, responsible: str, unit: str | None) -> FindingRead:
        return await commands.assign(session, await who(OFFICE), f.id, FindingAssign(
            responsible_organisation_id=await org(responsible), deadline=due, responsible_leader="王某某 副厅长",
            responsible_unit_id=await org(unit) if unit else None, responsible_person="张三"), _etag(f))

    async def running(f: FindingRead, leader: str, *tasks: str) -> FindingRead:
        f = await plan.submit(session, await who(leader), f.id, FindingPlanSubmit(
            summary="细化工作计划,明确时间节点", measures=[PlanMeasure(title=t, deadline=due) for t in tasks]),
            _etag(f), action="submit_plan")
        return await plan.approve(session, await who(OFFICE), f.id, _etag(f), "同意")

    async def settle(f: FindingRead, leader: str, *, cannot: int | None = None) -> FindingRead:
        page = await measures.list_measures(session, await who(OFFICE), f.id, limit=50, cursor=None,
                                            include_total=False)
        for i, m in enumerate(page.items):
            if i == cannot:
                m = await measures.declare_cannot_complete(session, await who(leader), m.id, MeasureCannotComplete(
                    reason="经协调省财政厅,此类款项已上缴国库无法退还", confirming_organisation_id=await org("hn.gov.finance"),
                    evidence=EVIDENCE), make_etag(m.id, m.version))
                await measures.office_step(session, await who(OFFICE), m.id, "confirm", make_etag(m.id, m.version),
                                           "经省财政厅确认")
                continue
            m = await measures.complete(session, await who(leader), m.id, MeasureComplete(completion_note="已完成"),
                                        make_etag(m.id, m.version))
            await measures.verify(session, await who(OFFICE), m.id, MeasureVerify(verification_note="销号"),
                                  make_etag(m.id, m.version))
        return await queries.get_finding(session, await who(OFFICE), f.id)

    rivers = await finding("城镇内河(湖)水污染治理不到位", "(一)", key_problem=True, key_problem_handler="王某某")
    rivers = await running(await assigned(rivers, "hn.gov.env", "hn.gov.env.water"), ENV, "逐一发出预警函", "集中约谈")
    rivers = await settle(rivers, ENV)
    rivers = await commands.request_closure(session, await who(ENV), rivers.id, FindingClosureRequest(
        summary="已完成整改", evidence=EVIDENCE), _etag(rivers))
    rivers = await commands.close(session, await who(OFFICE), rivers.id, FindingClose(
        verification_note="经核验,同意销号"), _etag(rivers))
    await lookbacks.create_lookback(session, await who(INSPECTOR), rivers.id, LookbackCreate(
        outcome="passed", note="回头看:整改成果巩固,未发现反弹"))

    sources = await finding("饮用水水源地划定保护工作滞后", "(一)", rectification_type="long_term")
    sources = await running(await assigned(sources, "hn.gov.env", "hn.gov.env.water"), ENV, "乡镇级水源保护区划定")
    await commands.simple_step(session, await who(OFFICE), sources.id, "sustain", _etag(sources), "按时序推进")

    audit_item = await finding("审计反馈问题整改不到位", "(四)")
    audit_item = await running(await assigned(audit_item, "hn.gov.env", "hn.gov.env.iaes"), ENV,
                               "制定内部审计工作规定", "清退超范围收取的环保监测服务费")
    audit_item = await settle(audit_item, ENV, cannot=1)
    await commands.request_closure(session, await who(ENV), audit_item.id, FindingClosureRequest(
        summary="除无法继续整改落实的事项外已完成整改", evidence=EVIDENCE), _etag(audit_item))

    outfalls = await finding("入海排污口排查整治推进缓慢", "(四)")
    outfalls = await running(await assigned(outfalls, "hn.gov.env", "hn.gov.env.marine"), ENV, "排查", "整治")
    request = await extensions.create_extension_request(session, await who(ENV), outfalls.id, ExtensionRequestCreate(
        requested_deadline=due + timedelta(days=90), reason="涉及沿海市县,需延长整改时限"))
    await extensions.decide(session, await who(OFFICE), outfalls.id, request.id, "approve",
                            make_etag(request.id, request.version), "同意延期")
    await progress.create_progress_update(session, await who("hn.env.staff"), outfalls.id, ProgressUpdateCreate(
        summary="已完成排查,正在推进整治"))

    rivers_chiefs = await finding("河湖长制落实不到位", "(一)")
    rivers_chiefs = await assigned(rivers_chiefs, "hn.gov.water", "hn.gov.water.rivers")
    await plan.submit(session, await who(WATER), rivers_chiefs.id, FindingPlanSubmit(
        measures=[PlanMeasure(title="修订河湖长制考核办法", deadline=due)]), _etag(rivers_chiefs), action="submit_plan")

    await assigned(await finding("围填海项目整治修复不到位", "(四)"), "hn.gov.env", "hn.gov.env.marine")
    await finding("禁塑工作推进不平衡", "(一)", rectification_type="immediate")  # registered: to be assigned
    return 7
