"""Spreadsheets for the import tests: CSV and XLSX built in memory, hostile files, and what both
import test files count (tests/routers/test_item_imports.py, test_finding_sheet_imports.py).

`xlsx(...)` uses the ledger export's own writer (inline strings), so "export, edit, re-import"
is what the tests exercise; `raw_xlsx(...)` writes the parts by hand for what a real Excel file
holds and our writer never does (shared strings, formulas, a DOCTYPE).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from app.core.export import ExportFormat, rows_to_bytes
from app.models import AuditEvent

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> bytes:
    """Plain CSV as a clerk's Excel saves it (no formula neutralising: that is the export's job)."""
    def cell(v: Any) -> str:
        text = "" if v is None else str(v)
        return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n') else text
    return ("\r\n".join(",".join(cell(v) for v in row) for row in rows) + "\r\n").encode(encoding)


def xlsx(rows: Sequence[Sequence[Any]]) -> bytes:
    header, *data = rows
    return b"".join(rows_to_bytes(ExportFormat.xlsx, list(header), [list(r) for r in data]))


_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
       '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def raw_xlsx(sheet_rows: str, *, shared: Sequence[str] = (), prolog: str = "", extra: dict[str, bytes] | None = None,
             ) -> bytes:
    """A workbook from hand-written `<row>` XML; `shared` become xl/sharedStrings.xml."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{ns}"><sheetData>{sheet_rows}'
             '</sheetData></worksheet>')
    sst = f'<sst xmlns="{ns}">' + "".join(f"<si><t>{s}</t></si>" for s in shared) + "</sst>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _RELS)
        zf.writestr("xl/sharedStrings.xml", sst)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The same zip with `name`'s uncompressed size in the central directory set to `size`: a small
    file that declares a huge sheet (the entry itself is untouched)."""
    out = bytearray(data)
    encoded = name.encode()
    at = 0
    while (at := out.find(b"PK\x01\x02", at)) != -1:
        name_length = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46:at + 46 + name_length]) == encoded:
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at += 4
    raise AssertionError(f"{name} not in the zip")


def upload(data: bytes, name: str = "导入.xlsx", content_type: str = XLSX_TYPE) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, content_type)}


async def post_sheet(client, url: str, headers: dict[str, str], data: bytes, *, name: str, content_type: str,
                     **params):
    """One upload as the SPA sends it: the file part, `mode`/`dry_run` as query parameters."""
    return await client.post(url, headers=headers, files=upload(data, name, content_type), params=params)


# The audit trail is append-only and outlives each test (tests/conftest.py): a test counts only the rows
# after this mark, which the `audit_mark` fixture (tests/routers/conftest.py) sets as the test starts.
AUDIT_MARK = {"seq": 0}


async def latest_audit_seq(database) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


async def count_rows(database, model) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).select_from(model))


async def audit_rows_since_mark(database, *actions: str) -> int:
    """This test's audit rows with one of these actions."""
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).where(AuditEvent.seq > AUDIT_MARK["seq"],
                                                         AuditEvent.action.in_(actions)))
