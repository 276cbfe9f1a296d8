"""Row by row through the single-create service of each kind, all-or-nothing unless asked otherwise.

Each row is read into the create body (`ResponsibilityItemCreate`, `FindingCreate`) and handed to
the very service function the single-create route calls, inside a savepoint: a row the service
refuses leaves nothing behind (its rows and its pending audit events are dropped) and the next
row goes on, so every error of the file is reported at once. Then:
- `mode=all` (default): any error → 422 `import_rejected` with every row error; the request's
  transaction rolls back, so nothing is written;
- `mode=partial`: the valid rows stay, the answer lists both (422 when no row is valid);
- `dry_run=true`: the same work in an outer savepoint that is rolled back: 200 with what would
  have been imported and every error, nothing written (no batch, no audit row).
An import that writes files its answer, row errors included, as the batch's `report`, so the
clerk can read it again (`GET /duty-lists/{id}/items/imports/{batch_id}`,
`GET /inspections/{id}/findings/imports/{batch_id}`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import DomainError, ValidationFailed
from app.schemas.sheet_imports import ImportCounts, ImportedRow, ImportMode, RowError, SheetImportRead
from app.services.audit import PENDING_KEY
from app.services.export import ExportSpec
from app.services.imports.columns import CellError, ImportColumn, map_headers, parse_cell
from app.services.imports.sheets import Sheet


class ImportRejected(ValidationFailed):
    code, title = "import_rejected", "Import rejected"


@dataclass(frozen=True)
class Kind:
    """What one import kind brings: its columns, the export it mirrors, and how a service pointer
    (`/lead_organisation_ids/0`) names a column (`lead_organisations`)."""

    columns: tuple[ImportColumn, ...]
    export: ExportSpec
    pointers: dict[str, str]
    conflicts: dict[str, str] = field(default_factory=dict)  # a refusal's code → the column it is about


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # column key → parsed value (only non-empty cells)


@dataclass
class Run:
    sheet: Sheet
    kind: Kind
    headers: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    imported: list[ImportedRow] = field(default_factory=list)
    rows: int = 0

    def error(self, row: int, key: str | None, code: str, detail: str, header: str | None = None) -> None:
        column = header or (self.headers.get(key) if key else None)
        if column is None and key:
            column = next((c.zh for c in self.kind.columns if c.key == key), key)
        self.errors.append(RowError(row=row, column=column, field=key, code=code, detail=detail))

    def read_rows(self) -> list[Row]:
        """Header check, then each non-blank row's cells parsed; cell errors are recorded here."""
        header_row = self.sheet.rows[0] if self.sheet.rows else []
        mapping = map_headers(header_row, self.kind.columns, self.kind.export)
        self.headers, self.ignored = mapping.headers, mapping.ignored
        first = self.sheet.numbers[0] if self.sheet.numbers else 1
        for header, key, code, detail in mapping.errors:
            self.error(first, key, code, detail, header)
        if mapping.errors:
            return []
        rows = []
        for number, cells in zip(self.sheet.numbers[1:], self.sheet.rows[1:], strict=True):
            if not any(cells):
                continue
            self.rows += 1
            values, ok = {}, True
            for index, column in mapping.by_index.items():
                text = cells[index] if index < len(cells) else None
                if text is None:
                    if column.required:
                        self.error(number, column.key, "missing", "required")
                        ok = False
                    continue
                try:
                    values[column.key] = parse_cell(column, text)
                except CellError as exc:
                    self.error(number, column.key, exc.code, exc.detail)
                    ok = False
            if ok:
                rows.append(Row(number, values))
        return rows

    def body_errors(self, number: int, exc: ValidationError) -> None:
        """Pydantic's refusal of the create body, per column."""
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else None
            self.error(number, self.kind.pointers.get(name or "", name), err["type"], err["msg"])

    def service_errors(self, number: int, exc: DomainError) -> None:
        """The service's refusal: its field errors by pointer, or the problem as a whole-row error."""
        field_errors = exc.extensions.get("errors") if isinstance(exc, ValidationFailed) else None
        if not field_errors:
            self.error(number, self.kind.conflicts.get(exc.code), exc.code, exc.detail)
            return
        for err in field_errors:
            name = err.get("pointer", "").strip("/").split("/")[0]
            self.error(number, self.kind.pointers.get(name, name or None), err.get("type", exc.code),
                       err.get("message", exc.detail))

    def answer(self, mode: ImportMode, dry_run: bool, batch_id: uuid.UUID | None) -> SheetImportRead:
        return SheetImportRead(
            batch_id=batch_id, mode=mode, dry_run=dry_run, format=self.sheet.format, encoding=self.sheet.encoding,
            counts=ImportCounts(rows=self.rows, imported=len(self.imported),
                                rejected=len({e.row for e in self.errors})),
            imported=self.imported, errors=self.errors, ignored_columns=self.ignored)

    def rejected(self, detail: str) -> ImportRejected:
        """422 with the row errors (each also carries `pointer`/`type`/`message` like any field error) and
        `counts`: rows read, rows that were valid (written none of them), rows rejected."""
        return ImportRejected(detail, errors=[
            {"pointer": f"/rows/{e.row}" + (f"/{e.field}" if e.field else ""), "source": "file", "type": e.code,
             "message": e.detail, **e.model_dump()} for e in self.errors],
            counts={"rows": self.rows, "valid": len(self.imported), "rejected": len({e.row for e in self.errors})})


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint that also forgets the audit events recorded inside it when it rolls back (they
    wait in `session.info`, not in the transaction: app/services/audit.py)."""
    pending: list[Any] = session.info.setdefault(PENDING_KEY, [])
    mark = len(pending)
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        del session.info.setdefault(PENDING_KEY, [])[mark:]
        raise


class _DryRunDone(Exception):
    pass


# A row's values → the create body (pydantic may refuse it); None: the row's errors are recorded already.
Build = Callable[[Row], BaseModel | None]
Create = Callable[[Row, Any], Awaitable[uuid.UUID]]  # → the created record's id
# Writes the batch `batch_id` with this answer as its report (read back by GET …/imports/{batch_id})
# and marks the records it created.
Finish = Callable[[SheetImportRead], Awaitable[None]]


async def run_import(session: AsyncSession, run: Run, rows: list[Row], build: Build, create: Create,
                     finish: Finish, *, batch_id: uuid.UUID, mode: ImportMode, dry_run: bool) -> SheetImportRead:
    """`rows` from `run.read_rows()` (read first, so a kind can look up the names they mention)."""

    async def each_row() -> None:
        for row in rows:
            try:
                body = build(row)
            except ValidationError as exc:
                run.body_errors(row.number, exc)
                continue
            if body is None:
                continue
            try:
                async with savepoint(session):
                    run.imported.append(ImportedRow(row=row.number, id=await create(row, body)))
            except DomainError as exc:
                run.service_errors(row.number, exc)
        run.errors.sort(key=lambda e: e.row)

    if dry_run:
        try:
            async with savepoint(session):
                await each_row()
                raise _DryRunDone
        except _DryRunDone:
            pass
        run.imported = [ImportedRow(row=r.row, id=None) for r in run.imported]
        return run.answer(mode, True, None)
    await each_row()
    if run.errors and (mode is ImportMode.all or not run.imported):
        raise run.rejected("Nothing was imported: the file has errors; see errors (row numbers count the "
                           "header as row 1)." if run.rows or run.errors else "The file has no data rows.")
    if not run.imported:
        raise run.rejected("The file has no data rows.")
    read = run.answer(mode, False, batch_id)
    await finish(read)
    return read
