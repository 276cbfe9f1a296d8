"""Delivering webhooks: claim, sign (Standard Webhooks), send, retry or give up (issue 7 item 1).

Claiming: a short write transaction picks due deliveries — `pending` ones whose `next_attempt_at`
has come, and `in_flight` ones whose claim expired (a worker died mid-delivery) — with
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers pick disjoint rows without
waiting, and marks them `in_flight` with `claimed_by` / `claimed_until`. SQLite has one writer at a
time (`BEGIN IMMEDIATE`), so the same conditional UPDATE is the whole claim there. The HTTP call is
made outside any transaction; its outcome is written back only while the claim is still ours.

Delivery is at least once: a worker that dies after the receiver answered but before recording it
leaves the claim to expire and the event is sent again with the SAME `webhook-id`, which receivers
use to drop duplicates (README "Verifying webhooks").

Retry policy: success is a 2xx only (redirects are not followed: a 3xx is a failure). Failures are
retried with exponential backoff and full jitter, `uniform(0, min(cap, base · 2^(attempt-1)))`, and
the delivery is `dead` after WEBHOOK_MAX_ATTEMPTS (12, over roughly half a day with the defaults). A
410 Gone kills the delivery at once and pauses the subscription (`is_active: false`). An admin may
replay any delivery (`pending` again, now, attempts reset).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update

from app.core.config import Settings
from app.core.db import Database
from app.models import Event, IntegrationClient, WebhookDelivery, WebhookSubscription, utcnow
from app.services import ssrf

SECRET_PREFIX = "whsec_"
USER_AGENT = "envduty-webhooks/1"
Clock = Callable[[], datetime]


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, key = base64-decoded secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signing_secrets(sub: WebhookSubscription, now: datetime) -> list[str]:
    found = [sub.secret]
    if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
        found.append(sub.previous_secret)
    return found


def body_of(event: Event) -> bytes:
    return json.dumps({"id": str(event.event_id), "type": event.type,
                       "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
                       "organisation_id": str(event.organisation_id) if event.organisation_id else None,
                       "subject": {"type": event.subject_type, "id": event.subject_id},
                       "data": event.payload or {}}, ensure_ascii=False, separators=(",", ":")).encode()


def backoff_seconds(attempts: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Full jitter: uniform over [0, min(cap, base·2^(attempts-1))]."""
    ceiling = min(settings.webhook_backoff_cap_seconds,
                  settings.webhook_backoff_base_seconds * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)


@dataclass
class StepResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def _due(now: datetime) -> Any:
    return or_(and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now),
               and_(WebhookDelivery.status == "in_flight", WebhookDelivery.claimed_until < now))


async def claim(database: Database, worker_id: str, settings: Settings, *, now: datetime,
                limit: int | None = None) -> list[uuid.UUID]:
    """Mark up to `limit` due deliveries in flight for `worker_id`; returns their ids."""
    limit = limit or settings.webhook_batch_size
    until = now + timedelta(seconds=settings.webhook_claim_seconds)
    async with database.transaction() as session:
        ids = list((await session.scalars(
            select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit).with_for_update(skip_locked=True))).all())
        if not ids:
            return []
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids), _due(now)).values(
            status="in_flight", claimed_by=worker_id, claimed_until=until, updated_at=now)
            .execution_options(synchronize_session=False))
        return list((await session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_by == worker_id,
            WebhookDelivery.claimed_until == until))).all())


async def _send(http: httpx.AsyncClient, settings: Settings, sub: WebhookSubscription, event: Event,
                now: datetime) -> tuple[int | None, str | None]:
    """(status code, error): one POST, the address checked first; never follows redirects."""
    try:
        target = await ssrf.check_target(sub.url, settings.webhook_allowed_hosts)
    except ssrf.TargetRefused as exc:
        return None, f"target refused: {exc}"
    body = body_of(event)
    timestamp = int(now.timestamp())
    message_id = str(event.event_id)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": message_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": " ".join(sign(s, message_id, timestamp, body)
                                             for s in signing_secrets(sub, now))}
    url, extensions = httpx.URL(sub.url), {}
    if target.address is not None:  # connect to the checked address; TLS still verifies the host name
        headers["host"] = url.netloc.decode()
        extensions["sni_hostname"] = target.host
        url = url.copy_with(host=target.address)
    request = http.build_request("POST", url, content=body, headers=headers, extensions=extensions)
    try:
        response = await http.send(request, follow_redirects=False, stream=True)
        await response.aclose()  # the body is not ours to read
    except httpx.TimeoutException:
        return None, "timed out"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


