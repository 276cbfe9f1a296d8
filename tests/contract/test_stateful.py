"""Stateful contract fuzzing: chains of calls along the OpenAPI links (RELIABILITY.md 4.1).

Left to itself, schemathesis 4.32 never starts a chain at `POST /organisations`: its
dependency analysis sees `parent_id`, `superior_department_id`, … as references to
resources no operation produces, so it prefers roots such as `GET /me` and the chains
never reach an update or an action. Here each resource gets its own walk over its own
operations, and every scenario starts by creating a record under the fuzz world's root,
drawn from the create operation's schema; from there the links (id, ETag → If-Match)
carry it into reads, updates and actions. The walk must then show a 2xx on every write
route of the resource, so a link that stops working fails the suite instead of quietly
shrinking the walk.

How the run is judged, and why not by Hypothesis alone:
- Every scenario starts from a freshly built world (tables emptied), so its answers depend
  on its own calls only.
- Check failures (5xx, schema violations, non-problem errors, …) are collected and asserted
  afterwards instead of raised. Schemathesis follows links by a coin outside Hypothesis's
  control (`use_true_random`), so replaying a scenario to shrink it can take other branches
  and Hypothesis would report `FlakyStrategyDefinition` instead of the failure itself.
- For the same reason a run can stop with `Flaky` before its scenario budget is spent; the
  walk then starts another run, as the schemathesis CLI does, until the budget is spent or
  every write route has answered 2xx (at most `MAX_SCENARIOS` scenarios).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis.errors import Flaky
from hypothesis.stateful import initialize, precondition, rule
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from schemathesis.config._phases import InferenceConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.errors import is_inconsistent_replay
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, normalize_name

from app.core import security
from app.core.db import Database
from app.main import create_app
from tests.contract.fuzzing import DeferredApp, fresh_world, load_schema
from tests.factories import World, token_for

SCENARIOS = int(os.environ.get("FUZZ_EXAMPLES", "15"))
MAX_SCENARIOS = 4 * SCENARIOS
STEPS = 12
RECORDS_PER_SCENARIO = 3


def if_match_required(document: dict[str, Any]) -> None:
    """Mark If-Match required, as the service treats it (428 without it). The committed contract
    still says optional (the 428 comes from the service, not from FastAPI), and schemathesis then
    leaves the ETag out of almost half the linked writes: the user walk needed up to 60 scenarios
    for one deactivate → reactivate chain."""
    for operation in (op for item in document["paths"].values() for op in item.values()):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                parameter["required"] = True


DEFERRED = DeferredApp()
schema = load_schema(DEFERRED, adjust=if_match_required)
# Only the links the contract declares: the inferred ones carry an id but never its ETag, so their
# writes end in 428 and, in a scenario of a few steps, crowd out the declared links.
schema.config.phases.stateful.inference = InferenceConfig(algorithms=[])


@dataclass
class WalkLog:
    """What one walk saw: answers per (method, path template, status), check failures, scenarios."""

    responses: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    scenarios: int = 0
    flaky_runs: int = 0

    def successes(self, method: str, path: str) -> int:
        return sum(n for (m, p, status), n in self.responses.items() if (m, p) == (method, path) and status < 300)


class WalkHooks:
    """Mixed into each resource's state machine: fresh world per scenario, the root admin's
    token on every call, every answer counted, check failures collected."""

    database_url: ClassVar[str] = ""
    log: ClassVar[WalkLog] = WalkLog()

    def setup(self) -> None:
        super().setup()
        self.world: World = asyncio.run(fresh_world(self.database_url))
        self.token = token_for(self.world.users["admin"])
        self.records = 0
        self.log.scenarios += 1

    def get_call_kwargs(self, case):
        return {"headers": {"Authorization": f"Bearer {self.token}"}}

    def after_call(self, response, case) -> None:
        super().after_call(response, case)
        self.log.responses[(case.method.upper(), case.operation.path, response.status_code)] += 1

    def validate_response(self, response, case, **kwargs) -> None:
        try:
            super().validate_response(response, case, **kwargs)
        except FailureGroup as failures:
            self.log.failures.append(failures.message)

    def start_with(self, case):
        """Run `case` as a step no link led to, recorded the way schemathesis records its own
        roots, so that the links from its answer find their parent."""
        self.records += 1
        step = StepInput.initial(case)
        self.recorder.record_case(case=case)
        self.control.record_step(step, self.recorder)
        return APIStateMachine._step(self, input=step)


def chains_only(machine: type[WalkHooks]) -> type[WalkHooks]:
    """Drop schemathesis' random-data roots for operations that take an id in the path: with a
    random id they answer 404 (the stateless fuzzer covers that), and they took half the steps."""
    labels = {label for label in machine._root_labels if "{" in label}
    for label in labels:
        name = normalize_name(f"RANDOM -> {label}")
        assert name in machine.root_rules, f"schemathesis no longer names its root rules {name!r}"
        setattr(machine, name, None)  # Hypothesis collects rules by attribute: None hides the base's
    machine._root_labels = machine._root_labels - labels
    return machine


# ------------------------------------------------------------------------- organisations

OrganisationBase = schema.include(path_regex="^/organisations").as_state_machine()
# Optional create fields that name other records or are valid only with certain others (a profile
# only on roots, member units only on coordination bodies, a channel's format per kind): left out,
# so that most scenarios get their 201; updates fuzz them through the links.
_REFERENCES = ("superior_department_id", "member_unit_ids", "profile_code", "complaint_channels")


_ORGANISATION_CREATED = OrganisationBase.bundles["POST /organisations -> 201"]
_ORGANISATION_CREATE = schema["/organisations"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                                    phase=TestPhase.STATEFUL)


@chains_only
class OrganisationWalk(WalkHooks, OrganisationBase):
    @initialize(target=_ORGANISATION_CREATED, case=_ORGANISATION_CREATE)
    def create_organisation(self, case):
        return self.create_under_root(case)

    # Schemathesis caps the calls per source, so the links run dry within a scenario; without another
    # record Hypothesis would stop the run ("no progress can be made"). A few, or creates crowd out the rest.
    @precondition(lambda self: self.records < RECORDS_PER_SCENARIO)
    @rule(target=_ORGANISATION_CREATED, case=_ORGANISATION_CREATE)
    def create_another_organisation(self, case):
        return self.create_under_root(case)

    def create_under_root(self, case):
        body = {key: value for key, value in case.body.items() if key not in _REFERENCES}
        case.body = {**body, "parent_id": str(self.world.org("hainan").id)}
        return self.start_with(case)


ORGANISATION_WRITES = (
    ("POST", "/organisations"),
    ("PATCH", "/organisations/{organisation_id}"),
    ("POST", "/organisations/{organisation_id}/deactivate"),
    ("POST", "/organisations/{organisation_id}/reactivate"),
)

# --------------------------------------------------------------------------------- users

UserBase = schema.include(path_regex="^/users").as_state_machine()


_USER_CREATED = UserBase.bundles["POST /users -> 201"]
_USER_CREATE = schema["/users"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE, phase=TestPhase.STATEFUL)


@chains_only
class UserWalk(WalkHooks, UserBase):
    @initialize(target=_USER_CREATED, case=_USER_CREATE)
    def create_user(self, case):
        return self.create_in_a_department(case)

    @precondition(lambda self: self.records < RECORDS_PER_SCENARIO)  # as for organisations
    @rule(target=_USER_CREATED, case=_USER_CREATE)
    def create_another_user(self, case):
        return self.create_in_a_department(case)

    def create_in_a_department(self, case):
        # Hypothesis draws the same small username again and again: a suffix keeps the later ones
        # from all ending in 409 (the pattern allows it: a-z 0-9 . _ @ -, up to 64).
        username = f"{case.body['username'][:60]}-{self.records}"
        roles = [m["role"] for m in case.body.get("memberships", [])] or ["staff"]
        case.body = {**case.body, "username": username,
                     "memberships": [{"organisation_id": str(self.world.org("env").id), "role": roles[0]}]}
        return self.start_with(case)


USER_WRITES = (
    ("POST", "/users"),
    ("PATCH", "/users/{user_id}"),
    ("POST", "/users/{user_id}/deactivate"),
    ("POST", "/users/{user_id}/reactivate"),
    ("POST", "/users/{user_id}/password"),
    ("POST", "/users/{user_id}/memberships"),
    ("DELETE", "/users/{user_id}/memberships/{membership_id}"),
)


# ---------------------------------------------------------------------------- duty lists

DutyListBase = schema.include(path_regex="^/(duty-lists|responsibility-items)").as_state_machine()
_DUTY_LIST_CREATED = DutyListBase.bundles["POST /duty-lists -> 201"]
_DUTY_LIST_CREATE = schema["/duty-lists"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                              phase=TestPhase.STATEFUL)


async def _duty_worker(database_url: str, world: World) -> str:
    """A token for someone who is both staff and leader at env: the walk acts as one caller, and a
    list needs staff to draft and revise it and its leader to publish and retire it (000 §(七))."""
    from app.models import Role
    from tests.factories import make_user

    database = Database(database_url, pooled=False)
    try:
        async with database.transaction() as session:
            user = await make_user(session, "t.env.worker", (world.org("env"), Role.staff),
                                   (world.org("env"), Role.leader))
        return token_for(user)
    finally:
        await database.dispose()


_ITEM_CREATED = DutyListBase.bundles["POST /duty-lists/{duty_list_id}/items -> 201"]
_ITEM_CREATE = schema["/duty-lists/{duty_list_id}/items"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                                              phase=TestPhase.STATEFUL)
_ITEM_WRITE_PATHS = ("/duty-lists/{duty_list_id}/items", "/responsibility-items/{item_id}")
_ITEM_REFERENCES = ("lead_organisation_ids", "first_lead_organisation_id", "cooperating_organisation_ids",
                    "decomposition", "complaint_channels")


@chains_only
class DutyListWalk(WalkHooks, DutyListBase):
    def setup(self) -> None:
        super().setup()
        self.token = asyncio.run(_duty_worker(self.database_url, self.world))

    @initialize(target=_DUTY_LIST_CREATED, case=_DUTY_LIST_CREATE)
    def create_duty_list(self, case):
        # One list per organisation: the walk's list is env's, and later creates are the 409 they should be.
        case.body = {**case.body, "organisation_id": str(self.world.org("env").id)}
        return self.start_with(case)

    # Item updates and deletes start only from an item-create answer, and the links to that create
    # compete with every other link from a list's answers. Adding items to the walk's lists directly
    # doubles the item creates per walk (about 20 → 45 with 2xx, same scenario budget).
    @precondition(lambda self: self.records < RECORDS_PER_SCENARIO)
    @rule(target=_ITEM_CREATED, duty_list=_DUTY_LIST_CREATED, case=_ITEM_CREATE)
    def add_item(self, duty_list, case):
        case.path_parameters = {**(case.path_parameters or {}), "duty_list_id": duty_list.response.json()["id"]}
        return self.start_with(case)

    def before_call(self, case) -> None:
        """Item writes drawn as valid data leave out the fields that must name records of the
        province (lead and cooperating organisations, units) or follow a format per kind (complaint
        channels): drawn at random those are a 422 almost every time, and a CI run saw no 2xx on
        `PATCH /responsibility-items/{item_id}` in 67 scenarios. Invalid data is sent as drawn, or
        leaving a field out could turn it valid and fail the negative check."""
        super().before_call(case)
        body = case.meta.components.get(ParameterLocation.BODY) if case.meta else None
        if (case.operation.path in _ITEM_WRITE_PATHS and isinstance(case.body, dict)
                and body is not None and body.mode is GenerationMode.POSITIVE):
            case.body = {key: value for key, value in case.body.items() if key not in _ITEM_REFERENCES}


DUTY_LIST_WRITES = (
    ("POST", "/duty-lists"),
    ("PATCH", "/duty-lists/{duty_list_id}"),
    ("POST", "/duty-lists/{duty_list_id}/publish"),
    ("POST", "/duty-lists/{duty_list_id}/revise"),
    ("POST", "/duty-lists/{duty_list_id}/items"),
    ("PATCH", "/responsibility-items/{item_id}"),
    ("DELETE", "/responsibility-items/{item_id}"),
)


# --------------------------------------------------------------------------------- tests


@pytest.fixture
def cheap_hashing(monkeypatch):
    """The walk checks the contract, not the hash cost: full-cost argon2id (about 120 ms, AUTH-2)
    for every user created or password reset was most of the user walk's time."""
    monkeypatch.setattr(security, "_password_hash",
                        PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1),)))


