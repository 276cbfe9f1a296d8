"""Demo escalations and accountability cases in Hainan, one of each kind and a case in every state.

Made through the services as the demo accounts would (app/services/demo_scenario.py calls `run`), so each
record has real history and audit rows:

- 预警函 from the 督察办 to 海口市 and 省水务厅 (issued at once); 督办 to 省水务厅, linked to its 2024 annual
  duty report, still not submitted past its due date (000 §(十二)), and replied, and to 省生态环境厅, waiting;
  a public 通报 from the 督察办 on 省发展改革委's duty list, still a draft (000 §(七)), linked to it (the public
  view does not show links);
- 约谈: proposed by 省生态环境厅, one decided by 省委、省政府 (000 §(十二)), one waiting;
- 移交问责 (000 §(十五)): one still proposed; the others decided, so their cases are investigating at
  省水务厅, transferred to 省纪委监委, accepted by 省委组织部, concluded with an outcome, and concluded
  internally (提醒谈话).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.etag import make_etag
from app.models import DutyList, DutyListStatus, InternalMeasure, ReceivingBodyKind, Report, SummonsForm
from app.schemas.accountability_cases import CaseConclude, CaseConcludeInternally, CaseTransfer
from app.schemas.escalations import EscalationCreate, EscalationReply, HandoverDetails, NamedPerson
from app.services.accountability_cases import commands as cases
from app.services.escalations import commands

PrincipalOf = Callable[[AsyncSession, str], Awaitable[Principal]]
OrgOf = Callable[[str], Awaitable[uuid.UUID]]
OFFICE, ENV, WATER, LEADERSHIP = "hn.inspection.office", "hn.env.leader", "hn.water.leader", "hn.gov.leadership"
FINDINGS = {"cause": "日常监管不到位,履职不力", "course": "2023年以来多次督办未整改到位", "consequences": "水质持续下降",
            "impact": "群众反映强烈", "rectification": "已制定整改方案并推进实施",
            "responsibility_determination": "分管副厅长负主要领导责任"}


async def run(session: AsyncSession, principal_of: PrincipalOf, org: OrgOf) -> int:
    """Make the escalations and cases; returns how many escalations were made."""
    async def who(username: str) -> Principal:
        return await principal_of(session, username)

    today = today_in_zone()
    env, water, office = await org("hn.gov.env"), await org("hn.gov.water"), await org("hn.pc.inspection.office")

    async def issue(user: str, **fields):
        return await commands.create(session, await who(user), EscalationCreate(**fields))

    # The records the demo scenario made before (app/services/demo_scenario.py): the 督察办 reads them, as
    # its leading group's member units (DOMAIN.md scope).
    late_report = await session.scalar(select(Report.id).where(
        Report.organisation_id == water, Report.rule_id == "reports.annual_duty_report", Report.period == "2024"))
    draft_list = await session.scalar(select(DutyList.id).where(
        DutyList.organisation_id == await org("hn.gov.ndrc"), DutyList.status == DutyListStatus.draft))
    await issue(OFFICE, kind="warning", title="关于城镇内河湖水质超标的预警函（演示）", issuing_organisation_id=office,
                addressee_organisation_ids=[await org("hn.haikou.gov"), water])
    urge = await issue(OFFICE, kind="urge", title="关于加快河湖长制问题整改并报送年度职责履行情况报告的督办函（演示）",
                       issuing_organisation_id=office, addressee_organisation_ids=[water],
                       reply_deadline=today + timedelta(days=30), report_ids=[late_report])
    await commands.reply(session, await who(WATER), urge.id, EscalationReply(reply="已制定整改方案,按月报送进展"),
                         make_etag(urge.id, urge.version))
    await issue(OFFICE, kind="urge", title="关于入海排污口整治的督办函（演示）", issuing_organisation_id=office,
                addressee_organisation_ids=[env], reply_deadline=today + timedelta(days=15))
    await issue(OFFICE, kind="circular", title="关于部分省直部门生态环境保护责任清单未按时公开的通报（演示）",
                issuing_organisation_id=office, addressee_organisation_ids=[await org("hn.gov.ndrc")], public=True,
                duty_list_ids=[draft_list])
    person = NamedPerson(name="赵某某", title="海口市副市长")
    summons = await issue(ENV, kind="summons", title="约谈海口市人民政府（演示）", issuing_organisation_id=env,
                          addressee_organisation_ids=[await org("hn.haikou.gov")], addressee_persons=[person],
                          summons_form=SummonsForm.individual, public=True)
    await commands.decide(session, await who(LEADERSHIP), summons.id, "decide", make_etag(summons.id, summons.version),
                          "同意约谈")
    await issue(ENV, kind="summons", title="集体约谈滞后市县（演示）", issuing_organisation_id=env,
                addressee_organisation_ids=[await org("hn.haikou.gov")], summons_form=SummonsForm.collective)

    async def handover(title: str):
        proposed = await issue(ENV, kind="handover", title=title, issuing_organisation_id=env, handover=HandoverDetails(
            responsible_organisation_id=water, persons_concerned=[NamedPerson(name="钱某某", title="副厅长")]))
        return proposed

    await handover("提请对河湖长制落实不力问题实施责任追究（演示）")  # stays proposed
    opened = []
    for title in ("饮用水源保护区违建问题移交（演示）", "污水处理厂超标排放问题移交（演示）",
                  "河道非法采砂问题移交（演示）", "岸线违规占用问题移交（演示）", "黑臭水体整治弄虚作假问题移交（演示）"):
        h = await handover(title)
        issued = await commands.decide(session, await who(LEADERSHIP), h.id, "decide", make_etag(h.id, h.version),
                                       "同意移交")
        opened.append(issued.accountability_case_id)
    water_leader, discipline, org_dept = await who(WATER), await who("hn.discipline"), await who("hn.org.discipline")

    async def transferred(case_id: uuid.UUID, version: int, kind: ReceivingBodyKind, receiver: str):
        return await cases.transfer(session, water_leader, case_id, CaseTransfer(
            **FINDINGS, receiving_body_kind=kind, receiving_organisation_id=await org(receiver)),
            make_etag(case_id, version))

    # opened[0] stays investigating.
    await transferred(opened[1], 1, ReceivingBodyKind.discipline, "hn.cdi")
    accepted = await transferred(opened[2], 1, ReceivingBodyKind.organisation_department, "hn.pc.org")
    await cases.accept(session, org_dept, accepted.id, make_etag(accepted.id, accepted.version), "受理")
    done = await transferred(opened[3], 1, ReceivingBodyKind.discipline, "hn.cdi")
    done = await cases.accept(session, discipline, done.id, make_etag(done.id, done.version), "受理")
    await cases.conclude(session, discipline, done.id, CaseConclude(outcome="给予党内警告处分"),
                         make_etag(done.id, done.version))
    await cases.conclude_internally(session, water_leader, opened[4], CaseConcludeInternally(
        **FINDINGS, measure=InternalMeasure.reminder_talk), make_etag(opened[4], 1))
    return 12
