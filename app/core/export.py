"""Ledger files (台账): content negotiation, CSV and XLSX writers that stream (issue 7 item 4).

Pure: no database, no `app` imports. A writer takes the header row and then rows of already
rendered cells (str, int, float, bool, date, datetime in the jurisdiction's zone, None) and
yields bytes chunks, so a 100,000-row export never holds more than one page in memory.

- CSV: UTF-8 with a byte-order mark (Excel then opens Chinese correctly), RFC 4180 quoting,
  CRLF line ends. A text cell that starts with = + - @ TAB or CR gets a leading apostrophe
  (OWASP "CSV injection"), so a spreadsheet never evaluates a cell a user typed.
- XLSX: the OOXML parts written by hand into a zip streamed to the client (zipfile on an
  unseekable sink uses data descriptors, so nothing is buffered beyond the current chunk).
  Text is an inline string, never a formula, so it needs no apostrophe; dates and datetimes are
  real Excel dates with yyyy-mm-dd (hh:mm:ss) formats, so a clerk can sort and filter them.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA_TYPE = "application/json"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {ExportFormat.csv: CSV_MEDIA_TYPE, ExportFormat.xlsx: XLSX_MEDIA_TYPE}
_BY_MEDIA_TYPE = {CSV_MEDIA_TYPE: ExportFormat.csv, XLSX_MEDIA_TYPE: ExportFormat.xlsx}
_JSON_RANGES = {"*/*", "application/*", JSON_MEDIA_TYPE, "application/problem+json"}


class NotAcceptableMedia(Exception):
    """No representation the client accepts; the caller turns it into a 406 problem."""


def _accept_items(accept: str) -> list[tuple[str, float]]:
    items = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        items.append((media.lower(), q))
    return items


def negotiate(format_param: str | None, accept: str | None) -> ExportFormat | None:
    """The export format asked for, or None for the JSON page.

    `format=` wins over `Accept`. Without it, the highest-q acceptable type among JSON, CSV and
    XLSX is served (JSON on a tie, and for a missing or empty Accept). Raises NotAcceptableMedia
    when Accept names only types we cannot produce (RFC 9110 §12.5.1)."""
    if format_param:
        return ExportFormat(format_param)
    if not accept or not accept.strip():
        return None
    best: tuple[float, int, ExportFormat | None] | None = None
    for media, q in _accept_items(accept):
        if q <= 0:
            continue
        if media in _JSON_RANGES or media.endswith("+json"):
            candidate: tuple[float, int, ExportFormat | None] = (q, 1, None)
        elif media in _BY_MEDIA_TYPE:
            candidate = (q, 0, _BY_MEDIA_TYPE[media])
        elif media == "text/*":
            candidate = (q, 0, ExportFormat.csv)
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise NotAcceptableMedia(accept)
    return best[2]


def content_disposition(stem: str, ascii_stem: str, extension: str) -> str:
    """`attachment` with an ASCII fallback name and the real (Chinese) one per RFC 5987/6266."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-") or "export"
    real = re.sub(r'[\x00-\x1f\x7f"\\/:*?<>|]+', "-", stem).strip() or safe
    return (f'attachment; filename="{safe}.{extension}"; '
            f"filename*=UTF-8''{quote(f'{real}.{extension}', safe='')}")


# ---------------------------------------------------------------- CSV

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_FORMULA_FIRST = frozenset(FORMULA_START)


def neutralise(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would read as a formula becomes literal text."""
    return "'" + text if text[:1] in _FORMULA_FIRST else text


def _csv_text(value: Any) -> str:
    if type(value) is str:  # the common case first: ~100,000 rows x 15 cells
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return neutralise(str(value))


class CsvWriter:
    """Rows → RFC 4180 CSV bytes; `chunk(rows)` returns what to send for those rows."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def _drain(self) -> bytes:
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data

    def start(self, header: Sequence[str]) -> bytes:
        self._csv.writerow([neutralise(h) for h in header])
        return b"\xef\xbb\xbf" + self._drain()

    def chunk(self, rows: Iterable[Sequence[Any]]) -> bytes:
        self._csv.writerows([_csv_text(v) for v in row] for row in rows)
        return self._drain()

    def finish(self) -> bytes:
        return b""


# ---------------------------------------------------------------- XLSX

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 30)
_DATE_STYLE, _DATETIME_STYLE, _HEADER_STYLE = 1, 2, 3
EXCEL_MAX_ROWS = 1_048_576

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    if not _XML_SPECIAL.search(text):
        return text
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell(value: Any) -> str:
    if type(value) is str:
        return f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c s="{_DATETIME_STYLE}"><v>{serial:.8f}</v></c>'
    if isinstance(value, date):
        return f'<c s="{_DATE_STYLE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, (int, float)):
        return f"<c><v>{value}</v></c>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'


class _Sink:
    """An unseekable file for zipfile: it collects what is written until `take()`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class XlsxWriter:
    """Rows → one-sheet workbook bytes, streamed: the sheet is deflated as it is written."""

    def __init__(self, sheet_name: str = "Sheet1", widths: Sequence[int] | None = None) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheet_name = re.sub(r"[\[\]:*?/\\]", "-", sheet_name)[:31] or "Sheet1"
        self._widths = widths
        self._rows = 0
        self._sheet: Any = None

    def start(self, header: Sequence[str]) -> bytes:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), ("xl/styles.xml", _STYLES)):
            self._zip.writestr(name, text)
        self._zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{_xml_attr(self._sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(self._widths or ()))
        self._sheet.write((
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>").encode())
        self._rows = 1
        cells = "".join(f'<c t="inlineStr" s="{_HEADER_STYLE}"><is><t>{_xml_text(h)}</t></is></c>' for h in header)
        self._sheet.write(f'<row r="1">{cells}</row>'.encode())
        return self._sink.take()

    def chunk(self, rows: Iterable[Sequence[Any]]) -> bytes:
        parts = []
        for row in rows:
            self._rows += 1
            parts.append(f'<row r="{self._rows}">{"".join(_cell(v) for v in row)}</row>')
        self._sheet.write("".join(parts).encode())
        return self._sink.take()

    def finish(self) -> bytes:
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
        return self._sink.take()


def writer_for(fmt: ExportFormat, *, sheet_name: str, widths: Sequence[int]) -> CsvWriter | XlsxWriter:
    return CsvWriter() if fmt is ExportFormat.csv else XlsxWriter(sheet_name, widths)


def rows_to_bytes(fmt: ExportFormat, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A whole small file at once (tests, one-page exports)."""
    writer = writer_for(fmt, sheet_name="Sheet1", widths=())
    yield writer.start(header)
    yield writer.chunk(rows)
    yield writer.finish()
