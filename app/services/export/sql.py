"""Ledger pages rendered by PostgreSQL: the 100,000-row path (issue 7 item 4).

In Python a row costs ~120 µs (row objects, JSON, cells, writer); the target is 10 µs for CSV.
So on PostgreSQL the list's own statement (`SqlLedger.pick`: its filters and scope, compiled
from the same SQLAlchemy select, never hand-copied) chooses each page on its sort keys, and a
SELECT built around it (`SqlLedger.render`) has the server produce the cells: labels, names,
joined JSON, dates in the jurisdiction's zone, and for CSV the formula neutralisation. CSV pages
then come from `COPY (...) TO STDOUT WITH (FORMAT csv)`, bytes that go to the client as they
are; XLSX pages come as raw asyncpg records, which the Python writer turns into XML.

Pages follow the list's keyset (`paging`'s cursor, scope and `after` condition), one short read
session each, so no connection is held while a slow client downloads and no COPY runs into the
statement timeout. XLSX pages chain: each starts after the last row of the one before. A CSV page
is PostgreSQL's work alone, so the ends of all pages are read first (`boundaries`: one narrow sort
of the keys in scope) and two pages render at once on two connections (`Export._stream_csv_ranges`).
SQLite keeps the Python path (`Export.stream` without `sql`).

Output is byte-for-byte that of the Python path (tests/routers/test_export_sql.py compares them):
PostgreSQL's CSV quoting is Python's QUOTE_MINIMAL (delimiter, quote, CR, LF), an empty cell is
NULL so it is not written as `""`, and its LF row ends become CRLF here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, func, not_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# The list's own cursor rules, not a copy of them: a bad cursor is the same 422 as on the JSON list.
from app.services.paging import _after, _decode

# Rows per page: each page scans and sorts the list's rows after the cursor, so pages are large.
# XLSX pages are records in memory (~3 kB a row, two pages at a time: the next one is read while
# one is sent), CSV pages only their bytes (~270 B a row).
SQL_PAGE_SIZE = 10_000
CSV_PAGE_SIZE = 50_000
WORK_MEM = "64MB"  # the page's sorts and hashes stay in memory instead of spilling (default 4MB)


@dataclass(frozen=True)
class SqlLedger:
    """A list's own statement, for PostgreSQL to render as ledger cells.

    `pick`: the list's filtered, scoped SELECT, not ordered yet, with the columns `render` needs;
    `keys` its sort keys (the id last). `render(page, csv)`: the cells of the rows in `page` (a CTE of `pick`,
    ordered and limited) in the spec's column order, ordered like the list, the row id as text
    first; `csv` asks for CSV cells (neutralised, empty as NULL, datetimes as text)."""

    pick: Select[Any]
    keys: tuple[ColumnElement[Any], ...]
    kinds: tuple[str, ...]
    scope: str
    render: Callable[[CTE, bool], Select[Any]]

    def start(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The sort values to start after; 422 (ValidationFailed) for a cursor of another list."""
        return tuple(_decode(cursor, self.scope, self.kinds)) if cursor else None

    def _from(self, after: Sequence[Any] | None) -> Select[Any]:
        return self.pick if after is None else self.pick.where(_after(self.keys, after))

    def page(self, after: Sequence[Any] | None, size: int, csv: bool,
             until: Sequence[Any] | None = None) -> Select[Any]:
        """The rows after `after`: `size` of them, or, with `until`, every row up to and including
        that key (a range whose end was read beforehand: rows added to it meanwhile come too)."""
        pick = self._from(after).order_by(*self.keys)
        pick = pick.limit(size) if until is None else pick.where(not_(_after(self.keys, until)))
        # a CTE: the render joins the page twice (cells, related rows), PostgreSQL reads it once
        return self.render(pick.cte("page"), csv)

    def boundaries(self, after: Sequence[Any] | None, every: int) -> Select[Any]:
        """The sort keys of every `every`-th row after `after`: where the pages of one export end,
        so that several can be rendered at once. One narrow sort of the keys in scope."""
        n = func.row_number().over(order_by=self.keys).label("n")
        numbered = self._from(after).with_only_columns(*self.keys, n, maintain_column_froms=True).subquery()
        keys = list(numbered.c)[:len(self.keys)]
        return select(*keys).where(numbered.c.n % every == 0).order_by(numbered.c.n)


@dataclass
class RenderedPage:
    data: list[bytes]  # CSV rows (CRLF) in blocks, empty for XLSX
    rows: list[Any]  # XLSX: records of cells, empty for CSV
    count: int
    after: tuple[Any, ...] | None  # where the next page starts; None: the last, or a range read to its end


def driver_sql(stmt: Select[Any], conn: AsyncConnection) -> tuple[str, list[Any]]:
    """The statement as asyncpg receives it from SQLAlchemy: `$n` SQL and processed parameters,
    IN lists expanded (what the default execution context does before cursor.execute)."""
    compiled = stmt.compile(dialect=conn.dialect)
    state = compiled.construct_expanded_state(escape_names=False)
    processors = {**compiled._bind_processors, **state.processors}
    params = [processors[k](state.parameters[k]) if k in processors else state.parameters[k]
              for k in state.positiontup or ()]
    return state.statement, params


