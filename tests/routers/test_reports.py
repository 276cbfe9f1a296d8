"""/reports: the workflow over HTTP, by state × action × caller (role at an organisation), from DOMAIN.md.

The report is 海南省水务厅's annual duty report (000 §(十二)): to 省委、省政府 jointly, 抄送 水利部 (its
上级主管部门) and 省生态环境厅, published on the department's portal. Callers, each one role at one
organisation:
    water_staff, water_leader       staff / leader of 水务厅, the filer
    gov_office                      office of 省政府 (receives for 省委、省政府)
    gov_leadership, pc_leadership   leadership of 省政府 / 省委 (accept)
    env_office, env_leader          of 省生态环境厅: a copy recipient (抄送) — reads once sent, never acts
    haikou_leader                   leader of 海口市人民政府: nothing to do with it (404)
    viewer                          viewer at 海南省: reads everything, has no reports:write (403)
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.core.etag import make_etag
from app.models import AuditEvent, Report, ReportStatus, Role, TransitionHistory
from tests.factories import auth, make_user, problem
from tests.report_factories import BUILDERS, COMPLETE_SECTIONS

STATES = ("pending", "draft", "submitted", "received", "accepted", "published")
ACTIONS = ("start", "submit", "receive", "accept", "publish", "return")
CALLERS = {"water_staff": ("water", Role.staff), "water_leader": ("water", Role.leader),
           "gov_office": ("gov", Role.office), "gov_leadership": ("gov", Role.leadership),
           "pc_leadership": ("pc", Role.leadership), "env_office": ("env", Role.office),
           "env_leader": ("env", Role.leader), "haikou_leader": ("haikou_gov", Role.leader),
           "viewer": ("root", Role.viewer)}
# DOMAIN.md's diagram: who takes which step from which state.
STEPS = {("pending", "start"): {"water_staff"}, ("draft", "submit"): {"water_leader"},
         ("submitted", "receive"): {"gov_office"},
         ("submitted", "return"): {"gov_office", "gov_leadership", "pc_leadership"},
         ("received", "accept"): {"gov_leadership", "pc_leadership"},
         ("received", "return"): {"gov_office", "gov_leadership", "pc_leadership"},
         ("accepted", "publish"): {"water_leader"}}
TARGET = {"start": "draft", "submit": "submitted", "receive": "received", "accept": "accepted",
          "publish": "published", "return": "draft"}
# The role each action needs, wherever (filer or recipient): holding it there but in the wrong state is 409.
NEEDS = {"start": {"water_staff"}, "submit": {"water_leader"}, "publish": {"water_leader"},
         "receive": {"gov_office"}, "accept": {"gov_leadership", "pc_leadership"},
         "return": {"gov_office", "gov_leadership", "pc_leadership"}}
COPY = {"env_office", "env_leader"}


def expected(state: str, action: str, caller: str) -> int:
    if caller == "haikou_leader" or (caller in COPY and state in ("pending", "draft")):
        return 404  # out of sight: not the filer, recipient, or a copy of a sent report
    if caller == "viewer":
        return 403  # no reports:write
    if caller in STEPS.get((state, action), set()):
        return 200
    return 409 if caller in NEEDS[action] else 403


@pytest.fixture
async def hainan(database, client):
    async with database.transaction() as s:
        p = await BUILDERS["hainan"](s)
        users = {k: await make_user(s, f"t.{k}", (p.org(org), role)) for k, (org, role) in CALLERS.items()}
        admin = await make_user(s, "t.hn.admin", (p.root, Role.admin))
    r = await client.post("/report-obligations", headers=auth(admin),
                          json={"jurisdiction_id": str(p.root.id), "year": 2024})
    assert r.status_code == 200
    async with database.transaction(write=False) as s:
        report_id = await s.scalar(select(Report.id).where(Report.organisation_id == p.org("water").id,
                                                           Report.rule_id == "reports.annual_duty_report"))
    return p, users, report_id


async def put_in(database, report_id, state: str) -> int:
    async with database.transaction() as s:
        await s.execute(update(Report).where(Report.id == report_id).values(
            status=ReportStatus(state), content=COMPLETE_SECTIONS))
        return (await s.get(Report, report_id)).version


async def trail(database, report_id) -> tuple[int, int]:
    async with database.transaction(write=False) as s:
        return (await s.scalar(select(func.count()).where(TransitionHistory.resource_id == report_id)),
                await s.scalar(select(func.count()).where(AuditEvent.resource_id == str(report_id))))


class TestWorkflowMatrix:
    async def test_every_state_action_and_caller(self, client, database, hainan):
        _, users, report_id = hainan
        got, want = {}, {}
        for state in STATES:
            for action in ACTIONS:
                for caller in CALLERS:
                    version = await put_in(database, report_id, state)
                    before = await trail(database, report_id)
                    body = {"comment": "请补充牵头事项"} if action == "return" else None
                    r = await client.post(f"/reports/{report_id}/{action}", json=body, headers={
                        **auth(users[caller]), "If-Match": make_etag(report_id, version)})
                    cell = (state, action, caller)
                    got[cell], want[cell] = r.status_code, expected(*cell)
                    async with database.transaction(write=False) as s:
                        row = await s.get(Report, report_id)
                    after = await trail(database, report_id)
                    if r.status_code == 200:
                        assert (row.status.value, row.version) == (TARGET[action], version + 1), cell
                        assert r.json()["status"] == TARGET[action]
                        assert after == (before[0] + 1, before[1] + 1), cell  # one history row, one audit event
                    else:
                        assert (row.status.value, row.version, after) == (state, version, before), cell
        assert {c: (got[c], want[c]) for c in got if got[c] != want[c]} == {}


class TestRefusalsAreProblemDocuments:
    async def test_a_copy_recipient_reads_the_sent_report_and_cannot_receive_it(self, client, database, hainan):
        _, users, report_id = hainan
        version = await put_in(database, report_id, "submitted")
        read = await client.get(f"/reports/{report_id}", headers=auth(users["env_office"]))
        assert read.status_code == 200 and read.json()["allowed_actions"] == []
        assert [(c["name"], c["mode"]) for c in read.json()["copies"]] == [("水利部", "copy_across"),
                                                                          ("海南省生态环境厅", "copy_across")]
        r = await client.post(f"/reports/{report_id}/receive", headers={
            **auth(users["env_office"]), "If-Match": make_etag(report_id, version)})
        assert (r.status_code, problem(r)) == (403, {
            "type": "https://envduty.example/problems/action-forbidden", "title": "Action not allowed for you",
            "status": 403, "code": "action_forbidden", "allowed_actions": [],
            "detail": "Your roles do not allow the action 'receive' on a report that is 'submitted'."})

    async def test_receiving_twice_is_409_naming_what_is_left(self, client, database, hainan):
        _, users, report_id = hainan
        version = await put_in(database, report_id, "received")
        r = await client.post(f"/reports/{report_id}/receive", headers={
            **auth(users["gov_office"]), "If-Match": make_etag(report_id, version)})
        assert (r.status_code, problem(r)) == (409, {
            "type": "https://envduty.example/problems/transition-not-allowed",
            "title": "Action not allowed in this state", "status": 409, "code": "transition_not_allowed",
            "allowed_actions": ["return"],
            "detail": "The action 'receive' is not possible while the report is 'received'."})

    async def test_if_match_is_required_and_must_be_current(self, client, database, hainan):
        _, users, report_id = hainan
        await put_in(database, report_id, "pending")
        url, headers = f"/reports/{report_id}/start", auth(users["water_staff"])
        assert (await client.post(url, headers=headers)).status_code == 428
        stale = await client.post(url, headers={**headers, "If-Match": make_etag(report_id, 999)})
        assert stale.status_code == 412 and problem(stale)["code"] == "stale_resource"
        assert await trail(database, report_id) == (0, 0)

    async def test_a_return_without_a_comment_is_422(self, client, database, hainan):
        _, users, report_id = hainan
        version = await put_in(database, report_id, "submitted")
        r = await client.post(f"/reports/{report_id}/return", json={"comment": "  "}, headers={
            **auth(users["gov_office"]), "If-Match": make_etag(report_id, version)})
        assert r.status_code == 422 and problem(r)["errors"][0]["pointer"] == "/comment"

    async def test_outside_every_party_the_report_does_not_exist(self, client, hainan):
        _, users, report_id = hainan
        for path in ("", "/history"):
            r = await client.get(f"/reports/{report_id}{path}", headers=auth(users["haikou_leader"]))
            assert (r.status_code, problem(r)) == (404, {
                "type": "https://envduty.example/problems/not-found", "title": "Not found", "status": 404,
                "code": "not_found", "detail": "No such report."})
