"""The background worker: feed positions, webhook deliveries and the reminder sweep (issue 7).

`python -m app.cli worker` (`make worker`) runs it as its own process; `make run` also runs it
inside the API process (WORKER_IN_PROCESS=true, started by the app's lifespan), which is what the
embedded SQLite default needs. Any number of workers may run against one database: deliveries are
claimed row by row (SKIP LOCKED on PostgreSQL), feed positions are assigned under one row lock,
and the sweep is idempotent.

Each `step()` does one round of everything; tests call it directly with an injected clock and an
httpx client on a MockTransport, so nothing sleeps and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx

from app.core.calendar import today_in_zone
from app.core.config import Settings
from app.core.db import Database
from app.models import utcnow
from app.services import events, notifications, reminders, webhook_delivery
from app.services.webhook_delivery import Clock

log = logging.getLogger("envduty.worker")


@dataclass
class StepReport:
    positioned: int = 0
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    swept: bool = False
    digests: int = 0


def new_http_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds))
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))


class Worker:
    def __init__(self, database: Database, settings: Settings, *, http: httpx.AsyncClient | None = None,
                 clock: Clock = utcnow, worker_id: str | None = None, rng: random.Random | None = None,
                 sweep: bool = True) -> None:
        self.database, self.settings, self.clock, self.rng = database, settings, clock, rng
        self.http = http or new_http_client(settings)
        self._owns_http = http is None
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 32):08x}"
        self.sweep = sweep
        self.last_sweep: datetime | None = None
        self.last_digest_day: date | None = None

    async def step(self) -> StepReport:
        report = StepReport()
        async with self.database.transaction() as session:
            report.positioned = await events.assign_positions(session)
        now = self.clock()
        if self.sweep and (self.last_sweep is None or
                           (now - self.last_sweep).total_seconds() >= self.settings.reminder_sweep_seconds):
            async with self.database.transaction() as session:
                await reminders.sweep(session, now=now, days_before=self.settings.reminder_days_before)
            self.last_sweep, report.swept = now, True
            async with self.database.transaction() as session:  # the sweep's overdue events
                report.positioned += await events.assign_positions(session)
            today = today_in_zone(now=now)
            if self.last_digest_day != today:  # once a day: yesterday's digests for daily-digest users
                async with self.database.transaction() as session:
                    report.digests = await notifications.daily_digests(session, today - timedelta(days=1))
                self.last_digest_day = today
        result = await webhook_delivery.run_once(self.database, self.http, self.settings, self.worker_id,
                                                 clock=self.clock, rng=self.rng)
        report.claimed, report.delivered = result.claimed, result.delivered
        report.failed, report.dead = result.failed, result.dead
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Step until `stop` is set; a failing step is logged and retried after the poll interval."""
        log.info("worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                busy = False
                try:
                    report = await self.step()
                    busy = report.claimed >= self.settings.webhook_batch_size
                except Exception:  # a database outage must not end the worker
                    log.exception("worker step failed")
                if not busy:
                    try:
                        await asyncio.wait_for(stop.wait(), self.settings.worker_poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            if self._owns_http:
                await self.http.aclose()
            log.info("worker %s stopped", self.worker_id)
