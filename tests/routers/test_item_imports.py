"""`POST /duty-lists/{id}/items/imports`: a spreadsheet of responsibility items into a draft version.

Issue 7 item 5: rows checked as `POST /duty-lists/{id}/items` checks one item, row errors with
spreadsheet row numbers (header = row 1), nothing written on failure unless `mode=partial`,
`dry_run` writes nothing, every item carries the batch id. Hostile files are refused before they
are parsed (zip bomb, DOCTYPE), a formula is stored as its text, never evaluated.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from app.models import (
    DutyList,
    DutyListImportBatch,
    DutyListStatus,
    Organisation,
    ResponsibilityItem,
)
from tests.factories import problem
from tests.factories_province import build_province
from tests.routers.test_duty_lists import start
from tests.sheet_helpers import (
    audit_rows_since_mark,
    count_rows,
    csv_bytes,
    declare_size,
    post_sheet,
    raw_xlsx,
    upload,
    xlsx,
)

ZH = ["序号", "事项编号", "事项名称", "领域", "具体内容", "牵头部门", "配合部门", "投诉举报渠道"]
EN = ["No.", "Code", "Title", "Domain", "Description", "Lead organisations", "Cooperating organisations",
      "Complaint channels"]
# The template's columns: those above, with basis and decomposition where the export has them.
TEMPLATE_ZH = [*ZH[:5], "职责依据", *ZH[5:7], "分解落实（内设机构/责任人/任务）", ZH[7]]
TEMPLATE_EN = [*EN[:5], "Basis", *EN[5:7], "Decomposition", EN[7]]


@pytest.fixture
async def provinces(database):
    async with database.transaction() as s:
        return {code: await build_province(s, code) for code in ("hainan", "henan")}


async def post(client, p, dl, data: bytes, *, user: str = "env_staff", name: str = "清单.csv",
               content_type: str = "text/csv", **params):
    return await post_sheet(client, f"/duty-lists/{dl['id']}/items/imports", p.headers(user), data, name=name,
                            content_type=content_type, **params)


pytestmark = pytest.mark.usefixtures("audit_mark")


async def written(database) -> tuple[int, int, int, int]:
    """Items, batches, and their audit rows: what a refused import must leave at zero."""
    return (await count_rows(database, ResponsibilityItem), await count_rows(database, DutyListImportBatch),
            await audit_rows_since_mark(database, "responsibility_item.create"),
            await audit_rows_since_mark(database, "duty_list_import_batch.create"))


async def deactivate(database, org) -> None:
    async with database.transaction() as s:
        await s.execute(update(Organisation).where(Organisation.id == org.id).values(is_active=False))


async def bad_rows(database, p, other) -> list[list]:
    """One valid row and one error of each kind; row 6's is the item service's own rule."""
    await deactivate(database, p.org("edu"))
    return [ZH,
            [1, "1", "组织开展入河排污口排查整治", "水生态环境", None, p.org("env").name, p.org("water").name],
            [2, "2", None, "大气环境", None, None, None],                     # row 3: no title
            [3, "3", "土壤污染防治", "土", None, None, None],                  # row 4: not a domain
            [4, "4", "固废监管", "solid_waste", None, other.org("env").name, None],  # row 5: another province
            [5, "5", "海洋保护", "marine", None, p.org("edu").name, None],    # row 6: inactive (the service)
            [6, "6", "气候变化", "climate", None, p.org("env").name, p.org("env").name],  # row 7: lead and cooperating
            ["x", "7", "噪声", "noise", None, None, None]]                     # row 8: not a number


class TestImportingItems:
    async def test_staff_import_a_csv_with_chinese_headers_and_every_item_carries_the_batch(self, client, provinces,
                                                                                            database):
        p = provinces["hainan"]
        dl = await start(client, p)
        data = csv_bytes([ZH, [1, "1.1", "组织开展入河排污口排查整治", "水生态环境", "排查", p.org("env").name,
                               p.org("water").name],
                          [None, None, None, None, None, None, None],  # a blank row is skipped, not an error
                          [2, "1.2", "大气污染防治", "air", None, None, None]])
        r = await post(client, p, dl, data)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["format"], body["encoding"], body["mode"], body["dry_run"]) == ("csv", "utf-8-sig", "all", False)
        assert body["counts"] == {"rows": 2, "imported": 2, "rejected": 0} and body["errors"] == []
        assert [row["row"] for row in body["imported"]] == [2, 4]
        items = (await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"))).json()["items"]
        assert [(i["code"], i["title"], i["domain"], [o["name"] for o in i["lead_organisations"]],
                 [o["name"] for o in i["cooperating_organisations"]]) for i in items] == [
            ("1.1", "组织开展入河排污口排查整治", "water", ["海南省生态环境厅"], ["海南省水利厅"]),
            ("1.2", "大气污染防治", "air", [], [])]
        async with database.transaction(write=False) as s:
            batch = await s.get(DutyListImportBatch, uuid.UUID(body["batch_id"]))
            assert (batch.duty_list_id, batch.source, batch.counts) == (
                uuid.UUID(dl["id"]), "清单.csv", {"items": 2, "rejected_rows": 0})
            assert set((await s.scalars(select(ResponsibilityItem.import_batch_id))).all()) == {batch.id}
        assert await written(database) == (2, 1, 2, 1)

    async def test_an_xlsx_with_english_headers_is_read_by_content_not_name(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        data = xlsx([["ID", *EN], ["ignored", 7, "3.2", "Survey outfalls", "Water", None, p.org("env").name, None]])
        r = await post(client, p, dl, data, name="items.csv", content_type="text/csv")  # the name lies
        assert r.status_code == 201, r.text
        assert (r.json()["format"], r.json()["ignored_columns"]) == ("xlsx", ["ID"])
        [item] = (await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"))).json()["items"]
        assert (item["position"], item["code"], item["domain"]) == (7, "3.2", "water")

    async def test_a_gb18030_csv_as_chinese_excel_saves_it(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域"], ["生态保护红线监管", "生态保护"]], encoding="gb18030"))
        assert r.status_code == 201, r.text
        assert r.json()["encoding"] == "gb18030"

    async def test_an_exported_ledger_re_imports(self, client, provinces):
        """Export, edit, re-import: the export's columns that an import cannot set are ignored."""
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"), json={
            "title": "核与辐射安全监管", "domain": "radiation", "lead_organisation_ids": [str(p.org("env").id)]})
        assert r.status_code == 201, r.text
        exported = await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"),
                                    params={"format": "xlsx", "headers": "zh"})
        assert exported.status_code == 200
        r = await post(client, p, dl, exported.content)
        assert r.status_code == 201, r.text
        assert {"编号ID", "单位", "清单状态", "更新时间"} <= set(r.json()["ignored_columns"])
        items = (await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"))).json()["items"]
        assert [(i["title"], i["domain"], [o["name"] for o in i["lead_organisations"]]) for i in items] == [
            ("核与辐射安全监管", "radiation", ["海南省生态环境厅"])] * 2


class TestRowErrors:
    async def test_every_row_error_has_its_row_number_and_nothing_is_written(self, client, provinces, database):
        p, other = provinces["hainan"], provinces["henan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes(await bad_rows(database, p, other)))
        assert r.status_code == 422
        body = problem(r)
        assert (body["code"], body["counts"]) == ("import_rejected", {"rows": 7, "valid": 1, "rejected": 6})
        assert [(e["row"], e["column"], e["field"], e["code"]) for e in body["errors"]] == [
            (3, "事项名称", "title", "missing"),
            (4, "领域", "domain", "invalid_choice"),
            (5, "牵头部门", "lead_organisations", "unknown_organisation"),
            (6, "牵头部门", "lead_organisations", "inactive_organisation"),
            (7, None, None, "value_error"),  # the create schema's own check: the row as a whole
            (8, "序号", "position", "invalid_number")]
        assert body["errors"][0]["pointer"] == "/rows/3/title"  # a field error like any other
        assert await written(database) == (0, 0, 0, 0)

    async def test_unknown_and_missing_columns_are_row_1(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "备注"], ["生态保护", "x"]]))
        assert r.status_code == 422
        assert [(e["row"], e["column"], e["code"]) for e in problem(r)["errors"]] == [
            (1, "备注", "unknown_column"), (1, "领域", "missing_column")]
        assert await written(database) == (0, 0, 0, 0)

    async def test_partial_mode_imports_the_valid_rows_and_reports_the_rest(self, client, provinces, database):
        p, other = provinces["hainan"], provinces["henan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes(await bad_rows(database, p, other)), mode="partial")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["counts"] == {"rows": 7, "imported": 1, "rejected": 6}
        assert [row["row"] for row in body["imported"]] == [2]
        assert [e["row"] for e in body["errors"]] == [3, 4, 5, 6, 7, 8]
        assert await written(database) == (1, 1, 1, 1)

    async def test_partial_mode_with_no_valid_row_is_422(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域"], ["生态保护", "土"]]), mode="partial")
        assert (r.status_code, r.json()["code"]) == (422, "import_rejected")
        assert await written(database) == (0, 0, 0, 0)

    async def test_a_dry_run_reports_and_writes_nothing(self, client, provinces, database):
        p, other = provinces["hainan"], provinces["henan"]
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes(await bad_rows(database, p, other)), dry_run="true")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["dry_run"], body["batch_id"], body["imported"]) == (True, None, [{"row": 2, "id": None}])
        assert [e["row"] for e in body["errors"]] == [3, 4, 5, 6, 7, 8]
        assert await written(database) == (0, 0, 0, 0)


