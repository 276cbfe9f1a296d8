"""`POST /imports/finding-ledgers`: a worked ledger brought in as recorded history (issue 6 item 9).

001's audit item (二(四)2) as it was recorded: fed back 2020-09-11, assigned, plan approved, one
task verified, the fee refund confirmed impossible by 省财政厅, closure requested and 销号, a
look-back in 2022. The history must carry those days (not today) and the batch id; the live
workflow is not run. A bad row → 422 naming the row, and nothing written.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.models import Finding, FindingImportBatch, Measure, OrganisationKind, Role, TransitionHistory
from tests.factories import auth, make_organisation, make_user
from tests.findings_helpers import campaign

AUDIT_ITEM = {
    "code": "(四)2.", "title": "在落实审计整改方面", "status": "closed", "registered_on": "2020-09-11",
    "assigned_on": "2020-10-15", "plan_approved_on": "2020-11-20", "closure_requested_on": "2021-06-30",
    "closed_on": "2021-08-31", "deadline": "2021-09-30",
    "lookbacks": [{"performed_on": "2022-06-30", "outcome": "passed", "note": "回头看未发现反弹"}]}


async def setup(client, database):
    c = await campaign(database, client, kind="party_inspection")
    async with database.transaction() as s:
        finance = await make_organisation(s, "海南省财政厅", parent=c.p.org("gov"))
        admin = await make_user(s, "hainan.root.admin", (c.p.org("root"), Role.admin))
        other = await make_user(s, "hainan.water.admin", (c.p.org("water"), Role.admin))
    item = {**AUDIT_ITEM, "responsible_organisation_id": str(c.org("env")), "measures": [
        {"title": "整改审计指出的问题", "deadline": "2021-06-30", "status": "verified", "completed_on": "2021-04-30",
         "verified_on": "2021-05-20"},
        {"title": "退还违规收取的费用", "deadline": "2021-06-30", "status": "cannot_complete", "declared_on": "2021-05-10",
         "confirmed_on": "2021-05-20", "cannot_complete_reason": "此类款项已上缴国库无法退还",
         "confirming_organisation_id": str(finance.id)}]}
    return c, auth(admin), auth(other), item


async def counts(database) -> tuple[int, ...]:
    async with database.transaction(write=False) as s:
        return tuple([await s.scalar(select(func.count()).select_from(m))
                      for m in (Finding, Measure, FindingImportBatch, TransitionHistory)])


async def test_an_imported_ledger_keeps_its_recorded_days(client, database):
    c, admin, _, item = await setup(client, database)
    ongoing = {"title": "在推进重点工作任务落实方面", "status": "in_progress", "registered_on": "2020-09-11",
               "responsible_organisation_id": str(c.org("env")), "assigned_on": "2020-10-15",
               "plan_approved_on": "2020-11-20", "original_deadline": "2021-09-30", "deadline": "2022-06-30",
               "deadline_extended_on": "2021-09-01",
               "measures": [{"title": "持续推进", "deadline": "2022-06-30", "status": "open"}]}
    r = await client.post("/imports/finding-ledgers", headers={**admin, "Idempotency-Key": "ledger-001"},
                          json={"inspection_id": c.inspection["id"], "source": "001", "findings": [item, ongoing]})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["counts"] == {"findings": 2, "measures": 3, "lookbacks": 1, "history": 14}
    assert r.headers["location"] == f"/imports/finding-ledgers/{batch['id']}"
    got = await client.get(r.headers["location"], headers=admin)
    assert got.status_code == 200 and got.json() == batch
    closed = next(f for f in batch["findings"] if f["code"] == "(四)2.")
    assert (closed["status"], closed["measures"], closed["lookbacks"]) == ("closed", 2, 1)

    # The history reads as it happened, on the recorded days, marked with the batch.
    history = (await client.get(f"/findings/{closed['id']}/history", headers=c.h("env_office"))).json()["items"]
    assert [(h["action"], h["to_status"], h["occurred_at"][:10], h["imported_batch_id"]) for h in history] == [
        ("assign", "assigned", "2020-10-15", batch["id"]), ("submit_plan", "plan_submitted", "2020-11-20", batch["id"]),
        ("approve_plan", "in_progress", "2020-11-20", batch["id"]),
        ("request_closure", "closure_requested", "2021-06-30", batch["id"]), ("close", "closed", "2021-08-31", batch["id"]),
        ("look_back", "closed", "2022-06-30", batch["id"])]
    read = (await client.get(f"/findings/{closed['id']}", headers=c.h("env_office"))).json()
    assert (read["closed_on"], read["last_lookback_on"], read["measures"]["cannot_complete"]) == ("2021-08-31",
                                                                                               "2022-06-30", 1)
    [verified, refund] = (await client.get(f"/findings/{closed['id']}/measures", headers=c.h("env_office"))
                          ).json()["items"]
    assert (verified["status"], refund["status"], refund["confirming_organisation"]["name"]) == (
        "verified", "cannot_complete", "海南省财政厅")
    steps = (await client.get(f"/measures/{refund['id']}/history", headers=c.h("env_office"))).json()["items"]
    assert [(h["action"], h["occurred_at"][:10]) for h in steps] == [("declare_cannot_complete", "2021-05-10"),
                                                                     ("confirm", "2021-05-20")]
    other = next(f for f in batch["findings"] if f["code"] is None)
    extended = (await client.get(f"/findings/{other['id']}", headers=c.h("env_office"))).json()
    assert (extended["deadline"], extended["original_deadline"], extended["deadline_extended"]) == (
        "2022-06-30", "2021-09-30", True)
    async with database.transaction(write=False) as s:
        tagged = await s.scalar(select(func.count()).select_from(Finding).where(
            Finding.import_batch_id == uuid.UUID(batch["id"])))
    assert tagged == 2
    # The same key replays the answer; nothing is imported twice.
    before = await counts(database)
    again = await client.post("/imports/finding-ledgers", headers={**admin, "Idempotency-Key": "ledger-001"},
                              json={"inspection_id": c.inspection["id"], "source": "001", "findings": [item, ongoing]})
    assert again.json()["id"] == batch["id"] and await counts(database) == before


async def test_a_bad_row_is_422_by_row_and_nothing_is_written(client, database):
    c, admin, _, item = await setup(client, database)
    before = await counts(database)
    no_close_day = {**item, "closed_on": None}
    early_task = {**item, "code": "(四)3.", "measures": [{**item["measures"][0], "completed_on": "2020-01-01"},
                                                         item["measures"][1]]}
    open_task = {**item, "code": "(四)4.", "measures": [{"title": "未完成", "deadline": "2021-06-30", "status": "open"}]}
    future = {**item, "code": "(四)5.", "lookbacks": [{"performed_on": "2099-01-01", "outcome": "passed",
                                                       "note": "x"}]}
    rebound_closed = {**item, "code": "(四)6.", "lookbacks": [{"performed_on": "2022-06-30", "outcome": "rebounded",
                                                               "note": "反弹"}]}
    r = await client.post("/imports/finding-ledgers", headers=admin, json={
        "inspection_id": c.inspection["id"],
        "findings": [no_close_day, early_task, open_task, future, rebound_closed, {**item, "code": "(四)7."}]})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {(e["pointer"], e["type"]) for e in r.json()["errors"]}
    assert {("/findings/0/closed_on", "missing"), ("/findings/1/measures/0/completed_on", "out_of_order"),
            ("/findings/2/measures/0/status", "measures_outstanding"),
            ("/findings/3/lookbacks/0/performed_on", "future_date"),
            ("/findings/4/status", "not_reached")} <= errors
    assert not any(p.startswith("/findings/5") for p, _ in errors)  # the good row
    assert await counts(database) == before


async def test_organisations_of_another_province_are_refused_as_live_assignment_refuses_them(client, database):
    """The recorded history must be one the workflow could have produced: assignment names organisations of
    the finding's province only (app/services/findings/steps.py), and so does the imported ledger."""
    c, admin, _, item = await setup(client, database)
    async with database.transaction() as s:
        henan = await make_organisation(s, "河南省", kind=OrganisationKind.region, profile_code="henan")
        henan_env = await make_organisation(s, "河南省生态环境厅", parent=henan)
    before = await counts(database)
    foreign_lead = {**item, "lead_organisation_ids": [str(henan_env.id)]}
    foreign_confirmer = {**item, "code": "(四)3.", "measures": [
        item["measures"][0], {**item["measures"][1], "confirming_organisation_id": str(henan.id)}]}
    r = await client.post("/imports/finding-ledgers", headers=admin, json={
        "inspection_id": c.inspection["id"], "findings": [
            {**item, "code": "(四)1.", "responsible_organisation_id": str(henan_env.id)}, foreign_lead,
            foreign_confirmer]})
    assert r.status_code == 422, r.text
    errors = {(e["pointer"], e["type"]) for e in r.json()["errors"]}
    assert errors == {("/findings/0/responsible_organisation_id", "other_province"),
                      ("/findings/1/lead_organisation_ids/0", "other_province"),
                      ("/findings/2/measures/1/confirming_organisation_id", "other_province")}
    assert await counts(database) == before


async def test_only_admins_in_scope_import(client, database):
    c, admin, water_admin, item = await setup(client, database)
    body = {"inspection_id": c.inspection["id"], "findings": [item]}
    before = await counts(database)
    for headers, status in ((c.h("env_office"), 403), (c.h("env_leader"), 403), ({}, 401), (water_admin, 422)):
        r = await client.post("/imports/finding-ledgers", headers=headers, json=body)
        assert r.status_code == status, r.text
    assert await counts(database) == before
    made = (await client.post("/imports/finding-ledgers", headers=admin, json=body)).json()
    for headers, status in ((water_admin, 404), (c.h("env_office"), 403), ({}, 401)):
        r = await client.get(f"/imports/finding-ledgers/{made['id']}", headers=headers)
        assert r.status_code == status
    assert (await client.get(f"/imports/finding-ledgers/{uuid.uuid4()}", headers=admin)).status_code == 404
