"""Export → edit in Excel → import into a draft: what the item ledger writes for complaint channels,
basis and decomposition reads back into the same structured values (issue 7 item 5 follow-up).

The export writes `label: value` (or `value`) per channel, joined with `；`, and no kind: the
import reads the kind from the value (web, e-mail, phone, as `ComplaintChannel` checks them). A
postal or in-person channel cannot be told apart from the other in a cell: a row error.
A basis source is written `【kind】《title》（number）clause` and a decomposition row
`unit（responsible person）：task` (app/services/export/columns.py); the import reads both back,
the unit looked up below the list's organisation (app/services/imports/items.py).
"""

from __future__ import annotations

import pytest

from app.models import OrganisationKind
from tests.factories import make_organisation, problem
from tests.factories_province import build_province
from tests.routers.test_duty_lists import start
from tests.sheet_helpers import csv_bytes, post_sheet

CHANNELS = [{"kind": "hotline", "value": "+86 898 12369", "label": None},  # first: our CSV export writes "'+86 …"
            {"kind": "hotline", "value": "0898-12369", "label": "生态环境举报热线"},
            {"kind": "email", "value": "jubao@hnsthb.example", "label": "举报邮箱"},
            {"kind": "web", "value": "https://hnsthb.example/jubao?from=a:b", "label": None}]


# A number with brackets of its own, a source with neither number nor clause, a title nesting 〈〉.
BASIS = [{"kind": "sanding", "title": "海南省生态环境厅职能配置、内设机构和人员编制规定",
          "number": "琼办发（2020）68号", "clause": "第三条第(五)项"},
         {"kind": "laws_and_regulations", "title": "中华人民共和国环境保护法", "number": None, "clause": "第六条"},
         {"kind": "policy_documents", "title": "关于印发〈海南省生态环境保护工作职责规定〉的通知", "number": None,
          "clause": None}]


@pytest.fixture
async def p(database):
    async with database.transaction() as s:
        return await build_province(s, "hainan")


async def post(client, p, dl, data: bytes, **params):
    return await post_sheet(client, f"/duty-lists/{dl['id']}/items/imports", p.headers("env_staff"), data,
                            name="清单.xlsx", content_type="application/octet-stream", **params)


async def items(client, p, dl) -> list[dict]:
    r = await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


class TestRoundTrip:
    @pytest.mark.parametrize(("fmt", "lang"), [("xlsx", "zh"), ("csv", "en")])
    async def test_exported_complaint_channels_import_back_as_the_same_channels(self, client, p, fmt, lang):
        dl = await start(client, p)
        r = await client.post(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"), json={
            "title": "受理生态环境违法行为举报", "domain": "water", "complaint_channels": CHANNELS,
            "basis": BASIS, "decomposition": [
                {"unit_id": str(p.org("env_unit").id), "responsible_person": "王五", "task": "牵头受理：转办"},
                {"unit_id": str(p.org("env_unit").id), "responsible_person": None, "task": None}]})
        assert r.status_code == 201, r.text
        exported = await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"),
                                    params={"format": fmt, "headers": lang})
        assert exported.status_code == 200
        r = await post(client, p, dl, exported.content)
        assert r.status_code == 201, r.text
        assert r.json()["ignored_columns"] == (["编号ID", "单位", "清单状态", "更新时间"] if lang == "zh"
                                               else ["ID", "Organisation", "List status", "Updated at"])
        original, copy = await items(client, p, dl)
        assert copy["complaint_channels"] == original["complaint_channels"] == CHANNELS
        assert copy["basis"] == original["basis"] == BASIS
        assert copy["decomposition"] == original["decomposition"]
        assert [(d["unit"]["name"], d["responsible_person"], d["task"]) for d in copy["decomposition"]] == [
            ("水生态环境处", "王五", "牵头受理：转办"), ("水生态环境处", None, None)]

    async def test_a_clerk_may_type_a_full_width_colon(self, client, p):
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域", "投诉举报渠道"],
                                                 ["受理举报", "water", "举报热线：12369；jubao@hnsthb.example"]]))
        assert r.status_code == 201, r.text
        [item] = await items(client, p, dl)
        assert item["complaint_channels"] == [{"kind": "hotline", "value": "12369", "label": "举报热线"},
                                              {"kind": "email", "value": "jubao@hnsthb.example", "label": None}]


