"""The demo data `make run` loads: every dataset and the workflow records made on top of them
(app/services/demo_scenario.py), on both databases, so the newcomer's first look always works."""

from __future__ import annotations

from sqlalchemy import select

from app.models import DutyList, LeadDecision, Organisation
from app.models.report import Report
from app.services import audit, demo, demo_scenario


async def test_the_demo_loads_with_duty_lists_in_several_states(database):
    async with database.transaction() as s:
        known: dict = {}
        for name in demo.DATASETS:
            await demo.load_dataset(s, demo.read_dataset(name), known)
        await demo_scenario.run(s)
        await audit.flush_pending(s)
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(Organisation.short_code, DutyList.version_no, DutyList.status)
                                .join(Organisation, Organisation.id == DutyList.organisation_id)
                                .order_by(Organisation.short_code, DutyList.version_no))).all()
    assert [(code, n, status.value) for code, n, status in rows] == [
        ("ha.gov.env", 1, "published"), ("ha.gov.ndrc", 1, "reviewed"), ("ha.gov.water", 1, "submitted"),
        ("hn.gov.env", 1, "published"), ("hn.gov.env", 2, "draft"), ("hn.gov.ndrc", 1, "draft"),
        ("hn.gov.water", 1, "published"), ("hn.haikou.gov.env", 1, "draft")]
    async with database.transaction(write=False) as s:
        decisions = (await s.execute(select(LeadDecision.title, LeadDecision.status)
                                     .order_by(LeadDecision.title))).all()
    assert [(t, st.value) for t, st in decisions] == [("塑料污染全链条治理牵头部门", "proposed"),
                                                      ("海岸带生态保护修复牵头部门", "published")]
    async with database.transaction(write=False) as s:
        annual = dict((await s.execute(
            select(Organisation.short_code, Report.status).join(Organisation, Organisation.id == Report.organisation_id)
            .where(Report.rule_id == "reports.annual_duty_report", Report.period == "2024",
                   Organisation.short_code.in_(["hn.gov.env", "hn.gov.water", "hn.gov.ocean"])))).all())
        late = await s.scalar(select(Report.submitted_late).join(Organisation, Organisation.id == Report.organisation_id)
                              .where(Organisation.short_code == "hn.gov.env",
                                     Report.rule_id == "reports.annual_duty_report"))
    assert {k: v.value for k, v in annual.items()} == {"hn.gov.env": "submitted", "hn.gov.water": "draft",
                                                       "hn.gov.ocean": "pending"}
    assert late is True  # filed after 2025-01-31 (000 §(十二))
