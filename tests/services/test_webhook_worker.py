"""The worker: Standard Webhooks signatures (with rotation), retries with backoff and jitter, dead after
N, exactly-once acceptance across a receiver outage, claims that never overlap, SSRF at delivery time,
and the reminder sweep. The receiver is an httpx.MockTransport and the clock is injected."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app.models import Event, Finding, Notification, WebhookDelivery, WebhookSubscription
from app.services import events, reminders, ssrf
from app.services import webhook_delivery as wd
from app.worker import Worker
from tests.conftest import TEST_DB
from tests.webhook_helpers import Clock, Receiver, assigned_finding, subscribe, verify, worker_settings


async def _emit(database, world, n: int = 1, org: str = "env") -> None:
    async with database.transaction() as s:
        for i in range(n):
            await events.emit(s, "report.submitted", ("report", f"r-{i}"), world.org(org).id, {"n": i})


async def _statuses(database) -> list[str]:
    async with database.transaction(write=False) as s:
        return sorted((await s.scalars(select(WebhookDelivery.status))).all())


def _worker(database, settings, receiver: Receiver, clock: Clock, **kw) -> Worker:
    return Worker(database, worker_settings(settings, **kw), http=receiver.client(), clock=clock,
                  rng=random.Random(7), sweep=False)


async def test_a_delivery_is_signed_per_standard_webhooks_and_verifies(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world)
    receiver, clock = Receiver([sub.secret]), Clock()
    report = await _worker(database, settings, receiver, clock).step()
    assert (report.claimed, report.delivered) == (1, 1)
    [request] = receiver.requests
    assert receiver.bad_signatures == 0
    assert verify(sub.secret, request.headers, request.content, tolerance=300, now=int(clock.now.timestamp()))
    assert not verify(wd.new_secret(), request.headers, request.content)  # another secret does not
    body = receiver.bodies()[0]
    async with database.transaction(write=False) as s:
        event = await s.scalar(select(Event))
    assert request.headers["webhook-id"] == body["id"] == str(event.event_id)
    assert (body["type"], body["subject"], body["data"]) == ("report.submitted", {"type": "report", "id": "r-0"},
                                                             {"n": 0})
    assert request.headers["webhook-signature"].startswith("v1,") and " " not in request.headers["webhook-signature"]
    assert await _statuses(database) == ["delivered"]


async def test_during_a_rotation_both_secrets_sign_until_the_old_one_expires(world, database, settings):
    _, sub = await subscribe(database, world)
    old, new = sub.secret, wd.new_secret()
    clock = Clock()
    async with database.transaction() as s:
        await s.execute(update(WebhookSubscription).where(WebhookSubscription.id == sub.id).values(
            secret=new, previous_secret=old, previous_secret_expires_at=clock.now + timedelta(hours=1)))
    await _emit(database, world)
    only_old, only_new = Receiver([old]), Receiver([new])
    for receiver in (only_old, only_new):  # a receiver on either secret accepts
        async with database.transaction() as s:
            await s.execute(update(WebhookDelivery).values(status="pending", next_attempt_at=clock.now))
        assert (await _worker(database, settings, receiver, clock).step()).delivered == 1
        assert receiver.bad_signatures == 0
    assert len(only_old.requests[0].headers["webhook-signature"].split(" ")) == 2
    clock.advance(2 * 3600)  # the overlap is over: only the new secret signs
    async with database.transaction() as s:
        await s.execute(update(WebhookDelivery).values(status="pending", next_attempt_at=clock.now))
    late = Receiver([old])
    assert (await _worker(database, settings, late, clock).step()).delivered == 0
    assert late.bad_signatures == 1 and len(late.requests[0].headers["webhook-signature"].split(" ")) == 1


async def test_receiver_down_then_back_every_event_is_accepted_exactly_once(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world, 6)
    outage = [503, 503, httpx.ConnectError("refused"), 500, httpx.ReadTimeout("slow"), 502, 503, 503]
    failures = len(outage)
    receiver, clock = Receiver([sub.secret], script=outage), Clock()
    worker = _worker(database, settings, receiver, clock, webhook_max_attempts=10)
    for _ in range(30):
        await worker.step()
        if await _statuses(database) == ["delivered"] * 6:
            break
        clock.advance(700)  # past any backoff (cap 600 s)
    assert await _statuses(database) == ["delivered"] * 6
    assert len(receiver.accepted) == 6 and set(receiver.accepted.values()) == {1}
    assert len(receiver.requests) == 6 + failures
    async with database.transaction(write=False) as s:
        attempts = sorted((await s.scalars(select(WebhookDelivery.attempts))).all())
    assert sum(attempts) == len(receiver.requests)


async def test_failures_back_off_with_full_jitter_and_die_after_the_limit(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world)
    receiver, clock = Receiver([sub.secret], script=[500] * 10), Clock()
    worker = _worker(database, settings, receiver, clock, webhook_max_attempts=3)
    for attempt in (1, 2):
        assert (await worker.step()).failed == 1
        async with database.transaction(write=False) as s:
            d = await s.scalar(select(WebhookDelivery))
        assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("pending", attempt, 500, "HTTP 500")
        wait = (d.next_attempt_at - clock.now).total_seconds()
        assert 0 <= wait <= 10 * 2 ** (attempt - 1)
        assert (await worker.step()).claimed == 0  # not due yet
        clock.advance(wait + 1)
    assert (await worker.step()).dead == 1
    assert await _statuses(database) == ["dead"]
    clock.advance(10_000)
    assert (await worker.step()).claimed == 0  # dead stays dead until replayed


def test_backoff_is_full_jitter_under_the_capped_exponential():
    s = type("S", (), {"webhook_backoff_base_seconds": 10.0, "webhook_backoff_cap_seconds": 300.0})()
    rng = random.Random(1)
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (6, 300), (20, 300)):
        values = [wd.backoff_seconds(attempts, s, rng) for _ in range(200)]
        assert 0 <= min(values) and max(values) <= ceiling
        assert max(values) > ceiling * 0.8  # spread over the whole range, not clustered


async def test_replay_makes_a_dead_delivery_due_again(client, world, database, settings):
    _, sub = await subscribe(database, world, "hainan")
    await _emit(database, world)
    clock = Clock()
    await _worker(database, settings, Receiver([sub.secret], script=[500]), clock, webhook_max_attempts=1).step()
    assert await _statuses(database) == ["dead"]
    async with database.transaction(write=False) as s:
        delivery_id = await s.scalar(select(WebhookDelivery.id))
    r = await client.post(f"/webhook-deliveries/{delivery_id}/replay", headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    receiver = Receiver([sub.secret])
    assert (await _worker(database, settings, receiver, Clock(), webhook_max_attempts=1).step()).delivered == 1
    assert await _statuses(database) == ["delivered"]


async def test_a_target_that_now_resolves_inward_is_not_contacted(world, database, settings, monkeypatch):
    _, sub = await subscribe(database, world, url="https://rebind.example/hooks")
    await _emit(database, world)

    async def inward(host: str, port: int) -> list[str]:
        return ["10.0.0.8"]

    monkeypatch.setattr(ssrf, "resolver", inward)
    receiver = Receiver([sub.secret])
    assert (await _worker(database, settings, receiver, Clock()).step()).failed == 1
    assert receiver.requests == []
    async with database.transaction(write=False) as s:
        d = await s.scalar(select(WebhookDelivery))
    assert d.last_error.startswith("target refused") and "private" in d.last_error


async def test_a_public_target_is_contacted_at_the_address_that_was_checked(world, database, settings,
                                                                            monkeypatch):
    _, sub = await subscribe(database, world, url="https://hooks.example.org:8443/in")
    await _emit(database, world)

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    monkeypatch.setattr(ssrf, "resolver", public)
    receiver = Receiver([sub.secret])
    assert (await _worker(database, settings, receiver, Clock()).step()).delivered == 1
    [request] = receiver.requests
    assert (request.url.host, request.url.port, request.url.path) == ("93.184.216.34", 8443, "/in")
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"  # TLS still checks the name


async def test_an_expired_claim_is_taken_over_and_the_late_result_is_not_recorded(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world)
    clock, s = Clock(), worker_settings(settings, webhook_claim_seconds=60)
    [first] = await wd.claim(database, "w1", s, now=clock.now)
    assert await wd.claim(database, "w2", s, now=clock.now) == []  # in flight: not due
    clock.advance(61)  # w1 died
    assert await wd.claim(database, "w2", s, now=clock.now) == [first]
    receiver = Receiver([sub.secret])
    assert await wd.deliver(database, receiver.client(), s, "w1", first, clock=clock) == "lost_claim"
    assert await wd.deliver(database, receiver.client(), s, "w2", first, clock=clock) == "delivered"


async def test_a_paused_subscription_gets_no_attempt(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world)
    async with database.transaction() as s:
        await s.execute(update(WebhookSubscription).values(is_active=False))
    receiver = Receiver([sub.secret])
    assert (await _worker(database, settings, receiver, Clock()).step()).dead == 1
    assert receiver.requests == []


@pytest.mark.postgres_only
@pytest.mark.skipif(TEST_DB != "postgres", reason="SKIP LOCKED is PostgreSQL's; SQLite has one writer")
async def test_two_workers_claiming_at_once_never_share_a_delivery(world, database, settings):
    await subscribe(database, world)
    await _emit(database, world, 40)
    s = worker_settings(settings, webhook_batch_size=15)
    clock = Clock()
    rounds: list[list[uuid.UUID]] = []
    for _ in range(3):
        rounds += await asyncio.gather(*(wd.claim(database, f"w{i}", s, now=clock.now) for i in range(4)))
    claimed = [d for batch in rounds for d in batch]
    assert len(claimed) == len(set(claimed)) == 40
    async with database.transaction(write=False) as session:
        owners = (await session.execute(select(WebhookDelivery.claimed_by, func.count())
                                        .group_by(WebhookDelivery.claimed_by))).all()
    assert sum(n for _, n in owners) == 40 and len(owners) > 1  # really concurrent, and disjoint


@pytest.mark.postgres_only
@pytest.mark.skipif(TEST_DB != "postgres", reason="SKIP LOCKED is PostgreSQL's; SQLite has one writer")
async def test_a_claim_skips_rows_another_worker_holds_locked(world, database, settings):
    await subscribe(database, world)
    await _emit(database, world, 4)
    s = worker_settings(settings)
    holder = database.write_sessions()
    await holder.begin()
    held = list((await holder.scalars(select(WebhookDelivery.id).limit(2).with_for_update())).all())
    try:
        got = await asyncio.wait_for(wd.claim(database, "w2", s, now=Clock().now), 5)
    finally:
        await holder.rollback()
        await holder.close()
    assert len(got) == 2 and not set(got) & set(held)  # did not wait, did not take the locked ones


# ---------------------------------------------------------------------------------- the sweep


async def test_the_reminder_sweep_announces_overdue_once_and_notifies_idempotently(client, world, database):
    finding = await assigned_finding(client, world)
    async with database.transaction() as s:
        await s.execute(update(Finding).where(Finding.id == uuid.UUID(finding["id"])).values(
            deadline=date.today() - timedelta(days=3)))
    now = Clock().now
    for _ in range(2):
        async with database.transaction() as s:
            await reminders.sweep(s, now=now)
    async with database.transaction(write=False) as s:
        overdue = (await s.scalars(select(Event).where(Event.type == "finding.overdue"))).all()
        passed = (await s.scalars(select(Notification).where(Notification.kind == "deadline_passed"))).all()
    assert [e.subject_id for e in overdue] == [finding["id"]]
    # env's leader, staff and office, once each however often the sweep runs
    assert sorted(n.user_id for n in passed) == sorted(world.users[f"env_{r}"].id for r in ("leader", "staff", "office"))


async def test_a_tampered_body_or_a_shifted_timestamp_fails_verification(world, database, settings):
    """RELIABILITY REL-10, with the receiver's check of README "Verifying webhooks"."""
    _, sub = await subscribe(database, world)
    await _emit(database, world)
    receiver, clock = Receiver([sub.secret]), Clock()
    await _worker(database, settings, receiver, clock).step()
    [request] = receiver.requests
    now = int(clock.now.timestamp())
    assert verify(sub.secret, request.headers, request.content, tolerance=300, now=now)
    tampered = bytearray(request.content)
    tampered[10] ^= 1
    assert not verify(sub.secret, request.headers, bytes(tampered), tolerance=300, now=now)
    for shift in (-301, 301):
        assert not verify(sub.secret, request.headers, request.content, tolerance=300, now=now + shift)
    moved = httpx.Headers({**request.headers, "webhook-timestamp": str(now + 1)})
    assert not verify(sub.secret, moved, request.content)  # the timestamp is signed too


async def test_410_gone_kills_the_delivery_and_pauses_the_subscription(world, database, settings):
    _, sub = await subscribe(database, world)
    await _emit(database, world, 2)
    receiver = Receiver([sub.secret], script=[410])
    report = await _worker(database, settings, receiver, Clock(), webhook_batch_size=1).step()
    assert report.dead == 1
    async with database.transaction(write=False) as s:
        assert (await s.get(WebhookSubscription, sub.id)).is_active is False
    await _worker(database, settings, receiver, Clock()).step()
    assert len(receiver.requests) == 1  # the other event is not sent to a paused subscription
    assert await _statuses(database) == ["dead", "dead"]
