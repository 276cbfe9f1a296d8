"""`GET /stats/findings` over the 001-shaped ledger (tests/routers/test_ledger_001.py builds it).

DOMAIN.md "Statistics": the figures 001 reports (closed 已完成并销号, closure requested 已完成待销号,
on schedule 按序时推进, behind 滞后, long-term 长期整改, unrectifiable, rebounded), the same for
measures, the on-time completion rate, per inspection, category node and organisation subtree,
as of a past day; every count equals the length of the list it links to. The expected numbers
are counted here from LEDGER and the changes this test makes, never by the service.

On top of the ledger as built (all on time, 001 "无滞后事项"), three things happen so that every
bucket and both rates have something to say:
- a look-back finds (一)1.(1) back (反弹, 001 一(三)): it reopens in_progress, rebounded;
- one open task of the "等靠看" item passes its deadline: the item is behind (滞后);
- (一)1.(2) had been given yesterday as its deadline and was extended to the present one
  (the history row extensions.py writes): closed on time against the extended deadline, late
  against the original.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from app.models import Finding, Measure, TransitionHistory
from tests.findings_helpers import TODAY
from tests.routers.test_ledger_001 import ASPECTS, DUE, LEDGER, STATUS_OF, TOPICS, build, measure_states

YESTERDAY = TODAY - timedelta(days=1)
REBOUND, BEHIND, EXTENDED = "(一)1.(1)", "(五)2.(3)", "(一)1.(2)"
PARTITION = ["registered", "assigned", "planning", "on_schedule", "behind", "unrectifiable_requested",
             "closure_requested", "closed", "long_term", "unrectifiable"]
MEASURE_BUCKETS = ["on_schedule", "behind", "unrectifiable_requested", "closure_requested", "closed",
                   "unrectifiable"]


def code_of(row) -> str:
    aspect, topic, item, *_ = row
    return f"{aspect}{topic}{item or ''}"


def expected_for(rows) -> dict:
    """Buckets, rates and measure figures for these LEDGER rows, after this test's three changes."""
    buckets: Counter = Counter()
    measures: Counter = Counter()
    on_time = {"original": [0, 0], "extended": [0, 0]}  # [on_time, due]
    for row in rows:
        code, fate = code_of(row), row[4]
        status = "in_progress" if code == REBOUND else STATUS_OF[fate]
        bucket = {"in_progress": "on_schedule", "sustained": "long_term"}.get(status, status)
        if code == BEHIND:
            bucket = "behind"
        buckets[bucket] += 1
        if status in ("closed", "closure_requested"):  # finished today, due DUE (or yesterday at first)
            for kind, counts in on_time.items():
                counts[1] += 1
                counts[0] += 0 if (kind == "original" and code == EXTENDED) else 1
        states = measure_states(fate)
        for n, state in enumerate(states):
            late = code == BEHIND and n == states.index("open")
            measures[{"open": "behind" if late else "on_schedule", "done": "closure_requested",
                      "verified": "closed", "cannot_complete_requested": "unrectifiable_requested",
                      "cannot_complete": "unrectifiable"}[state]] += 1
    finished = measures["closed"] + measures["closure_requested"]
    return {"total": len(rows), "buckets": {b: buckets[b] for b in PARTITION},
            "rebounded": sum(1 for r in rows if code_of(r) == REBOUND),
            "on_time": {k: {"on_time": v[0], "due": v[1], "rate": round(v[0] / v[1], 4) if v[1] else None}
                        for k, v in on_time.items()},
            "measures": {"total": sum(measures.values()), "buckets": {b: measures[b] for b in MEASURE_BUCKETS},
                         "on_time": {k: {"on_time": finished, "due": finished + measures["behind"],
                                         "rate": round(finished / (finished + measures["behind"]), 4)}
                                     for k in ("original", "extended")}}}


def shape(figures: dict) -> dict:
    """The response's figures in the shape of `expected_for`."""
    return {"total": figures["total"], "buckets": {b["bucket"]: b["count"] for b in figures["buckets"]},
            "rebounded": figures["rebounded"]["count"], "on_time": figures["on_time"],
            "measures": {"total": figures["measures"]["total"],
                         "buckets": {b["bucket"]: b["count"] for b in figures["measures"]["buckets"]},
                         "on_time": figures["measures"]["on_time"]}}


