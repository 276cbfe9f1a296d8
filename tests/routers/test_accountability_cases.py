"""Accountability cases over HTTP (DOMAIN.md "Accountability cases").

Hainan's two stages (000 §(十五)): the handover, proposed by 省生态环境厅 and decided by 省委、省政府
(000 §(十二)), goes to the responsible 省直部门 (水利厅), which establishes 原因、经过、后果、影响、整改,
determines responsibility and transfers to 纪检监察 or 组织(人事); or settles it itself. Henan's direct
path (002 §(十八) 依权限按程序移送纪检监察机关或组织(人事)部门): the case is `transferred` at once. A
receiving body sees its cases, not others (DOMAIN.md "a discipline body can read the cases transferred to it").
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AccountabilityCase, AuditEvent
from tests.escalation_helpers import INVESTIGATION, create, escalation_body, get, history, province, step


async def _hainan_case(client, p) -> dict:
    e = await create(client, p, "env_leader", escalation_body(p, "handover"))
    assert (e["status"], e["accountability_case_id"]) == ("proposed", None)
    e = await step(client, p, "gov_leadership", "escalations", e, "decide")
    assert e["accountability_case_id"]
    return await get(client, p, "water_leader", "accountability-cases", e["accountability_case_id"])


async def test_hainan_two_stages(client, database):
    p = await province(database, "hainan")
    case = await _hainan_case(client, p)
    assert (case["status"], case["path"], case["clause"]) == ("investigating", "two_stage", "000 §(十五)")
    assert case["responsible_organisation"]["id"] == str(p.org("water").id)
    assert case["persons_concerned"] == [{"name": "李四", "title": "处长", "organisation_id": None}]
    assert case["allowed_actions"] == ["transfer", "conclude_internally"]
    # Not yet transferred: the discipline body does not see it.
    await get(client, p, "discipline_discipline", "accountability-cases", case["id"], expect=404)
    transfer = {**INVESTIGATION, "receiving_body_kind": "discipline",
                "receiving_organisation_id": str(p.org("discipline").id)}
    await step(client, p, "water_staff", "accountability-cases", case, "transfer", transfer, expect=403)
    wrong = {**transfer, "receiving_organisation_id": str(p.org("edu").id)}
    r = await step(client, p, "water_leader", "accountability-cases", case, "transfer", wrong, expect=422)
    assert [e["type"] for e in r["errors"]] == ["wrong_kind"]
    moved = await step(client, p, "water_leader", "accountability-cases", case, "transfer", transfer)
    assert (moved["status"], moved["responsibility_determination"]) == ("transferred", "分管副厅长负领导责任")
    seen = await get(client, p, "discipline_discipline", "accountability-cases", case["id"])
    assert seen["allowed_actions"] == ["accept"]
    accepted = await step(client, p, "discipline_discipline", "accountability-cases", seen, "accept")
    done = await step(client, p, "discipline_discipline", "accountability-cases", accepted, "conclude",
                      {"outcome": "给予党内警告处分"})
    assert (done["status"], done["outcome"], done["version"]) == ("concluded", "给予党内警告处分", 4)
    assert await history(database, case["id"]) == [("transfer", "investigating", "transferred"),
                                                   ("accept", "transferred", "accepted"),
                                                   ("conclude", "accepted", "concluded")]


async def test_hainan_concluded_internally(client, database):
    p = await province(database, "hainan")
    case = await _hainan_case(client, p)
    done = await step(client, p, "water_leader", "accountability-cases", case, "conclude-internally",
                      {**INVESTIGATION, "measure": "reminder_talk"})
    assert (done["status"], done["internal_measure"], done["receiving_organisation"]) == (
        "concluded", "reminder_talk", None)
    await step(client, p, "water_leader", "accountability-cases", done, "transfer", {
        **INVESTIGATION, "receiving_body_kind": "discipline", "receiving_organisation_id": str(p.org("discipline").id)},
        expect=409)


async def test_hainan_refuses_a_receiver_at_handover(client, database):
    p = await province(database, "hainan")
    body = escalation_body(p, "handover")
    body["handover"]["receiving_body_kind"] = "discipline"
    r = await client.post("/escalations", json=body, headers=p.headers("env_leader"))
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/handover/receiving_body_kind"]


async def test_henan_transfers_directly(client, database):
    p = await province(database, "henan")
    body = escalation_body(p, "handover")
    body["handover"].update(receiving_body_kind="organisation_department",
                            receiving_organisation_id=str(p.org("org_dept").id))
    e = await create(client, p, "env_leader", body)
    assert e["status"] == "issued" and e["accountability_case_id"]
    case = await get(client, p, "org_dept_discipline", "accountability-cases", e["accountability_case_id"])
    assert (case["status"], case["path"], case["clause"]) == ("transferred", "direct", "002 §(十八)")
    assert case["receiving_organisation"]["id"] == str(p.org("org_dept").id)
    assert case["transferred_at"] and case["allowed_actions"] == ["accept"]
    assert (await get(client, p, "water_leader", "accountability-cases", case["id"]))["allowed_actions"] == []
    accepted = await step(client, p, "org_dept_discipline", "accountability-cases", case, "accept")
    assert accepted["status"] == "accepted"
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).where(AuditEvent.action == "accountability_case.create",
                                                         AuditEvent.resource_id == case["id"])) == 1
    missing = escalation_body(p, "handover")
    r = await client.post("/escalations", json=missing, headers=p.headers("env_leader"))
    assert {x["pointer"] for x in r.json()["errors"]} == {"/handover/receiving_body_kind",
                                                          "/handover/receiving_organisation_id"}


async def test_suspected_crimes_go_to_public_security(client, database):
    """000 §(十八): 涉嫌犯罪案件及时移送; the receiver must be a judicial body."""
    p = await province(database, "henan")
    body = escalation_body(p, "handover")
    body["handover"].update(receiving_body_kind="public_security", receiving_organisation_id=str(p.org("police").id))
    e = await create(client, p, "env_leader", body)
    case = await get(client, p, "police_office", "accountability-cases", e["accountability_case_id"])
    assert case["receiving_body_kind"] == "public_security"
    body["handover"]["receiving_organisation_id"] = str(p.org("discipline").id)
    r = await client.post("/escalations", json=body, headers=p.headers("env_leader"))
    assert [x["type"] for x in r.json()["errors"]] == ["wrong_kind"]


async def test_a_receiving_body_sees_its_cases_only(client, database):
    p = await province(database, "henan")
    made = {}
    for receiver in ("discipline", "org_dept", "city_discipline"):
        body = escalation_body(p, "handover", title=f"移交 {receiver}")
        body["handover"].update(receiving_body_kind="organisation_department" if receiver == "org_dept"
                                else "discipline", receiving_organisation_id=str(p.org(receiver).id))
        made[receiver] = (await create(client, p, "env_leader", body))["accountability_case_id"]
    for user, receiver in (("discipline_discipline", "discipline"), ("org_dept_discipline", "org_dept"),
                           ("city_discipline_discipline", "city_discipline")):
        page = (await client.get("/accountability-cases", headers=p.headers(user))).json()
        assert [c["id"] for c in page["items"]] == [made[receiver]], user
        others = [c for r, c in made.items() if r != receiver]
        for other in others:
            await get(client, p, user, "accountability-cases", other, expect=404)
        # Nor the handovers addressed to other receivers.
        escalations = (await client.get("/escalations", headers=p.headers(user))).json()["items"]
        assert [e["accountability_case_id"] for e in escalations] == [made[receiver]]
    # The handing-over department and the responsible body see all three.
    for user in ("env_leader", "water_leader"):
        page = (await client.get("/accountability-cases", headers=p.headers(user))).json()
        assert len(page["items"]) == 3
    assert (await client.get("/accountability-cases", headers=p.headers("edu_leader"))).json()["items"] == []
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(AccountabilityCase)) == 3
