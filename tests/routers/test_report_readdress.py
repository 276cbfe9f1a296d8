"""Re-addressing: when an admin changes a region's designations, reports nobody has filed yet
(pending, draft — a returned draft included) follow them; filed reports keep whom they were sent
to (DOMAIN.md: "changing it never rewrites history"). Trigger: PUT /organisations/{id}/designations
(app/services/reports/readdress.py); and PATCH /organisations/{id} when the organisation's superior department,
parent or a coordination body's member units change.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from app.core.etag import make_etag
from app.models import (
    AuditEvent,
    Organisation,
    OrganisationKind,
    OrganisationLevel,
    Report,
    ReportStatus,
    Role,
    TransitionHistory,
)
from tests.factories import auth, make_organisation, make_user
from tests.report_factories import BUILDERS, COMPLETE_SECTIONS

K, L = OrganisationKind, OrganisationLevel
PLAN, ANNUAL = "reports.annual_work_plan", "reports.annual_duty_report"


async def henan(database, client):
    """Henan with a second 环委办 and a second environment department to move the designations to,
    a member of each body, and the 2024 obligations generated."""
    async with database.transaction() as s:
        p = await BUILDERS["henan"](s)
        p.orgs["new_office"] = await make_organisation(s, "河南省生态环境保护委员会办公室(调整后)",
                                                       kind=K.coordination_office, parent=p.org("gov"))
        p.orgs["new_env"] = await make_organisation(s, "河南省生态环境厅(调整后)", parent=p.org("gov"))
        p.orgs["zz_office"] = await make_organisation(s, "郑州市生态环境保护委员会办公室", kind=K.coordination_office,
                                                      level=L.city, parent=p.org("zhengzhou_gov"))
        users = {"admin": await make_user(s, "t.henan.admin", (p.root, Role.admin)),
                 "old_office": await make_user(s, "t.old.office", (p.org("committee_office"), Role.office)),
                 "new_office": await make_user(s, "t.new.office", (p.org("new_office"), Role.office)),
                 "old_env": await make_user(s, "t.old.env", (p.org("env"), Role.viewer)),
                 "new_env": await make_user(s, "t.new.env", (p.org("new_env"), Role.viewer))}
    r = await client.post("/report-obligations", headers=auth(users["admin"]),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200, r.text
    return p, users


async def rid(database, org, rule_id):
    async with database.transaction(write=False) as s:
        return await s.scalar(select(Report.id).where(Report.organisation_id == org.id, Report.rule_id == rule_id,
                                                      Report.period == "2024"))


async def set_state(database, report_id, state):
    async with database.transaction() as s:
        await s.execute(update(Report).where(Report.id == report_id).values(status=ReportStatus(state),
                                                                            content=COMPLETE_SECTIONS))


async def designate(client, user, region, key, *orgs):
    url = f"/organisations/{region.id}/designations"
    etag = (await client.get(url, headers=auth(user))).headers["ETag"]
    r = await client.put(url, headers={**auth(user), "If-Match": etag},
                         json={"items": [{"key": key, "organisation_ids": [str(o.id) for o in orgs]}]})
    assert r.status_code == 200, r.text


async def read(client, user, report_id):
    return await client.get(f"/reports/{report_id}", headers=auth(user))


async def readdress_rows(database, report_id) -> tuple[int, int]:
    async with database.transaction(write=False) as s:
        history = await s.scalar(select(func.count()).where(TransitionHistory.resource_id == report_id,
                                                            TransitionHistory.action == "re_address"))
        events = await s.scalar(select(func.count()).where(AuditEvent.resource_id == str(report_id),
                                                           AuditEvent.action == "report.re_address"))
    return history, events


class TestRecipientFollowsANewDesignation:
    async def test_unfiled_work_plans_go_to_the_new_office_and_filed_ones_stay(self, client, database):
        # 002 §(十): 年度工作方案或计划应报送同级生态环境保护委员会办公室备案 — which office that is, is a designation.
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), PLAN)
        returned = await rid(database, p.org("env"), PLAN)
        filed = await rid(database, p.departments[2], PLAN)  # 河南省财政厅
        await set_state(database, returned, "draft")  # a draft: returned by the office, or never submitted
        await set_state(database, filed, "submitted")
        before = (await read(client, u["old_office"], pending)).json()
        await designate(client, u["admin"], p.root, "environment_committee_office", p.org("new_office"))

        moved = await read(client, u["new_office"], pending)
        assert moved.status_code == 200, moved.text
        assert [r["name"] for r in moved.json()["recipients"]] == ["河南省生态环境保护委员会办公室(调整后)"]
        assert moved.json()["recipient_label"] == "河南省生态环境保护委员会办公室(调整后)"
        assert moved.json()["version"] == before["version"] + 1  # its ETag changed
        assert (await read(client, u["old_office"], pending)).status_code == 404  # no longer addressed to it
        assert (await read(client, u["new_office"], returned)).json()["status"] == "draft"
        assert (await read(client, u["old_office"], returned)).status_code == 404

        kept = await read(client, u["old_office"], filed)  # submitted before the change: history stands
        assert [r["name"] for r in kept.json()["recipients"]] == ["河南省生态环境保护委员会办公室"]
        assert (await read(client, u["new_office"], filed)).status_code == 404
        assert await readdress_rows(database, filed) == (0, 0)

    async def test_the_history_row_says_who_moved_it_from_whom_to_whom(self, client, database):
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), PLAN)
        await designate(client, u["admin"], p.root, "environment_committee_office", p.org("new_office"))
        history = (await client.get(f"/reports/{pending}/history", headers=auth(u["new_office"]))).json()["items"]
        assert [(h["action"], h["from_status"], h["to_status"], h["actor_name"]) for h in history] == [
            ("re_address", "pending", "pending", "t.henan.admin")]
        payload = history[0]["payload"]
        assert payload["cause"] == "designation_change" and payload["region_id"] == str(p.root.id)
        assert [(x["role"], x["name"]) for x in payload["before"]["parties"]] == [
            ("recipient", "河南省生态环境保护委员会办公室")]
        assert [(x["role"], x["name"]) for x in payload["after"]["parties"]] == [
            ("recipient", "河南省生态环境保护委员会办公室(调整后)")]
        assert await readdress_rows(database, pending) == (1, 1)

    async def test_an_unchanged_addressing_is_not_touched(self, client, database):
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), PLAN)
        await designate(client, u["admin"], p.root, "environment_committee_office", p.org("committee_office"))
        assert await readdress_rows(database, pending) == (0, 0)
        assert (await read(client, u["old_office"], pending)).json()["version"] == 1


class TestCopiesFollowANewDesignation:
    async def test_the_new_copy_holder_reads_once_filed_and_the_old_one_does_not(self, client, database):
        # 002 §(十二): 专题报告应同时抄送上级主管部门、省生态环境厅
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), ANNUAL)
        filed = await rid(database, p.departments[2], ANNUAL)  # 河南省财政厅, submitted before the change
        await set_state(database, filed, "submitted")
        await designate(client, u["admin"], p.root, "environment_department", p.org("new_env"))
        await set_state(database, pending, "submitted")  # filed after the change

        now = await read(client, u["new_env"], pending)
        assert now.status_code == 200, now.text
        assert [(c["name"], c["mode"]) for c in now.json()["copies"]] == [
            ("水利部", "copy_across"), ("河南省生态环境厅(调整后)", "copy_across")]
        assert (await read(client, u["old_env"], pending)).status_code == 404
        assert [c["name"] for c in (await read(client, u["old_env"], filed)).json()["copies"]] == ["河南省生态环境厅"]
        assert (await read(client, u["new_env"], filed)).status_code == 404


class TestACityDesignationMovesOnlyTheCitysReports:
    async def test_the_city_office_fills_what_was_unresolved_and_provincial_plans_stay(self, client, database):
        # 002 §(十) 同级生态环境保护委员会办公室: for 郑州市生态环境局, 郑州's own 环委办.
        p, u = await henan(database, client)
        bureau = await rid(database, p.org("zhengzhou_env"), PLAN)
        provincial = await rid(database, p.org("water"), PLAN)
        await designate(client, u["admin"], p.org("zhengzhou"), "environment_committee_office", p.org("zz_office"))
        body = (await read(client, u["admin"], bureau)).json()
        assert [r["name"] for r in body["recipients"]] == ["郑州市生态环境保护委员会办公室"]
        assert body["unresolved"] == []
        assert await readdress_rows(database, bureau) == (1, 1)
        assert await readdress_rows(database, provincial) == (0, 0)


HENAN_SECTIONS = {"sections": [
    {"topic": "duty_performance", "heading": "一、职责履行情况", "body": "已履行"},
    {"topic": "lead_item_implementation", "heading": "二、牵头事项落实情况", "body": "已落实"}]}


class TestReaddressingRacesASubmission:
    async def test_a_report_is_either_filed_as_addressed_or_re_addressed_and_the_stale_submit_refused(
            self, client, database):
        p, u = await henan(database, client)
        async with database.transaction() as s:
            leader = await make_user(s, "t.water.leader", (p.org("water"), Role.leader))
        report = await rid(database, p.org("water"), ANNUAL)
        async with database.transaction() as s:
            await s.execute(update(Report).where(Report.id == report).values(status=ReportStatus.draft,
                                                                            content=HENAN_SECTIONS))
        url = f"/organisations/{p.root.id}/designations"
        etag = (await client.get(url, headers=auth(u["admin"]))).headers["ETag"]
        start = asyncio.Event()

        async def submit():
            await start.wait()
            return await client.post(f"/reports/{report}/submit",
                                     headers={**auth(leader), "If-Match": make_etag(report, 1)})

        async def change():
            await start.wait()
            return await client.put(url, headers={**auth(u["admin"]), "If-Match": etag}, json={"items": [
                {"key": "environment_department", "organisation_ids": [str(p.org("new_env").id)]}]})

        tasks = [asyncio.create_task(submit()), asyncio.create_task(change())]
        await asyncio.sleep(0.05)
        start.set()
        submitted, changed = await asyncio.gather(*tasks)
        assert changed.status_code == 200, changed.text
        body = (await read(client, u["admin"], report)).json()
        copies = [c["name"] for c in body["copies"]]
        history, _ = await readdress_rows(database, report)
        if submitted.status_code == 200:  # filed first: it keeps whom it was sent to
            assert (body["status"], copies, history) == ("submitted", ["水利部", "河南省生态环境厅"], 0)
        else:  # re-addressed first: the submission carried the old version
            assert submitted.status_code == 412, submitted.text
            assert (body["status"], copies, history) == ("draft", ["水利部", "河南省生态环境厅(调整后)"], 1)


async def patch_org(client, user, org, body):
    url = f"/organisations/{org.id}"
    etag = (await client.get(url, headers=auth(user))).headers["ETag"]
    r = await client.patch(url, headers={**auth(user), "If-Match": etag}, json=body)
    assert r.status_code == 200, r.text


class TestAnOrganisationChangeReAddressesItsOwnReports:
    """PATCH /organisations/{id} re-addresses when the organisation's own inputs to the resolution change
    (cause `organisation_change`); other organisations' reports are left alone."""

    async def test_a_new_superior_department_receives_the_copy(self, client, database):
        # 002 §(十二): 专题报告应同时抄送上级主管部门 — the superior is the department's own field.
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), ANNUAL)
        untouched = await rid(database, p.departments[2], ANNUAL)  # 河南省财政厅
        async with database.transaction(write=False) as s:
            mee = await s.scalar(select(Organisation).where(Organisation.name == "生态环境部"))
        before = (await read(client, u["admin"], pending)).json()
        assert [(c["name"], c["mode"]) for c in before["copies"]] == [
            ("水利部", "copy_across"), ("河南省生态环境厅", "copy_across")]

        await patch_org(client, u["admin"], p.org("water"), {"superior_department_id": str(mee.id)})

        now = (await read(client, u["admin"], pending)).json()
        assert [(c["name"], c["mode"]) for c in now["copies"]] == [
            ("生态环境部", "copy_across"), ("河南省生态环境厅", "copy_across")]
        assert now["version"] == before["version"] + 1
        history = (await client.get(f"/reports/{pending}/history", headers=auth(u["admin"]))).json()["items"]
        assert [(h["action"], h["payload"]["cause"]) for h in history] == [("re_address", "organisation_change")]
        assert await readdress_rows(database, pending) == (1, 1)
        assert await readdress_rows(database, untouched) == (0, 0)

    async def test_a_patch_that_leaves_the_addressing_alone_re_addresses_nothing(self, client, database):
        p, u = await henan(database, client)
        pending = await rid(database, p.org("water"), ANNUAL)
        await patch_org(client, u["admin"], p.org("water"), {"lead_person": "张三"})
        assert await readdress_rows(database, pending) == (0, 0)
        assert (await read(client, u["admin"], pending)).json()["version"] == 1


async def test_a_unit_leaving_a_coordination_body_no_longer_files_its_plan_with_that_office(client, database):
    # 000 §(十): 年度工作计划报送相应的省级议事协调机构的办事机构 — which office follows from membership.
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        admin = await make_user(s, "t.hainan.admin", (p.root, Role.admin))
    r = await client.post("/report-obligations", headers=auth(admin),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200, r.text
    plan = await rid(database, p.org("water"), PLAN)
    other = await rid(database, p.org("env"), PLAN)
    before = [x["name"] for x in (await read(client, admin, plan)).json()["recipients"]]
    assert "六水共治攻坚战指挥部办公室" in before

    await patch_org(client, admin, p.org("water_body"), {"member_unit_ids": []})

    after = [x["name"] for x in (await read(client, admin, plan)).json()["recipients"]]
    assert after == [n for n in before if n != "六水共治攻坚战指挥部办公室"]
    assert await readdress_rows(database, plan) == (1, 1)
    assert await readdress_rows(database, other) == (0, 0)  # not a member of the body that changed
