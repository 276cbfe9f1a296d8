"""Export → edit in Excel → import into a draft: what the item ledger writes for complaint channels
reads back into the same structured channels (issue 7 item 5 follow-up).

The export writes `label: value` (or `value`) per channel, joined with `；`, and no kind: the
import reads the kind from the value (web, e-mail, phone, as `ComplaintChannel` checks them). A
postal or in-person channel cannot be told apart from the other in a cell: a row error. Basis and
decomposition do not read back unambiguously (app/services/imports/items.py): ignored, as before.
"""

from __future__ import annotations

import pytest

from tests.factories import problem
from tests.factories_province import build_province
from tests.routers.test_duty_lists import start
from tests.sheet_helpers import csv_bytes, post_sheet

CHANNELS = [{"kind": "hotline", "value": "+86 898 12369", "label": None},  # first: our CSV export writes "'+86 …"
            {"kind": "hotline", "value": "0898-12369", "label": "生态环境举报热线"},
            {"kind": "email", "value": "jubao@hnsthb.example", "label": "举报邮箱"},
            {"kind": "web", "value": "https://hnsthb.example/jubao?from=a:b", "label": None}]


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
            "basis": [{"kind": "sanding", "title": "海南省生态环境厅职能配置、内设机构和人员编制规定",
                       "number": "琼办发(2020)68号", "clause": "第三条"}]})
        assert r.status_code == 201, r.text
        exported = await client.get(f"/duty-lists/{dl['id']}/items", headers=p.headers("env_staff"),
                                    params={"format": fmt, "headers": lang})
        assert exported.status_code == 200
        r = await post(client, p, dl, exported.content)
        assert r.status_code == 201, r.text
        assert ("职责依据" if lang == "zh" else "Basis") in r.json()["ignored_columns"]
        original, copy = await items(client, p, dl)
        assert copy["complaint_channels"] == original["complaint_channels"] == CHANNELS
        assert copy["basis"] == []  # not read back: the export does not write its kind

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
