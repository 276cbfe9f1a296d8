"""Reading an uploaded spreadsheet into rows of text, refusing hostile files before parsing them.

Pure: no database. The format is read from the content, never from the file name:
- `PK\\x03\\x04` → XLSX (an OOXML zip); an old binary .xls (OLE, `D0 CF 11 E0`), a PDF, an image
  or any other binary → 422 `not_a_spreadsheet`;
- anything else must be text: UTF-8 (with or without a byte-order mark), else GB18030 (what
  Excel on a Chinese Windows saves as "CSV"; a strict superset of GBK/GB2312). A file that is
  neither, or that holds NUL or other control characters, is not a CSV (422 `not_a_spreadsheet`).

XLSX is read with the standard library, not openpyxl (no new dependency, and every limit below
is ours). Before any XML is parsed the zip's directory is checked: at most MAX_ENTRIES entries,
none encrypted, each entry's declared uncompressed size ≤ MAX_ENTRY_BYTES and its compression
ratio ≤ MAX_RATIO (a zip bomb declares a huge sheet in a small file), all of them together ≤
MAX_TOTAL_BYTES; while inflating, an entry that yields more than it declared is cut off and
refused, so a lying directory does not help. XML with a DOCTYPE (entity definitions: "billion
laughs", external entities) is refused outright; a workbook never needs one. Oversized or bomb →
413 `spreadsheet_too_large`; unreadable or malicious structure → 422 `spreadsheet_unreadable`.

Cells come back as text (or None when empty). A formula cell is returned as its formula text
with a leading `=` (`=SUM(A1:A3)`), never evaluated and never its cached result: what the clerk
typed is what is stored. Numbers are returned as written in the file (`46000`, `3.5`).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

from app.core.errors import DomainError, PayloadTooLarge

# A 5,000-row ledger with long Chinese cells (3 bytes a character in UTF-8) runs to several MB as
# CSV, past the app-wide 1 MiB JSON body limit: the import routes get their own (app/main.py).
MAX_FILE_BYTES = 8 << 20
MAX_ROWS = 5000  # data rows, header excluded
MAX_COLUMNS = 50
MAX_CELL_CHARS = 20_000
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 32 << 20
MAX_TOTAL_BYTES = 64 << 20
MAX_RATIO = 200  # uncompressed / compressed; repetitive sheet XML reaches ~20-50
_RATIO_FLOOR = 1 << 20  # small entries may compress as well as they like

XLSX_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = {b"\xd0\xcf\x11\xe0": "an old binary Excel (.xls) or Word file; save it as .xlsx",
                 b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                 b"PK\x05\x06": "an empty zip", b"\x1f\x8b": "a gzip archive", b"Rar!": "a RAR archive",
                 b"7z\xbc\xaf": "a 7-Zip archive"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class SpreadsheetTooLarge(PayloadTooLarge):
    code, title = "spreadsheet_too_large", "Spreadsheet too large"


class SpreadsheetUnreadable(DomainError):
    status, code, title = 422, "spreadsheet_unreadable", "Spreadsheet cannot be read"


class NotASpreadsheet(DomainError):
    """422, not 415: the request's media type (multipart) is right; it is the file in it that is not a
    spreadsheet, as an unreadable one is 422 (and schema-valid bytes are not a 415 to a contract check)."""

    status, code, title = 422, "not_a_spreadsheet", "Not a spreadsheet"


@dataclass(frozen=True)
class Sheet:
    """The first worksheet: `rows[0]` is the header (spreadsheet row 1); `numbers[i]` is the
    spreadsheet row number of `rows[i]` (XLSX rows may skip numbers)."""

    format: str  # csv | xlsx
    encoding: str | None  # csv only
    rows: list[list[str | None]]
    numbers: list[int]


def read_sheet(data: bytes) -> Sheet:
    """The upload's rows, or 413/422 as described in the module docstring."""
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetTooLarge(f"The file is {len(data)} bytes; at most {MAX_FILE_BYTES} are imported.")
    if not data.strip():
        raise SpreadsheetUnreadable("The file is empty.")
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise NotASpreadsheet(f"This is {what}: import a .xlsx workbook or a CSV file.")
    return _read_csv(data)


