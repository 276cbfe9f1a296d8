"""Escalations linked to reports and duty lists (DOMAIN.md "Escalations": "linked to zero or more findings,
reports or duty lists").

A 督办 goes to a department whose annual duty report is late (000 §(十二): 每年1月底前 报告上年度职责履行情况);
a 通报 names the bodies that have not published their duty list (002 §(十一) 视情采取约谈、通报). The issuer
links only records it can read: anything else is a 422 at its pointer and nothing is written. Henan issues
urges and circulars at once (002 §(十一)); the issuer here is 河南省人民政府's office, whose scope covers the
provincial departments and not the city.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.models import AuditEvent, CoordinationMember, Escalation, EscalationDutyList, EscalationReport
from tests.escalation_helpers import escalation_body, make_duty_list, province
from tests.factories import problem
from tests.findings_helpers import campaign, register
from tests.report_factories import make_report
from tests.statements import selects


async def linked_world(database, code: str = "henan"):
    """A province, a late annual report of 水利厅 to 省政府 (due 2025-01-31, still pending), a draft duty list
    of 教育厅, and a city report and city draft list 省政府's office cannot see."""
    p = await province(database, code)
    async with database.transaction() as s:
        late = await make_report(s, p.org("water"), recipients=(p.org("gov"),))
        city_report = await make_report(s, p.org("city_env"), recipients=(p.org("city_gov"),))
        draft = await make_duty_list(s, p, "edu")
        city_list = await make_duty_list(s, p, "city_env", region="city")
    return p, {"late": str(late.id), "city_report": str(city_report.id), "draft": str(draft.id),
               "city_list": str(city_list.id)}


def urge(p, **extra) -> dict:
    return escalation_body(p, "urge", **{"issuing_organisation_id": str(p.org("gov").id), **extra})


async def count(database, model, **where) -> int:
    async with database.transaction(write=False) as s:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return await s.scalar(stmt)


class TestLinkOnCreate:
    async def test_urge_links_a_late_report_and_a_draft_list_and_reads_them_back(self, client, database):
        p, r = await linked_world(database)
        body = urge(p, report_ids=[r["late"], r["late"]], duty_list_ids=[r["draft"]])
        res = await client.post("/escalations", json=body, headers=p.headers("gov_office"))
        assert res.status_code == 201, res.text
        e = res.json()
        assert (e["status"], e["finding_ids"], e["report_ids"], e["duty_list_ids"]) == (
            "issued", [], [r["late"]], [r["draft"]])  # the duplicate collapsed
        for user in ("gov_office", "water_leader"):  # the issuer, and the addressee
            one = await client.get(f"/escalations/{e['id']}", headers=p.headers(user))
            assert (one.json()["report_ids"], one.json()["duty_list_ids"]) == ([r["late"]], [r["draft"]])
        assert await count(database, EscalationReport, escalation_id=uuid.UUID(e["id"])) == 1
        assert await count(database, EscalationDutyList, escalation_id=uuid.UUID(e["id"])) == 1
        async with database.transaction(write=False) as s:
            row = await s.scalar(select(AuditEvent).where(AuditEvent.action == "escalation.create",
                                                          AuditEvent.resource_id == e["id"]))
        assert (row.after["report_ids"], row.after["duty_list_ids"], row.after["finding_ids"]) == (
            [r["late"]], [r["draft"]], [])

    async def test_links_default_to_empty(self, client, database):
        p, _ = await linked_world(database)
        res = await client.post("/escalations", json=urge(p), headers=p.headers("gov_office"))
        assert res.status_code == 201, res.text
        assert (res.json()["report_ids"], res.json()["duty_list_ids"]) == ([], [])

    async def test_a_report_out_of_scope_is_422_and_nothing_is_written(self, client, database):
        p, r = await linked_world(database)
        body = urge(p, report_ids=[r["late"], r["city_report"]], duty_list_ids=[r["city_list"]])
        res = await client.post("/escalations", json=body, headers=p.headers("gov_office"))
        assert problem(res) == {
            "type": "https://envduty.example/problems/validation-failed", "title": "Request is not valid",
            "status": 422, "code": "validation_failed", "detail": "One or more fields are invalid; see errors.",
            "errors": [{"pointer": "/report_ids/1", "source": "body", "type": "unknown_report",
                        "message": "not a report you can see"},
                       {"pointer": "/duty_list_ids/0", "source": "body", "type": "unknown_duty_list",
                        "message": "not a duty list you can see"}]}
        assert await count(database, Escalation) == 0
        assert await count(database, EscalationReport) == 0
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.request_id == res.headers["x-request-id"])) == 0

    async def test_an_unknown_id_reads_like_one_out_of_scope(self, client, database):
        p, _ = await linked_world(database)
        res = await client.post("/escalations", json=urge(p, report_ids=[str(uuid.uuid4())],
                                                          duty_list_ids=[str(uuid.uuid4())]),
                                headers=p.headers("gov_office"))
        assert res.status_code == 422
        assert [(x["pointer"], x["type"]) for x in res.json()["errors"]] == [
            ("/report_ids/0", "unknown_report"), ("/duty_list_ids/0", "unknown_duty_list")]

    async def test_a_draft_list_of_another_department_is_not_the_callers_to_link(self, client, database):
        p, r = await linked_world(database)
        body = escalation_body(p, "circular", addressee_organisation_ids=[str(p.org("edu").id)],
                               duty_list_ids=[r["draft"]])  # 生态环境厅 does not read 教育厅's draft
        res = await client.post("/escalations", json=body, headers=p.headers("env_leader"))
        assert res.status_code == 422
        assert [x["type"] for x in res.json()["errors"]] == ["unknown_duty_list"]

    async def test_at_most_50_reports(self, client, database):
        p, r = await linked_world(database)
        res = await client.post("/escalations", json=urge(p, report_ids=[r["late"]] * 51),
                                headers=p.headers("gov_office"))
        assert res.status_code == 422
        assert [x["pointer"] for x in res.json()["errors"]] == ["/report_ids"]
        assert await count(database, Escalation) == 0

    async def test_the_finding_sub_collection_links_reports_too(self, client, database):
        c = await campaign(database, client, "henan", office="inspection_office")
        f = await register(client, c)
        async with database.transaction() as s:
            # The 督察办 reads its leading group's member units (DOMAIN.md scope): 水利厅 is one.
            s.add(CoordinationMember(body_id=c.org("inspection"), member_id=c.org("water")))
            late = str((await make_report(s, c.p.org("water"), recipients=(c.p.org("gov"),))).id)
            hidden = str((await make_report(s, c.p.org("city_env"))).id)
        body = urge(c.p, issuing_organisation_id=str(c.org("inspection_office")), report_ids=[late])
        h = c.h("inspection_office_office")
        res = await client.post(f"/findings/{f['id']}/escalations", json=body, headers=h)
        assert res.status_code == 201, res.text
        assert (res.json()["finding_ids"], res.json()["report_ids"]) == ([f["id"]], [late])
        body["report_ids"] = [hidden]
        res = await client.post(f"/findings/{f['id']}/escalations", json=body, headers=h)
        assert [(x["pointer"], x["type"]) for x in res.json()["errors"]] == [("/report_ids/0", "unknown_report")]
        assert await count(database, Escalation) == 1


