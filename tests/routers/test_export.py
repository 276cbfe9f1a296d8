"""Ledger export (issue 7 item 4): a filtered list as CSV or XLSX equals the JSON list, row for row.

The export runs the list's own query (scoping, filters, order) page by page with the keyset
cursor; pages are made tiny here so a handful of rows crosses several of them. XLSX files are
read back with zipfile + ElementTree, independently of the writer.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from urllib.parse import unquote
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

import app.services.export as export_service
import app.services.export.sql as export_sql
from tests.factories import problem
from tests.findings_helpers import campaign, register

OFFICE = "inspection_office_office"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(export_service, "EXPORT_PAGE_SIZE", 2)
    monkeypatch.setattr(export_sql, "SQL_PAGE_SIZE", 5)  # PostgreSQL-rendered pages (responsibility items)
    monkeypatch.setattr(export_sql, "CSV_PAGE_SIZE", 5)


def read_csv(r) -> list[list[str]]:
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese text correctly
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))


def read_xlsx(r) -> list[list[object]]:
    """Cells as text, number or (for date-styled cells) date/datetime."""
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml"} <= set(z.namelist())
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iterfind("m:sheetData/m:row", NS):
        cells: list[object] = []
        for c in row.iterfind("m:c", NS):
            v, t = c.find("m:v", NS), c.get("t")
            if t == "inlineStr":
                cells.append("".join(x.text or "" for x in c.iterfind("m:is/m:t", NS)))
            elif v is None:
                cells.append(None)
            elif c.get("s") == "1":
                cells.append(date(1899, 12, 30) + timedelta(days=int(v.text)))
            elif c.get("s") == "2":
                cells.append(datetime(1899, 12, 30) + timedelta(seconds=round(float(v.text) * 86400)))
            elif t == "b":
                cells.append(v.text == "1")
            else:
                cells.append(float(v.text))
        rows.append(cells)
    return rows


def local(ts: str) -> datetime:
    return datetime.fromisoformat(ts).astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


async def findings_world(database, client):
    c = await campaign(database, client)
    made = [await register(client, c, code=f"A-{n}", title=f"问题{n}") for n in range(5)]
    made.append(await register(client, c, code="X-1", title='=HYPERLINK("http://evil","点我")'))
    made.append(await register(client, c, code="X-2", title="@SUM(1+1)", rectification_type="long_term"))
    return c, made


class TestFindingsExport:
    async def test_csv_of_a_filtered_list_equals_the_json_list(self, client, database):
        c, _ = await findings_world(database, client)
        params = {"rectification_type": "time_limited", "limit": 200}
        listed = (await client.get("/findings", headers=c.h(OFFICE), params=params)).json()["items"]
        assert len(listed) == 6
        r = await client.get("/findings", headers=c.h(OFFICE), params={**params, "format": "csv", "headers": "en"})
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"].startswith('attachment; filename="findings-')
        header, *rows = read_csv(r)
        assert header[:6] == ["ID", "Code", "Title", "Inspection", "Category", "Status"]
        col = {h: i for i, h in enumerate(header)}
        assert [row[col["ID"]] for row in rows] == [f["id"] for f in listed]
        for row, f in zip(rows, listed, strict=True):
            assert row[col["Status"]] == f["status"] and row[col["Rectification type"]] == f["rectification_type"]
            assert row[col["Inspection"]] == f["inspection"]["title"]
            assert row[col["Registered at"]] == local(f["created_at"]).strftime("%Y-%m-%d %H:%M:%S")
            assert row[col["Overdue"]] == "false"
        # OWASP CSV injection: the formula is text, its first character protected
        assert rows[-1][col["Title"]] == '\'=HYPERLINK("http://evil","点我")'

    async def test_xlsx_with_chinese_headers_and_labels_equals_the_json_list(self, client, database):
        c, _ = await findings_world(database, client)
        listed = (await client.get("/findings", headers=c.h(OFFICE), params={"limit": 200})).json()["items"]
        r = await client.get("/findings", headers={**c.h(OFFICE), "Accept": XLSX})
        assert r.status_code == 200 and r.headers["content-type"] == XLSX
        name = r.headers["content-disposition"].split("filename*=UTF-8''")[1]
        assert unquote(name).startswith("问题台账-") and name.endswith(".xlsx")
        header, *rows = read_xlsx(r)
        assert header[:6] == ["编号ID", "问题编号", "问题标题", "督察/巡视", "问题类别", "状态"]
        col = {h: i for i, h in enumerate(header)}
        assert [row[col["编号ID"]] for row in rows] == [f["id"] for f in listed]
        assert {row[col["状态"]] for row in rows} == {"已登记"}
        assert [row[col["整改类型"]] for row in rows][-1] == "长期整改"
        for row, f in zip(rows, listed, strict=True):
            assert row[col["问题标题"]] == f["title"]  # an inline string is never a formula: kept verbatim
            assert row[col["登记时间"]] == local(f["created_at"])
            assert row[col["逾期"]] == "否"

    async def test_a_cursor_and_filters_are_honoured_and_out_of_scope_rows_never_exported(self, client, database):
        c, made = await findings_world(database, client)
        first = (await client.get("/findings", headers=c.h(OFFICE), params={"limit": 3})).json()
        rest = (await client.get("/findings", headers=c.h(OFFICE), params={"limit": 200,
                                                                           "cursor": first["next_cursor"]})).json()
        r = await client.get("/findings", headers=c.h(OFFICE), params={"format": "csv",
                                                                       "cursor": first["next_cursor"]})
        assert [row[0] for row in read_csv(r)[1:]] == [f["id"] for f in rest["items"]]
        r = await client.get("/findings", headers=c.h(OFFICE), params={"format": "xlsx", "q": "HYPERLINK"})
        assert [row[0] for row in read_xlsx(r)[1:]] == [made[5]["id"]]
        r = await client.get("/findings", headers=c.h("edu_leader"), params={"format": "csv"})
        assert r.status_code == 200 and len(read_csv(r)) == 1  # the header only

    async def test_errors_come_before_the_file(self, client, database):
        c, _ = await findings_world(database, client)
        r = await client.get("/findings", headers={**c.h(OFFICE), "Accept": "image/png"})
        assert (r.status_code, problem(r)["code"]) == (406, "not_acceptable")
        r = await client.get("/findings", params={"format": "csv"})
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await client.get("/findings", headers=c.h(OFFICE), params={"format": "csv", "cursor": "bogus"})
        assert (r.status_code, problem(r)["code"]) == (422, "validation_failed")
        r = await client.get("/findings", headers=c.h(OFFICE), params={"format": "pdf"})
        assert r.status_code == 422
        r = await client.get("/findings", headers={**c.h(OFFICE), "Accept": "text/html, */*;q=0.8"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"


class TestOrganisationsExport:
    async def test_csv_equals_the_json_list_for_the_same_filter(self, client, database):
        c = await campaign(database, client)
        params = {"subtree_of": str(c.org("gov")), "limit": 200}
        listed = (await client.get("/organisations", headers=c.h("gov_leadership"), params=params)).json()["items"]
        assert len(listed) > 3
        r = await client.get("/organisations", headers={**c.h("gov_leadership"), "Accept": "text/csv"}, params=params)
        header, *rows = read_csv(r)
        assert header[:5] == ["编号ID", "名称", "简称代码", "类型", "层级"]
        assert [(row[0], row[1]) for row in rows] == [(o["id"], o["name"]) for o in listed]


class TestResponsibilityItemsExport:
    """`/responsibility-items` exports plain rows of the list's own statement (the 100,000-row path)."""

    async def test_csv_and_xlsx_equal_the_json_list_and_other_provinces_never_appear(self, client, database):
        from tests.factories_province import build_province
        from tests.routers.test_duty_lists import start
        from tests.routers.test_responsibility_items import add_item

        async with database.transaction() as s:
            p, other = await build_province(s, "hainan"), await build_province(s, "henan")
        dl = await start(client, p)
        for n in range(12):
            await add_item(client, p, dl, code=str(n), title=f"-事项{n}" if n == 4 else f"事项{n}",
                           domain="water" if n % 2 else "air")
        await add_item(client, other, await start(client, other), title="河南的事项", decomposition=[])
        params = {"domain": "water", "limit": 200}
        listed = (await client.get("/responsibility-items", headers=p.headers("env_staff"),
                                   params=params)).json()["items"]
        assert len(listed) == 6
        r = await client.get("/responsibility-items", headers=p.headers("env_staff"),
                             params={**params, "format": "csv", "headers": "en"})
        header, *rows = read_csv(r)
        col = {h: i for i, h in enumerate(header)}
        assert [(row[col["ID"]], row[col["Title"]]) for row in rows] == [(i["id"], i["title"]) for i in listed]
        for row, i in zip(rows, listed, strict=True):
            assert row[col["Lead organisations"]] == "；".join(o["name"] for o in i["lead_organisations"])
            assert row[col["Cooperating organisations"]] == "；".join(o["name"] for o in i["cooperating_organisations"])
            assert row[col["Decomposition"]] == "水生态环境处：排查"
            assert (row[col["Domain"]], row[col["List status"]]) == ("water", "draft")
            assert row[col["Basis"]] == "【sanding】《三定方案》第三条"
        everything = (await client.get("/responsibility-items", headers=p.headers("env_staff"),
                                       params={"limit": 200})).json()["items"]
        r = await client.get("/responsibility-items", headers={**p.headers("env_staff"), "Accept": XLSX})
        header, *rows = read_xlsx(r)
        assert [row[0] for row in rows] == [i["id"] for i in everything] and len(rows) == 12
        col = {h: i for i, h in enumerate(header)}
        assert len({row[col["领域"]] for row in rows}) == 2 and "water" not in {row[col["领域"]] for row in rows}
        assert "河南的事项" not in {row[col["事项名称"]] for row in rows}
        r = await client.get("/responsibility-items", headers=p.headers("env_staff"), params={"format": "csv"})
        assert "'-事项4" in {row[5] for row in read_csv(r)[1:]}
