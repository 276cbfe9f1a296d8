"""Import columns: their headers (the ledger export's, so a clerk can export, edit and re-import),
whether they are required, and how a cell's text becomes a value.

A header matches its column's English or Chinese header (app/services/export/columns.py), case,
spaces and a trailing `*` ignored. Columns the export writes but an import cannot set (`ID`,
状态, 更新时间 …) are ignored and listed back; any other header is an error, so a typo never
silently drops a column. Cell formats:

- text: as typed; a leading apostrophe before = + - @ is dropped (our CSV export adds it so a
  spreadsheet does not evaluate the cell, app/core/export.py); the rest, `=` included, is stored
  as literal text;
- whole number; date (YYYY-MM-DD, YYYY/MM/DD, or an Excel date cell); yes/no (是/否, true/false,
  yes/no, 1/0);
- enums: the API code (`water`) or its Chinese or English label from `GET /meta/enums` (水生态环境);
- organisations: names or short codes, separated by `；` `;` or line breaks;
- basis (职责依据): as the ledger export writes it (export/columns.py `basis_entry`), one source
  as `【kind】《title》（number）clause`, sources separated like names; the kind is a basis_kind
  code or label, the number (in full-width brackets) and the clause may be left out. A `；`
  starts a new source only before `【`, so a title or clause may hold one;
- decomposition (分解落实): `unit（responsible person）：task`, rows separated like names, the
  person and the task optional (export/columns.py `decomposition_entry`). The unit is named or
  short-coded as an organisation below the list's; that lookup is the items import's
  (imports/items.py), so a cell is read here as its unit text and its task only;
- complaint channels: as the ledger export writes them, `label: value` or `value`, separated
  like names. The export does not write a channel's kind, so it is read from the value: an
  http(s) URL is `web`, an e-mail address `email`, a phone number `hotline` (the checks of
  `ComplaintChannel` itself, app/schemas/organisations.py). A postal (`mail`) and an in-person
  (`in_person`) channel are both free text and cannot be told apart: such a value is a cell
  error (`unknown_channel_kind`), set those through the API.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from app.profiles.schema import BasisKind
from app.schemas.enums import LABELS
from app.schemas.organisations import ComplaintChannel, ComplaintChannelKind
from app.services.export import ExportSpec

_APOSTROPHE_FORMULA = re.compile(r"^'(?=[=+\-@\t\r])")
_LIST_SPLIT = re.compile(r"[；;\n\r]+")
_YES = {"是", "true", "yes", "y", "1", "√"}
_NO = {"否", "false", "no", "n", "0"}
_EXCEL_EPOCH = date(1899, 12, 30)
# How the export writes a labelled channel (app/services/export/columns.py `_channels`), or a clerk
# with a full-width colon. Split at the last one: none of the values read here contains either.
_CHANNEL_LABEL = re.compile(r"^(.*)(?:: |：)\s*(.+)$")
# The kinds a value alone tells apart, most specific first (a URL may hold an "@").
_INFERRED_KINDS = (ComplaintChannelKind.web, ComplaintChannelKind.email, ComplaintChannelKind.hotline)


# A source: 【kind】《title》, then （number）, which may hold one level of brackets of its own
# (琼办发（2020）68号), then the clause; the title ends at the first 》 (a title nests 〈〉, not 《》).
_BASIS_ENTRY = re.compile(r"【(?P<kind>[^】]+)】《(?P<title>[^》]+)》"
                          r"(?:（(?P<number>(?:[^（）]|（[^（）]*）)+)）)?(?P<clause>.*)", re.DOTALL)
_BASIS_SPLIT = re.compile(r"\s*[；;\n\r]+\s*(?=【)")


class CellError(ValueError):
    """A cell that cannot be read: `code` is stable, the message says what was expected."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ImportColumn:
    key: str  # stable, English snake_case: the `field` of a row error
    en: str
    zh: str
    kind: str = "text"  # text | int | date | bool | enum | names | channels | basis | decomposition
    required: bool = False
    enum_type: type[enum.Enum] | None = None
    example_zh: str = ""
    example_en: str = ""
    note: str = ""  # for the README and the template's documentation

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def from_export(spec: ExportSpec, key: str, **kw: Any) -> ImportColumn:
    """A column with the export's own headers, so the two never drift apart."""
    column = next(c for c in spec.columns if c.key == key)
    return ImportColumn(key, column.en, column.zh, **kw)


def _norm(header: str) -> str:
    return re.sub(r"\s+", "", header).rstrip("*＊").casefold()


@dataclass
class HeaderMap:
    by_index: dict[int, ImportColumn]
    headers: dict[str, str]  # key → the header as written in the file
    ignored: list[str]
    errors: list[tuple[str | None, str | None, str, str]]  # (header, key, code, detail) on row 1