Row = tuple[WebhookDelivery, WebhookSubscription, Event, bool]


async def _load(database: Database, ids: list[uuid.UUID]) -> list[Row]:
    """The claimed deliveries with their subscription, event and whether the client is active: one query."""
    if not ids:
        return []
    async with database.transaction(write=False) as session:
        rows = (await session.execute(
            select(WebhookDelivery, WebhookSubscription, Event, IntegrationClient.is_active)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .join(IntegrationClient, IntegrationClient.id == WebhookSubscription.client_id)
            .where(WebhookDelivery.id.in_(ids)))).all()
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


async def _attempt(http: httpx.AsyncClient, settings: Settings, row: Row, clock: Clock,
                   rng: random.Random | None) -> dict[str, Any]:
    """Send one delivery (no database work here) and say what to record."""
    delivery, sub, event, client_active = row
    if not (sub.is_active and client_active):
        code, error = None, "subscription or client deactivated"
        attempts = settings.webhook_max_attempts  # nobody to deliver to: give up now
    else:
        code, error = await _send(http, settings, sub, event, clock())
        attempts = delivery.attempts + 1
    done = clock()
    if error is None:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": done}
    elif code == 410 or attempts >= settings.webhook_max_attempts:
        values = {"status": "dead"}
    else:
        values = {"status": "pending",
                  "next_attempt_at": done + timedelta(seconds=backoff_seconds(attempts, settings, rng))}
    values.update(attempts=attempts, last_status_code=code, last_error=error, claimed_by=None,
                  claimed_until=None, updated_at=done)
    return values


async def _record(database: Database, worker_id: str, outcomes: list[tuple[Row, dict[str, Any]]]) -> list[str]:
    """Write the outcomes in one transaction, each only while the claim is still ours."""
    statuses = []
    async with database.transaction() as session:
        for (delivery, sub, _event, _active), values in outcomes:
            result = await session.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == delivery.id, WebhookDelivery.claimed_by == worker_id,
                WebhookDelivery.status == "in_flight").values(**values).execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                statuses.append("lost_claim")  # the claim expired and another worker took it (or a replay)
                continue
            if values["last_status_code"] == 410:  # Standard Webhooks: 410 Gone = stop sending; pause it
                await session.execute(update(WebhookSubscription).where(
                    WebhookSubscription.id == sub.id, WebhookSubscription.is_active.is_(True)).values(
                    is_active=False, version=WebhookSubscription.version + 1, updated_at=values["updated_at"]))
            statuses.append(values["status"])
    return statuses


async def deliver(database: Database, http: httpx.AsyncClient, settings: Settings, worker_id: str,
                  delivery_id: uuid.UUID, *, clock: Clock = utcnow, rng: random.Random | None = None) -> str:
    """One attempt of a delivery this worker claimed; returns the new status."""
    rows = await _load(database, [delivery_id])
    if not rows:
        return "gone"
    values = await _attempt(http, settings, rows[0], clock, rng)
    return (await _record(database, worker_id, [(rows[0], values)]))[0]


async def run_once(database: Database, http: httpx.AsyncClient, settings: Settings, worker_id: str, *,
                   clock: Clock = utcnow, rng: random.Random | None = None) -> StepResult:
    """Claim one batch, attempt each delivery of it, record the outcomes: three transactions a batch."""
    result = StepResult()
    rows = await _load(database, await claim(database, worker_id, settings, now=clock()))
    result.claimed = len(rows)
    # Concurrently, so one slow receiver does not hold the rest of the batch past its claim (at most
    # WEBHOOK_CONCURRENCY requests at once); no database connection is held while they run.
    gate = asyncio.Semaphore(max(settings.webhook_concurrency, 1))

    async def attempt(row: Row) -> dict[str, Any]:
        async with gate:
            return await _attempt(http, settings, row, clock, rng)

    outcomes = list(zip(rows, await asyncio.gather(*(attempt(r) for r in rows)), strict=True))
    for status in await _record(database, worker_id, outcomes) if outcomes else []:
        if status == "delivered":
            result.delivered += 1
        elif status == "dead":
            result.dead += 1
        else:
            result.failed += 1
    return result