@pytest.fixture
def walk_app(settings, database):
    """The app under test; depending on `database` empties the tables afterwards."""
    # The sync ASGI client runs each call on a fresh event loop: no pooled connections.
    DEFERRED.target = create_app(settings, Database(settings.database_url, pooled=False))
    yield settings.database_url
    DEFERRED.target = None


def _walk(machine: type[WalkHooks], database_url: str, writes: tuple[tuple[str, str], ...]) -> WalkLog:
    machine.database_url, machine.log = database_url, WalkLog()
    log = machine.log

    def unreached() -> list[str]:
        return [f"{method} {path}" for method, path in writes if log.successes(method, path) == 0]

    while log.scenarios < SCENARIOS or (unreached() and log.scenarios < MAX_SCENARIOS):
        budget = max(SCENARIOS - log.scenarios, 5)
        try:
            machine.run(settings=settings(machine.TestCase.settings, max_examples=budget, stateful_step_count=STEPS,
                                          derandomize=False, database=None))
        except (Flaky, AssertionError) as exc:
            # A replay took another branch (see the module docstring); Hypothesis reports some of
            # those as an AssertionError from its data tree, which schemathesis recognises too.
            if not (isinstance(exc, Flaky) or is_inconsistent_replay(exc)):
                raise
            log.flaky_runs += 1
    return log


def _assert_walk(log: WalkLog, writes: tuple[tuple[str, str], ...]) -> None:
    assert log.failures == [], "\n".join(log.failures)
    assert [key for key in log.responses if key[2] >= 500] == []
    unreached = [f"{method} {path}" for method, path in writes if log.successes(method, path) == 0]
    assert unreached == [], (f"no 2xx in {log.scenarios} scenarios ({log.flaky_runs} runs ended by Flaky): "
                             f"{unreached}; saw {sorted(log.responses.items())}")


@pytest.mark.fuzz
def test_organisation_walk_reaches_every_write_without_failures(walk_app):
    _assert_walk(_walk(OrganisationWalk, walk_app, ORGANISATION_WRITES), ORGANISATION_WRITES)


@pytest.mark.fuzz
def test_user_walk_reaches_every_write_without_failures(walk_app, cheap_hashing):
    _assert_walk(_walk(UserWalk, walk_app, USER_WRITES), USER_WRITES)


@pytest.mark.fuzz
def test_duty_list_walk_reaches_every_write_without_failures(walk_app):
    _assert_walk(_walk(DutyListWalk, walk_app, DUTY_LIST_WRITES), DUTY_LIST_WRITES)
