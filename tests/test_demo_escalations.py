"""The demo's escalations and accountability cases (app/services/escalations/demo.py): every kind, every
case state, made through the services, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AccountabilityCase, Escalation
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
    assert {k.value: n for k, n in kinds.items()} == {"warning": 1, "urge": 2, "circular": 1, "summons": 2,
                                                      "handover": 6}
    assert statuses == ["issued", "proposed", "replied"]
    assert cases == ["accepted", "concluded", "concluded", "investigating", "transferred"]