async def change_the_ledger(client, database, c, by_code) -> None:
    r = await client.post(f"/findings/{by_code[REBOUND]['id']}/lookbacks", headers=c.h("xunshi_inspector"),
                          json={"outcome": "rebounded", "note": "回头看发现问题反弹"})
    assert r.status_code == 201, r.text
    async with database.transaction() as s:
        late = await s.scalar(select(Measure.id).where(
            Measure.finding_id == uuid.UUID(by_code[BEHIND]["id"]), Measure.status == "open")
            .order_by(Measure.position).limit(1))
        await s.execute(update(Measure).where(Measure.id == late).values(deadline=YESTERDAY,
                                                                           original_deadline=YESTERDAY))
        extended = uuid.UUID(by_code[EXTENDED]["id"])
        await s.execute(update(Finding).where(Finding.id == extended).values(original_deadline=YESTERDAY))
        first = await s.scalar(select(TransitionHistory.occurred_at).where(TransitionHistory.resource_id == extended, TransitionHistory.action == "assign"))
        s.add(TransitionHistory(resource_type="finding", resource_id=extended, action="extend_deadline",
                                from_status="assigned", to_status="assigned", occurred_at=first + timedelta(
                                    microseconds=1), payload={"previous_deadline": YESTERDAY.isoformat(),
                                                              "deadline": DUE}))


async def listed(client, headers, link: str, limit: int = 1) -> tuple[int, list]:
    r = await client.get(f"{link}&limit={limit}&include_total=true", headers=headers)  # (params= drops the link's)
    assert r.status_code == 200, (link, r.text)
    return r.json()["total"], r.json()["items"]


