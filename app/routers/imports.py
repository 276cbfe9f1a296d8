"""Imports: a findings ledger already worked (JSON), and spreadsheets of items and findings.

`/imports/finding-ledgers`: admins only (`findings:import`; others 403), for an inspection whose
rectification office is in their scope (else 422, a body reference). An invalid row → 422 with
every row's errors and nothing written. Honours `Idempotency-Key`.

Spreadsheet imports (issue 7 item 5; README.md "Import template"): `multipart/form-data` with one
`file` part, XLSX or CSV told apart by content (else 422 `not_a_spreadsheet`), at most 8 MiB (413;
the import routes' own body limit, `sheets.MAX_FILE_BYTES`), zip bombs and oversized sheets 413
`spreadsheet_too_large`, malformed files 422 `spreadsheet_unreadable`. Rows are checked by the
single-create services; `mode=all` (default) writes nothing unless every row is valid (422
`import_rejected` with `errors[].row`), `mode=partial` imports the valid rows, `dry_run=true` only
validates (200).

Both uploads honour `Idempotency-Key` (RELIABILITY.md REL-06) as the JSON POSTs do, keyed on the
file's bytes and `mode` (not on the file's name, the multipart framing or how the query is spelt):
the same key and file replay the first answer (`Idempotent-Replayed: true`) and import nothing
again; another file or mode with the key is 422 `idempotency_key_reused`; 409 while the first is
still running. A dry run ignores the key (it writes nothing, so repeating it is safe, and the key
stays free for the import that follows it); a malformed key is 422 all the same.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.errors import ValidationFailed
from app.core.export import MEDIA_TYPES, ExportFormat
from app.core.openapi import problem_responses
from app.dependencies import IdempotencyDep, SessionDep, UploadIdempotencyDep, require
from app.schemas.imports import FindingImportRead, FindingLedgerImport
from app.schemas.sheet_imports import ImportMode, SheetImportRead
from app.services.export import Language
from app.services.findings import imports
from app.services.idempotency import IdempotencyGuard, UploadIdempotency
from app.services.imports import findings as finding_sheets
from app.services.imports import items as item_sheets
from app.services.imports import sheets, templates

# The spreadsheet upload paths: their body limit is the import cap (sheets.MAX_FILE_BYTES), not the
# app-wide 1 MiB (app/core/http.py BodySizeLimit `large=`, wired in app/main.py).
IMPORT_PATHS = re.compile(r"^/(duty-lists/[^/]+/items|inspections/[^/]+/findings)/imports/?$")

router = APIRouter(tags=["imports"], form_limits={"max_files": 1, "max_fields": 1, "max_part_size": 4096})

Importer = Annotated[Principal, require(Permission.findings_import)]
_LINKS = {"GetFindingImport": {"operationId": "get_finding_import",
                               "parameters": {"path.batch_id": "$response.body#/id"}}}


@router.post("/imports/finding-ledgers", status_code=201, response_model=FindingImportRead,
             responses={201: {"description": "Created; `Location` is set.", "links": _LINKS},
                        **problem_responses(403, 422)})
async def import_finding_ledger(body: FindingLedgerImport, session: SessionDep, guard: IdempotencyDep,
                                principal: Importer) -> Response:
    """Create the findings of a worked ledger with their real states and dates: measures, look-backs and
    history rows dated as recorded and marked with the batch id; the live workflow is not run."""
    read = await imports.import_ledger(session, principal, body)
    return guard.respond(read, status_code=201, headers={"Location": f"/imports/finding-ledgers/{read.id}"})


@router.get("/imports/finding-ledgers/{batch_id}", response_model=FindingImportRead, responses=problem_responses(403, 404))
async def get_finding_import(batch_id: uuid.UUID, session: SessionDep, principal: Importer) -> FindingImportRead:
    """What an import created: its counts and findings (oldest registration first). Admins in scope; 404
    otherwise."""
    return await imports.get_import(session, principal, batch_id)


# ---------------------------------------------------------------- spreadsheets

DutyWriter = Annotated[Principal, require(Permission.duty_lists_write)]
DutyReader = Annotated[Principal, require(Permission.duty_lists_read)]
FindingWriter = Annotated[Principal, require(Permission.findings_write)]
FindingReader = Annotated[Principal, require(Permission.findings_read)]
SheetPart = Annotated[UploadFile, File(description="The spreadsheet (one part): .xlsx or CSV (UTF-8, with or "
                                                   "without BOM, or GB18030), read by content; at most 8 MiB.",
                                       json_schema_extra={"format": "binary"})]
ModeQuery = Annotated[ImportMode, Query(description="`all` (default): nothing is written unless every row is "
                                                    "valid. `partial`: the valid rows are imported.")]
DryRunQuery = Annotated[bool, Query(description="Validate only: the answer says what would be imported; "
                                                "nothing is written.")]
FormatQuery = Annotated[ExportFormat, Query(alias="format", description="`xlsx` (default) or `csv`.")]
HeadersQuery = Annotated[Language, Query(description="`zh` (default) Chinese headers and labels, `en` English "
                                                     "headers and the API's codes.")]
IMPORTED = {200: {"description": "Dry run: what would be imported, and every row error."},
            201: {"description": "Imported; the body lists the rows imported and (partial mode) those not. "
                                 "`Location` is where to read this answer again."}}
SHEET_ERRORS = problem_responses(400, 403, 404, 409, 413, 422)  # 400: malformed multipart; 409 also a key in flight
_TEMPLATE = {200: {"description": "The template: the header row and one example row.",
                   "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES.values()}}}
UPLOAD_PARTS = frozenset({"file"})


async def _read_upload(request: Request, file: UploadFile) -> bytes:
    """The upload's only part, read no further than the size limit (the service refuses more: 413)."""
    unknown = sorted(set((await request.form()).keys()) - UPLOAD_PARTS)
    if unknown:
        raise ValidationFailed("Unknown form parts: an import takes one `file` part.", errors=[
            {"pointer": f"/{name}", "source": "body", "type": "unknown_field", "message": "not a part of an import"}
            for name in unknown])
    return await file.read(sheets.MAX_FILE_BYTES + 1)


