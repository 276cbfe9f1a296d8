"""In-app notifications for people (issue 7 item 3).

Created for the members (leaders, staff and offices) of the organisation an event concerns: an
assignment (finding.assigned), a return (report.returned), an approval (lead_decision.approved), and
by the reminder sweep for deadlines approaching and passed. One row per (user, subject, kind, day):
inserts that would repeat one are dropped, which makes every producer idempotent.

Digest: each person chooses `immediate` (the default) or `daily`. The daily digest of a day is the
unread notifications up to that day grouped by kind (`build_digest`); the worker's daily pass marks
what it summarised (`digested_at`), so the same notification is never summarised twice. In-app the
list always shows everything: the setting is about how often a person is told, not what is kept.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import today_in_zone
from app.core.errors import NotFound, PermissionDenied
from app.models import Membership, Notification, NotificationPreference, Role, User, new_id, utcnow
from app.schemas.webhooks import (
    DigestMode,
    DigestRead,
    NotificationFilter,
    NotificationPage,
    NotificationRead,
    NotificationSettings,
)
from app.services.paging import keyset_page
from app.services.users import PageParams

NOTIFIED_ROLES = (Role.leader, Role.staff, Role.office)
EVENT_KINDS = {"finding.assigned": "assigned", "report.returned": "returned", "lead_decision.approved": "approved"}
EVENT_TITLES = {"assigned": "问题已交办", "returned": "报告被退回", "approved": "牵头事项已批准"}


async def notify_organisation(session: AsyncSession, organisation_id: uuid.UUID | None, *, kind: str,
                              subject: tuple[str, Any], title: str, day: date, now: datetime) -> int:
    """One notification per active member of the organisation (leader, staff, office); repeats dropped."""
    if organisation_id is None:
        return 0
    users = list((await session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id, Membership.role.in_(NOTIFIED_ROLES),
               User.is_active.is_(True)).distinct())).all())
    if not users:
        return 0
    rows = [{"id": new_id(), "user_id": u, "kind": kind, "subject_type": subject[0], "subject_id": str(subject[1]),
             "title": title[:200], "day": day, "created_at": now} for u in users]
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(insert(Notification).values(rows).on_conflict_do_nothing(
        index_elements=["user_id", "subject_type", "subject_id", "kind", "day"]))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def for_event(session: AsyncSession, type_: str, subject: tuple[str, Any], organisation_id: uuid.UUID | None,
                    payload: dict[str, Any], now: datetime) -> int:
    kind = EVENT_KINDS.get(type_)
    if kind is None:
        return 0
    title = f"{EVENT_TITLES[kind]}：{payload.get('title') or subject[1]}"
    return await notify_organisation(session, organisation_id, kind=kind, subject=subject, title=title,
                                     day=today_in_zone(now=now), now=now)


def _user(principal: Principal) -> uuid.UUID:
    if principal.kind != "user":
        raise PermissionDenied("Notifications are for people; integration clients use webhooks or /events.")
    return principal.id


def _read(n: Notification) -> NotificationRead:
    return NotificationRead.model_validate(n, from_attributes=True)


async def list_mine(session: AsyncSession, principal: Principal, f: NotificationFilter,
                    page: PageParams) -> NotificationPage:
    """Oldest first (the keyset order of every list), optionally only unread or only read ones."""
    user_id = _user(principal)
    stmt = select(Notification).where(Notification.user_id == user_id)
    if f.unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif f.unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=[Notification.created_at, Notification.id], kinds=["ts", "id"], scope="notifications",
        limit=page.limit, cursor=page.cursor, include_total=page.include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    return NotificationPage(items=[_read(r[0]) for r in rows], next_cursor=next_cursor, total=total)


async def mark_read(session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> NotificationRead:
    """Idempotent: a second call keeps the first `read_at`. 404 for someone else's notification."""
    user_id = _user(principal)
    row = await session.scalar(select(Notification).where(Notification.id == notification_id,
                                                          Notification.user_id == user_id))
    if row is None:
        raise NotFound("No such notification of yours.")
    if row.read_at is None:
        await session.execute(update(Notification).where(Notification.id == row.id, Notification.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False))
        await session.refresh(row)
    return _read(row)


async def digest_mode(session: AsyncSession, user_id: uuid.UUID) -> DigestMode:
    value = await session.scalar(select(NotificationPreference.digest).where(NotificationPreference.user_id == user_id))
    return DigestMode(value or DigestMode.immediate.value)


async def get_settings(session: AsyncSession, principal: Principal) -> NotificationSettings:
    return NotificationSettings(digest=await digest_mode(session, _user(principal)))


async def put_settings(session: AsyncSession, principal: Principal, body: NotificationSettings) -> NotificationSettings:
    from app.services import audit

    user_id = _user(principal)
    before = await digest_mode(session, user_id)
    row = await session.get(NotificationPreference, user_id)
    if row is None:
        session.add(NotificationPreference(user_id=user_id, digest=body.digest.value))
    else:
        row.digest = body.digest.value
    await session.flush()
    audit.record(session, action="notification_preference.update", resource_type="user", resource_id=user_id,
                 before={"digest": before.value}, after={"digest": body.digest.value})
    return body


async def build_digest(session: AsyncSession, user_id: uuid.UUID, day: date, *, mark: bool = False) -> DigestRead:
    """The unread, not yet digested notifications up to `day`, counted per kind; `mark` records them
    as digested (the worker's daily pass), so the next digest starts after them."""
    where = (Notification.user_id == user_id, Notification.read_at.is_(None), Notification.digested_at.is_(None),
             Notification.day <= day)
    rows = list((await session.scalars(select(Notification).where(*where)
                                       .order_by(Notification.created_at, Notification.id).limit(200))).all())
    counts = {kind: n for kind, n in (await session.execute(
        select(Notification.kind, func.count()).where(*where).group_by(Notification.kind))).all()}
    if mark and rows:
        await session.execute(update(Notification).where(Notification.id.in_([r.id for r in rows]))
                              .values(digested_at=utcnow()).execution_options(synchronize_session=False))
    return DigestRead(digest=await digest_mode(session, user_id), day=day, counts=counts,
                      items=[_read(r) for r in rows])


async def my_digest(session: AsyncSession, principal: Principal) -> DigestRead:
    return await build_digest(session, _user(principal), today_in_zone())


async def daily_digests(session: AsyncSession, day: date) -> int:
    """Build (and mark) the digest of every daily-digest user with something new; returns how many."""
    users = list((await session.scalars(select(NotificationPreference.user_id).where(
        NotificationPreference.digest == DigestMode.daily.value))).all())
    built = 0
    for user_id in users:
        digest = await build_digest(session, user_id, day, mark=True)
        built += bool(digest.items)
    return built
