"""Reading a spreadsheet import's answer again (issue 7 item 5 follow-up): a clerk who closed the tab.

`GET /duty-lists/{id}/items/imports/{batch_id}` and `GET /inspections/{id}/findings/imports/{batch_id}`
(the 201's `Location`) answer what the import answered, row errors included (kept as the batch's
`report`, migration 0013). Read scope is the parent record's: out of scope 404, anonymous 401; a
batch of another parent, a JSON ledger import or a batch without a kept answer is 404.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from app.models import DutyListImportBatch, FindingImportBatch, Role
from tests.factories import auth, make_user, problem
from tests.factories_province import build_province
from tests.findings_helpers import campaign
from tests.routers.test_duty_lists import start
from tests.sheet_helpers import csv_bytes, post_sheet


@dataclass
class Parent:
    base: str  # …/imports
    writer: dict[str, str]
    reader: dict[str, str]  # may read the parent, may not import
    outsider: dict[str, str]  # may not read the parent
    batch: type
    data: bytes  # a partial import: rows 2 and 4 valid, row 3 refused
    elsewhere: str  # the imports path of another parent the reader can read


@pytest.fixture(params=["items", "findings"])
async def parent(request, client, database) -> Parent:
    if request.param == "items":
        async with database.transaction() as s:
            p = await build_province(s, "hainan")
        dl, other = await start(client, p), await start(client, p, "water")
        return Parent(f"/duty-lists/{dl['id']}/items/imports", p.headers("env_staff"), p.headers("root_viewer"),
                      p.headers("water_staff"), DutyListImportBatch,
                      csv_bytes([["事项名称", "领域"], ["入河排污口排查", "water"], ["土壤", "土"], ["大气", "air"]]),
                      f"/duty-lists/{other['id']}/items/imports")
    c = await campaign(database, client)
    r = await client.post("/inspections", headers=c.h("cn_inspector"), json={
        "kind": "central_inspection", "title": "第三轮督察", "inspecting_body_id": str(c.org("cn_group")),
        "inspected_organisation_ids": [str(c.org("gov"))]})
    assert r.status_code == 201, r.text
    return Parent(f"/inspections/{c.inspection['id']}/findings/imports", c.h("cn_inspector"), c.h("root_viewer"),
                  c.h("water_leader"), FindingImportBatch,
                  csv_bytes([["问题标题", "整改时限"], ["水质不达标", "2026-06-30"], ["日期不对", "明年"], ["空气", None]]),
                  f"/inspections/{r.json()['id']}/findings/imports")


async def imported(client, parent: Parent) -> tuple[dict, str]:
    r = await post_sheet(client, parent.base, parent.writer, parent.data, name="台账.csv", content_type="text/csv",
                         mode="partial")
    assert r.status_code == 201, r.text
    return r.json(), r.headers["Location"]


NOT_FOUND = {"type": "https://envduty.example/problems/not-found", "title": "Not found", "status": 404,
             "code": "not_found"}


class TestReadingAnImportAgain:
    async def test_the_location_answers_what_the_import_answered_row_errors_included(self, client, parent):
        body, location = await imported(client, parent)
        assert location == f"{parent.base}/{body['batch_id']}"
        assert ([r["row"] for r in body["imported"]], [e["row"] for e in body["errors"]]) == ([2, 4], [3])
        for who in (parent.writer, parent.reader):
            r = await client.get(location, headers=who)
            assert (r.status_code, r.json()) == (200, body)

    async def test_a_dry_run_has_no_location(self, client, parent):
        r = await post_sheet(client, parent.base, parent.writer, parent.data, name="a.csv", content_type="text/csv",
                             mode="partial", dry_run="true")
        assert r.status_code == 200 and "location" not in r.headers and r.json()["batch_id"] is None


class TestWhoReads:
    async def test_out_of_scope_is_404_and_anonymous_401(self, client, parent):
        _, location = await imported(client, parent)
        r = await client.get(location, headers=parent.outsider)
        assert r.status_code == 404
        body = problem(r)  # (without `instance`: the path asked for)
        assert {k: v for k, v in body.items() if k in NOT_FOUND} == NOT_FOUND
        assert location.rsplit("/", 1)[1] not in json.dumps(body)  # existence does not leak
        r = await client.get(location)
        assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")

    async def test_a_batch_of_another_parent_or_none_at_all_is_404(self, client, parent):
        body, _ = await imported(client, parent)
        other_parent = parent.elsewhere.rsplit("/", 2)[0]
        assert (await client.get(other_parent, headers=parent.reader)).status_code == 200  # readable itself
        for path in (f"{parent.elsewhere}/{body['batch_id']}", f"{parent.base}/{uuid.uuid4()}"):
            r = await client.get(path, headers=parent.reader)
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), path

    async def test_a_batch_without_a_kept_answer_is_404(self, client, database, parent):
        """Batches imported before 0013 (and JSON ledger imports) have no report."""
        body, location = await imported(client, parent)
        async with database.transaction() as s:
            await s.execute(update(parent.batch).where(parent.batch.id == uuid.UUID(body["batch_id"]))
                            .values(report=None))
        assert (await client.get(location, headers=parent.writer)).status_code == 404


async def test_a_json_ledger_import_is_not_read_as_a_spreadsheet_import(client, database):
    """Its batch shares the table; its reader is GET /imports/finding-ledgers/{batch_id}."""
    c = await campaign(database, client)
    async with database.transaction() as s:
        admin = auth(await make_user(s, "hainan.root.admin", (c.p.org("root"), Role.admin)))
    r = await client.post("/imports/finding-ledgers", headers=admin, json={
        "inspection_id": c.inspection["id"],
        "findings": [{"title": "历史问题", "status": "registered", "registered_on": "2020-09-11"}]})
    assert r.status_code == 201, r.text
    got = await client.get(f"/inspections/{c.inspection['id']}/findings/imports/{r.json()['id']}", headers=admin)
    assert (got.status_code, got.json()["code"]) == (404, "not_found")