def map_headers(header_row: list[str | None], columns: tuple[ImportColumn, ...], spec: ExportSpec) -> HeaderMap:
    known = {_norm(h): c for c in columns for h in (c.en, c.zh, c.key)}
    export_only = {_norm(h) for c in spec.columns for h in (c.en, c.zh, c.key)} - set(known)
    result = HeaderMap({}, {}, [], [])
    for index, raw in enumerate(header_row):
        if raw is None:
            continue
        text = raw.lstrip("\ufeff")
        column = known.get(_norm(text))
        if column is None:
            if _norm(text) in export_only:
                result.ignored.append(text)
            else:
                result.errors.append((text, None, "unknown_column", "not a column of this import (see the template)"))
        elif column.key in result.headers:
            result.errors.append((text, column.key, "duplicate_column", "this column appears twice"))
        else:
            result.by_index[index] = column
            result.headers[column.key] = text
    for column in columns:
        if column.required and column.key not in result.headers:
            result.errors.append((column.zh, column.key, "missing_column",
                                  f"required column missing ({column.zh} / {column.en})"))
    return result


def _enum(column: ImportColumn, text: str) -> enum.Enum:
    assert column.enum_type is not None
    return _choice(column.enum_type, text)


def _choice(enum_type: type[enum.Enum], text: str) -> enum.Enum:
    """A member by its code or its zh or en label (GET /meta/enums)."""
    folded = text.casefold()
    labels = LABELS.get(enum_type, {})
    for member in enum_type:
        zh, en = labels.get(member.value, ("", ""))
        if folded in (member.value.casefold(), zh.casefold(), en.casefold()):
            return member
    choices = "、".join(labels[m.value][0] if m.value in labels else m.value for m in enum_type)
    raise CellError("invalid_choice", f"not one of: {choices}")


def _basis(text: str) -> list[dict[str, Any]]:
    sources = []
    for entry in _BASIS_SPLIT.split(text.strip()):
        match = _BASIS_ENTRY.fullmatch(entry)
        if match is None:
            raise CellError("invalid_basis", f"{entry}: write each source as 【kind】《title》（number）clause, "
                                             "for example 【“三定”方案/规定】《…规定》（琼办发〔2020〕68号）第三条; "
                                             "sources separated by ；")
        try:
            kind = _choice(BasisKind, match["kind"].strip())
        except CellError as exc:
            raise CellError("invalid_basis", f"{entry}: the kind in 【】 is {exc.detail}") from exc
        sources.append({"kind": kind.value, "title": match["title"].strip(),
                        "number": (match["number"] or "").strip() or None, "clause": match["clause"].strip() or None})
    return sources


def _decomposition(text: str) -> list[dict[str, Any]]:
    """Each row as {unit, task}: `unit` still holds a （responsible person） the items import tells
    apart from a unit name that ends in brackets itself, by looking the unit up."""
    rows = []
    for entry in (e.strip() for e in _LIST_SPLIT.split(text)):
        if entry:
            unit, _, task = entry.partition("：")
            if not unit.strip():
                raise CellError("invalid_decomposition", f"{entry}: write each row as unit（responsible person）"
                                                         "：task, rows separated by ；")
            rows.append({"unit": unit.strip(), "task": task.strip() or None})
    return rows


def _int(text: str) -> int:
    if not re.fullmatch(r"\d+(\.0+)?", text):  # an XLSX number cell may read "3.0"
        raise CellError("invalid_number", "a whole number is expected")
    return int(float(text))


def _date(text: str) -> date:
    if re.fullmatch(r"\d{1,6}(\.\d+)?", text):  # an Excel date cell: days since 1899-12-30
        serial = float(text)
        if 10_000 <= serial < 2958466:  # 1927 … 9999; a bare "2026" is not a day
            return _EXCEL_EPOCH + timedelta(days=int(serial))
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?", text)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise CellError("invalid_date", "a date is expected, as YYYY-MM-DD")


def _bool(text: str) -> bool:
    folded = text.casefold()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise CellError("invalid_boolean", "是/否 (yes/no) is expected")


def _channel(entry: str) -> dict[str, Any]:
    match = _CHANNEL_LABEL.match(entry)
    label, value = (match.group(1).strip() or None, match.group(2).strip()) if match else (None, entry)
    for kind in _INFERRED_KINDS:
        try:
            return ComplaintChannel(kind=kind, value=value, label=label).model_dump(mode="json")
        except ValidationError:
            continue
    raise CellError("unknown_channel_kind", f"{entry}: not a web address, e-mail address or phone number; a postal "
                                            "or in-person channel cannot be read from a cell (set it through the "
                                            "API)")


def parse_cell(column: ImportColumn, text: str) -> Any:
    """The value of a non-empty cell, or CellError."""
    if column.kind == "text":
        return _APOSTROPHE_FORMULA.sub("", text)
    if column.kind == "int":
        return _int(text)
    if column.kind == "date":
        return _date(text)
    if column.kind == "bool":
        return _bool(text)
    if column.kind == "enum":
        return _enum(column, text)
    if column.kind == "names":
        return [n.strip() for n in _LIST_SPLIT.split(text) if n.strip()]
    if column.kind == "basis":
        return _basis(text)
    if column.kind == "decomposition":
        return _decomposition(text)
    if column.kind == "channels":  # (an unlabelled "+86 …" comes back from our CSV export as "'+86 …")
        return [_channel(n.strip()) for n in _LIST_SPLIT.split(_APOSTROPHE_FORMULA.sub("", text)) if n.strip()]
    raise AssertionError(column.kind)