class TestFilterByLink:
    async def test_list_by_report_and_by_duty_list(self, client, database):
        p, r = await linked_world(database)
        h = p.headers("gov_office")
        about_report = (await client.post("/escalations", json=urge(p, report_ids=[r["late"]]), headers=h)).json()
        about_list = (await client.post("/escalations", json=urge(p, duty_list_ids=[r["draft"]]), headers=h)).json()
        await client.post("/escalations", json=urge(p), headers=h)
        by_report = await client.get("/escalations", params={"report_id": r["late"]}, headers=h)
        assert [e["id"] for e in by_report.json()["items"]] == [about_report["id"]]
        by_list = await client.get("/escalations", params={"duty_list_id": r["draft"]}, headers=h)
        assert [e["id"] for e in by_list.json()["items"]] == [about_list["id"]]
        both = await client.get("/escalations", params={"report_id": r["late"], "duty_list_id": r["draft"]},
                                headers=h)
        assert both.json()["items"] == []

    async def test_filtering_on_a_record_you_cannot_see_is_404(self, client, database):
        p, r = await linked_world(database)
        h = p.headers("gov_office")
        res = await client.get("/escalations", params={"report_id": r["city_report"]}, headers=h)
        assert problem(res) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                                "status": 404, "code": "not_found", "detail": "No such report."}
        res = await client.get("/escalations", params={"duty_list_id": r["city_list"]}, headers=h)
        assert problem(res) == {"type": "https://envduty.example/problems/not-found", "title": "Not found",
                                "status": 404, "code": "not_found", "detail": "No such duty list."}
        # 水利厅 is addressed by the urge but does not read 教育厅's draft: it cannot filter on it.
        await client.post("/escalations", json=urge(p, duty_list_ids=[r["draft"]]), headers=h)
        res = await client.get("/escalations", params={"duty_list_id": r["draft"]},
                               headers=p.headers("water_leader"))
        assert res.status_code == 404

    async def test_a_page_of_linked_escalations_costs_the_same_statements_as_one(self, client, database):
        p, r = await linked_world(database)
        h = p.headers("gov_office")
        await client.post("/escalations", json=urge(p, report_ids=[r["late"]], duty_list_ids=[r["draft"]]),
                          headers=h)
        with selects(database) as one:
            assert len((await client.get("/escalations", headers=h)).json()["items"]) == 1
        for _ in range(3):
            await client.post("/escalations", json=urge(p, report_ids=[r["late"]], duty_list_ids=[r["draft"]]),
                              headers=h)
        with selects(database) as four:
            assert len((await client.get("/escalations", headers=h)).json()["items"]) == 4
        assert len(four) == len(one)


class TestAnonymous:
    async def test_anonymous_gets_401(self, client, database):
        p, r = await linked_world(database)
        res = await client.post("/escalations", json=urge(p, report_ids=[r["late"]]))
        assert (res.status_code, res.json()["code"]) == (401, "unauthenticated")
        res = await client.get("/escalations", params={"report_id": r["late"]})
        assert (res.status_code, res.json()["code"]) == (401, "unauthenticated")
        assert await count(database, Escalation) == 0


class TestPublicView:
    async def test_a_public_circular_does_not_show_what_it_links(self, client, database):
        p, r = await linked_world(database)
        body = escalation_body(p, "circular", issuing_organisation_id=str(p.org("gov").id), public=True,
                               addressee_organisation_ids=[str(p.org("edu").id), str(p.org("water").id)],
                               report_ids=[r["late"]], duty_list_ids=[r["draft"]])
        e = (await client.post("/escalations", json=body, headers=p.headers("gov_office"))).json()
        res = await client.get("/public/escalations")
        assert [i["id"] for i in res.json()["items"]] == [e["id"]]
        assert set(res.json()["items"][0]) == {"id", "jurisdiction_id", "kind", "title", "content",
                                               "issuing_organisation", "addressee_organisations", "summons_form",
                                               "issued_at"}
        assert r["draft"] not in res.text and r["late"] not in res.text  # the unpublished list, the late report
