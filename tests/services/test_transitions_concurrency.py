"""The generic workflow step (app/services/transitions.py) on a test-only table.

The foundation's acceptance test (RELIABILITY.md finding 3, REL-02/03/04): 50 simultaneous
identical actions on one record give exactly one success, one history row and one audit
event, on PostgreSQL and on SQLite. Each attempt is its own session and transaction,
committed the way the request dependency commits (audit flushed just before commit).
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from datetime import date
from typing import ClassVar

import pytest
from sqlalchemy import MetaData, String, Uuid, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.authz.principal import Grant, Principal
from app.core.context import actor_var
from app.core.errors import BusinessRuleViolation, Conflict, NotFound, StaleResource, TransitionNotAllowed
from app.core.etag import make_etag
from app.models import AuditEvent, Role, TransitionHistory
from app.models.organisation import enum_column
from app.services import audit
from app.services.transitions import apply_transition
from app.workflows.engine import Transition, WorkflowTable

RESOURCE = "test_workflow_item"
ORG = uuid.uuid4()
LEADER = Principal(kind="user", id=uuid.uuid4(), name="测试负责人", grants=(Grant(ORG, Role.leader),))
N = 50
ROUNDS = 5


class ItemStatus(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"


class ItemBase(DeclarativeBase):  # its own MetaData: never part of the app's schema or migrations
    metadata = MetaData()
    type_annotation_map: ClassVar[dict] = {uuid.UUID: Uuid()}


class WorkflowItem(ItemBase):
    __tablename__ = RESOURCE

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus))
    version: Mapped[int]
    organisation_id: Mapped[uuid.UUID | None]
    due_date: Mapped[date | None]
    notes: Mapped[int] = mapped_column(default=0)
    label: Mapped[str | None] = mapped_column(String(50))


TABLE = WorkflowTable(RESOURCE, ItemStatus, ItemStatus.draft, [
    Transition("submit", {ItemStatus.draft}, ItemStatus.submitted, frozenset({Role.leader})),
    Transition("approve", {ItemStatus.submitted}, ItemStatus.approved, frozenset({Role.leadership})),
    Transition("return", {ItemStatus.submitted}, ItemStatus.draft, frozenset({Role.leadership}),
               requires_comment=True),
    Transition("note", {ItemStatus.submitted}, ItemStatus.submitted, frozenset({Role.leader})),  # a self-loop
])


@pytest.fixture(scope="module")
async def item_table(database):
    async with database.engine.begin() as conn:
        await conn.run_sync(ItemBase.metadata.create_all)
    yield
    async with database.engine.begin() as conn:
        await conn.run_sync(ItemBase.metadata.drop_all)


async def new_item(database, status=ItemStatus.draft, version=1) -> uuid.UUID:
    item_id = uuid.uuid4()
    async with database.transaction() as session:
        session.add(WorkflowItem(id=item_id, status=status, version=version, organisation_id=ORG))
    return item_id


async def state_of(database, item_id):
    async with database.transaction(write=False) as session:
        item = await session.get(WorkflowItem, item_id)
        history = (await session.scalars(select(TransitionHistory).where(
            TransitionHistory.resource_id == item_id).order_by(TransitionHistory.occurred_at))).all()
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.resource_type == RESOURCE, AuditEvent.resource_id == str(item_id))
            .order_by(AuditEvent.seq))).all()
    return item, list(history), list(events)


async def attempt(database, item_id, *, action="submit", principal=LEADER, roles=frozenset({Role.leader}),
                  expected_version=None, comment=None, **kw):
    """One caller: its own write session, committed like `app.dependencies.get_session` does."""
    actor_var.set(principal.actor)  # a task runs in a copy of the context, as a request does
    async with database.sessions(write=True)() as session:
        try:
            row = await apply_transition(
                session, table=TABLE, model=WorkflowItem, record_id=item_id, action=action, principal=principal,
                caller_roles=roles, expected_version=expected_version, comment=comment, organisation_id=ORG, **kw)
            await audit.flush_pending(session)
            await session.commit()
            return row
        except BaseException:
            await session.rollback()
            raise


async def race(database, item_id, *, n=N, **kw) -> tuple[list, float]:
    start = asyncio.Event()

    async def one():
        await start.wait()
        try:
            await attempt(database, item_id, **kw)
            return "ok"
        except (TransitionNotAllowed, StaleResource, Conflict) as refused:
            return refused.status

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0)  # every task is now parked on start.wait()
    began = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return results, time.perf_counter() - began


@pytest.mark.usefixtures("item_table")
class TestFiftySimultaneousIdenticalActions:
    @pytest.mark.parametrize("round_no", range(ROUNDS))
    @pytest.mark.parametrize(("expected_version", "loser_status"), [(1, 412), (None, 409)],
                             ids=["with_if_match", "without_if_match"])
    async def test_exactly_one_success(self, database, round_no, expected_version, loser_status):
        item_id = await new_item(database)
        results, elapsed = await race(database, item_id, expected_version=expected_version)
        print(f"\n[race] {database.engine.dialect.name} {N}-way expected_version={expected_version} "
              f"round {round_no}: {elapsed * 1000:.0f} ms")

        unexpected = [r for r in results if r not in ("ok", loser_status)]
        assert unexpected == [], f"no other outcome (no 'database is locked', no 500s): {unexpected!r}"
        assert results.count("ok") == 1
        assert results.count(loser_status) == N - 1
        item, history, events = await state_of(database, item_id)
        assert (item.status, item.version) == (ItemStatus.submitted, 2)
        assert [(h.action, h.from_status, h.to_status) for h in history] == [("submit", "draft", "submitted")]
        assert [(e.action, e.before, e.after) for e in events] == [
            (f"{RESOURCE}.submit", {"status": "draft", "version": 1}, {"status": "submitted", "version": 2})]

    async def test_self_loop_actions_lose_no_update(self, database):
        """REL-03: an action allowed again in the new state retries instead of failing; what is reported
        as done is exactly what happened (version, history and audit all agree)."""
        item_id = await new_item(database, status=ItemStatus.submitted)
        results, _ = await race(database, item_id, n=20, action="note")
        assert set(results) <= {"ok", 409}, results
        done = results.count("ok")
        assert done >= 1
        item, history, events = await state_of(database, item_id)
        assert (item.status, item.version) == (ItemStatus.submitted, 1 + done)
        assert len(history) == len(events) == done
        assert sorted(e.after["version"] for e in events) == list(range(2, 2 + done))


@pytest.mark.usefixtures("item_table")
class TestApplyTransition:
    async def test_moves_the_record_and_writes_one_history_row_and_one_audit_event(self, database):
        item_id = await new_item(database, status=ItemStatus.submitted, version=4)
        boss = Principal(kind="user", id=uuid.uuid4(), name="厅领导", grants=(Grant(ORG, Role.leadership),))
        acting = uuid.uuid4()
        row = await attempt(database, item_id, action="return", principal=boss, roles={Role.leadership},
                            expected_version=4, comment="  补充佐证材料  ", acting_organisation_id=acting,
                            payload={"missing": [uuid.UUID(int=1)], "on": date(2026, 12, 1)})
        assert (row.status, row.version) == (ItemStatus.draft, 5)

        item, history, events = await state_of(database, item_id)
        assert (item.status, item.version) == (ItemStatus.draft, 5)
        (h,) = history
        assert (h.resource_type, h.action, h.from_status, h.to_status) == (RESOURCE, "return", "submitted", "draft")
        assert (h.actor_id, h.actor_name, h.acting_organisation_id) == (str(boss.id), "厅领导", acting)
        assert h.comment == "补充佐证材料"
        assert h.payload == {"missing": [str(uuid.UUID(int=1))], "on": "2026-12-01"}
        (e,) = events
        assert (e.action, e.outcome, e.organisation_id) == (f"{RESOURCE}.return", "success", ORG)
        assert (e.actor_type, e.actor_id, e.actor_name) == ("user", str(boss.id), "厅领导")
        assert (e.before, e.after, e.detail) == ({"status": "submitted", "version": 4},
                                                 {"status": "draft", "version": 5}, "补充佐证材料")

    async def test_extra_values_change_in_the_same_update_and_are_audited(self, database):
        item_id = await new_item(database)
        row = await attempt(database, item_id, expected_version=1,
                            extra_values={"due_date": date(2026, 12, 31), "label": "限期整改"})
        assert (row.due_date, row.label, row.version) == (date(2026, 12, 31), "限期整改", 2)
        _, _, (event,) = await state_of(database, item_id)
        assert event.before == {"status": "draft", "version": 1, "due_date": None, "label": None}
        assert event.after == {"status": "submitted", "version": 2, "due_date": "2026-12-31", "label": "限期整改"}

    @pytest.mark.parametrize("key", ["status", "version", "id"])
    async def test_extra_values_may_not_touch_what_the_step_owns(self, database, key):
        item_id = await new_item(database)
        with pytest.raises(ValueError, match="may not set"):
            await attempt(database, item_id, extra_values={key: "x"})

    async def test_nothing_is_written_until_the_caller_commits(self, database):
        item_id = await new_item(database)
        async with database.sessions(write=True)() as session:
            row = await apply_transition(session, table=TABLE, model=WorkflowItem, record_id=item_id,
                                         action="submit", principal=LEADER, caller_roles={Role.leader},
                                         expected_version=1, comment=None, organisation_id=ORG)
            assert (row.status, row.version) == (ItemStatus.submitted, 2)  # as seen inside the transaction
            assert len(session.info[audit.PENDING_KEY]) == 1  # waiting for the caller's commit
            await session.rollback()
        item, history, events = await state_of(database, item_id)
        assert (item.status, item.version, history, events) == (ItemStatus.draft, 1, [], [])

    async def test_a_missing_record_is_404(self, database):
        with pytest.raises(NotFound) as missing:
            await attempt(database, uuid.uuid4())
        assert (missing.value.status, missing.value.detail) == (404, f"No such {RESOURCE}.")

    async def test_a_stale_expected_version_is_412_with_the_current_etag(self, database):
        item_id = await new_item(database, version=3)
        with pytest.raises(StaleResource) as stale:
            await attempt(database, item_id, expected_version=2)
        assert (stale.value.status, stale.value.code) == (412, "stale_resource")
        assert stale.value.extensions == {"current_etag": make_etag(item_id, 3)}
        await self._unchanged(database, item_id, version=3)

    async def test_the_wrong_state_is_409_naming_what_the_caller_may_do(self, database):
        item_id = await new_item(database, status=ItemStatus.submitted)
        with pytest.raises(TransitionNotAllowed) as refused:
            await attempt(database, item_id, action="submit")
        assert (refused.value.status, refused.value.code) == (409, "transition_not_allowed")
        assert refused.value.extensions == {"allowed_actions": ["note"]}
        await self._unchanged(database, item_id, status=ItemStatus.submitted)

    async def test_the_wrong_role_is_403(self, database):
        item_id = await new_item(database, status=ItemStatus.submitted)
        with pytest.raises(TransitionNotAllowed) as refused:
            await attempt(database, item_id, action="approve", roles={Role.staff})
        assert (refused.value.status, refused.value.code) == (403, "action_forbidden")
        await self._unchanged(database, item_id, status=ItemStatus.submitted)

    async def test_a_guard_sees_the_context(self, database):
        item_id = await new_item(database)
        refusing = WorkflowTable(RESOURCE, ItemStatus, ItemStatus.draft, [
            Transition("submit", {ItemStatus.draft}, ItemStatus.submitted, frozenset({Role.leader}),
                       guards=(lambda ctx: None if ctx["at_profile_org"] else "Not at the reviewing organisation.",))])
        async with database.transaction() as session:
            with pytest.raises(TransitionNotAllowed, match="Not at the reviewing organisation"):
                await apply_transition(session, table=refusing, model=WorkflowItem, record_id=item_id,
                                       action="submit", principal=LEADER, caller_roles={Role.leader},
                                       expected_version=None, comment=None, ctx={"at_profile_org": False},
                                       organisation_id=ORG)
        await self._unchanged(database, item_id)

    async def test_a_required_comment_is_checked(self, database):
        item_id = await new_item(database, status=ItemStatus.submitted)
        with pytest.raises(BusinessRuleViolation):
            await attempt(database, item_id, action="return", roles={Role.leadership}, comment=" ")
        with pytest.raises(BusinessRuleViolation, match="longer than 2000"):
            await attempt(database, item_id, action="return", roles={Role.leadership}, comment="x" * 2001)
        await self._unchanged(database, item_id, status=ItemStatus.submitted)

    async def _unchanged(self, database, item_id, *, status=ItemStatus.draft, version=1):
        item, history, events = await state_of(database, item_id)
        assert (item.status, item.version, history, events) == (status, version, [], [])
        async with database.transaction(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(TransitionHistory).where(
                TransitionHistory.resource_id == item_id)) == 0
