"""`POST /inspections/{id}/findings/imports`: a spreadsheet of findings, each registered (issue 7 item 5).

Rows go through `POST /findings`'s own service: a code unique in the campaign (a duplicate in the
file is that row's `finding_code_exists`), a category of the inspection (by code or title).
Nothing is written on failure unless `mode=partial`; a batch (`finding_import_batch`) marks every
finding; the single registration's audit row is written per finding.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Finding, FindingImportBatch
from tests.factories import problem
from tests.factories_province import build_province
from tests.findings_helpers import campaign
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

ZH = ["问题编号", "问题标题", "问题描述", "问题类别", "整改类型", "整改时限", "重点督办", "专人办理"]
EN = ["Code", "Title", "Description", "Category", "Rectification type", "Deadline", "Key problem",
      "Key problem handler"]


async def post(client, c, data: bytes, *, user: str = "cn_inspector", name: str = "问题台账.csv",
               content_type: str = "text/csv", **params):
    return await post_sheet(client, f"/inspections/{c.inspection['id']}/findings/imports", c.h(user), data,
                            name=name, content_type=content_type, **params)


pytestmark = pytest.mark.usefixtures("audit_mark")


async def written(database) -> tuple[int, int, int]:
    """Findings, batches, and their audit rows: what a refused import must leave at zero."""
    return (await count_rows(database, Finding), await count_rows(database, FindingImportBatch),
            await audit_rows_since_mark(database, "finding.create", "finding_import_batch.create"))


async def with_category(client, c) -> dict:
    r = await client.post(f"/inspections/{c.inspection['id']}/categories", headers=c.h("cn_inspector"),
                          json={"code": "(一)", "title": "落实党中央决策部署方面"})
    assert r.status_code == 201, r.text
    return r.json()


BAD = [ZH,
       ["1-1", "城镇内河湖水质不达标", None, "(一)", "限期整改", "2026-06-30", "否", None],
       ["1-1", "重复编号", None, None, None, None, None, None],              # row 3: code taken by row 2
       ["1-2", "类别不存在", None, "(九)", None, None, None, None],          # row 4
       ["1-3", "日期不对", None, None, None, "明年", None, None],            # row 5
       ["1-4", "整改类型不对", None, None, "马上", None, "也许", None]]        # row 6: two errors


class TestImportingFindings:
    async def test_the_inspector_imports_a_csv_and_each_finding_is_registered_with_the_batch(self, client, database):
        c = await campaign(database, client)
        category = await with_category(client, c)
        r = await post(client, c, csv_bytes([ZH, ["1-1", "城镇内河湖水质不达标", "督察反馈", "落实党中央决策部署方面", "立行立改",
                                                  "2026/6/30", "是", "孙善芳"],
                                             ["1-2", "=CMD|' /C calc'!A0", None, "(一)", None, None, None, None]]))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["counts"] == {"rows": 2, "imported": 2, "rejected": 0}
        found = {f["code"]: f for f in [(await client.get(f"/findings/{row['id']}", headers=c.h("cn_inspector"))
                                         ).json() for row in body["imported"]]}
        first, second = found["1-1"], found["1-2"]
        assert (first["status"], first["rectification_type"], first["deadline"], first["key_problem"],
                first["key_problem_handler"], first["category"]["id"]) == (
            "registered", "immediate", "2026-06-30", True, "孙善芳", category["id"])
        assert second["title"] == "=CMD|' /C calc'!A0"  # a formula is text, stored as typed
        async with database.transaction(write=False) as s:
            batch = await s.get(FindingImportBatch, uuid.UUID(body["batch_id"]))
            assert (batch.inspection_id, batch.counts) == (uuid.UUID(c.inspection["id"]),
                                                           {"findings": 2, "rejected_rows": 0})
            assert set((await s.scalars(select(Finding.import_batch_id))).all()) == {batch.id}
        assert await written(database) == (2, 1, 3)

    async def test_an_xlsx_with_english_headers_and_excel_dates(self, client, database):
        c = await campaign(database, client)
        r = await post(client, c, xlsx([EN, ["2-1", "Water quality", None, None, "long_term", date(2027, 3, 31),
                                             "false", None]]), name="ledger.xlsx")
        assert r.status_code == 201, r.text
        f = (await client.get(f"/findings/{r.json()['imported'][0]['id']}", headers=c.h("cn_inspector"))).json()
        assert (f["rectification_type"], f["deadline"], f["key_problem"]) == ("long_term", "2027-03-31", False)

    async def test_a_formula_cell_in_an_xlsx_is_its_text(self, client, database):
        c = await campaign(database, client)
        rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row>')
        r = await post(client, c, raw_xlsx(rows, shared=["问题标题"]), name="x.xlsx")
        assert r.status_code == 201, r.text
        f = (await client.get(f"/findings/{r.json()['imported'][0]['id']}", headers=c.h("cn_inspector"))).json()
        assert f["title"] == "=1+1"


class TestRowErrors:
    async def test_row_errors_name_their_rows_and_nothing_is_written(self, client, database):
        c = await campaign(database, client)
        await with_category(client, c)
        r = await post(client, c, csv_bytes(BAD))
        assert r.status_code == 422
        body = problem(r)
        assert (body["code"], body["counts"]) == ("import_rejected", {"rows": 5, "valid": 1, "rejected": 4})
        assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [
            (3, "code", "finding_code_exists"),  # the registration service's 409, as this row's error
            (4, "category", "unknown_category"),
            (5, "deadline", "invalid_date"),
            (6, "rectification_type", "invalid_choice"), (6, "key_problem", "invalid_boolean")]
        assert await written(database) == (0, 0, 0)

    async def test_partial_mode_keeps_the_valid_rows(self, client, database):
        c = await campaign(database, client)
        await with_category(client, c)
        r = await post(client, c, csv_bytes(BAD), mode="partial")
        assert r.status_code == 201, r.text
        assert ([row["row"] for row in r.json()["imported"]], sorted({e["row"] for e in r.json()["errors"]})) == (
            [2], [3, 4, 5, 6])
        assert await written(database) == (1, 1, 2)

    async def test_a_dry_run_writes_nothing(self, client, database):
        c = await campaign(database, client)
        await with_category(client, c)
        r = await post(client, c, csv_bytes(BAD), dry_run="true")
        assert (r.status_code, r.json()["batch_id"], len(r.json()["errors"])) == (200, None, 5)
        assert await written(database) == (0, 0, 0)


class TestWhoAndFiles:
    async def test_a_department_is_403_and_an_inspection_out_of_sight_404(self, client, database):
        c = await campaign(database, client)
        data = csv_bytes([["问题标题"], ["问题"]])
        assert (await post(client, c, data, user="gov_leadership")).status_code == 403
        assert (await post(client, c, data, user="water_leader")).status_code == 404
        async with database.transaction() as s:
            other = await build_province(s, "henan")
        r = await client.post(f"/inspections/{c.inspection['id']}/findings/imports", headers=other.headers(
            "env_staff"), files=upload(data, "a.csv", "text/csv"))
        assert r.status_code == 404
        assert await written(database) == (0, 0, 0)

    async def test_a_zip_bomb_is_413_and_nothing_is_written(self, client, database):
        c = await campaign(database, client)
        bomb = declare_size(raw_xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=["问题标题"]),
                            "xl/sharedStrings.xml", 1 << 31)
        r = await post(client, c, bomb, name="bomb.xlsx")
        assert (r.status_code, r.json()["code"]) == (413, "spreadsheet_too_large")
        assert await written(database) == (0, 0, 0)

    async def test_the_template_lists_the_columns(self, client, database):
        c = await campaign(database, client)
        r = await client.get("/imports/templates/findings", headers=c.h("cn_inspector"),
                             params={"format": "csv", "headers": "en"})
        assert r.status_code == 200
        assert r.content.decode("utf-8-sig").splitlines()[0].split(",") == EN
