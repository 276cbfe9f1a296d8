"""The demo's escalations and accountability cases (app/services/escalations/demo.py): every kind, every
case state, made through the services, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import (
    AccountabilityCase,
    DutyList,
    Escalation,
    EscalationDutyList,
    EscalationReport,
    Report,
    ReportStatus,
)
from app.services import audit, demo, demo_scenario


async def test_the_demo_has_escalations_of_each_kind_and_cases_in_each_state(database):
    async with database.transaction() as s:
        known: dict = {}
        for name in demo.DATASETS:
            await demo.load_dataset(s, demo.read_dataset(name), known)
        records = await demo_scenario.run(s)
        await audit.flush_pending(s)
    assert records["escalations"] == 12
    async with database.transaction(write=False) as s:
        kinds = dict((await s.execute(select(Escalation.kind, func.count()).group_by(Escalation.kind))).all())
        statuses = sorted(st.value for st in (await s.scalars(select(Escalation.status).distinct())).all())
        cases = sorted(c.value for c in (await s.scalars(select(AccountabilityCase.status))).all())
        # DOMAIN.md "Escalations": linked to reports and duty lists too (000 §(十二) late report; 000 §(七) list).
        urged = (await s.execute(select(Escalation.kind, Report.status).join(
            EscalationReport, EscalationReport.escalation_id == Escalation.id).join(
            Report, Report.id == EscalationReport.report_id))).all()
        circulated = (await s.execute(select(Escalation.kind, Escalation.public, DutyList.status).join(
            EscalationDutyList, EscalationDutyList.escalation_id == Escalation.id).join(
            DutyList, DutyList.id == EscalationDutyList.duty_list_id))).all()
    assert {k.value: n for k, n in kinds.items()} == {"warning": 1, "urge": 2, "circular": 1, "summons": 2,
                                                      "handover": 6}
    assert statuses == ["issued", "proposed", "replied"]
    assert cases == ["accepted", "concluded", "concluded", "investigating", "transferred"]
    assert [(k.value, st) for k, st in urged] == [("urge", ReportStatus.draft)]
    assert [(k.value, public, st.value) for k, public, st in circulated] == [("circular", True, "draft")]
