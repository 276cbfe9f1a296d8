"""Ledger export of any list (issue 7 item 4): the list's own query, page by page, as CSV or XLSX.

A list route hands `stream()` a `fetch(session, cursor, limit)` that calls the very service
function its JSON page calls, so an export has the list's scoping, filters and order by
construction ("export of a filtered list equals the list"). The first page is read inside the
request, before any byte is sent: a bad filter, a foreign cursor or a missing permission is
still a problem document. Each later page runs in a short read session of its own, following
the keyset cursor (never OFFSET), so the connection is not held while a slow client downloads
and memory stays a few pages deep whatever the row count.

`headers=zh` (the default, what a clerk expects) gives Chinese column headers and enum labels
(`GET /meta/enums`) and 是/否; `headers=en` gives English headers and the API's codes, which is
what an integrator or a re-import wants. Datetimes are shown in the jurisdiction's zone
(Asia/Shanghai for every shipped profile); calendar dates are already local.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calendar import DEFAULT_TIMEZONE, today_in_zone
from app.core.db import Database
from app.core.export import MEDIA_TYPES, CsvWriter, ExportFormat, XlsxWriter, content_disposition, writer_for
from app.core.openapi import problem_responses
from app.schemas.enums import LABELS
from app.services.export import sql as sql_pages
from app.services.export.sql import SqlLedger

log = logging.getLogger("envduty.export")

EXPORT_PAGE_SIZE = 1000  # rows per page of a list read through its read models
ROW_PAGE_SIZE = 5000  # rows per page of a list read as plain rows (the sort per page is amortised)
Language = Literal["zh", "en"]
SEPARATOR = "；"


class _Page(Protocol):
    items: Sequence[Any]
    next_cursor: str | None


Fetch = Callable[[AsyncSession, str | None, int], Awaitable[_Page]]


@dataclass(frozen=True)
class Column:
    """One ledger column: a stable key, its English and Chinese headers, how to read it from an item."""

    key: str
    en: str
    zh: str
    get: Callable[[Any], Any] | None = None  # default: the item's attribute named `key`
    width: int = 16
    localised: Callable[[Any, Language], Any] | None = None  # instead of `get`, for a cell that names labels

    def value(self, item: Any, lang: Language) -> Any:
        if self.localised:
            return self.localised(item, lang)
        return self.get(item) if self.get else getattr(item, self.key)


@dataclass(frozen=True)
class ExportSpec:
    name: str  # ASCII file stem: findings
    title_zh: str  # sheet and file name for zh: 问题台账
    title_en: str
    columns: tuple[Column, ...] = field(default_factory=tuple)


def names(items: Sequence[Any] | None) -> str:
    """Organisation briefs (or anything with `name`) as one cell."""
    return SEPARATOR.join(i.name for i in items or ())


def name_of(item: Any) -> str | None:
    return item.name if item is not None else None


class Renderer:
    """Item values → cells: enums as labels or codes, datetimes in the zone, lists joined."""

    def __init__(self, lang: Language, tz: str = DEFAULT_TIMEZONE) -> None:
        self.lang = lang
        self.zone = ZoneInfo(tz)

    def cell(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is float or value is None:  # enums and bools are subclasses
            return value
        if isinstance(value, bool):
            return ("是" if value else "否") if self.lang == "zh" else value
        if isinstance(value, enum.Enum):
            if self.lang == "zh":
                labels = LABELS.get(type(value))
                if labels and value.value in labels:
                    return labels[value.value][0]
            return value.value
        if isinstance(value, datetime):
            return value.astimezone(self.zone).replace(tzinfo=None, microsecond=0) if value.tzinfo else value
        if isinstance(value, date):
            return value
        if isinstance(value, (list, tuple, set, frozenset)):
            return SEPARATOR.join(str(c) for c in (self.cell(v) for v in value) if c not in (None, ""))
        return str(value)

    def row(self, spec: ExportSpec, item: Any) -> list[Any]:
        return [self.cell(c.value(item, self.lang)) for c in spec.columns]

    def header(self, spec: ExportSpec) -> list[str]:
        return [c.zh if self.lang == "zh" else c.en for c in spec.columns]


SqlSource = Callable[["ExportSpec", Language], Awaitable["SqlLedger"]]
RENDER_IN_SQL = True  # on PostgreSQL, lists that pass `sql=` are rendered by the server (tests turn it off)
# CSV pages rendered at once, each on its own connection (PostgreSQL's work is most of a CSV export's;
# two is this deployment's core count, and an export holds no more connections than that)
CSV_CONCURRENT_PAGES = 2
XLSX_CHUNK_ROWS = 2000  # rows of a rendered page written per chunk: the XML of a whole page stays unbuilt


@dataclass(frozen=True)
class Export:
    """What the caller asked for (from `format=`/`Accept` and `headers=`) and where later pages are read."""

    fmt: ExportFormat
    lang: Language
    database: Database

    async def stream(self, session: AsyncSession, spec: ExportSpec, fetch: Fetch, *,
                     cursor: str | None = None, plain_rows: bool = False,
                     sql: SqlSource | None = None) -> StreamingResponse:
        """The whole filtered list from `cursor` on (the page size `limit` does not apply).

        `plain_rows`: `fetch` returns light rows, not read models, so pages can be larger.
        `sql`: the list's statement as a `SqlLedger`; on PostgreSQL the server renders the cells
        (export/sql.py), on SQLite `fetch` is used."""
        if sql is not None and RENDER_IN_SQL and not self.database.is_sqlite:
            return await self._stream_sql(spec, await sql(spec, self.lang), cursor)
        size = min(ROW_PAGE_SIZE, EXPORT_PAGE_SIZE * 5) if plain_rows else EXPORT_PAGE_SIZE
        first = await fetch(session, cursor, size)  # validates before the response starts
        renderer = Renderer(self.lang)
        writer = self._writer(spec)

        async def body() -> AsyncIterator[bytes]:
            page, rows = first, 0
            yield writer.start(renderer.header(spec))
            while True:
                rows += len(page.items)
                yield writer.chunk([renderer.row(spec, item) for item in page.items])
                if not page.next_cursor:
                    break
                async with self.database.sessions(write=False)() as read:
                    page = await fetch(read, page.next_cursor, size)
            yield writer.finish()
            log.info("export finished", extra={"export": spec.name, "format": self.fmt.value, "rows": rows})

        return self._response(body(), spec)

    async def _stream_sql(self, spec: ExportSpec, ledger: SqlLedger, cursor: str | None) -> StreamingResponse:
        after = ledger.start(cursor)  # a foreign or tampered cursor: 422 before any byte
        csv = self.fmt is ExportFormat.csv
        size = sql_pages.CSV_PAGE_SIZE if csv else sql_pages.SQL_PAGE_SIZE

        async def read(start: tuple[Any, ...] | None, until: tuple[Any, ...] | None = None
                       ) -> sql_pages.RenderedPage:
            async with self.database.sessions(write=False)() as s:
                return await sql_pages.read_page(s, ledger, start, size, csv=csv, until=until)

        if csv:
            return await self._stream_csv_ranges(spec, ledger, after, size, read)
        first = await read(after)  # inside the request: a failing statement is a problem document
        writer = self._writer(spec)

        async def body() -> AsyncIterator[bytes]:
            page, rows, upcoming = first, 0, None
            yield writer.start(Renderer(self.lang).header(spec))
            try:
                while True:
                    rows += page.count
                    # the server renders the next page while this one is sent (two cores, not one)
                    upcoming = asyncio.create_task(read(page.after)) if page.after is not None else None
                    for n in range(0, len(page.rows), XLSX_CHUNK_ROWS):
                        # In a thread, so the event loop keeps answering the upcoming read's
                        # round trips (BEGIN, SET, the query) while the XML is built.
                        yield await asyncio.to_thread(writer.chunk, page.rows[n:n + XLSX_CHUNK_ROWS])
                    if upcoming is None:
                        break
                    page = await upcoming
            finally:
                if upcoming is not None and not upcoming.done():  # the client went away mid-file
                    upcoming.cancel()
            yield writer.finish()
            self._finished(spec, rows)

        return self._response(body(), spec)

    async def _stream_csv_ranges(self, spec: ExportSpec, ledger: SqlLedger, after: tuple[Any, ...] | None,
                                 size: int, read: Callable[..., Awaitable[sql_pages.RenderedPage]]
                                 ) -> StreamingResponse:
        """CSV pages are PostgreSQL's work alone (COPY bytes pass through), one backend per page: so
        the ends of the pages are read first (`SqlLedger.boundaries`) and CSV_CONCURRENT_PAGES of
        them render at once, sent in order. Each page is still its own short REPEATABLE READ read
        of a half-open key range; rows added after the last boundary come in pages chained from it."""
        async with self.database.sessions(write=False)() as s:  # in the request: errors are problems
            ends = await sql_pages.read_boundaries(s, ledger, after, size)
        ranges: list[tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]] = list(
            zip([after, *ends], [*ends, None], strict=True))
        pending: deque[asyncio.Task[sql_pages.RenderedPage]] = deque()

        def launch() -> None:
            while ranges and len(pending) < CSV_CONCURRENT_PAGES:
                pending.append(asyncio.create_task(read(*ranges.pop(0))))

        launch()
        try:
            await pending[0]  # inside the request: a failing statement is a problem document
        except BaseException:
            for task in pending:
                task.cancel()
            raise
        writer = self._writer(spec)

        async def body() -> AsyncIterator[bytes]:
            rows = 0
            yield writer.start(Renderer(self.lang).header(spec))
            try:
                while pending:
                    page = await pending.popleft()  # the first is done already (awaited above)
                    if page.after is not None:  # the open last range filled a page: more was added
                        ranges.append((page.after, None))
                    launch()
                    rows += page.count
                    for block in page.data:
                        yield block
            finally:
                for task in pending:  # the client went away mid-file
                    task.cancel()
            yield writer.finish()
            self._finished(spec, rows)

        return self._response(body(), spec)

    def _finished(self, spec: ExportSpec, rows: int) -> None:
        log.info("export finished", extra={"export": spec.name, "format": self.fmt.value, "rows": rows,
                                           "rendered_by": "postgresql"})

    def _title(self, spec: ExportSpec) -> str:
        return spec.title_zh if self.lang == "zh" else spec.title_en

    def _writer(self, spec: ExportSpec) -> CsvWriter | XlsxWriter:
        return writer_for(self.fmt, sheet_name=self._title(spec), widths=[c.width for c in spec.columns])

    def _response(self, body: AsyncIterator[bytes], spec: ExportSpec) -> StreamingResponse:
        stamp = today_in_zone().strftime("%Y%m%d")
        disposition = content_disposition(f"{self._title(spec)}-{stamp}", f"{spec.name}-{stamp}", self.fmt.value)
        media_type = MEDIA_TYPES[self.fmt] + ("; charset=utf-8" if self.fmt is ExportFormat.csv else "")
        return StreamingResponse(body, media_type=media_type,
                                 headers={"Content-Disposition": disposition, "Cache-Control": "no-store",
                                          "X-Content-Type-Options": "nosniff"})


def media_responses() -> dict[int | str, dict[str, Any]]:
    """`responses=` entries that make a list operation's contract say it exports (plus its 406)."""
    return {200: {"description": "The page as JSON, or the whole filtered list as a ledger file "
                                 "(`format=csv|xlsx` or `Accept`; `headers=zh|en`).",
                  "content": {MEDIA_TYPES[ExportFormat.csv]: {"schema": {"type": "string"}},
                              MEDIA_TYPES[ExportFormat.xlsx]: {"schema": {"type": "string", "format": "binary"}}},
                  "headers": {"Content-Disposition": {
                      "description": "attachment; filename (RFC 6266, `filename*` for the Chinese name); "
                                     "only on a ledger file.", "schema": {"type": "string"}}}},
            **problem_responses(406)}
