"""The workflow engine: transition tables as data, and the one rule that reads them.

Pure Python (CONVENTIONS.md "Workflows are data"): no database, no FastAPI. A
resource's table lists its transitions; services ask `allowed_actions` for the
read schema and `check` before the generic step in `app.services.transitions`
writes anything.

Refusals, in this order (DOMAIN.md "Resources and their workflows"):

1. no transition for the action leaves the record's state:
   - 403 when the caller holds none of the action's roles in *any* state (they
     could never take it, so "wrong state" would mislead them);
   - 409 otherwise (right person, wrong moment);
2. the transition from this state exists but the caller holds none of its roles → 403;
3. a guard refuses (e.g. the caller holds the role, but not at the organisation
   the jurisdiction profile names) → 403 with the guard's reason; a guard that
   refuses because of the record's situation rather than the caller (the profile
   has no such step, a revision is already open) returns a `WrongState` reason → 409;
4. the transition needs a comment and none was given → 422.

Every refusal names the actions the caller may take instead (`allowed_actions`).
States and roles are compared by value, so str-enums (`Role`, a resource's status
enum) and plain strings mix.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.core.errors import BusinessRuleViolation, TransitionNotAllowed

Guard = Callable[[Any], "str | None"]
"""A guard gets the service's opaque context and returns a refusal reason, or None to allow."""


class WrongState(str):
    """A guard's refusal that is about the record, not the caller: answered 409, not 403.

    `return WrongState("This list needs approval first.")` from a guard."""

_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")  # becomes a kebab-case path segment and an audit action


def value_of(item: Any) -> str:
    """A state or role as its plain string value (`Status.draft` and `"draft"` are the same state)."""
    return str(item.value) if isinstance(item, enum.Enum) else str(item)


def _values(items: Iterable[Any] | Any) -> frozenset[str]:
    if isinstance(items, (str, enum.Enum)):
        items = (items,)
    return frozenset(value_of(i) for i in items)


@dataclass(frozen=True)
class Transition:
    """One edge: `action` moves a record from any of `source` to `target`, for holders of `roles`."""

    action: str
    source: frozenset[str]
    target: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    requires_comment: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        # Accept sets, enums and strings; keep plain string values so lookups never depend on types.
        object.__setattr__(self, "source", _values(self.source))
        object.__setattr__(self, "target", value_of(self.target))
        object.__setattr__(self, "roles", _values(self.roles))
        object.__setattr__(self, "guards", tuple(self.guards))
        if not _ACTION_NAME.match(self.action):
            raise ValueError(f"action name {self.action!r} must be snake_case, at most 48 characters")
        if not self.source:
            raise ValueError(f"transition {self.action!r} has no source state")
        if not self.roles:
            raise ValueError(f"transition {self.action!r} names no role: nobody could take it")
        for guard in self.guards:
            if not callable(guard):
                raise TypeError(f"transition {self.action!r} has a guard that is not callable: {guard!r}")

    def held_by(self, caller_roles: frozenset[str]) -> bool:
        return not self.roles.isdisjoint(caller_roles)

    def refusal(self, ctx: Any) -> str | None:
        """The first guard's refusal reason, or None when every guard allows."""
        for guard in self.guards:
            reason = guard(ctx)
            if reason:
                return reason
        return None


