"""A ledger shaped like 001, built through the API, and the list filters over it.

001 is 海南省生态环境厅's public notice (2023-05-24) on rectifying the 36 items the 七届省委第一巡视组 fed
back on 2020-09-11: five 方面 (二(一)…(五)), topics 1., 2., … under them, and the 36 items (1), (2), …
(or a topic that is itself an item). The department rectifies through its own office (001 一(二)). As
of 2022-12 "36项巡视反馈问题事项均按期完成整改,无滞后事项"; long-term items go on (一(三) "对长期整改的,
紧盯不放"); the "等靠看" item (二(五)2(3)) counts its 8 tasks one by one ("3项已完成并销号,1项已完成待销号;
持续推进4项任务已有1项完成销号,3项正按序时推进"); the audit item's fee refund cannot be completed
(二(四)2, confirmed by 省财政厅); the sea-reclamation item was split into two phases (二(四)1).

Where 001 says less than a ledger holds, this one chooses (and says so below): which items are
long-term (3), which are still open (2, one with a cannot-complete claim awaiting confirmation), one
closure awaiting 销号. The expected numbers are counted here from LEDGER, not by the service; the
statistics module will later count the same ledger.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.models import Measure, OrganisationKind
from tests.factories import make_organisation
from tests.findings_helpers import EVIDENCE, TODAY, act, campaign, measure_act, measures_of

ASPECTS = [("(一)", "落实党的路线方针政策和党中央决策部署方面"), ("(二)", "落实全面从严治党战略部署方面"),
           ("(三)", "落实新时代党的组织路线方面"), ("(四)", "落实中央环保督察、国家海洋督察及审计反馈问题整改方面"),
           ("(五)", "贯彻落实习近平总书记“4·13”重要讲话精神方面")]
TOPICS = {  # (aspect, topic code) → heading
    ("(一)", "1."): "夯实习近平生态文明思想,推进重点工作落实", ("(一)", "2."): "强化责任担当,切实履行职能职责",
    ("(一)", "3."): "发挥攻坚克难精神着力打赢污染防治攻坚战", ("(一)", "4."): "切实履行省级环保督察和行政执法职责",
    ("(二)", "1."): "严格落实全面从严治党主体责任", ("(二)", "2."): "在纪检监察机构履行监督职责方面",
    ("(二)", "3."): "在项目购买服务监管方面", ("(二)", "4."): "在干部依靠环评获利方面",
    ("(二)", "5."): "在环评项目监管不到位,未批先采方面", ("(三)", "1."): "在规范干部选拔任用方面",
    ("(三)", "2."): "在领导干部个人有关事项报告抽查方面", ("(三)", "3."): "在市县生态环境队伍建设方面",
    ("(四)", "1."): "在落实中央环保督察和国家海洋督察整改方面", ("(四)", "2."): "在落实审计整改方面",
    ("(五)", "1."): "深入贯彻落实习近平总书记“4·13”重要讲话精神", ("(五)", "2."): "紧抓牵头任务,主动推动落实",
    ("(五)", "3."): "加强科研能力建设,探讨制度创新", ("(五)", "4."): "在树立“一盘棋”大局意识方面",
}
# (aspect, topic, item code or None when the topic is the item, title, fate, type, key problem)
C, L, I, T = "closed", "long_term", "immediate", "time_limited"
LEDGER = [
    ("(一)", "1.", "(1)", "在夯实习近平生态文明思想方面", C, T, False),
    ("(一)", "1.", "(2)", "在牵头国家生态文明试验区(海南)建设方面", C, T, False),
    ("(一)", "1.", "(3)", "在牵头推进重点任务落实方面(湾长制、禁塑)", "sustained", L, True),
    ("(一)", "1.", "(4)", "在牵头落实省部协议方面", C, T, False),
    ("(一)", "1.", "(5)", "在制度集成创新方面", C, T, False),
    ("(一)", "2.", "(1)", "在生态环境监测机制建设方面", C, T, False),
    ("(一)", "2.", "(2)", "在推进生态环境风险防控体系建设方面", C, T, False),
    ("(一)", "2.", "(3)", "在国际交流合作方面", C, T, False),
    ("(一)", "3.", "(1)", "在水功能区划设置方面", C, T, False),
    ("(一)", "3.", "(2)", "在饮用水水源地划定保护工作方面", "sustained", L, False),  # 按时序推进
    ("(一)", "3.", "(3)", "在城镇内河(湖)水污染治理方面", C, T, True),  # 预警函, 约谈
    ("(一)", "3.", "(4)", "在农村生活污水治理方面", C, T, False),
    ("(一)", "3.", "(5)", "在大气污染防治方面", C, T, False),
    ("(一)", "3.", "(6)", "在固废处置安全监管方面", C, T, False),
    ("(一)", "4.", "(1)", "在落实省级环保督察责任方面", C, T, False),
    ("(一)", "4.", "(2)", "在落实省级环保行政执法方面", C, T, False),
    ("(二)", "1.", "(1)", "在宣讲党的政治理论方面", C, T, False),
    ("(二)", "1.", "(2)", "在统筹协调巡视整改工作方面", C, T, False),
    ("(二)", "2.", None, "在纪检监察机构履行监督职责方面", C, T, False),
    ("(二)", "3.", None, "在项目购买服务监管方面", C, T, False),
    ("(二)", "4.", None, "在干部依靠环评获利方面", C, T, True),
    ("(二)", "5.", None, "在环评项目监管不到位,未批先采方面", C, T, False),
    ("(三)", "1.", None, "在规范干部选拔任用方面", C, I, False),  # "在巡视组指出问题当日,及时纠错"
    ("(三)", "2.", None, "在领导干部个人有关事项报告抽查方面", C, T, False),
    ("(三)", "3.", None, "在市县生态环境队伍建设方面", C, T, False),
    ("(四)", "1.", None, "在落实中央环保督察和国家海洋督察整改方面", "closed_in_two_phases", T, True),
    ("(四)", "2.", None, "在落实审计整改方面", "closed_one_task_cannot_complete", T, False),
    ("(五)", "1.", "(1)", "在加强思想理论武装方面", C, T, False),
    ("(五)", "1.", "(2)", "在学懂弄通做实习近平生态文明思想方面", C, T, False),
    ("(五)", "2.", "(1)", "在推进重点工作任务落实方面", C, T, False),
    ("(五)", "2.", "(2)", "在确保重点工作任务落实成效方面", C, T, False),
    ("(五)", "2.", "(3)", "在“等靠看”问题整改方面", "eight_tasks", T, True),
    ("(五)", "3.", "(1)", "在加强科研能力建设方面", "claim_awaiting_confirmation", T, False),
    ("(五)", "3.", "(2)", "在探讨制度创新方面", "sustained", L, False),
    ("(五)", "4.", "(1)", "在加强横向衔接配合方面", "closure_requested", T, False),
    ("(五)", "4.", "(2)", "在加强纵向指导监督方面", C, T, False),
]
STATUS_OF = {C: "closed", "sustained": "sustained", "closed_in_two_phases": "closed",
             "closed_one_task_cannot_complete": "closed", "eight_tasks": "in_progress",
             "claim_awaiting_confirmation": "in_progress", "closure_requested": "closure_requested"}
# The measures' states each fate ends with (first plan; the two-phase item gains a third task): every
# measure state occurs, and the audit item's refund cannot be completed (二(四)2).
MEASURE_PLAN = {"eight_tasks": ["verified"] * 4 + ["done"] + ["open"] * 3,
                "claim_awaiting_confirmation": ["verified", "cannot_complete_requested"],
                "closed_one_task_cannot_complete": ["verified", "cannot_complete"],
                "sustained": ["verified", "open"]}


def measure_states(fate: str) -> list[str]:
    """The states of the measures an item of this fate ends with, as `drive` leaves them."""
    return MEASURE_PLAN.get(fate, ["verified"] * (3 if fate == "closed_in_two_phases" else 2))


OFFICE, LEADER = "env_office", "env_leader"
DUE = (TODAY + timedelta(days=120)).isoformat()


async def build(client, database):
    c = await campaign(database, client, kind="party_inspection")
    async with database.transaction() as s:
        c.p.orgs["finance"] = await make_organisation(s, "海南省财政厅", parent=c.p.org("gov"))
        for key, name in (("general", "综合处"), ("eia", "环评与排放管理处"), ("personnel", "人事处"),
                          ("academy", "省环境科学研究院")):
            c.p.orgs[key] = await make_organisation(s, name, kind=OrganisationKind.internal_unit, parent=c.p.org("env"))
    nodes = await category_tree(client, c)
    units = ["general", "eia", "personnel", "academy", "env_unit"]
    made = []
    for n, (aspect, topic, item, title, fate, kind, key) in enumerate(LEDGER):
        code = f"{aspect}{topic}{item or ''}"
        f = (await client.post("/findings", headers=c.h("xunshi_inspector" if n % 2 else OFFICE), json={
            "inspection_id": c.inspection["id"], "category_id": nodes[(aspect, topic)], "code": code, "title": title,
            "rectification_type": kind, "key_problem": key,
            "key_problem_handler": "孙善芳" if key else None})).json()  # 001 一(二) 重点督办、专人办理
        f = await act(client, c, OFFICE, f, "assign", {
            "responsible_organisation_id": str(c.org("env")), "deadline": DUE, "responsible_leader": "孙善芳",
            "responsible_unit_id": str(c.org(units[n % len(units)])), "responsible_person": f"责任人{n}"})
        made.append(await drive(client, c, f, fate))
    return c, nodes, made


async def category_tree(client, c) -> dict:
    """The five 方面 and their topics as the campaign's category tree: {code or (aspect, topic): id}."""
    url = f"/inspections/{c.inspection['id']}/categories"
    nodes = {}
    for code, title in ASPECTS:
        nodes[code] = (await client.post(url, headers=c.h(OFFICE), json={"code": code, "title": title})).json()["id"]
    for (aspect, topic), title in TOPICS.items():
        r = await client.post(url, headers=c.h(OFFICE), json={"parent_id": nodes[aspect], "code": topic,
                                                               "title": title})
        nodes[(aspect, topic)] = r.json()["id"]
    return nodes