async def test_statistics_of_a_ledger_like_001(client, database):
    c, nodes, made = await build(client, database)
    by_code = {f["code"]: f for f in made}
    await change_the_ledger(client, database, c, by_code)
    office = c.h("env_office")
    r = await client.get("/stats/findings", headers=office, params={"inspection_id": c.inspection["id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    want = expected_for(LEDGER)
    assert shape(body["figures"]) == want
    assert want["buckets"] == {**dict.fromkeys(PARTITION, 0), "closed": 29, "closure_requested": 1, "long_term": 3,
                               "on_schedule": 2, "behind": 1}
    assert want["on_time"]["original"]["rate"] == round(29 / 30, 4) and want["on_time"]["extended"]["rate"] == 1.0
    assert all(want["measures"]["buckets"].values())  # measures in every state, one cannot be completed
    [campaign] = body["per_inspection"]
    assert shape(campaign["figures"]) == want
    # Per category node: the five 方面 (16, 6, 3, 2, 9) and each topic, rolled up.
    by_node = {n["id"]: n for n in body["per_category"]}
    assert len(by_node) == len(ASPECTS) + len(TOPICS)
    for aspect, _ in ASPECTS:
        assert shape(by_node[nodes[aspect]]["figures"]) == expected_for([r for r in LEDGER if r[0] == aspect])
    for aspect, topic in TOPICS:
        rows = [r for r in LEDGER if (r[0], r[1]) == (aspect, topic)]
        assert shape(by_node[nodes[(aspect, topic)]]["figures"]) == expected_for(rows)
    assert [n["depth"] for n in body["per_category"]][:2] == [0, 1]  # tree order: (一), then its 1.
    [env] = body["per_organisation"]
    assert (env["id"], env["subtree"], env["figures"]["total"]) == (str(c.org("env")), False, 36)

    # Every count equals the length of the list it links to.
    groups = [body["figures"], *(g["figures"] for k in ("per_inspection", "per_category", "per_organisation")
                                 for g in body[k])]
    for n, figures in enumerate(groups):
        total, items = await listed(client, office, figures["link"], limit=200)
        assert total == len(items) == figures["total"]
        for bucket in [*figures["buckets"], figures["rebounded"]]:
            if n and not bucket["count"]:
                continue  # an empty bucket's clause is checked on the whole ledger (n == 0)
            assert (await listed(client, office, bucket["link"]))[0] == bucket["count"], bucket
    total, items = await listed(client, office, next(b["link"] for b in body["figures"]["buckets"]
                                                     if b["bucket"] == "behind"), limit=200)
    assert [i["code"] for i in items] == [BEHIND]

    # A province-wide caller, by the government above the department: the department's subtree carries it.
    r = await client.get("/stats/findings", headers=c.h("root_viewer"), params={"organisation_id": str(c.org("gov"))})
    gov, *children = r.json()["per_organisation"]
    assert (gov["id"], gov["subtree"], gov["figures"]["total"]) == (str(c.org("gov")), False, 0)
    assert [(o["id"], o["subtree"]) for o in children] == [(str(c.org("env")), True)]
    assert shape(children[0]["figures"]) == want == shape(r.json()["figures"])
    for figures in (gov["figures"], children[0]["figures"]):
        assert (await listed(client, c.h("root_viewer"), figures["link"]))[0] == figures["total"]

    # As of today, recomputed from history, the figures are the same; as of yesterday nothing existed.
    r = await client.get("/stats/findings", headers=office, params={"inspection_id": c.inspection["id"],
                                                                    "as_of": TODAY.isoformat()})
    assert shape(r.json()["figures"]) == want and r.json()["as_of"] == TODAY.isoformat()
    for bucket in r.json()["figures"]["buckets"]:
        assert "as_of=" in bucket["link"]
        assert (await listed(client, office, bucket["link"]))[0] == bucket["count"], bucket
    r = await client.get("/stats/findings", headers=office, params={"as_of": YESTERDAY.isoformat()})
    assert r.json()["figures"]["total"] == 0 and r.json()["per_category"] == []


async def test_statistics_scope(client, database):
    c, nodes, _ = await build_small(client, database)
    office = c.h("env_office")
    for params in ({"organisation_id": str(c.org("gov"))}, {"organisation_id": str(c.org("water"))},
                   {"category_id": str(uuid.uuid4())}, {"inspection_id": str(uuid.uuid4())}):
        r = await client.get("/stats/findings", headers=office, params=params)
        assert r.status_code == 404, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # Another department's leader sees nothing of env's campaign: the inspection is not theirs.
    r = await client.get("/stats/findings", headers=c.h("water_leader"), params={"inspection_id": c.inspection["id"]})
    assert r.status_code == 404
    r = await client.get("/stats/findings", headers=c.h("water_leader"))
    assert r.status_code == 200 and r.json()["figures"]["total"] == 0
    r = await client.get("/stats/findings", params={"inspection_id": c.inspection["id"]})
    assert r.status_code == 401
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    for path in ("/stats/findings", "/findings"):
        r = await client.get(path, headers=office, params={"as_of": tomorrow})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "query/as_of"
    r = await client.get("/stats/findings", headers=office, params={"category_id": nodes["(一)"]})
    assert r.status_code == 200 and r.json()["figures"]["total"] == 1


async def build_small(client, database):
    """Two findings of the 001 campaign: enough for the scope checks."""
    from tests.findings_helpers import act, campaign

    c = await campaign(database, client, kind="party_inspection")
    url = f"/inspections/{c.inspection['id']}/categories"
    nodes = {"(一)": (await client.post(url, headers=c.h("env_office"), json={"code": "(一)", "title": "方面"}))
             .json()["id"]}
    made = []
    for n in range(2):
        f = (await client.post("/findings", headers=c.h("env_office"), json={
            "inspection_id": c.inspection["id"], "title": f"问题{n}", "category_id": nodes["(一)"] if n else None})
             ).json()
        made.append(await act(client, c, "env_office", f, "assign", {
            "responsible_organisation_id": str(c.org("env")), "deadline": DUE}))
    return c, nodes, made


# ------------------------------------------------------------------ as of a past day, from an imported ledger

MILESTONES = [("assigned_on", "assigned"), ("plan_submitted_on", "plan_submitted"), ("plan_approved_on", "in_progress"),
              ("sustained_on", "sustained"), ("closure_requested_on", "closure_requested"), ("closed_on", "closed")]
OPEN = ("registered", "assigned", "plan_submitted", "in_progress", "unrectifiable_requested")


def state_on(f: dict, day: str) -> tuple[str, str | None]:
    """(status, deadline in force) of an imported finding at the end of `day` (ISO dates compare as text)."""
    status = "registered"
    for name, to in MILESTONES:
        if f.get(name) and f[name] <= day:
            status = to
    extended = f.get("deadline_extended_on")
    deadline = f["deadline"] if not extended or extended <= day else f.get("original_deadline", f["deadline"])
    return status, deadline


def measure_on(m: dict, day: str) -> str:
    status = "open"
    for name, to in (("completed_on", "done"), ("verified_on", "verified"), ("declared_on", "cannot_complete_requested"),
                     ("confirmed_on", "cannot_complete")):
        if m.get(name) and m[name] <= day:
            status = to
    return status


def expected_on(findings: list[dict], day: str) -> dict:
    buckets: Counter = Counter()
    measures: Counter = Counter()
    rates = {"original": [0, 0], "extended": [0, 0]}
    m_rates = {"original": [0, 0], "extended": [0, 0]}
    for f in findings:
        if f["registered_on"] > day:
            continue
        status, deadline = state_on(f, day)
        late_measures = 0
        for m in f.get("measures", []) if f.get("plan_approved_on", "9") <= day else []:
            ms = measure_on(m, day)
            late = ms in ("open", "cannot_complete_requested") and m["deadline"] < day
            late_measures += late
            measures["behind" if late else {"open": "on_schedule", "done": "closure_requested", "verified": "closed",
                                            "cannot_complete_requested": "unrectifiable_requested",
                                            "cannot_complete": "unrectifiable"}[ms]] += 1
            finished = ms in ("done", "verified")
            for counts in m_rates.values():
                counts[0] += finished and m["completed_on"] <= m["deadline"]
                counts[1] += finished or late
        behind = status in OPEN and (deadline < day or late_measures)
        buckets["behind" if behind else {"plan_submitted": "planning", "in_progress": "on_schedule",
                                         "sustained": "long_term"}.get(status, status)] += 1
        finished = status in ("closure_requested", "closed")
        for kind, limit in (("original", f.get("original_deadline", f["deadline"])), ("extended", deadline)):
            rates[kind][0] += finished and f["closure_requested_on"] <= limit
            rates[kind][1] += finished or (status in OPEN and limit < day)

    def rate(v):
        return {"on_time": v[0], "due": v[1], "rate": round(v[0] / v[1], 4) if v[1] else None}

    return {"total": sum(buckets.values()), "buckets": {b: buckets[b] for b in PARTITION}, "rebounded": 0,
            "on_time": {k: rate(v) for k, v in rates.items()},
            "measures": {"total": sum(measures.values()), "buckets": {b: measures[b] for b in MEASURE_BUCKETS},
                         "on_time": {k: rate(v) for k, v in m_rates.items()}}}


async def test_statistics_as_of_past_days_of_an_imported_001_ledger(client, database):
    from app.models import Role
    from tests.factories import auth, make_organisation, make_user
    from tests.findings_helpers import campaign
    from tests.routers.test_ledger_001 import category_tree, imported_finding

    c = await campaign(database, client, kind="party_inspection")
    async with database.transaction() as s:
        finance = await make_organisation(s, "海南省财政厅", parent=c.p.org("gov"))
        admin = auth(await make_user(s, "hainan.root.admin", (c.p.org("root"), Role.admin)))
    nodes = await category_tree(client, c)
    findings = [imported_finding(n, row, nodes, str(c.org("env")), str(finance.id)) for n, row in enumerate(LEDGER)]
    r = await client.post("/imports/finding-ledgers", headers=admin, json={
        "inspection_id": c.inspection["id"], "source": "001", "findings": findings})
    assert r.status_code == 201, r.text
    office = c.h("env_office")
    for day in ("2020-09-10", "2020-12-31", "2021-06-30", "2021-10-10", "2021-12-31", "2022-12-31", TODAY.isoformat()):
        r = await client.get("/stats/findings", headers=office, params={"inspection_id": c.inspection["id"],
                                                                        "as_of": day})
        assert r.status_code == 200, r.text
        assert shape(r.json()["figures"]) == expected_on(findings, day), day
        for bucket in r.json()["figures"]["buckets"]:
            assert (await listed(client, office, bucket["link"]))[0] == bucket["count"], (day, bucket)
    # 001 as of 2022-12: all 36 done on time against the deadlines in force, none behind; the "等靠看"
    # item's eight tasks: 4 closed, 1 done awaiting 销号, 3 going on (二(五)2(3)).
    end_2022 = (await client.get("/stats/findings", headers=office, params={"as_of": "2022-12-31",
                                                                                       "inspection_id": c.inspection["id"]})).json()
    figures = {b["bucket"]: b["count"] for b in end_2022["figures"]["buckets"]}
    assert figures["behind"] == 0 and figures["closed"] == 30 and figures["long_term"] == 3
    assert end_2022["figures"]["on_time"]["extended"]["rate"] == 1.0
    assert end_2022["figures"]["on_time"]["original"]["on_time"] == end_2022["figures"]["on_time"]["original"]["due"] - 1
    waiting = next(n for n in end_2022["per_category"] if n["id"] == nodes[("(五)", "2.")])["figures"]["measures"]
    assert {b["bucket"]: b["count"] for b in waiting["buckets"]}["on_schedule"] == 3
    # Now (no as_of) equals as of today.
    now = (await client.get("/stats/findings", headers=office)).json()
    assert shape(now["figures"]) == expected_on(findings, TODAY.isoformat())