BLOCK_BYTES = 1 << 20  # CSV bytes are kept in blocks of about this size: no copy of a whole page is made


class CopyRows:
    """COPY's output, chunk by chunk, as the ledger's rows: COPY ends rows with LF, the ledger with
    CRLF, and an LF inside a quoted cell is data and stays.

    Inside a quoted cell the quotes seen so far are odd in number (a quote in a cell is doubled),
    so an LF ends a row when they are even; that parity carries from one chunk to the next, so a
    chunk may end anywhere. The rows are kept in blocks of ~BLOCK_BYTES (`blocks`), with their
    count and the offset where the last whole row starts (`last`)."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.quoted = False
        self.rows = 0
        self.size = 0  # bytes so far
        self._row_start = 0  # where the row being read began
        self.last = 0  # where the last whole row began

    def feed(self, chunk: bytes) -> None:
        if not self.quoted and b'"' not in chunk:  # nothing quoted: every LF ends a row
            out = chunk.replace(b"\n", b"\r\n")
            ends = len(out) - len(chunk)
            if ends:
                final = out.rfind(b"\r\n")
                self.last = self.size + out.rfind(b"\r\n", 0, final) + 2 if ends > 1 else self._row_start
                self._row_start = self.size + final + 2
                self.rows += ends
            self._add(out)
            return
        pieces, parts, at = chunk.split(b"\n"), [], self.size
        for piece in pieces[:-1]:
            if piece.count(b'"') & 1:
                self.quoted = not self.quoted
            end = b"\n" if self.quoted else b"\r\n"
            parts += (piece, end)
            at += len(piece) + len(end)
            if not self.quoted:
                self.rows += 1
                self.last, self._row_start = self._row_start, at
        if pieces[-1].count(b'"') & 1:  # the row goes on in the next chunk
            self.quoted = not self.quoted
        parts.append(pieces[-1])
        self._add(b"".join(parts))

    def _add(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        self.size += len(data)
        if self._pending_size >= BLOCK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.blocks.append(b"".join(self._pending))
            self._pending, self._pending_size = [], 0

    def done(self) -> list[bytes]:
        self._flush()
        return self.blocks

    def first_cell_of_last_row(self) -> str:
        """The id: the first cell, never quoted (a UUID), of the last whole row."""
        start, out = 0, b""
        for block in self.blocks:
            if start + len(block) > self.last:
                out += block[max(self.last - start, 0):]
                if b"," in out:
                    break
            start += len(block)
        return out[:out.index(b",")].decode()


def crlf_rows(data: bytes) -> tuple[bytes, int, int]:
    """`CopyRows` on one chunk: (bytes, rows, offset of the last row)."""
    rows = CopyRows()
    rows.feed(data)
    return b"".join(rows.done()), rows.rows, rows.last


async def read_boundaries(session: AsyncSession, ledger: SqlLedger, after: Sequence[Any] | None,
                          every: int) -> list[tuple[Any, ...]]:
    """`SqlLedger.boundaries`, read in the session's own transaction (its sort kept in memory)."""
    await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    return [tuple(row) for row in (await session.execute(ledger.boundaries(after, every))).all()]


async def read_page(session: AsyncSession, ledger: SqlLedger, after: Sequence[Any] | None, size: int, *,
                    csv: bool, until: Sequence[Any] | None = None) -> RenderedPage:
    """One page of the ledger, rendered by PostgreSQL, and where the next one starts. With `until`,
    the range up to that key (`SqlLedger.page`): the next range starts at `until`, so the page's
    `after` is None.

    `session` must be fresh (nothing run on it yet): the page and the sort keys of its last row
    are read in one REPEATABLE READ transaction, so that row cannot vanish between the two."""
    conn = await session.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    sql, params = driver_sql(ledger.page(after, size, csv, until), conn)
    data: list[bytes] = []
    rows: list[Any] = []
    async with driver.transaction(isolation="repeatable_read", readonly=True):
        await driver.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        if csv:
            copied = CopyRows()

            async def collect(chunk: bytes) -> None:
                copied.feed(bytes(chunk))

            # asyncpg inlines the parameters with the server's own quote_literal (nothing is spliced here)
            await driver.copy_from_query(sql, *params, output=collect, format="csv")
            data, count = copied.done(), copied.rows
            last_id = copied.first_cell_of_last_row() if count else None
        else:
            rows = list(await driver.fetch(sql, *params))
            count, last_id = len(rows), (rows[-1][0] if rows else None)
        next_after = None
        if until is None and count == size and last_id is not None:  # a full page: there may be more
            key_sql, key_params = driver_sql(select(*ledger.keys).where(ledger.keys[-1] == uuid.UUID(last_id)), conn)
            found = await driver.fetchrow(key_sql, *key_params)
            next_after = (*tuple(found)[:-1], uuid.UUID(last_id))
    return RenderedPage(data, rows, count, next_after)