# The ledger as recorded, for a historical import (issue 6 item 9): fed back 2020-09-11, plans approved
# that autumn, most items closed by mid-2021, the rest by the end of 2022 (001: "截至2022年12月,36项巡视
# 反馈问题事项均按期完成整改,无滞后事项"). Where 001 gives no day this ledger chooses one.
FED_BACK, ASSIGNED, APPROVED, DEADLINE = "2020-09-11", "2020-10-15", "2020-11-20", "2021-09-30"
LATE_TASKS = "2023-06-30"  # the "等靠看" item's three continuing tasks (二(五)2(3) "正按序时推进")


def imported_finding(n: int, row, nodes: dict, responsible: str, finance: str) -> dict:
    """One LEDGER row as `POST /imports/finding-ledgers` takes it, with its recorded days."""
    aspect, topic, item, title, fate, kind, key = row
    status = STATUS_OF[fate]
    f = {"code": f"{aspect}{topic}{item or ''}", "title": title, "category_id": nodes[(aspect, topic)],
         "rectification_type": kind, "key_problem": key, "status": status, "registered_on": FED_BACK,
         "responsible_organisation_id": responsible, "responsible_leader": "孙善芳", "deadline": DEADLINE,
         "assigned_on": ASSIGNED, "plan_approved_on": APPROVED}
    closing = ("2021-06-30", "2021-08-31") if n % 2 else ("2021-05-31", "2021-07-15")
    if fate == "closed_in_two_phases":  # 二(四)1: the second phase moved the deadline on
        f.update(original_deadline=DEADLINE, deadline="2022-06-30", deadline_extended_on="2021-10-20")  # asked for once late
        closing = ("2022-05-31", "2022-06-20")
    if status == "closed":
        f.update(closure_requested_on=closing[0], closed_on=closing[1],
                 lookbacks=[{"performed_on": "2022-06-30", "outcome": "passed", "performer": "rectification_office",
                             "note": "回头看未发现反弹"}])
    if status == "closure_requested":
        f.update(closure_requested_on="2022-12-20", deadline="2022-12-31")
    if status == "sustained":
        f["sustained_on"] = "2021-06-30"
    if fate in ("eight_tasks", "claim_awaiting_confirmation"):  # still going on at the end of 2022
        f["deadline"] = LATE_TASKS
    measures = []
    for k, state in enumerate(measure_states(fate)):
        m = {"title": f"任务{k + 1}", "deadline": LATE_TASKS if state == "open" else f["deadline"], "status": state}
        if state in ("done", "verified"):
            m["completed_on"] = "2022-10-31" if state == "done" else "2021-04-30"
        if state == "verified":
            m["verified_on"] = "2021-05-20"
        if state.startswith("cannot_complete"):
            m.update(declared_on="2021-05-10" if state == "cannot_complete" else "2022-11-30",
                     cannot_complete_reason="经协调省财政厅,此类款项已上缴国库无法退还",
                     confirming_organisation_id=finance)
        if state == "cannot_complete":
            m["confirmed_on"] = "2021-05-20"
        measures.append(m)
    f["measures"] = measures
    return f


