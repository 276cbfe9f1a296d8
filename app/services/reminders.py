"""The reminder sweep (run by the worker on a schedule): overdue events and deadline notifications.

Idempotent: a finding or report is announced overdue once per deadline (an extended deadline that
passes again is announced again), and notifications are unique per (user, subject, kind, day), so
running the sweep twice, or on two workers at once, changes nothing the second time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calendar import today_in_zone
from app.models import Event, Finding, Report
from app.services import events, notifications

OPEN_FINDING = ("assigned", "plan_submitted", "in_progress")
UNFILED_REPORT = ("pending", "draft")


async def _announced_since(session: AsyncSession, type_: str, subject_id: str, since: datetime) -> bool:
    return await session.scalar(select(Event.id).where(Event.type == type_, Event.subject_id == subject_id,
                                                       Event.occurred_at >= since).limit(1)) is not None


async def sweep(session: AsyncSession, *, now: datetime, days_before: int = 7) -> dict[str, int]:
    today = today_in_zone(now=now)
    soon = today + timedelta(days=days_before)
    counts = {"overdue_events": 0, "notifications": 0}
    findings = (await session.execute(select(Finding.id, Finding.title, Finding.deadline,
                                             Finding.responsible_organisation_id)
                                      .where(Finding.status.in_(OPEN_FINDING), Finding.deadline.is_not(None),
                                             Finding.deadline <= soon))).all()
    reports = (await session.execute(select(Report.id, Report.title, Report.due_date, Report.organisation_id)
                                     .where(Report.status.in_(UNFILED_REPORT), Report.due_date.is_not(None),
                                            Report.due_date <= soon))).all()
    for kind, rows in (("finding", findings), ("report", reports)):
        for subject_id, title, deadline, organisation_id in rows:
            passed = deadline < today
            if passed:
                since = datetime.combine(deadline + timedelta(days=1), time(), UTC) - timedelta(hours=8)
                if not await _announced_since(session, f"{kind}.overdue", str(subject_id), since):
                    await events.emit(session, f"{kind}.overdue", (kind, subject_id), organisation_id,
                                      {"deadline": deadline, "title": title}, occurred_at=now)
                    counts["overdue_events"] += 1
            counts["notifications"] += await notifications.notify_organisation(
                session, organisation_id, kind="deadline_passed" if passed else "deadline_approaching",
                subject=(kind, subject_id), title=f"{'已超期' if passed else '临近期限'}（{deadline.isoformat()}）：{title}",
                day=today, now=now)
    return counts
