"""The audit trail (留痕): read it, and check that nobody has rewritten it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.openapi import problem_responses
from app.dependencies import PageDep, SessionDep, require
from app.schemas.audit import AuditChainReport, AuditEventFilter, AuditEventPage, AuditEventRead
from app.services import audit_queries

router = APIRouter(tags=["audit-events"])

SeqPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The event's `seq`.")]
AuditReader = Annotated[Principal, require(Permission.audit_read)]
AuditVerifier = Annotated[Principal, require(Permission.audit_verify)]


@router.get("/audit-events", response_model=AuditEventPage, responses=problem_responses(422))
async def list_audit_events(
    principal: AuditReader, session: SessionDep, page: PageDep, filters: Annotated[AuditEventFilter, Query()],
) -> AuditEventPage:
    """Audit events, newest first. Admins and offices (and clients with `audit:read`) see the events
    of organisations in their scope; only admins of a root organisation also see events with no
    organisation (sign-ins). 403 without `audit:read`; 422 for a bad cursor or time range."""
    items, next_cursor, total = await audit_queries.list_events(
        session, principal, filters, limit=page.limit, cursor=page.cursor, include_total=page.include_total)
    return AuditEventPage(items=[AuditEventRead.model_validate(e) for e in items], next_cursor=next_cursor,
                          total=total)


# Registered before /audit-events/{seq}, which would otherwise try to read "verify" as a seq.
@router.get("/audit-events/verify", response_model=AuditChainReport)
async def verify_audit_chain(principal: AuditVerifier, session: SessionDep) -> AuditChainReport:
    """Recompute the whole hash chain. Admins only (403 otherwise). Always 200 when the check ran:
    a broken chain is `ok: false` with `first_broken_seq` and `problem`, a finding to investigate."""
    return await audit_queries.verify(session)


@router.get("/audit-events/{seq}", response_model=AuditEventRead, responses=problem_responses(404))
async def get_audit_event(seq: SeqPath, principal: AuditReader, session: SessionDep) -> AuditEventRead:
    """One audit event, with the same visibility as the list; 404 outside it."""
    return AuditEventRead.model_validate(await audit_queries.get_event(session, principal, seq))