def tasks(*titles: str) -> dict:
    return {"measures": [{"title": t, "deadline": DUE} for t in titles]}


async def drive(client, c, f, fate) -> dict:
    """From assigned to the item's fate, as the department's leader and office would."""
    count = len(MEASURE_PLAN.get(fate, ["verified"] * 2))
    f = await act(client, c, LEADER, f, "submit-plan", tasks(*(f"任务{i + 1}" for i in range(count))))
    f = await act(client, c, OFFICE, f, "approve-plan")
    ms = await measures_of(client, c, f, LEADER)
    if fate == "closed_in_two_phases":  # 二(四)1: 调整为两个阶段
        f = await act(client, c, LEADER, f, "amend-plan", {"measures": [
            {"id": ms[1]["id"], "title": "整治修复效果调查评估", "phase": "第一阶段", "deadline": DUE},
            {"title": "事前介入、事中监督和指导", "phase": "第二阶段", "deadline": DUE}]})
        f = await act(client, c, OFFICE, f, "approve-plan")
        ms = await measures_of(client, c, f, LEADER)
    plan = MEASURE_PLAN.get(fate, ["verified"] * len(ms))
    for m, target in zip(ms, plan, strict=True):
        if target in ("done", "verified"):
            m = await measure_act(client, c, LEADER, m, "complete", {"completion_note": "已完成"})
        if target == "verified":
            await measure_act(client, c, OFFICE, m, "verify", {"verification_note": "销号"})
        if target.startswith("cannot_complete"):
            m = await measure_act(client, c, LEADER, m, "declare-cannot-complete", {
                "reason": "经协调省财政厅,此类款项已上缴国库无法退还", "confirming_organisation_id": str(c.org("finance")),
                "evidence": EVIDENCE})
            if target == "cannot_complete":
                await measure_act(client, c, OFFICE, m, "confirm")
    f = (await client.get(f"/findings/{f['id']}", headers=c.h(OFFICE))).json()
    if fate == "sustained":
        return await act(client, c, OFFICE, f, "sustain")
    if STATUS_OF[fate] == "in_progress":
        return f
    f = await act(client, c, LEADER, f, "request-closure", {"summary": "已按期完成整改", "evidence": EVIDENCE})
    if fate == "closure_requested":
        return f
    return await act(client, c, OFFICE, f, "close", {"verification_note": "经核验,同意销号"})


