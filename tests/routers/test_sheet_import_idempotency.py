"""Idempotency-Key on the spreadsheet uploads (RELIABILITY.md REL-06, as for the JSON POSTs).

`POST /duty-lists/{id}/items/imports` and `POST /inspections/{id}/findings/imports`: the same key
and file replay the first answer and import nothing again, though every send frames the file in
a new multipart boundary; another file or mode is 422 `idempotency_key_reused`; a refused import
leaves the key free; a dry run ignores the key. Concurrent sends of one key import once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app.models import DutyListImportBatch, Finding, FindingImportBatch, IdempotencyRecord, ResponsibilityItem
from tests.factories import problem
from tests.factories_province import build_province
from tests.findings_helpers import campaign
from tests.routers.test_duty_lists import start
from tests.sheet_helpers import count_rows, csv_bytes, post_sheet

N_RACERS = 10


@dataclass
class Target:
    url: str
    headers: dict[str, str]
    record: type  # what a row creates
    batch: type
    good: Callable[[str], bytes]  # two valid rows, distinct per tag
    bad: bytes  # one row the import refuses

    async def post(self, client, data: bytes, key: str | None = "k-1", *, name: str = "台账.csv", **params):
        headers = {**self.headers, **({"Idempotency-Key": key} if key is not None else {})}
        return await post_sheet(client, self.url, headers, data, name=name, content_type="text/csv", **params)

    async def written(self, database) -> tuple[int, int, int]:
        return (await count_rows(database, self.record), await count_rows(database, self.batch),
                await count_rows(database, IdempotencyRecord))


@pytest.fixture(params=["items", "findings"])
async def target(request, client, database) -> Target:
    if request.param == "items":
        async with database.transaction() as s:
            p = await build_province(s, "hainan")
        dl = await start(client, p)
        return Target(f"/duty-lists/{dl['id']}/items/imports", p.headers("env_staff"), ResponsibilityItem,
                      DutyListImportBatch,
                      lambda tag: csv_bytes([["事项名称", "领域"], [f"事项 {tag} 1", "water"], [f"事项 {tag} 2", "air"]]),
                      csv_bytes([["事项名称", "领域"], ["生态保护", "土"]]))
    c = await campaign(database, client)
    return Target(f"/inspections/{c.inspection['id']}/findings/imports", c.h("cn_inspector"), Finding,
                  FindingImportBatch,
                  lambda tag: csv_bytes([["问题编号", "问题标题"], [f"{tag}-1", f"问题 {tag} 1"], [f"{tag}-2", f"问题 {tag} 2"]]),
                  csv_bytes([["问题标题", "整改时限"], ["问题", "明年"]]))


REUSED = {"type": "https://envduty.example/problems/idempotency-key-reused", "title": "Request is not valid", "status": 422,
          "detail": "This Idempotency-Key was already used with a different request.",
          "code": "idempotency_key_reused"}


class TestReplay:
    async def test_the_same_key_and_file_replay_the_first_answer_and_import_nothing_again(self, client, database,
                                                                                          target):
        first = await target.post(client, target.good("a"))
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        # A retry: a new multipart boundary, `mode` spelt out, another file name; the same file and mode.
        for again in (await target.post(client, target.good("a")),
                      await target.post(client, target.good("a"), mode="all", dry_run="false"),
                      await target.post(client, target.good("a"), name="重传.csv")):
            assert (again.status_code, again.content) == (201, first.content)
            assert again.headers["idempotent-replayed"] == "true"
        assert await target.written(database) == (2, 1, 1)

    async def test_the_same_key_with_another_file_or_mode_is_422_and_imports_nothing(self, client, database,
                                                                                     target):
        assert (await target.post(client, target.good("a"))).status_code == 201
        for other in (await target.post(client, target.good("b")),
                      await target.post(client, target.good("a"), mode="partial")):
            assert other.status_code == 422
            assert problem(other) == REUSED
        assert await target.written(database) == (2, 1, 1)

    async def test_without_a_key_each_upload_imports(self, client, database, target):
        assert (await target.post(client, target.good("a"), key=None)).status_code == 201
        assert (await target.post(client, target.good("b"), key=None)).status_code == 201
        assert await target.written(database) == (4, 2, 0)


class TestWhatIsNotRemembered:
    async def test_a_rejected_import_leaves_the_key_free(self, client, database, target):
        r = await target.post(client, target.bad)
        assert (r.status_code, r.json()["code"]) == (422, "import_rejected")
        assert await target.written(database) == (0, 0, 0)
        r = await target.post(client, target.good("a"))
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers

    async def test_a_dry_run_ignores_the_key_and_leaves_it_for_the_import(self, client, database, target):
        for data in (target.good("a"), target.bad):  # another file, same key: no 422 on a dry run
            r = await target.post(client, data, dry_run="true")
            assert r.status_code == 200 and "idempotent-replayed" not in r.headers, r.text
        assert await target.written(database) == (0, 0, 0)
        r = await target.post(client, target.good("a"))
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
        assert await target.written(database) == (2, 1, 1)

    @pytest.mark.parametrize("dry_run", ["true", "false"])
    async def test_a_malformed_key_is_422(self, client, database, target, dry_run):
        r = await target.post(client, target.good("a"), key="k" * 256, dry_run=dry_run)
        assert (r.status_code, r.json()["code"]) == (422, "validation_failed")
        assert await target.written(database) == (0, 0, 0)


class TestRace:
    async def test_concurrent_uploads_with_one_key_import_once(self, client, database, target):
        """REL-06 (c): every answer is the original 201, a byte-identical replay, or 409 "in flight"."""
        barrier = asyncio.Barrier(N_RACERS)
        data = target.good("a")

        async def one(_: int):
            await barrier.wait()
            return await target.post(client, data, key="race-1")

        responses = await asyncio.gather(*(one(i) for i in range(N_RACERS)))
        assert [r.status_code for r in responses if r.status_code not in (201, 409)] == []
        created = [r for r in responses if r.status_code == 201]
        [original] = [r for r in created if "idempotent-replayed" not in r.headers]
        assert all(r.content == original.content for r in created)
        assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)
        assert await target.written(database) == (2, 1, 1)
        again = await target.post(client, data, key="race-1")
        assert (again.status_code, again.content) == (201, original.content)
