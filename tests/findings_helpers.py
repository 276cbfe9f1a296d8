"""Building inspections and findings through the API for the findings tests.

`campaign(...)` makes a province (tests/factories_province.py) plus the bodies that inspect it:
    cn_group   中央第三生态环境保护督察组 (a national root) with `cn_inspector`
    xunshi     七届省委第一巡视组 (under 省委) with `xunshi_inspector`
and an inspector user for each. Findings then move step by step with `act`, which sends the
current ETag and asserts the status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core.calendar import today_in_zone
from app.core.etag import make_etag
from app.models import OrganisationKind, OrganisationLevel, Role, TransitionHistory
from tests.factories import auth, make_organisation, make_user
from tests.factories_province import Province, build_province

TODAY = today_in_zone()  # the jurisdiction's day (Asia/Shanghai), as the service judges it
SOON = (TODAY + timedelta(days=90)).isoformat()
LATER = (TODAY + timedelta(days=180)).isoformat()
EVIDENCE = [{"kind": "document", "title": "《整改情况报告》", "reference": "琼环函〔2021〕1号"}]


@dataclass
class Campaign:
    p: Province
    inspection: dict = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def h(self, user: str) -> dict[str, str]:
        return self.headers.get(user) or self.p.headers(user)

    def org(self, key: str) -> uuid.UUID:
        return self.p.org(key).id


async def campaign(database, client, code: str = "hainan", *, kind: str = "central_inspection",
                   office: str | None = None, cadence: str = "monthly") -> Campaign:
    """A province and one inspection of its 省委/省政府 (central) or of 省生态环境厅 (party inspection)."""
    async with database.transaction() as s:
        p = await build_province(s, code)
        cn = await make_organisation(s, "中央第三生态环境保护督察组", kind=OrganisationKind.national_body,
                                     level=OrganisationLevel.national)
        xunshi = await make_organisation(s, "七届省委第一巡视组", kind=OrganisationKind.coordination_body,
                                         parent=p.org("pc"))
        p.orgs.update(cn_group=cn, xunshi=xunshi)
        users = {"cn_inspector": await make_user(s, f"{code}.cn.inspector", (cn, Role.inspector)),
                 "xunshi_inspector": await make_user(s, f"{code}.xunshi.inspector", (xunshi, Role.inspector)),
                 "env_unit_staff": await make_user(s, f"{code}.env_unit.staff", (p.org("env_unit"), Role.staff))}
        p.users.update(users)
    c = Campaign(p)
    if kind == "party_inspection":
        body = {"kind": kind, "title": "七届省委第一巡视组巡视省生态环境厅党组", "inspecting_body_id": str(c.org("xunshi")),
                "inspected_organisation_ids": [str(c.org("env"))], "onsite_start_date": "2020-04-10",
                "onsite_end_date": "2020-07-10", "feedback_date": "2020-09-11", "dispatch_cadence": cadence}
        registrar = "xunshi_inspector"
    else:
        body = {"kind": kind, "title": "第二轮中央生态环境保护督察", "inspecting_body_id": str(c.org("cn_group")),
                "inspected_organisation_ids": [str(c.org("pc")), str(c.org("gov"))], "dispatch_cadence": cadence}
        registrar = "cn_inspector"
    if office:
        body["rectification_office_id"] = str(c.org(office))
    r = await client.post("/inspections", json=body, headers=c.h(registrar))
    assert r.status_code == 201, r.text
    c.inspection = r.json()
    return c


async def register(client, c: Campaign, user: str = "cn_inspector", **fields: Any) -> dict:
    body = {"inspection_id": c.inspection["id"], "title": fields.pop("title", "城镇内河湖水质不达标"), **fields}
    r = await client.post("/findings", json=body, headers=c.h(user))
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, c: Campaign, user: str, finding: dict, action: str, body: dict | None = None,
              expect: int = 200) -> dict:
    r = await client.post(f"/findings/{finding['id']}/{action}", json=body or {},
                          headers={**c.h(user), "If-Match": make_etag(finding["id"], finding["version"])})
    assert r.status_code == expect, r.text
    return r.json()


async def measure_act(client, c: Campaign, user: str, measure: dict, action: str, body: dict | None = None,
                      expect: int = 200) -> dict:
    r = await client.post(f"/measures/{measure['id']}/{action}", json=body or {},
                          headers={**c.h(user), "If-Match": make_etag(measure["id"], measure["version"])})
    assert r.status_code == expect, r.text
    return r.json()


async def measures_of(client, c: Campaign, finding: dict, user: str = "water_leader") -> list[dict]:
    r = await client.get(f"/findings/{finding['id']}/measures", headers=c.h(user))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def plan(*titles: str, deadline: str = SOON) -> dict:
    return {"summary": "整改方案", "measures": [{"title": t, "deadline": deadline, "responsible_person": "王五"}
                                              for t in titles]}


async def to_in_progress(client, c: Campaign, *, office: str, responsible: str = "water",
                         measures: tuple[str, ...] = ("制定方案", "组织实施"), **register_fields: Any) -> dict:
    """registered → assigned → plan_submitted → in_progress, the way the office and the leader do it."""
    registrar = register_fields.pop("registrar", "cn_inspector")
    f = await register(client, c, registrar, **register_fields)
    f = await act(client, c, office, f, "assign", {"responsible_organisation_id": str(c.org(responsible)),
                                                   "deadline": SOON})
    f = await act(client, c, f"{responsible}_leader", f, "submit-plan", plan(*measures))
    return await act(client, c, office, f, "approve-plan")


async def history(database, resource_id) -> list[tuple[str, str, str]]:
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(TransitionHistory.action, TransitionHistory.from_status,
                                       TransitionHistory.to_status)
                                .where(TransitionHistory.resource_id == uuid.UUID(str(resource_id)))
                                .order_by(TransitionHistory.occurred_at, TransitionHistory.id))).all()
    return [tuple(r) for r in rows]


__all__ = ["EVIDENCE", "LATER", "SOON", "TODAY", "Campaign", "act", "auth", "campaign", "history", "measure_act",
           "measures_of", "plan", "register", "to_in_progress"]