async def test_a_ledger_like_001_and_its_list_filters(client, database):
    c, nodes, made = await build(client, database)

    async def ids(**query) -> set[str]:
        r = await client.get("/findings", headers=c.h("xunshi_inspector"),
                             params={"inspection_id": c.inspection["id"], "limit": 200, "include_total": "true",
                                     **query})
        body = r.json()
        assert body["total"] == len(body["items"]), body
        return {i["id"] for i in body["items"]}

    by_code = {f["code"]: f for f in made}
    assert len(await ids()) == 36 == len(made)
    for aspect, _ in ASPECTS:  # per 方面: 16, 6, 3, 2, 9
        expected = {by_code[f"{a}{t}{i or ''}"]["id"] for a, t, i, *_ in LEDGER if a == aspect}
        assert await ids(category_id=nodes[aspect]) == expected
    assert [sum(1 for row in LEDGER if row[0] == a) for a, _ in ASPECTS] == [16, 6, 3, 2, 9]
    assert len(await ids(category_id=nodes[("(一)", "3.")])) == 6
    statuses = Counter(STATUS_OF[row[4]] for row in LEDGER)
    assert statuses == {"closed": 30, "sustained": 3, "in_progress": 2, "closure_requested": 1}
    for status, count in statuses.items():
        assert len(await ids(status=status)) == count
    for kind, count in Counter(row[5] for row in LEDGER).items():
        assert len(await ids(rectification_type=kind)) == count
    assert len(await ids(key_problem="true")) == sum(1 for row in LEDGER if row[6]) == 5
    assert await ids(overdue="true") == set() and len(await ids(overdue="false")) == 36  # 无滞后事项
    assert await ids(rebounded="true") == set()  # 确保问题不反弹
    assert len(await ids(subtree_of=str(c.org("env")))) == 36 and await ids(subtree_of=str(c.org("water"))) == set()
    assert await ids(q="等靠看") == {by_code["(五)2.(3)"]["id"]}

    # The "等靠看" item closes its eight tasks one by one (二(五)2(3)).
    waiting = by_code["(五)2.(3)"]
    assert waiting["measures"] == {"total": 8, "open": 3, "done": 1, "verified": 4, "cannot_complete_requested": 0,
                                   "cannot_complete": 0, "overdue": 0}
    assert "request_closure" not in waiting["allowed_actions"]
    audit_item = by_code["(四)2."]
    assert (audit_item["status"], audit_item["measures"]["cannot_complete"]) == ("closed", 1)
    [verified, refund] = await measures_of(client, c, audit_item, OFFICE)
    assert (verified["status"], refund["status"], refund["confirming_organisation"]["name"]) == (
        "verified", "cannot_complete", "海南省财政厅")
    phases = await measures_of(client, c, by_code["(四)1."], OFFICE)
    assert [m["phase"] for m in phases] == [None, "第一阶段", "第二阶段"]
    async with database.transaction(write=False) as s:
        found = dict((await s.execute(select(Measure.status, func.count()).group_by(Measure.status))).all())
    assert {k.value if hasattr(k, "value") else k for k in found} == {
        "open", "done", "verified", "cannot_complete_requested", "cannot_complete"}  # measures in every state
