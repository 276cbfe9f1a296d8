"""Ledger pages rendered by PostgreSQL (export/sql.py) are the Python path's files, byte for byte.

`/responsibility-items?format=csv|xlsx` on PostgreSQL has the server render the cells (COPY for
CSV); SQLite and `RENDER_IN_SQL = False` use the Python writer over `list_item_rows`. Both run
here over rows with what breaks CSV and spreadsheets: quotes, commas, CR/LF inside cells, cells
that start with = + - @ TAB or CR (OWASP CSV injection), empty and missing JSON parts, a
decomposition unit that no longer exists. Pages are three rows, so files cross several.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import pytest
from sqlalchemy import update

import app.services.export as export_service
from app.models import ResponsibilityItem
from app.services.export import sql as sql_pages
from app.services.export.sql import crlf_rows
from tests.factories import problem
from tests.factories_province import build_province
from tests.routers.test_duty_lists import start
from tests.routers.test_export import read_csv
from tests.routers.test_responsibility_items import add_item

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
on_postgres = pytest.mark.skipif(os.environ.get("TEST_DB", "sqlite") != "postgres",
                                 reason="PostgreSQL renders ledger pages; SQLite keeps the Python path")
TITLES = ['=HYPERLINK("http://evil","点我")', "-事项", "+1", "@SUM(1)", "含,逗号", '含"引号"', "普通事项",
          "末尾空格事项", "最后一个"]


class TestCrlfRows:
    """COPY's LF row ends become CRLF; an LF inside a quoted cell is data."""

    def test_rows_without_quotes(self):
        assert crlf_rows(b"a,b\nc,d\n") == (b"a,b\r\nc,d\r\n", 2, 5)
        assert crlf_rows(b"a,b\n") == (b"a,b\r\n", 1, 0)
        assert crlf_rows(b"") == (b"", 0, 0)

    def test_a_quoted_line_feed_stays_and_the_last_row_is_found(self):
        data = b'1,"x\ny"\n2,"a""\nb",c\n'
        assert crlf_rows(data) == (b'1,"x\ny"\r\n2,"a""\nb",c\r\n', 2, 9)
        assert crlf_rows(b'1,"say ""hi"""\n2,z\n') == (b'1,"say ""hi"""\r\n2,z\r\n', 2, 16)

    @pytest.mark.parametrize("data", [b'1,"x\ny"\n2,"a""\nb",c\n3,plain\n', b"a,b\nc,d\ne,f\n",
                                      b'id1,"\r\n""q""\n",z\nid2,y\n'])
    def test_chunks_cut_anywhere_give_the_same_rows(self, data, monkeypatch):
        """COPY hands over chunks of any size, cut mid-row or mid-cell: two cuts at every pair of places."""
        monkeypatch.setattr(sql_pages, "BLOCK_BYTES", 4)  # blocks end mid-row too
        whole = crlf_rows(data)
        last_id = whole[0][whole[2]:].split(b",")[0].decode()
        for i in range(len(data) + 1):
            for j in range(i, len(data) + 1):
                rows = sql_pages.CopyRows()
                for chunk in (data[:i], data[i:j], data[j:]):
                    rows.feed(chunk)
                assert (b"".join(rows.done()), rows.rows, rows.last) == whole, (i, j)
                assert rows.first_cell_of_last_row() == last_id


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(sql_pages, "SQL_PAGE_SIZE", 3)
    monkeypatch.setattr(sql_pages, "CSV_PAGE_SIZE", 3)
    monkeypatch.setattr(export_service, "EXPORT_PAGE_SIZE", 2)


