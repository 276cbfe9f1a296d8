"""Deadline extensions (申请延期): the responsible leader asks, the rectification office decides.

- ask: the leader of the responsible organisation, while the finding has a deadline and is
  being worked on (`request_extension` in app/workflows/findings.py; 403/409 otherwise), with
  a date later than the deadline in force (422 otherwise); one request waits at a time
  (409 `extension_pending`, also for two simultaneous requests: a partial unique index);
- approve / reject (app/workflows/findings.py `EXTENSION_WORKFLOW`): the rectification office,
  with the request's If-Match. Approval moves the finding's `deadline` (its version goes up,
  and a history row `extend_deadline` says from what to what); `original_deadline` stays,
  so statistics report against both (DOMAIN.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.etag import check_if_match
from app.models import ExtensionRequest, Finding, Organisation, TransitionHistory, utcnow
from app.models.finding import OPEN_STATUSES
from app.schemas.findings import ExtensionRequestCreate, ExtensionRequestPage, ExtensionRequestRead
from app.schemas.history import HistoryPage
from app.services import audit, history
from app.services.findings import access, steps
from app.services.paging import keyset_page
from app.services.transitions import apply_transition
from app.workflows.engine import allowed_actions
from app.workflows.findings import EXTENSION_WORKFLOW, ExtensionContext

RESOURCE = "extension_request"
_MOVABLE = (*OPEN_STATUSES, "sustained")  # a deadline still matters


class ExtensionPending(Conflict):
    code, title = "extension_pending", "An extension request is already waiting"


def _context(principal: Principal, finding: Finding, office_name: str = "the rectification office"
             ) -> tuple[ExtensionContext, frozenset[str]]:
    ctx = ExtensionContext(roles_at_office=access.roles_at(principal, finding.rectification_office_id),
                           finding_open=finding.status.value in _MOVABLE, office_name=office_name)
    return ctx, ctx.roles_at_office


def _read(principal: Principal, r: ExtensionRequest, finding: Finding) -> ExtensionRequestRead:
    ctx, roles = _context(principal, finding)
    return ExtensionRequestRead(
        id=r.id, finding_id=r.finding_id, status=r.status, version=r.version, requested_deadline=r.requested_deadline,
        previous_deadline=r.previous_deadline, reason=r.reason, requested_by_name=r.requested_by_name,
        decided_at=r.decided_at, decided_by_name=r.decided_by_name, decision_comment=r.decision_comment,
        allowed_actions=allowed_actions(EXTENSION_WORKFLOW, r.status, roles, ctx), created_at=r.created_at,
        updated_at=r.updated_at)


async def load_visible(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                       request_id: uuid.UUID) -> tuple[ExtensionRequest, Finding]:
    row = (await session.execute(select(ExtensionRequest, Finding).join(Finding, Finding.id == ExtensionRequest.finding_id)
                                 .where(ExtensionRequest.id == request_id, Finding.id == finding_id,
                                        access.visible(principal))
                                 .execution_options(populate_existing=True))).first()
    if row is None:
        raise NotFound("No such extension request.")
    return row[0], row[1]


async def create_extension_request(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                                   body: ExtensionRequestCreate) -> ExtensionRequestRead:
    step = await steps.prepare(session, principal, finding_id, "request_extension", None, None,
                               needs_if_match=False)
    finding = step.finding
    if finding.deadline is not None and body.requested_deadline <= finding.deadline:
        errors = FieldErrors()
        errors.add("/requested_deadline", "not_later", f"not later than the deadline in force ({finding.deadline})")
        errors.raise_if_any()
    request = ExtensionRequest(finding_id=finding.id, requested_deadline=body.requested_deadline,
                               previous_deadline=finding.deadline, reason=body.reason,
                               requested_by_id=str(principal.id), requested_by_name=principal.name)
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError:  # uq_extension_request_one_pending: a simultaneous request won
        raise ExtensionPending("An extension request of this finding is already waiting for a decision.") from None
    audit.record(session, action="extension_request.create", resource_type=RESOURCE, resource_id=request.id,
                 organisation_id=access.audit_organisation(finding),
                 after={"finding_id": finding.id, "requested_deadline": body.requested_deadline,
                        "previous_deadline": finding.deadline})
    return _read(principal, request, finding)


async def get_extension_request(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                                request_id: uuid.UUID) -> ExtensionRequestRead:
    request, finding = await load_visible(session, principal, finding_id, request_id)
    return _read(principal, request, finding)


async def list_extension_requests(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *,
                                  limit: int, cursor: str | None, include_total: bool) -> ExtensionRequestPage:
    finding = await access.load_visible(session, principal, finding_id)
    stmt = select(ExtensionRequest).where(ExtensionRequest.finding_id == finding.id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(ExtensionRequest.created_at, ExtensionRequest.id), kinds=("ts", "id"),
        scope=f"extensions/{finding.id}", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].created_at, r[0].id))
    return ExtensionRequestPage(items=[_read(principal, r[0], finding) for r in rows], next_cursor=next_cursor,
                                total=total)


async def extension_history(session: AsyncSession, principal: Principal, finding_id: uuid.UUID,
                            request_id: uuid.UUID, *, limit: int, cursor: str | None) -> HistoryPage:
    await load_visible(session, principal, finding_id, request_id)
    return await history.history_page(session, RESOURCE, request_id, limit=limit, cursor=cursor)


async def decide(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, request_id: uuid.UUID,
                 action: str, if_match: str | None, comment: str | None) -> ExtensionRequestRead:
    """approve or reject (with a comment), by the rectification office. 409 when the finding is closed."""
    request, finding = await load_visible(session, principal, finding_id, request_id)
    check_if_match(if_match, request.id, request.version)
    office_name = await session.scalar(select(Organisation.name).where(
        Organisation.id == finding.rectification_office_id))
    ctx, roles = _context(principal, finding, office_name or "the rectification office")
    moved = await apply_transition(
        session, table=EXTENSION_WORKFLOW, model=ExtensionRequest, record_id=request.id, action=action,
        principal=principal, caller_roles=roles, expected_version=request.version, comment=comment, ctx=ctx,
        organisation_id=access.audit_organisation(finding), acting_organisation_id=finding.rectification_office_id,
        extra_values={"decided_at": utcnow(), "decided_by_id": str(principal.id), "decided_by_name": principal.name,
                      "decision_comment": (comment or "").strip() or None})
    if action == "approve":
        await _move_deadline(session, principal, finding, moved)
    return _read(principal, moved, finding)


async def _move_deadline(session: AsyncSession, principal: Principal, finding: Finding,
                         request: ExtensionRequest) -> None:
    result = await session.execute(
        update(Finding).where(Finding.id == finding.id, Finding.status.in_(_MOVABLE))
        .values(deadline=request.requested_deadline, version=Finding.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("The finding moved on meanwhile; its deadline no longer changes.")
    before = {"deadline": finding.deadline}
    after = {"deadline": request.requested_deadline, "extension_request_id": request.id}
    actor = principal.actor
    # Not a state change, but the ledger's history of the finding (and statistics as of a past day) needs it.
    session.add(TransitionHistory(
        resource_type=access.RESOURCE, resource_id=finding.id, action="extend_deadline",
        from_status=finding.status.value, to_status=finding.status.value, actor_id=actor.id,
        actor_name=actor.name, acting_organisation_id=finding.rectification_office_id,
        payload=audit.jsonable({"previous_deadline": finding.deadline, **after}), occurred_at=utcnow()))
    audit.record(session, action="finding.extend_deadline", resource_type=access.RESOURCE, resource_id=finding.id,
                 organisation_id=access.audit_organisation(finding), before=before, after=after)
    await session.flush()
    await session.refresh(finding)
