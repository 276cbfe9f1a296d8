"""`/imports/finding-ledgers`: bring in a findings ledger already worked, as recorded history.

Admins only (`findings:import`; others 403), for an inspection whose rectification office is in
their scope (else 422, a body reference). JSON only: spreadsheets come with issue 7. An invalid
row → 422 with every row's errors and nothing written. Honours `Idempotency-Key`.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.openapi import problem_responses
from app.dependencies import IdempotencyDep, SessionDep, require
from app.schemas.imports import FindingImportRead, FindingLedgerImport
from app.services.findings import imports

router = APIRouter(prefix="/imports", tags=["imports"])

Importer = Annotated[Principal, require(Permission.findings_import)]
_LINKS = {"GetFindingImport": {"operationId": "get_finding_import",
                               "parameters": {"path.batch_id": "$response.body#/id"}}}


@router.post("/finding-ledgers", status_code=201, response_model=FindingImportRead,
             responses={201: {"description": "Created; `Location` is set.", "links": _LINKS},
                        **problem_responses(403, 422)})
async def import_finding_ledger(body: FindingLedgerImport, session: SessionDep, guard: IdempotencyDep,
                                principal: Importer) -> Response:
    """Create the findings of a worked ledger with their real states and dates: measures, look-backs and
    history rows dated as recorded and marked with the batch id; the live workflow is not run."""
    read = await imports.import_ledger(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/imports/finding-ledgers/{read.id}"})


@router.get("/finding-ledgers/{batch_id}", response_model=FindingImportRead, responses=problem_responses(403, 404))
async def get_finding_import(batch_id: uuid.UUID, session: SessionDep, principal: Importer) -> FindingImportRead:
    """What an import created: its counts and findings (oldest registration first). Admins in scope; 404
    otherwise."""
    return await imports.get_import(session, principal, batch_id)
