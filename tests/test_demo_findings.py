"""The demo's inspection of 海南省生态环境厅 (app/services/findings/demo.py): findings in several states,
made through the services, on both databases, so `make run` always shows the findings workflow."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Finding, Measure
from app.services import audit, demo, demo_scenario


async def test_the_demo_has_findings_in_several_states(database):
    async with database.transaction() as s:
        known: dict = {}
        for name in demo.DATASETS:
            await demo.load_dataset(s, demo.read_dataset(name), known)
        records = await demo_scenario.run(s)
        await audit.flush_pending(s)
    assert records["findings"] == 7
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(Finding.title, Finding.status, Finding.deadline, Finding.original_deadline)
                                .order_by(Finding.created_at))).all()
        cannot = (await s.execute(select(Measure.status).where(Measure.status == "cannot_complete"))).all()
    assert [(title, status.value) for title, status, *_ in rows] == [
        ("城镇内河(湖)水污染治理不到位", "closed"), ("饮用水水源地划定保护工作滞后", "sustained"),
        ("审计反馈问题整改不到位", "closure_requested"), ("入海排污口排查整治推进缓慢", "in_progress"),
        ("河湖长制落实不到位", "plan_submitted"), ("围填海项目整治修复不到位", "assigned"),
        ("禁塑工作推进不平衡", "registered")]
    outfalls = rows[3]
    assert outfalls.deadline > outfalls.original_deadline  # an approved extension, the original kept
    assert len(cannot) == 1