async def items_world(database, client):
    async with database.transaction() as s:
        p, other = await build_province(s, "hainan"), await build_province(s, "henan")
    dl = await start(client, p)
    made = [await add_item(client, p, dl, code=str(n), title=title, domain="water" if n % 2 else "air",
                           description=None if n == 6 else f"第{n}项，说明",
                           complaint_channels=[{"kind": "hotline", "value": "0898-12369", "label": "举报热线"},
                                               {"kind": "email", "value": "jubao@hainan.gov.cn"}])
            for n, title in enumerate(TITLES)]
    await add_item(client, other, await start(client, other), title="河南的事项", decomposition=[])
    unit = str(p.org("env_unit").id)
    async with database.transaction() as s:  # what a row may hold though the API would refuse it
        await s.execute(update(ResponsibilityItem).where(ResponsibilityItem.id == uuid.UUID(made[1]["id"])).values(
            code="", description='第一行\r\n第二行\n"引" ,逗',
            basis=[{"title": "", "number": None}, {"title": "环境保护法", "number": "主席令9号", "clause": "第六条"}],
            decomposition=[{"unit_id": str(uuid.uuid4()), "task": "单位已撤销"},
                           {"unit_id": unit, "responsible_person": "王五", "task": ""}],
            complaint_channels=[{"kind": "hotline", "value": "12369", "label": ""}]))
        await s.execute(update(ResponsibilityItem).where(ResponsibilityItem.id == uuid.UUID(made[2]["id"])).values(
            title="\t=制表符开头", description="\r回车开头", basis=[], decomposition=[], complaint_channels=[]))
        await s.execute(update(ResponsibilityItem).where(ResponsibilityItem.id == uuid.UUID(made[3]["id"])).values(
            title="控制符\x01在中间 & <标签>", basis=[{"kind": "sanding", "title": "=1+1"}]))
    return p, made


async def both(client, monkeypatch, headers: dict, params: dict):
    """(PostgreSQL-rendered, Python-rendered) responses to the same request."""
    pages = []
    read_page = sql_pages.read_page

    async def counted(*args, **kwargs):
        pages.append(1)
        return await read_page(*args, **kwargs)

    monkeypatch.setattr(sql_pages, "read_page", counted)
    fast = await client.get("/responsibility-items", headers=headers, params=params)
    assert fast.status_code == 200 and len(pages) >= 2  # rendered by the server, more than one page
    monkeypatch.setattr(export_service, "RENDER_IN_SQL", False)
    slow = await client.get("/responsibility-items", headers=headers, params=params)
    monkeypatch.setattr(export_service, "RENDER_IN_SQL", True)
    assert slow.status_code == 200 and len(pages) >= 2
    for name in ("content-type", "content-disposition", "cache-control"):
        assert fast.headers[name] == slow.headers[name]
    return fast, slow


def sheet(r) -> bytes:
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
        return z.read("xl/worksheets/sheet1.xml")


