"""Spreadsheet imports (`POST /duty-lists/{id}/items/imports`, `POST /inspections/{id}/findings/imports`).

The upload is one `file` part (XLSX or CSV, told apart by content); `mode` and `dry_run` are
query parameters. The answer says what was read, what was (or, on a dry run, would be) created,
and every row error with its spreadsheet row number (the header is row 1). Column names and
formats: README.md "Import template", or `GET /imports/templates/{kind}`.
"""

from __future__ import annotations

import enum
import uuid

from pydantic import BaseModel, Field


class ImportMode(enum.StrEnum):
    all = "all"  # any row error: 422, nothing written
    partial = "partial"  # the valid rows are imported, the others reported


class RowError(BaseModel):
    row: int = Field(description="Spreadsheet row number (the header is row 1).", examples=[3])
    column: str | None = Field(description="The column's header as written in the file; null for a whole-row "
                                           "problem.", examples=["事项名称"])
    field: str | None = Field(description="The column's stable key (English).", examples=["title"])
    code: str = Field(description="Stable machine code.", examples=["missing"])
    detail: str = Field(description="What is wrong, for a person.", examples=["required"])


class ImportedRow(BaseModel):
    row: int = Field(description="Spreadsheet row number.", examples=[2])
    id: uuid.UUID | None = Field(description="The record created (null on a dry run).")


class ImportCounts(BaseModel):
    rows: int = Field(description="Data rows read (blank rows are skipped).", examples=[12])
    imported: int = Field(description="Rows imported (on a dry run: that would be).", examples=[11])
    rejected: int = Field(description="Rows with errors, not imported.", examples=[1])


class SheetImportRead(BaseModel):
    batch_id: uuid.UUID | None = Field(description="The import batch (on every record it created); null on a "
                                                   "dry run.")
    mode: ImportMode
    dry_run: bool = Field(description="Validated only: nothing was written.")
    format: str = Field(description="What the content was read as: `csv` or `xlsx`.", examples=["xlsx"])
    encoding: str | None = Field(description="A CSV file's text encoding (utf-8, utf-8-sig or gb18030).")
    counts: ImportCounts
    imported: list[ImportedRow] = Field(description="Imported rows, in file order.")
    errors: list[RowError] = Field(description="Row errors, in file order; empty when every row was imported.")
    ignored_columns: list[str] = Field(description="Ledger-export columns an import does not set (`ID`, 状态 …), "
                                                   "ignored.")
