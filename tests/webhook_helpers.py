"""Shared pieces of the outbox, webhook and feed tests: a subscribed client, a verifying receiver on an
httpx.MockTransport (nothing leaves the process), a settable clock, and a finding assigned through the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.config import Settings
from app.core.etag import make_etag
from app.models import IntegrationClient, WebhookSubscription, utcnow
from app.services.webhook_delivery import new_secret

RECEIVER_HOST = "receiver.test"
RECEIVER_URL = f"https://{RECEIVER_HOST}/hooks"
ALL_TYPES = ["finding.assigned", "finding.closed", "finding.overdue", "report.submitted", "report.returned",
             "report.overdue", "duty_list.published", "lead_decision.approved"]
READ_SCOPES = ["findings:read", "reports:read", "duty_lists:read", "lead_decisions:read"]


def worker_settings(settings: Settings, **overrides: Any) -> Settings:
    return settings.model_copy(update={"webhook_allowed_hosts": [RECEIVER_HOST], "webhook_max_attempts": 5,
                                       "webhook_backoff_base_seconds": 10.0, "webhook_backoff_cap_seconds": 600.0,
                                       **overrides})


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def verify(secret: str, headers: httpx.Headers, body: bytes, *, tolerance: int | None = None,
           now: int | None = None) -> bool:
    """What an integrator does (README "Verifying webhooks"): any v1 signature of the header matches."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if tolerance is not None and abs((now or 0) - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(sig.removeprefix("v1,"), expected)
               for sig in headers["webhook-signature"].split() if sig.startswith("v1,"))


@dataclass
class Receiver:
    """Answers each POST with the next scripted outcome (a status code or an exception), then 200."""

    secrets: list[str]
    script: list[Any] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    accepted: Counter = field(default_factory=Counter)  # webhook-id → 2xx answers
    bad_signatures: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not any(verify(s, request.headers, request.content) for s in self.secrets):
            self.bad_signatures += 1
            return httpx.Response(401)
        outcome = self.script.pop(0) if self.script else 200
        if isinstance(outcome, Exception):
            raise outcome
        if 200 <= outcome < 300:
            self.accepted[request.headers["webhook-id"]] += 1
        return httpx.Response(outcome, json={"ok": outcome < 300})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


async def subscribe(database, world, org: str = "env", *, types: list[str] | None = None,
                    url: str = RECEIVER_URL, scopes: list[str] | None = None,
                    client_id: str | None = None) -> tuple[IntegrationClient, WebhookSubscription]:
    async with database.transaction() as s:
        client = IntegrationClient(client_id=client_id or f"edc_hook_{org}", name="接收方", secret_hash="x" * 64,
                                   scopes=scopes if scopes is not None else ["organisations:read", *READ_SCOPES],
                                   organisation_id=world.org(org).id)
        s.add(client)
        await s.flush()
        sub = WebhookSubscription(client_id=client.id, url=url, event_types=types or ALL_TYPES, secret=new_secret(),
                                  is_active=True, version=1)
        s.add(sub)
    return client, sub


async def assigned_finding(client, world, org: str = "env") -> dict:
    """A party inspection of env by 督察领导小组, one finding registered and assigned to env."""
    office = world.headers("env_office")
    r = await client.post("/inspections", headers=office, json={
        "kind": "party_inspection", "title": "巡视", "inspecting_body_id": str(world.org("office_body").id),
        "inspected_organisation_ids": [str(world.org("env").id)]})
    assert r.status_code == 201, r.text
    r = await client.post("/findings", headers=office, json={"inspection_id": r.json()["id"], "title": "问题"})
    assert r.status_code == 201, r.text
    finding = r.json()
    r = await client.post(f"/findings/{finding['id']}/assign", headers={
        **office, "If-Match": make_etag(finding["id"], finding["version"])}, json={
        "responsible_organisation_id": str(world.org(org).id), "deadline": "2030-06-30"})
    assert r.status_code == 200, r.text
    return r.json()


async def registered_finding(client, world) -> dict:
    office = world.headers("env_office")
    r = await client.post("/inspections", headers=office, json={
        "kind": "party_inspection", "title": "巡视", "inspecting_body_id": str(world.org("office_body").id),
        "inspected_organisation_ids": [str(world.org("env").id)]})
    assert r.status_code == 201, r.text
    r = await client.post("/findings", headers=office, json={"inspection_id": r.json()["id"], "title": "问题"})
    assert r.status_code == 201, r.text
    return r.json()


def new_secret_pair() -> tuple[str, str]:
    return new_secret(), new_secret()
