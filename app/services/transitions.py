"""The generic workflow step (CONVENTIONS.md "Workflows are data"): check the
transition, move the record, write one history row and one audit event, all in
the caller's transaction.

Concurrency (RELIABILITY.md finding 3, REL-02): the move is a compare-and-set,
`UPDATE … SET status=:to, version=version+1 WHERE id=:id AND version=:v AND
status=:from`, and exactly one of N simultaneous identical actions matches it.
On PostgreSQL (READ COMMITTED) the losers block on the winner's row lock, find
the row changed once it commits, and update nothing; on SQLite the write
sessions start with `BEGIN IMMEDIATE` (app/core/db.py, finding 4), so writers
queue and the losers already read the new state. Either way a loser re-reads
the row and is refused exactly as a late caller would be: 412 when it sent an
expected version (If-Match), else the workflow's own 409/403.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.context import actor_var
from app.core.errors import BusinessRuleViolation, Conflict, NotFound, StaleResource
from app.core.etag import make_etag
from app.models import TransitionHistory, utcnow
from app.services import audit
from app.workflows.engine import WorkflowTable, check, value_of

MAX_COMMENT_LENGTH = 2000  # transition_history.comment
# Without an expected version a loser whose action is still allowed in the new state (a self-loop
# such as a progress note) tries again; past this many lost races it gets a 409 and retries itself.
MAX_ATTEMPTS = 3
_RESERVED = frozenset({"id", "status", "version"})


async def apply_transition(
    session: AsyncSession,
    *,
    table: WorkflowTable,
    model: type[Any],
    record_id: uuid.UUID,
    action: str,
    principal: Principal | None,
    caller_roles: set[Any] | frozenset[Any],
    expected_version: int | None,
    comment: str | None,
    ctx: Any = None,
    resource_type: str | None = None,
    organisation_id: uuid.UUID | None,
    acting_organisation_id: uuid.UUID | None = None,
    extra_values: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> Any:
    """Take `action` on the `model` row `record_id` and return the row as it is now.

    The caller's service has already checked scope (out of scope → 404 before calling) and computed
    `caller_roles` (the roles that count for this record) and `ctx` for the table's guards.
    `extra_values` are other columns set by the same UPDATE (a deadline on `assign`); `payload` is
    kept on the history row. `organisation_id` is the record's organisation (audit scoping);
    `acting_organisation_id` the one the caller acted for, when a guard resolved it.

    Raises NotFound (404), StaleResource (412, `expected_version` is not the current version),
    TransitionNotAllowed (409 wrong state / 403 wrong role or refused by a guard),
    BusinessRuleViolation (422, missing or over-long comment) and Conflict (409, lost
    `MAX_ATTEMPTS` races). Never commits.
    """
    extra = dict(extra_values or {})
    if _RESERVED & extra.keys():
        raise ValueError(f"extra_values may not set {sorted(_RESERVED & extra.keys())}: the step owns them")
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        raise BusinessRuleViolation(
            f"The comment is longer than {MAX_COMMENT_LENGTH} characters.",
            errors=[{"pointer": "/comment", "source": "body", "type": "string_too_long",
                     "message": f"At most {MAX_COMMENT_LENGTH} characters."}])
    resource_type = resource_type or table.resource

    for _attempt in range(MAX_ATTEMPTS):
        # populate_existing: the identity map may hold this row from before another transaction moved it.
        row = await session.get(model, record_id, populate_existing=True)
        if row is None:
            raise NotFound(f"No such {resource_type}.")
        from_state, version = value_of(row.status), row.version
        if expected_version is not None and version != expected_version:
            raise StaleResource("The record changed since you read it; reload it and try again.",
                                current_etag=make_etag(record_id, version))
        transition = check(table, action, from_state, caller_roles, ctx, comment)
        before_extra = {key: getattr(row, key) for key in extra}
        result = await session.execute(
            update(model)
            .where(model.id == record_id, model.version == version, model.status == from_state)
            .values(status=transition.target, version=model.version + 1, **extra)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            break
        # Lost the race: go round again; the re-read answers 412 or the workflow's refusal.
    else:
        raise Conflict("The record is being changed by others right now; reload it and try again.")

    note = (comment or "").strip() or None
    actor = principal.actor if principal is not None else actor_var.get()
    session.add(TransitionHistory(
        resource_type=resource_type, resource_id=record_id, action=action, from_status=from_state,
        to_status=transition.target, actor_id=actor.id, actor_name=actor.name,
        acting_organisation_id=acting_organisation_id, comment=note, payload=audit.jsonable(payload),
        occurred_at=utcnow()))
    audit.record(session, action=f"{resource_type}.{action}", resource_type=resource_type, resource_id=record_id,
                 organisation_id=organisation_id,
                 before={"status": from_state, "version": version, **before_extra},
                 after={"status": transition.target, "version": version + 1, **extra}, detail=note)
    await session.flush()
    await session.refresh(row)
    return row