# ---------------------------------------------------------------- CSV

def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise NotASpreadsheet("Not a CSV file: the text is neither UTF-8 nor GB18030.") from None


def _read_csv(data: bytes) -> Sheet:
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError:
        raise NotASpreadsheet("Not a CSV file: the UTF-8 text after the byte-order mark is invalid.") from None
    if _CONTROL.search(text):
        raise NotASpreadsheet("Not a CSV file: it holds binary control characters.")
    rows: list[list[str | None]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=True):
            if len(rows) > MAX_ROWS:
                raise SpreadsheetTooLarge(f"More than {MAX_ROWS} data rows; split the file.")
            if len(record) > MAX_COLUMNS:
                raise SpreadsheetTooLarge(f"Row {len(rows) + 1} has more than {MAX_COLUMNS} columns.")
            rows.append([_clean(cell) for cell in record])
    except csv.Error as exc:
        raise SpreadsheetUnreadable(f"Not a well-formed CSV file (row {len(rows) + 1}): {exc}.") from None
    return Sheet("csv", encoding, rows, list(range(1, len(rows) + 1)))


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    cell = cell.strip()
    if len(cell) > MAX_CELL_CHARS:
        raise SpreadsheetTooLarge(f"A cell holds more than {MAX_CELL_CHARS} characters.")
    return cell or None


# ---------------------------------------------------------------- XLSX