async def _claim(idempotency: UploadIdempotency, data: bytes, mode: ImportMode, dry_run: bool) -> IdempotencyGuard:
    return idempotency.skip() if dry_run else await idempotency.claim(data, f"mode={mode.value}")


def _answer(guard: IdempotencyGuard, read: SheetImportRead, base: str) -> Response:
    if read.dry_run:
        return guard.respond(read, status_code=200)
    return guard.respond(read, status_code=201, headers={"Location": f"{base}/{read.batch_id}"})


@router.post("/duty-lists/{duty_list_id}/items/imports", status_code=201, response_model=SheetImportRead,
             responses={**IMPORTED, **SHEET_ERRORS})
async def import_responsibility_items(duty_list_id: uuid.UUID, request: Request, session: SessionDep,
                                      principal: DutyWriter, idempotency: UploadIdempotencyDep, file: SheetPart,
                                      mode: ModeQuery = ImportMode.all,
                                      dry_run: DryRunQuery = False) -> Response:
    """Add a spreadsheet of items to a draft or returned version: staff of the list's organisation (403),
    409 `duty_list_not_editable` for any other state, 404 for a list you cannot read. Each row is checked
    as `POST /duty-lists/{id}/items` checks one item; 422 `import_rejected` lists every row error.
    Honours `Idempotency-Key` (not on a dry run)."""
    data = await _read_upload(request, file)
    guard = await _claim(idempotency, data, mode, dry_run)
    return _answer(guard, await item_sheets.import_items(session, principal, duty_list_id, data,
                                                         file_name=file.filename, mode=mode, dry_run=dry_run),
                   f"/duty-lists/{duty_list_id}/items/imports")


@router.post("/inspections/{inspection_id}/findings/imports", status_code=201, response_model=SheetImportRead,
             responses={**IMPORTED, **SHEET_ERRORS})
async def import_findings(inspection_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: FindingWriter, idempotency: UploadIdempotencyDep, file: SheetPart,
                          mode: ModeQuery = ImportMode.all,
                          dry_run: DryRunQuery = False) -> Response:
    """Register a spreadsheet of findings (→ registered) in an inspection: its inspectors or its
    rectification office (403), 404 for an inspection you cannot see. Each row is checked as
    `POST /findings` checks one; 422 `import_rejected` lists every row error. Honours `Idempotency-Key`
    (not on a dry run)."""
    data = await _read_upload(request, file)
    guard = await _claim(idempotency, data, mode, dry_run)
    return _answer(guard, await finding_sheets.import_findings(session, principal, inspection_id, data,
                                                               file_name=file.filename, mode=mode,
                                                               dry_run=dry_run),
                   f"/inspections/{inspection_id}/findings/imports")


@router.get("/duty-lists/{duty_list_id}/items/imports/{batch_id}", response_model=SheetImportRead,
            responses=problem_responses(404))
async def get_responsibility_item_import(duty_list_id: uuid.UUID, batch_id: uuid.UUID, session: SessionDep,
                                         principal: DutyReader) -> SheetImportRead:
    """Read a spreadsheet import of items again (`Location` of its 201): anyone who may read the list;
    404 for a list you cannot read, a batch of another list, or one imported before answers were kept.
    The answer the import gave (201), row errors included, as it was then: the items may have
    changed since. Dry runs keep nothing."""
    return await item_sheets.get_import(session, principal, duty_list_id, batch_id)


@router.get("/inspections/{inspection_id}/findings/imports/{batch_id}", response_model=SheetImportRead,
            responses=problem_responses(404))
async def get_finding_sheet_import(inspection_id: uuid.UUID, batch_id: uuid.UUID, session: SessionDep,
                                   principal: FindingReader) -> SheetImportRead:
    """Read a spreadsheet import of findings again (`Location` of its 201): anyone who may read the
    inspection; 404 for an inspection you cannot see, a batch of another inspection, a JSON ledger
    import (`GET /imports/finding-ledgers/{batch_id}`) or one imported before answers were kept. The
    answer the import gave (201), row errors included, as it was then. Dry runs keep nothing."""
    return await finding_sheets.get_import(session, principal, inspection_id, batch_id)


def _template(kind: str, fmt: ExportFormat, lang: Language) -> StreamingResponse:
    body, media_type, disposition = templates.template(kind, fmt, lang)
    return StreamingResponse(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/imports/templates/responsibility-items", response_class=StreamingResponse,
            responses={**_TEMPLATE, **problem_responses(422)})
async def get_responsibility_item_import_template(principal: DutyReader, fmt: FormatQuery = ExportFormat.xlsx,
                                                  headers: HeadersQuery = "zh") -> StreamingResponse:
    """The items import template (the ledger export's headers): anyone who may read duty lists."""
    return _template("responsibility-items", fmt, headers)


@router.get("/imports/templates/findings", response_class=StreamingResponse,
            responses={**_TEMPLATE, **problem_responses(422)})
async def get_finding_import_template(principal: FindingReader, fmt: FormatQuery = ExportFormat.xlsx,
                                      headers: HeadersQuery = "zh") -> StreamingResponse:
    """The findings import template (the ledger export's headers): anyone who may read findings."""
    return _template("findings", fmt, headers)
