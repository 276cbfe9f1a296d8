"""The outbox: an event (and its deliveries) exists exactly when its change committed; the change feed's
positions follow commit order, and each caller reads only what it may."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import Event, Finding, WebhookDelivery
from app.services import events
from app.services.findings import commands as finding_commands
from tests.conftest import TEST_DB
from tests.webhook_helpers import assigned_finding, registered_finding, subscribe


async def _events(database, **where) -> list[Event]:
    async with database.transaction(write=False) as s:
        stmt = select(Event).order_by(Event.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Event, key) == value)
        return list((await s.scalars(stmt)).all())


async def _deliveries(database) -> list[WebhookDelivery]:
    async with database.transaction(write=False) as s:
        return list((await s.scalars(select(WebhookDelivery))).all())


async def test_a_committed_change_writes_its_event_and_one_delivery_per_matching_subscription(
        client, world, database):
    _, env_sub = await subscribe(database, world, "env")
    _, root_sub = await subscribe(database, world, "hainan", types=["finding.assigned"])
    await subscribe(database, world, "henan", client_id="edc_henan")  # another province: never
    await subscribe(database, world, "water", client_id="edc_water")  # a sibling: never
    await subscribe(database, world, "hainan", types=["finding.closed"], client_id="edc_closed")  # other type
    await subscribe(database, world, "hainan", scopes=["organisations:read"], client_id="edc_noscope")  # no read
    finding = await assigned_finding(client, world)

    [event] = await _events(database, type="finding.assigned")
    assert (event.subject_type, event.subject_id, event.organisation_id) == (
        "finding", finding["id"], world.org("env").id)
    assert event.payload["deadline"] == "2030-06-30" and event.position is None  # the worker positions it
    assert sorted(d.subscription_id for d in await _deliveries(database)) == sorted([env_sub.id, root_sub.id])
    assert {d.status for d in await _deliveries(database)} == {"pending"}


async def test_a_change_that_fails_after_emitting_leaves_no_event_and_no_delivery(
        client, world, database, monkeypatch):
    await subscribe(database, world, "env")
    finding = await registered_finding(client, world)

    async def explode(*_args, **_kwargs):
        raise RuntimeError("after the event was emitted")

    monkeypatch.setattr(finding_commands, "to_read", explode)  # fails after emit(), inside the request
    r = await client.post(f"/findings/{finding['id']}/assign", headers={
        **world.headers("env_office"), "If-Match": make_etag(finding["id"], finding["version"])}, json={
        "responsible_organisation_id": str(world.org("env").id), "deadline": "2030-06-30"})
    assert r.status_code == 500
    assert await _events(database, type="finding.assigned") == []
    assert await _deliveries(database) == []
    async with database.transaction(write=False) as s:
        assert (await s.get(Finding, uuid.UUID(finding["id"]))).status == "registered"


async def test_a_rolled_back_transaction_takes_its_event_with_it(world, database):
    await subscribe(database, world, "env")
    with pytest.raises(RuntimeError):
        async with database.transaction() as s:
            await events.emit(s, "report.submitted", ("report", "r-1"), world.org("env").id, {})
            assert await s.scalar(select(func.count()).select_from(Event)) == 1  # there, uncommitted
            raise RuntimeError("the change failed")
    assert await _events(database) == [] and await _deliveries(database) == []


async def test_a_refused_step_emits_nothing(client, world, database):
    finding = await registered_finding(client, world)
    r = await client.post(f"/findings/{finding['id']}/assign", headers={
        **world.headers("env_office"), "If-Match": make_etag(finding["id"], finding["version"] + 7)}, json={
        "responsible_organisation_id": str(world.org("env").id), "deadline": "2030-06-30"})
    assert r.status_code == 412
    assert await _events(database) == []


async def test_unknown_event_types_are_a_programming_error(database, world):
    async with database.transaction() as s:
        with pytest.raises(ValueError):
            await events.emit(s, "finding.teleported", ("finding", "x"), world.org("env").id)


# ------------------------------------------------------------------------------- feed positions


async def _position(database) -> int:
    async with database.transaction() as s:
        return await events.assign_positions(s)


async def test_positions_are_handed_out_once_in_order(world, database):
    async with database.transaction() as s:
        for n in range(3):
            await events.emit(s, "report.submitted", ("report", f"r-{n}"), world.org("env").id, {})
    assert await _position(database) == 3
    assert await _position(database) == 0  # nothing new
    rows = await _events(database)
    positions = [e.position for e in rows]
    assert positions == sorted(positions) and len(set(positions)) == 3


@pytest.mark.postgres_only
@pytest.mark.skipif(TEST_DB != "postgres", reason="SQLite has one writer: ids cannot commit out of order there")
async def test_an_event_that_commits_late_gets_a_later_position_than_those_already_served(world, database):
    """T1 inserts first (smaller id) but commits after T2; a poller that read T2's position must still
    get T1 on its next poll. With positions = ids it would have skipped it for good."""
    env = world.org("env").id
    slow = database.write_sessions()
    await slow.begin()
    early = await events.emit(slow, "report.submitted", ("report", "early"), env, {})
    async with database.transaction() as fast:
        late = await events.emit(fast, "report.submitted", ("report", "late"), env, {})
    assert early.id < late.id
    assert await _position(database) == 1  # only the committed one
    [served] = await _events(database, subject_id="late")
    await slow.commit()
    await slow.close()
    assert await _position(database) == 1
    [caught] = await _events(database, subject_id="early")
    assert caught.position > served.position  # a poll with after=served.position returns it
