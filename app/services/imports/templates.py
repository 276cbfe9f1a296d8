"""Import templates: the header row of an import kind and one example row, as CSV or XLSX.

Written with the ledger export's writers (app/core/export.py), so a template, an export and a
re-import agree on headers and encoding (CSV: UTF-8 with a byte-order mark).
"""

from __future__ import annotations

from collections.abc import Iterator

from app.core.export import MEDIA_TYPES, ExportFormat, content_disposition, rows_to_bytes
from app.services.imports import findings, items
from app.services.imports.columns import ImportColumn

KINDS: dict[str, tuple[tuple[ImportColumn, ...], str, str]] = {
    "responsibility-items": (items.COLUMNS, "具体事项清单导入模板", "responsibility-items-import-template"),
    "findings": (findings.COLUMNS, "问题台账导入模板", "findings-import-template"),
}


def template(kind: str, fmt: ExportFormat, lang: str) -> tuple[Iterator[bytes], str, str]:
    """(bytes, media type, Content-Disposition) of one kind's template."""
    columns, stem, ascii_stem = KINDS[kind]
    header = [c.header(lang) for c in columns]
    example = [(c.example_zh if lang == "zh" else c.example_en) or None for c in columns]
    return (rows_to_bytes(fmt, header, [example]), MEDIA_TYPES[fmt],
            content_disposition(stem, ascii_stem, fmt.value))