class TestWhoAndWhen:
    async def test_a_list_outside_scope_is_404_and_non_staff_403(self, client, provinces, database):
        p, other = provinces["hainan"], provinces["henan"]
        dl = await start(client, p)
        data = csv_bytes([["事项名称", "领域"], ["生态保护", "ecology"]])
        assert (await post(client, p, dl, data, user="water_staff")).status_code == 404
        r = await client.post(f"/duty-lists/{dl['id']}/items/imports", headers=other.headers("env_staff"),
                              files=upload(data, "a.csv", "text/csv"))
        assert r.status_code == 404
        r = await post(client, p, dl, data, user="env_leader")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
        assert await written(database) == (0, 0, 0, 0)

    async def test_a_published_version_is_409(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        async with database.transaction() as s:
            await s.execute(update(DutyList).where(DutyList.id == uuid.UUID(dl["id"]))
                            .values(status=DutyListStatus.published))
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域"], ["生态保护", "ecology"]]))
        assert (r.status_code, r.json()["code"]) == (409, "duty_list_not_editable")
        assert await written(database) == (0, 0, 0, 0)


SHEET = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'


class TestHostileFiles:
    async def test_a_formula_is_stored_as_its_text_and_exported_neutralised(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        rows = SHEET + ('<row r="2"><c r="A2" t="str"><f>HYPERLINK("http://evil.example","点击")</f><v>点击</v></c>'
                        '<c r="B2" t="s"><v>2</v></c></row>')
        r = await post(client, p, dl, raw_xlsx(rows, shared=["事项名称", "领域", "water"]), name="x.xlsx")
        assert r.status_code == 201, r.text
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域"], ["=1+1", "water"], ["@SUM(A1)", "water"]]))
        assert r.status_code == 201, r.text
        items = (await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"))).json()["items"]
        assert [i["title"] for i in items] == ['=HYPERLINK("http://evil.example","点击")', "=1+1", "@SUM(A1)"]
        # Our own CSV export (app/core/export.py) must not hand them back as formulas.
        exported = await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"),
                                    params={"format": "csv"})
        assert "'=1+1" in exported.text and "'@SUM(A1)" in exported.text

    async def test_a_small_zip_declaring_a_huge_sheet_is_refused_before_parsing(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        bomb = declare_size(raw_xlsx(SHEET, shared=["事项名称", "领域"]), "xl/worksheets/sheet1.xml", 3 << 30)
        r = await post(client, p, dl, bomb, name="bomb.xlsx")
        assert (r.status_code, r.json()["code"]) == (413, "spreadsheet_too_large")
        assert await written(database) == (0, 0, 0, 0)

    async def test_a_zip_bomb_by_compression_ratio_is_refused(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        bomb = raw_xlsx(SHEET, shared=["事项名称", "领域"], extra={"xl/media/padding.bin": b"\0" * (8 << 20)})
        assert len(bomb) < 100_000
        r = await post(client, p, dl, bomb, name="bomb.xlsx")
        assert (r.status_code, r.json()["code"]) == (413, "spreadsheet_too_large")

    async def test_xml_entities_are_refused(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        r = await post(client, p, dl, raw_xlsx(SHEET, shared=["事项名称", "领域"], prolog=laughs), name="x.xlsx")
        assert (r.status_code, r.json()["code"]) == (422, "spreadsheet_unreadable")

    async def test_an_oversized_file_is_413(self, client, provinces, database):
        p = provinces["hainan"]
        dl = await start(client, p)
        rows = [["事项名称", "领域"]] + [["生" * 300, "water"]] * 9400  # about 8.5 MB, over the 8 MiB cap
        r = await post(client, p, dl, csv_bytes(rows))
        assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
        assert await written(database) == (0, 0, 0, 0)

    async def test_a_ledger_over_the_json_body_limit_is_still_read(self, client, provinces, database):
        # 1,200 rows of 300 characters: about 1.1 MB, past the app-wide 1 MiB body limit.
        p = provinces["hainan"]
        dl = await start(client, p)
        rows = [["事项名称", "领域"]] + [["生" * 300, "water"]] * 1200
        r = await post(client, p, dl, csv_bytes(rows), dry_run="true")
        assert r.status_code == 200, r.text
        assert len(r.json()["imported"]) == 1200 and r.json()["errors"] == []
        assert await written(database) == (0, 0, 0, 0)

    @pytest.mark.parametrize(("data", "what"), [(b"%PDF-1.7 \x00\x01", "a PDF"),
                                                (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old binary"),
                                                (b"\x00\x01\x02\x03binary", "binary")])
    async def test_content_that_is_not_a_spreadsheet_is_422(self, client, provinces, data, what):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await post(client, p, dl, data, name="清单.csv")
        assert (r.status_code, r.json()["code"]) == (422, "not_a_spreadsheet"), what

    async def test_an_unknown_form_part_is_422(self, client, provinces):
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items/imports", headers=p.headers("env_staff"),
                              files=upload(csv_bytes([["事项名称", "领域"]]), "a.csv", "text/csv"),
                              data={"mode": "partial"})
        assert (r.status_code, [e["pointer"] for e in r.json()["errors"]]) == (422, ["/mode"])


class TestTemplate:
    @pytest.mark.parametrize(("lang", "header"), [("zh", TEMPLATE_ZH), ("en", TEMPLATE_EN)])
    async def test_the_csv_template_has_the_export_headers(self, client, provinces, lang, header):
        p = provinces["hainan"]
        r = await client.get("/imports/templates/responsibility-items", headers=p.headers("env_viewer"),
                             params={"format": "csv", "headers": lang})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.decode("utf-8-sig").splitlines()[0].split(",") == header

    async def test_the_xlsx_template_reads_back_as_an_import(self, client, provinces):
        """The template's own example row is a valid row but for its example organisation."""
        p = provinces["hainan"]
        dl = await start(client, p)
        r = await client.get("/imports/templates/responsibility-items", headers=p.headers("env_staff"))
        assert r.status_code == 200 and r.content.startswith(b"PK\x03\x04")
        r = await post(client, p, dl, r.content, dry_run="true")
        assert [(e["row"], e["field"], e["code"]) for e in r.json()["errors"]] == [
            (2, "lead_organisations", "unknown_organisation")]
