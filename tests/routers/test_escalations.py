"""Escalations over HTTP (DOMAIN.md "Escalations"; 000 §(十二), 002 §(十一), 001's 预警函 to many cities).

Hainan splits proposing from deciding for 约谈 and 移交问责 (000 §(十二): 省生态环境厅 提请, 省委、省政府 实施):
they are `proposed`, and the leadership of 省委 or 省政府 decides; warnings, urges and circulars are issued
at once. Henan issues everything at once (002 §(十一) 省生态环境厅 视情采取约谈、通报、移交问责).
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AuditEvent, Escalation
from tests.escalation_helpers import create, escalation_body, get, history, ids, province, step
from tests.findings_helpers import campaign, register


async def test_hainan_summons_is_proposed_then_decided(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "summons", public=True))
    assert (e["status"], e["clause"]) == ("proposed", "000 §(十二)")
    assert {o["id"] for o in e["deciding_organisations"]} == set(ids(p, "pc", "gov"))
    assert e["addressee_persons"] == [{"name": "张三", "title": "水利厅副厅长", "organisation_id": None}]
    seen = await get(client, p, "gov_leadership", "escalations", e["id"])
    assert seen["allowed_actions"] == ["decide", "reject"]
    assert (await get(client, p, "water_leader", "escalations", e["id"]))["allowed_actions"] == []
    await step(client, p, "env_leader", "escalations", e, "decide", expect=403)  # the proposer does not decide
    issued = await step(client, p, "gov_leadership", "escalations", e, "decide", {"comment": "同意约谈"})
    assert (issued["status"], issued["decision_comment"], issued["version"]) == ("issued", "同意约谈", 2)
    assert issued["issued_at"] and issued["accountability_case_id"] is None
    assert await history(database, e["id"]) == [("decide", "proposed", "issued")]
    await step(client, p, "gov_leadership", "escalations", issued, "decide", expect=409)


async def test_hainan_rejection_needs_a_comment(client, database):
    p = await province(database, "hainan")
    e = await create(client, p, "env_leader", escalation_body(p, "summons"))
    r = await client.post(f"/escalations/{e['id']}/reject", json={},
                          headers={**p.headers("pc_leadership"), "If-Match": f'"{e["id"]}.1"'})
    assert r.status_code == 422
    rejected = await step(client, p, "pc_leadership", "escalations", e, "reject", {"comment": "尚需核实"})
    assert (rejected["status"], rejected["decision_comment"]) == ("rejected", "尚需核实")


async def test_hainan_only_the_profiles_proposer_proposes(client, database):
    p = await province(database, "hainan")
    body = escalation_body(p, "summons", issuing_organisation_id=str(p.org("inspection_office").id))
    r = await client.post("/escalations", json=body, headers=p.headers("inspection_office_office"))
    assert (r.status_code, r.json()["code"]) == (422, "not_the_proposer")
    warning = await create(client, p, "inspection_office_office",
                           escalation_body(p, "warning", issuing_organisation_id=str(p.org("inspection_office").id),
                                           addressee_organisation_ids=ids(p, "water", "edu", "city_gov")))
    assert warning["status"] == "issued" and len(warning["addressee_organisations"]) == 3


async def test_henan_issues_at_once(client, database):
    p = await province(database, "henan")
    e = await create(client, p, "env_office", escalation_body(p, "summons"))
    assert (e["status"], e["deciding_organisations"], e["clause"]) == ("issued", [], "002 §(十一)")
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).where(AuditEvent.action == "escalation.create",
                                                         AuditEvent.resource_id == e["id"])) == 1


async def test_urge_reply_by_an_addressee(client, database):
    p = await province(database, "henan")
    e = await create(client, p, "env_leader", escalation_body(p, "urge"))
    assert (e["reply_deadline"], e["overdue"]) == ("2099-12-31", False)
    await step(client, p, "edu_leader", "escalations", e, "reply", {"reply": "已办"}, expect=404)
    await step(client, p, "water_staff", "escalations", e, "reply", {"reply": "已办"}, expect=403)
    replied = await step(client, p, "water_leader", "escalations", e, "reply", {"reply": "已制定整治方案"})
    assert (replied["status"], replied["reply"]) == ("replied", "已制定整治方案")
    circular = await create(client, p, "env_leader", escalation_body(p, "circular", public=True))
    await step(client, p, "water_leader", "escalations", circular, "reply", {"reply": "x"}, expect=409)


async def test_kind_fields_are_checked(client, database):
    p = await province(database, "henan")
    r = await client.post("/escalations", headers=p.headers("env_leader"), json={
        "kind": "urge", "title": "督办", "issuing_organisation_id": str(p.org("env").id), "public": True,
        "summons_form": "collective"})
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert pointers == {"/reply_deadline", "/summons_form", "/public", "/addressee_organisation_ids"}
    r = await client.post("/escalations", headers=p.headers("env_staff"), json=escalation_body(p, "warning"))
    assert r.status_code == 403  # staff hold no issuing role
    r = await client.post("/escalations", headers=p.headers("water_leader"), json=escalation_body(p, "warning"))
    assert r.status_code == 403  # a role elsewhere does not issue for env


async def test_escalations_of_a_finding(client, database):
    c = await campaign(database, client, office="inspection_office")
    f = await register(client, c)
    body = {"kind": "urge", "title": "督办函", "issuing_organisation_id": str(c.org("inspection_office")),
            "addressee_organisation_ids": [str(c.org("water"))], "reply_deadline": "2099-01-01"}
    r = await client.post(f"/findings/{f['id']}/escalations", json=body, headers=c.h("inspection_office_office"))
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["finding_ids"] == [f["id"]]
    page = (await client.get(f"/findings/{f['id']}/escalations", headers=c.h("inspection_office_office"))).json()
    assert [i["id"] for i in page["items"]] == [e["id"]]
    assert (await client.get(f"/findings/{f['id']}/escalations", headers=c.h("edu_leader"))).status_code == 404
    listed = (await client.get("/escalations", params={"finding_id": f["id"]}, headers=c.h("water_leader"))).json()
    assert [i["id"] for i in listed["items"]] == [e["id"]]  # the addressee reads it
    assert (await client.get("/escalations", headers=c.h("edu_leader"))).json()["items"] == []
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(Escalation)) == 1


async def test_only_issued_public_summonses_and_circulars_are_published(client, database):
    p = await province(database, "hainan")
    circular = await create(client, p, "env_leader", escalation_body(p, "circular", public=True))
    await create(client, p, "env_leader", escalation_body(p, "circular"))  # internal
    summons = await create(client, p, "env_leader", escalation_body(p, "summons", public=True))  # proposed
    await create(client, p, "env_leader", escalation_body(p, "urge"))
    r = await client.get("/public/escalations")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public")
    assert [e["id"] for e in r.json()["items"]] == [circular["id"]]
    await step(client, p, "gov_leadership", "escalations", summons, "decide")
    items = (await client.get("/public/escalations", params={"kind": "summons"})).json()["items"]
    assert [e["id"] for e in items] == [summons["id"]] and "addressee_persons" not in items[0]
    assert (await client.get("/public/escalations", headers={"If-None-Match": r.headers["etag"]})).status_code == 200