def _check_directory(zf: zipfile.ZipFile) -> None:
    """The zip's own directory, before anything is inflated."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise SpreadsheetTooLarge(f"The workbook has {len(infos)} parts; at most {MAX_ENTRIES} are read.")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise SpreadsheetUnreadable("The workbook is encrypted (password-protected); save it without one.")
        if info.file_size > MAX_ENTRY_BYTES:
            raise SpreadsheetTooLarge(f"A part of the workbook ({info.filename}) declares {info.file_size} bytes "
                                      f"uncompressed; at most {MAX_ENTRY_BYTES}.")
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise SpreadsheetTooLarge(f"A part of the workbook ({info.filename}) expands more than {MAX_RATIO} "
                                      "times: refused as a possible zip bomb.")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise SpreadsheetTooLarge(f"The workbook declares {total} bytes uncompressed; at most {MAX_TOTAL_BYTES}.")


def _part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """A part's bytes, inflated no further than it declared (a lying directory is cut off)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    try:
        with zf.open(info) as stream:
            data = stream.read(info.file_size + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise SpreadsheetUnreadable(f"A part of the workbook ({name}) cannot be read: {exc}.") from None
    if len(data) > info.file_size:
        raise SpreadsheetTooLarge(f"A part of the workbook ({name}) is larger than it declares: refused.")
    if _DOCTYPE.search(data):
        raise SpreadsheetUnreadable("The workbook's XML declares a DOCTYPE or entities: refused.")
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(data: bytes, name: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SpreadsheetUnreadable(f"A part of the workbook ({name}) is not well-formed XML: {exc}.") from None


def _first_sheet_path(zf: zipfile.ZipFile) -> str:
    workbook = _part(zf, "xl/workbook.xml")
    if workbook is None:
        raise NotASpreadsheet("This zip is not an Excel workbook (no xl/workbook.xml): import .xlsx or CSV.")
    sheets = [el for el in _parse(workbook, "xl/workbook.xml").iter() if _local(el.tag) == "sheet"]
    rels = _part(zf, "xl/_rels/workbook.xml.rels")
    if sheets and rels is not None:
        rel_id = next((v for k, v in sheets[0].attrib.items() if _local(k) == "id"), None)
        for rel in _parse(rels, "xl/_rels/workbook.xml.rels").iter():
            if _local(rel.tag) == "Relationship" and rel.get("Id") == rel_id and rel.get("Target"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                if path in zf.namelist():
                    return path
    if "xl/worksheets/sheet1.xml" in zf.namelist():
        return "xl/worksheets/sheet1.xml"
    raise SpreadsheetUnreadable("The workbook has no worksheet.")


def _text_of(el: ElementTree.Element) -> str:
    """A string item's text: its `t` runs, leaving out phonetic guides (`rPh`)."""
    parts: list[str] = []

    def walk(node: ElementTree.Element) -> None:
        for child in node:
            tag = _local(child.tag)
            if tag == "t":
                parts.append(child.text or "")
            elif tag != "rPh":
                walk(child)

    walk(el)
    return "".join(parts)


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    data = _part(zf, "xl/sharedStrings.xml")
    if data is None:
        return []
    return [_text_of(si) for si in _parse(data, "xl/sharedStrings.xml") if _local(si.tag) == "si"]


def _column_index(ref: str | None, fallback: int) -> int:
    match = _CELL_REF.match(ref or "")
    if not match:
        return fallback
    index = 0
    for ch in match.group(1):
        index = index * 26 + ord(ch) - 64
    return index - 1


def _cell_value(cell: ElementTree.Element, shared: list[str]) -> str | None:
    kind = cell.get("t", "n")
    value = formula = inline = None
    for child in cell:
        tag = _local(child.tag)
        if tag == "f":
            formula = child.text or ""
        elif tag == "v":
            value = child.text
        elif tag == "is":
            inline = _text_of(child)
    if formula is not None:  # the formula as typed; its cached result is ignored
        return "=" + formula
    if kind == "inlineStr":
        return inline
    if kind == "s":
        try:
            return shared[int(value or "")]
        except (ValueError, IndexError):
            raise SpreadsheetUnreadable("A cell points at a shared string that does not exist.") from None
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    return value


def _rows(sheet: ElementTree.Element, shared: list[str]) -> Iterator[tuple[int, list[str | None]]]:
    last = 0
    for row in (el for el in sheet.iter() if _local(el.tag) == "row"):
        try:
            number = int(row.get("r") or last + 1)
        except ValueError:
            raise SpreadsheetUnreadable("A row has no valid number.") from None
        if number <= last:
            raise SpreadsheetUnreadable(f"Row numbers out of order near row {number}.")
        last = number
        cells: dict[int, str | None] = {}
        for position, cell in enumerate(c for c in row if _local(c.tag) == "c"):
            index = _column_index(cell.get("r"), position)
            if index >= MAX_COLUMNS:
                raise SpreadsheetTooLarge(f"Row {number} reaches beyond column {MAX_COLUMNS}.")
            cells[index] = _clean(_cell_value(cell, shared))
        width = max(cells, default=-1) + 1
        yield number, [cells.get(i) for i in range(width)]


def _read_xlsx(data: bytes) -> Sheet:
    try:
        return _read_zip(data)
    except DomainError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError, IndexError,
            RuntimeError, NotImplementedError, struct.error, UnicodeDecodeError) as exc:  # a damaged zip
        raise SpreadsheetUnreadable(f"Not a readable .xlsx workbook: {exc}.") from None


def _read_zip(data: bytes) -> Sheet:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        _check_directory(zf)
        path = _first_sheet_path(zf)
        shared = _shared_strings(zf)
        raw = _part(zf, path)
        if raw is None:
            raise SpreadsheetUnreadable("The workbook's first worksheet is missing.")
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        for number, cells in _rows(_parse(raw, path), shared):
            if len(rows) > MAX_ROWS:
                raise SpreadsheetTooLarge(f"More than {MAX_ROWS} data rows; split the file.")
            rows.append(cells)
            numbers.append(number)
    return Sheet("xlsx", None, rows, numbers)
