"""Webhook throughput: deliveries per second from the worker to a local receiver (issue 7).

    python -m bench.webhooks --events 2000 --workers 2                       # a fresh SQLite file
    python -m bench.webhooks --events 2000 --workers 2 --database-url postgresql+asyncpg://postgres@127.0.0.1/x

Migrates a fresh database, makes one organisation, one integration client and one subscription whose
receiver is a uvicorn server on 127.0.0.1 (allowlisted, plain http: loopback only, nothing leaves
the machine), emits --events events in one transaction, then runs --workers workers (tasks of this
process, each with its own claims) until every delivery is delivered or --timeout passes. Each
request is signed and the receiver verifies every signature. Prints one JSON line.

BENCHMARKS.md (section "Webhook delivery") has the figures and the machine they were measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import socket
import tempfile
import time
from collections import Counter

import uvicorn
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.db import Database
from app.models import (
    IntegrationClient,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
    WebhookDelivery,
    WebhookSubscription,
    new_id,
)
from app.services import events
from app.services.webhook_delivery import new_secret
from app.worker import Worker
from bench.common import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """ASGI app: verifies the Standard Webhooks signature, counts accepted ids, answers 204."""

    def __init__(self, secret: str) -> None:
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.accepted: Counter[str] = Counter()
        self.bad = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        msg_id, ts = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        expected = base64.b64encode(hmac.new(self.key, f"{msg_id}.{ts}.".encode() + body,
                                             hashlib.sha256).digest()).decode()
        ok = any(hmac.compare_digest(s.removeprefix("v1,"), expected)
                 for s in headers.get("webhook-signature", "").split())
        if ok:
            self.accepted[msg_id] += 1
        else:
            self.bad += 1
        await send({"type": "http.response.start", "status": 204 if ok else 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _seed(database: Database, url: str, n_events: int) -> str:
    async with database.transaction() as s:
        org = Organisation(id=new_id(), name="基准省", kind=OrganisationKind.region, level=OrganisationLevel.province)
        org.jurisdiction_id = org.id
        s.add(org)
        await s.flush()
        s.add(OrganisationClosure(ancestor_id=org.id, descendant_id=org.id, depth=0))
        client = IntegrationClient(client_id="edc_bench", name="基准接收方", secret_hash="x" * 64,
                                   scopes=["reports:read"], organisation_id=org.id)
        s.add(client)
        await s.flush()
        secret = new_secret()
        s.add(WebhookSubscription(client_id=client.id, url=url, event_types=["report.submitted"], secret=secret,
                                  is_active=True, version=1))
        await s.flush()
        for i in range(n_events):
            await events.emit(s, "report.submitted", ("report", f"bench-{i}"), org.id, {"n": i})
    return secret


async def main(args: argparse.Namespace) -> dict:
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='envduty-bench-wh-')}/b.db"
    if url.startswith("postgresql"):
        import asyncpg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        admin = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database="postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{u.database}"')
        await admin.close()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes.update(database_url=url, skip_logging=True)
    await asyncio.to_thread(command.upgrade, cfg, "head")

    port = _free_port()
    receiver_url = f"http://127.0.0.1:{port}/hooks"
    database = Database(url, pool_size=10)
    secret = await _seed(database, receiver_url, args.events)
    receiver = Receiver(secret)
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="off", access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    settings = Settings(database_url=url, webhook_allowed_hosts=["127.0.0.1"], webhook_batch_size=args.batch,
                        jwt_keys={"bench": "b" * 48})
    workers = [Worker(database, settings, sweep=False, worker_id=f"bench-{i}") for i in range(args.workers)]

    async def drain(worker: Worker, deadline: float) -> None:
        while time.monotonic() < deadline:
            report = await worker.step()
            if report.claimed == 0:
                async with database.transaction(write=False) as s:
                    left = await s.scalar(select(func.count()).select_from(WebhookDelivery).where(
                        WebhookDelivery.status != "delivered"))
                if not left:
                    return
                await asyncio.sleep(0.05)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(drain(w, time.monotonic() + args.timeout) for w in workers))
        elapsed = time.perf_counter() - started
        async with database.transaction(write=False) as s:
            delivered = await s.scalar(select(func.count()).select_from(WebhookDelivery).where(
                WebhookDelivery.status == "delivered"))
    finally:
        for w in workers:
            await w.http.aclose()
        server.should_exit = True
        await serving
        await database.dispose()
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "events": args.events,
            "workers": args.workers, "batch": args.batch, "delivered": delivered, "seconds": round(elapsed, 2),
            "deliveries_per_second": round(delivered / elapsed, 1), "accepted_ids": len(receiver.accepted),
            "duplicates": sum(n - 1 for n in receiver.accepted.values()), "bad_signatures": receiver.bad}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120.0, help="stop after this many seconds regardless")
    parser.add_argument("--database-url", default=None)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