@on_postgres
@pytest.mark.usefixtures("small_pages")
class TestItemLedgerRenderedByPostgres:
    async def test_csv_is_the_python_file_byte_for_byte_in_both_languages(self, client, database, monkeypatch):
        p, made = await items_world(database, client)
        files = {}
        for lang in ("zh", "en"):
            fast, slow = await both(client, monkeypatch, p.headers("env_staff"), {"format": "csv", "headers": lang})
            assert fast.content == slow.content
            files[lang] = fast
        header, *rows = read_csv(fast)
        assert [r[0] for r in rows] == [m["id"] for m in made] and len(rows) == 9  # three full pages
        col = {h: i for i, h in enumerate(header)}
        titles = [r[col["Title"]] for r in rows]
        assert titles[0] == '\'=HYPERLINK("http://evil","点我")' and titles[2] == "'\t=制表符开头"
        assert [r[col["Description"]] for r in rows][1:3] == ['第一行\r\n第二行\n"引" ,逗', "'\r回车开头"]
        # 【kind】《title》（number）clause, parts left out when missing (an empty source stays an empty entry)
        assert rows[1][col["Basis"]] == "；《环境保护法》（主席令9号）第六条"
        assert rows[1][col["Decomposition"]] == "：单位已撤销；水生态环境处（王五）"  # the unit is gone
        assert rows[3][col["Basis"]] == "【sanding】《=1+1》"
        zh_header, *zh_rows = read_csv(files["zh"])
        assert zh_rows[3][zh_header.index("职责依据")] == "【“三定”方案/规定】《=1+1》"
        assert rows[0][col["Complaint channels"]] == "举报热线: 0898-12369；jubao@hainan.gov.cn"

    async def test_xlsx_is_the_python_sheet(self, client, database, monkeypatch):
        p, _ = await items_world(database, client)
        for lang in ("zh", "en"):
            fast, slow = await both(client, monkeypatch, p.headers("env_staff"), {"format": "xlsx", "headers": lang})
            assert sheet(fast) == sheet(slow)
        assert fast.headers["content-type"] == XLSX

    async def test_a_filter_and_a_cursor_give_the_json_lists_rows(self, client, database, monkeypatch):
        p, _ = await items_world(database, client)
        first = (await client.get("/responsibility-items", headers=p.headers("env_staff"),
                                  params={"limit": 1, "domain": "air"})).json()
        rest = (await client.get("/responsibility-items", headers=p.headers("env_staff"),
                                 params={"limit": 200, "domain": "air", "cursor": first["next_cursor"]})).json()
        params = {"format": "csv", "domain": "air", "cursor": first["next_cursor"]}
        fast, slow = await both(client, monkeypatch, p.headers("env_staff"), params)
        assert fast.content == slow.content
        assert [r[0] for r in read_csv(fast)[1:]] == [i["id"] for i in rest["items"]] and len(rest["items"]) == 4
        fast, slow = await both(client, monkeypatch, p.headers("env_staff"), {"format": "xlsx", "q": "事项"})
        assert sheet(fast) == sheet(slow)

    async def test_csv_pages_render_two_at_a_time_never_more(self, client, database, monkeypatch):
        p, made = await items_world(database, client)
        in_flight, most = 0, 0
        read_page = sql_pages.read_page

        async def watched(*args, **kwargs):
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            try:
                return await read_page(*args, **kwargs)
            finally:
                in_flight -= 1

        monkeypatch.setattr(sql_pages, "read_page", watched)
        r = await client.get("/responsibility-items", headers=p.headers("env_staff"), params={"format": "csv"})
        assert [row[0] for row in read_csv(r)[1:]] == [m["id"] for m in made]
        assert most == export_service.CSV_CONCURRENT_PAGES == 2

    async def test_rows_after_the_last_page_end_come_in_pages_chained_from_it(self, client, database, monkeypatch):
        """Rows added once the page ends were read fall in the open last range, which is read page
        by page like a list: simulated by keeping only the first end."""
        p, made = await items_world(database, client)
        read_boundaries = sql_pages.read_boundaries

        async def first_end_only(*args, **kwargs):
            return (await read_boundaries(*args, **kwargs))[:1]

        monkeypatch.setattr(sql_pages, "read_boundaries", first_end_only)
        fast, slow = await both(client, monkeypatch, p.headers("env_staff"), {"format": "csv"})
        assert fast.content == slow.content
        assert [row[0] for row in read_csv(fast)[1:]] == [m["id"] for m in made]

    async def test_a_foreign_cursor_is_a_problem_before_the_file(self, client, database):
        p, made = await items_world(database, client)
        of_one_list = (await client.get(f"/duty-lists/{made[0]['duty_list_id']}/items",
                                        headers=p.headers("env_staff"), params={"limit": 1})).json()["next_cursor"]
        for cursor in (of_one_list, "bogus"):
            r = await client.get("/responsibility-items", headers=p.headers("env_staff"),
                                 params={"format": "csv", "cursor": cursor})
            assert (r.status_code, problem(r)["code"]) == (422, "validation_failed")

    async def test_nothing_in_scope_is_the_header_only(self, client, database):
        p, _ = await items_world(database, client)
        r = await client.get("/responsibility-items", headers=p.headers("env_staff"),
                             params={"format": "csv", "q": "没有这样的事项"})
        assert r.status_code == 200 and len(read_csv(r)) == 1