class WorkflowTable:
    """The whole state machine of one resource, validated when it is built (at import time)."""

    def __init__(self, resource: str, states: Iterable[Any], initial: Any, transitions: Iterable[Transition]):
        self.resource = resource
        self.states: frozenset[str] = _values(states)
        self.initial: str = value_of(initial)
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        by_action: dict[str, list[Transition]] = {}
        for t in self.transitions:
            by_action.setdefault(t.action, []).append(t)
        self._by_action = {a: tuple(ts) for a, ts in by_action.items()}
        self._validate()

    def __repr__(self) -> str:
        return f"WorkflowTable({self.resource!r}, {len(self.states)} states, {len(self.transitions)} transitions)"

    def _validate(self) -> None:
        where = f"workflow {self.resource!r}"
        if not self.states:
            raise ValueError(f"{where}: no states")
        if self.initial not in self.states:
            raise ValueError(f"{where}: initial state {self.initial!r} is not one of its states")
        if len(f"{self.resource}.") + max((len(a) for a in self._by_action), default=0) > 64:
            raise ValueError(f"{where}: '<resource>.<action>' must fit the 64-character audit action")
        for t in self.transitions:
            unknown = (t.source | {t.target}) - self.states
            if unknown:
                raise ValueError(f"{where}: transition {t.action!r} uses unknown states {sorted(unknown)}")
        for action, ts in self._by_action.items():
            seen: set[str] = set()
            for t in ts:
                overlap = seen & t.source
                if overlap:
                    raise ValueError(f"{where}: action {action!r} is defined twice from {sorted(overlap)}")
                seen |= t.source

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._by_action)

    def transitions_for(self, action: str) -> tuple[Transition, ...]:
        """Every transition named `action`; ValueError for a name the table does not know (a code bug)."""
        try:
            return self._by_action[action]
        except KeyError:
            raise ValueError(f"workflow {self.resource!r} has no action {action!r}") from None

    def transition(self, action: str, status: Any) -> Transition | None:
        """The transition `action` takes from `status`, or None when it does not leave that state."""
        state = self._state(status)
        return next((t for t in self.transitions_for(action) if state in t.source), None)

    def _state(self, status: Any) -> str:
        state = value_of(status)
        if state not in self.states:
            raise ValueError(f"workflow {self.resource!r} has no state {state!r}")
        return state


def allowed_actions(table: WorkflowTable, status: Any, caller_roles: Iterable[Any], ctx: Any = None) -> list[str]:
    """Actions the caller may take now: the source includes `status`, a role matches, every guard passes.

    In table order, each name once; this is what read schemas expose as `allowed_actions`."""
    state = table._state(status)
    roles = _values(caller_roles)
    found: list[str] = []
    for t in table.transitions:
        if state in t.source and t.held_by(roles) and t.action not in found and t.refusal(ctx) is None:
            found.append(t.action)
    return found


def check(table: WorkflowTable, action: str, status: Any, caller_roles: Iterable[Any], ctx: Any = None,
          comment: str | None = None) -> Transition:
    """The transition to apply, or the refusal (see the module docstring for the order).

    Raises ValueError for an action or a status the table does not know (a programming error),
    TransitionNotAllowed (409, or 403 with `forbidden=True`) and BusinessRuleViolation (422)."""
    candidates = table.transitions_for(action)
    state = table._state(status)
    roles = _values(caller_roles)
    transition = next((t for t in candidates if state in t.source), None)

    def refuse(detail: str, *, forbidden: bool) -> TransitionNotAllowed:
        return TransitionNotAllowed(detail, allowed_actions=allowed_actions(table, state, roles, ctx),
                                    forbidden=forbidden)

    if transition is None:
        if not any(t.held_by(roles) for t in candidates):
            raise refuse(f"Your roles do not allow the action {action!r} on a {table.resource}.", forbidden=True)
        raise refuse(f"The action {action!r} is not possible while the {table.resource} is {state!r}.",
                     forbidden=False)
    if not transition.held_by(roles):
        raise refuse(f"Your roles do not allow the action {action!r} on a {table.resource} that is {state!r}.",
                     forbidden=True)
    reason = transition.refusal(ctx)
    if reason:
        raise refuse(reason, forbidden=not isinstance(reason, WrongState))
    if transition.requires_comment and not (comment or "").strip():
        raise BusinessRuleViolation(
            f"The action {action!r} needs a comment saying why.",
            errors=[{"pointer": "/comment", "source": "body", "type": "comment_required",
                     "message": "A comment is required for this action."}])
    return transition