class TestChannelsThatDoNotReadBack:
    async def test_a_postal_or_in_person_channel_is_a_row_error_and_nothing_is_written(self, client, p):
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域", "投诉举报渠道"],
                                                 ["受理举报", "water", "12369；来信: 海口市美兰区某路1号"]]))
        assert r.status_code == 422
        body = problem(r)
        assert [(e["row"], e["column"], e["field"], e["code"]) for e in body["errors"]] == [
            (2, "投诉举报渠道", "complaint_channels", "unknown_channel_kind")]
        assert await items(client, p, dl) == []

    async def test_more_channels_than_an_item_holds_is_that_cells_error(self, client, p):
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域", "投诉举报渠道"],
                                                 ["受理举报", "water", "；".join(["12369"] * 11)]]))
        assert r.status_code == 422
        assert [(e["row"], e["field"]) for e in problem(r)["errors"]] == [(2, "complaint_channels")]


class TestBasisAndDecompositionCells:
    async def test_a_clerk_types_basis_and_decomposition_as_the_export_writes_them(self, client, database, p):
        async with database.transaction() as s:  # a unit whose own name ends in brackets
            centre = await make_organisation(s, "监测中心（分中心）", kind=OrganisationKind.internal_unit,
                                             parent=p.org("env"), short_code="HN-ENV-MON")
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([
            ["事项名称", "领域", "职责依据", "分解落实（内设机构/责任人/任务）"],
            ["排查入河排污口", "水生态环境",
             "【法律法规】《中华人民共和国水污染防治法》第二十二条; 【sanding】《三定规定》",
             "水生态环境处（王五）：牵头排查\n监测中心（分中心）：监测；HN-ENV-MON（赵六）"]]))
        assert r.status_code == 201, r.text
        [item] = await items(client, p, dl)
        assert item["basis"] == [
            {"kind": "laws_and_regulations", "title": "中华人民共和国水污染防治法", "number": None, "clause": "第二十二条"},
            {"kind": "sanding", "title": "三定规定", "number": None, "clause": None}]
        assert [(d["unit"]["id"], d["responsible_person"], d["task"]) for d in item["decomposition"]] == [
            (str(p.org("env_unit").id), "王五", "牵头排查"), (str(centre.id), None, "监测"),
            (str(centre.id), "赵六", None)]

    @pytest.mark.parametrize(("column", "cell", "code"), [
        ("职责依据", "中华人民共和国环境保护法 第六条", "invalid_basis"),  # the old space-joined cell
        ("职责依据", "【宪法】《中华人民共和国宪法》", "invalid_basis"),  # not a basis kind
        ("职责依据", "【sanding】《" + "长" * 301 + "》", "string_too_long"),  # the schema's limit
        ("分解落实（内设机构/责任人/任务）", "河湖管理处：排查", "unknown_unit"),  # a unit of another department
        ("分解落实（内设机构/责任人/任务）", "水生态环境处：排查；督促整改", "unknown_unit"),  # a ； inside a task
        ("分解落实（内设机构/责任人/任务）", "：无单位的任务", "invalid_decomposition"),
    ])
    async def test_a_cell_that_does_not_read_is_that_cells_error_and_nothing_is_written(
            self, client, p, column, cell, code):
        dl = await start(client, p)
        r = await post(client, p, dl, csv_bytes([["事项名称", "领域", column], ["排查", "water", cell]]))
        assert r.status_code == 422, r.text
        assert [(e["row"], e["column"], e["code"]) for e in problem(r)["errors"]] == [(2, column, code)]
        assert await items(client, p, dl) == []

    async def test_where_duties_go_to_persons_a_row_without_one_is_refused(self, client, database):
        async with database.transaction() as s:  # Henan decomposes to units and responsible persons (002 §(九))
            henan = await build_province(s, "henan")
        dl = await start(client, henan)
        r = await post(client, henan, dl, csv_bytes([["事项名称", "领域", "分解落实（内设机构/责任人/任务）"],
                                                     ["排查", "water", "水生态环境处：排查"]]))
        assert r.status_code == 422, r.text
        assert [(e["row"], e["field"], e["code"]) for e in problem(r)["errors"]] == [
            (2, "decomposition", "responsible_person_required")]
        assert await items(client, henan, dl) == []
