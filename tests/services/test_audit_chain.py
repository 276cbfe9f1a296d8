"""The audit trail is one unbroken hash chain under concurrency, and tampering shows
(RELIABILITY.md finding 7 and REL-11).

The chain is shared by the whole test session (audit_event is append-only and never
emptied), so every test that breaks it on purpose restores it in `finally` and checks
that the verifier agrees again.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from app.models import AuditChainHead, AuditEvent
from app.services import audit

N = 50


def is_postgres(database) -> bool:
    return not database.is_sqlite


async def head(database) -> tuple[int, str]:
    async with database.transaction(write=False) as session:
        row = (await session.execute(select(AuditChainHead.seq, AuditChainHead.hash))).one()
    return row.seq, row.hash


async def verify(database) -> audit.ChainReport:
    async with database.transaction(write=False) as session:
        return await audit.verify_chain(session)


async def write_concurrently(database, resource_type: str, n: int = N) -> None:
    """n writers, each its own session and transaction, released together."""
    start = asyncio.Event()

    async def one(i: int) -> None:
        await start.wait()
        async with database.sessions(write=True)() as session:
            audit.record(session, action="chain_test.write", resource_type=resource_type, resource_id=i,
                         after={"i": i, "text": "整改完成"})
            await audit.flush_pending(session)
            await session.commit()

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(0)
    start.set()
    await asyncio.gather(*tasks)


async def events_of(database, resource_type: str) -> list[AuditEvent]:
    async with database.transaction(write=False) as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.resource_type == resource_type)
                                           .order_by(AuditEvent.seq))).all())


@asynccontextmanager
async def append_only_guards_off(database):
    """One transaction in which the append-only triggers are off: what a DBA with superuser rights
    could do. The guards come back before the transaction ends, in every case."""
    async with database.transaction() as session:
        conn = await session.connection()
        if is_postgres(database):
            await conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_delete")
            try:
                yield session
            finally:
                await conn.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_delete")
        else:
            # SQLite keeps each trigger's CREATE statement verbatim: recreate exactly what the migration made.
            triggers = (await conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).all()
            assert {t.name for t in triggers} == {"audit_event_no_update", "audit_event_no_delete"}
            for trigger in triggers:
                await conn.exec_driver_sql(f"DROP TRIGGER {trigger.name}")
            try:
                yield session
            finally:
                for trigger in triggers:
                    await conn.exec_driver_sql(trigger.sql)


async def assert_chain_intact(database) -> None:
    report = await verify(database)
    assert (report.ok, report.problem, report.first_broken_seq) == (True, None, None)
    assert (report.checked, report.head_seq, report.head_hash) == (report.head_seq, *await head(database))


class TestConcurrentWriters:
    async def test_fifty_concurrent_writers_extend_one_unbroken_chain(self, database):
        token = f"chain-{uuid.uuid4().hex[:12]}"
        seq_before, hash_before = await head(database)
        await write_concurrently(database, token)

        seq_after, _ = await head(database)
        assert seq_after == seq_before + N
        events = await events_of(database, token)
        assert [e.seq for e in events] == list(range(seq_before + 1, seq_before + N + 1))  # contiguous, all ours
        assert sorted(e.resource_id for e in events) == sorted(str(i) for i in range(N))
        links = [hash_before] + [e.hash for e in events[:-1]]
        assert [e.prev_hash for e in events] == links
        await assert_chain_intact(database)

    async def test_verifying_while_others_write_finds_no_false_break(self, database):
        """An admin may check the chain at any time: concurrent commits are not tampering."""
        token = f"chain-{uuid.uuid4().hex[:12]}"
        for _ in range(3):
            writers = asyncio.create_task(write_concurrently(database, token, n=30))
            reports = []
            while not writers.done():
                reports.append(await verify(database))
            await writers
            assert reports and all(r.ok for r in reports), [(r.problem, r.checked, r.head_seq) for r in reports]
        await assert_chain_intact(database)


class TestAppendOnly:
    async def _some_event(self, database) -> AuditEvent:
        token = f"chain-{uuid.uuid4().hex[:12]}"
        await write_concurrently(database, token, n=1)
        (event,) = await events_of(database, token)
        return event

    @pytest.mark.parametrize("statement", [
        "UPDATE audit_event SET actor_name = 'someone else' WHERE seq = :seq",
        "DELETE FROM audit_event WHERE seq = :seq",
    ], ids=["update", "delete"])
    async def test_the_database_refuses_updates_and_deletes(self, database, statement):
        event = await self._some_event(database)
        with pytest.raises(DBAPIError, match="audit_event is append-only"):
            async with database.transaction() as session:
                await session.execute(text(statement), {"seq": event.seq})
        (still,) = await events_of(database, event.resource_type)
        assert (still.seq, still.actor_name, still.hash) == (event.seq, event.actor_name, event.hash)
        await assert_chain_intact(database)

    async def test_postgres_refuses_truncate(self, database):
        if not is_postgres(database):
            pytest.skip("SQLite has no TRUNCATE; DELETE is covered above")
        with pytest.raises(DBAPIError, match="audit_event is append-only"):
            async with database.transaction() as session:
                await session.execute(text("TRUNCATE audit_event"))
        await assert_chain_intact(database)


class TestTamperDetection:
    async def test_an_edited_event_is_flagged_at_exactly_its_seq(self, database):
        token = f"chain-{uuid.uuid4().hex[:12]}"
        await write_concurrently(database, token, n=5)
        target = (await events_of(database, token))[2]
        change = "UPDATE audit_event SET actor_name = :name WHERE seq = :seq"
        try:
            async with append_only_guards_off(database) as session:
                await session.execute(text(change), {"name": "someone else", "seq": target.seq})
            report = await verify(database)
            assert (report.ok, report.first_broken_seq, report.problem) == (False, target.seq, "event altered")
            assert report.checked == target.seq - 1
        finally:
            async with append_only_guards_off(database) as session:
                await session.execute(text(change), {"name": target.actor_name, "seq": target.seq})
        await assert_chain_intact(database)

    async def test_a_deleted_newest_event_is_detected(self, database):
        event = await TestAppendOnly()._some_event(database)
        assert (await head(database))[0] == event.seq
        row = dict((await self._row(database, event.seq))._mapping)
        try:
            async with append_only_guards_off(database) as session:
                await session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": event.seq})
            report = await verify(database)
            assert (report.ok, report.first_broken_seq, report.problem) == (
                False, event.seq, "chain head does not match the events")
        finally:
            async with database.transaction() as session:  # INSERT is allowed: put it back as it was
                await session.execute(insert(AuditEvent.__table__).values(**row))
        await assert_chain_intact(database)

    async def test_a_deleted_middle_event_is_detected(self, database):
        token = f"chain-{uuid.uuid4().hex[:12]}"
        await write_concurrently(database, token, n=3)
        middle = (await events_of(database, token))[1]
        row = dict((await self._row(database, middle.seq))._mapping)
        try:
            async with append_only_guards_off(database) as session:
                await session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": middle.seq})
            report = await verify(database)
            assert (report.ok, report.first_broken_seq, report.problem) == (False, middle.seq, "missing event")
        finally:
            async with database.transaction() as session:
                await session.execute(insert(AuditEvent.__table__).values(**row))
        await assert_chain_intact(database)

    async def test_an_event_slipped_in_above_the_head_is_detected(self, database):
        await TestAppendOnly()._some_event(database)
        seq, last_hash = await head(database)
        forged = {**dict((await self._row(database, seq))._mapping), "seq": seq + 1, "id": uuid.uuid4(),
                  "prev_hash": last_hash, "actor_name": "nobody"}
        try:
            async with database.transaction() as session:
                await session.execute(insert(AuditEvent.__table__).values(**forged))
            report = await verify(database)
            assert (report.ok, report.first_broken_seq, report.problem) == (
                False, seq + 1, "event beyond the chain head")
        finally:
            async with append_only_guards_off(database) as session:
                await session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": seq + 1})
        await assert_chain_intact(database)

    async def _row(self, database, seq: int):
        async with database.transaction(write=False) as session:
            return (await session.execute(select(AuditEvent.__table__).where(AuditEvent.seq == seq))).one()
