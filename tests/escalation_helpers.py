"""A province (tests/factories_province.py) plus the bodies cases go to, for the escalation and case tests.

    discipline     省纪委监委 (discipline_body, under 省委) with `discipline_discipline`
    org_dept       省委组织部 (discipline_body: 组织人事, under 省委) with `org_dept_discipline`
    police         省公安厅 (judicial_body, under 省政府) with `police_office`
    city_discipline 市纪委监委 (under the city's 市委) with `city_discipline_discipline`
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.core.etag import make_etag
from app.models import DutyList, DutyListStatus, OrganisationKind, OrganisationLevel, Role, TransitionHistory
from tests.factories import make_organisation, make_user
from tests.factories_province import Province, build_province

K = OrganisationKind


async def province(database, code: str = "hainan") -> Province:
    async with database.transaction() as s:
        p = await build_province(s, code)
        o = p.orgs
        o["discipline"] = await make_organisation(s, "省纪委监委", kind=K.discipline_body, parent=o["pc"])
        o["org_dept"] = await make_organisation(s, "省委组织部", kind=K.discipline_body, parent=o["pc"])
        o["police"] = await make_organisation(s, "省公安厅", kind=K.judicial_body, parent=o["gov"])
        o["city_discipline"] = await make_organisation(s, "市纪委监委", kind=K.discipline_body,
                                                       level=OrganisationLevel.city, parent=o["city_pc"])
        for key, role in (("discipline", Role.discipline), ("org_dept", Role.discipline), ("police", Role.office),
                          ("city_discipline", Role.discipline), ("water", Role.office), ("pc", Role.leadership)):
            p.users[f"{key}_{role.value}"] = await make_user(s, f"{code}.{key}.{role.value}.x", (o[key], role))
    return p


async def make_duty_list(session, p: Province, owner: str, *, region: str = "root",
                         status: DutyListStatus = DutyListStatus.draft) -> DutyList:
    """A version of `owner`'s duty list (default a draft: not published), written straight to the database."""
    org = p.org(owner)
    duty_list = DutyList(organisation_id=org.id, jurisdiction_id=p.org("root").id, region_id=p.org(region).id,
                         version_no=1, title=f"{org.name}生态环境保护具体事项清单", status=status, profile_code=p.code,
                         profile_version=1)
    session.add(duty_list)
    await session.flush()
    return duty_list


def ids(p: Province, *keys: str) -> list[str]:
    return [str(p.org(k).id) for k in keys]


def escalation_body(p: Province, kind: str, **extra: Any) -> dict:
    body: dict[str, Any] = {"kind": kind, "title": f"{kind} 函", "issuing_organisation_id": str(p.org("env").id),
                            "addressee_organisation_ids": ids(p, "water")}
    if kind == "urge":
        body["reply_deadline"] = "2099-12-31"
    if kind == "summons":
        body["summons_form"] = "individual"
        body["addressee_persons"] = [{"name": "张三", "title": "水利厅副厅长"}]
    if kind == "handover":
        body["handover"] = {"responsible_organisation_id": str(p.org("water").id),
                            "persons_concerned": [{"name": "李四", "title": "处长"}]}
    body.update(extra)
    return body


async def create(client, p: Province, user: str, body: dict, expect: int = 201) -> dict:
    r = await client.post("/escalations", json=body, headers=p.headers(user))
    assert r.status_code == expect, r.text
    return r.json()


async def step(client, p: Province, user: str, path: str, obj: dict, action: str, body: dict | None = None,
               expect: int = 200) -> dict:
    r = await client.post(f"/{path}/{obj['id']}/{action}", json=body or {},
                          headers={**p.headers(user), "If-Match": make_etag(obj["id"], obj["version"])})
    assert r.status_code == expect, r.text
    return r.json()


async def get(client, p: Province, user: str, path: str, obj_id: str, expect: int = 200) -> dict:
    r = await client.get(f"/{path}/{obj_id}", headers=p.headers(user))
    assert r.status_code == expect, r.text
    return r.json()


INVESTIGATION = {"cause": "监管不到位", "course": "2023年起", "consequences": "水质下降", "impact": "群众反映强烈",
                 "rectification": "已整改", "responsibility_determination": "分管副厅长负领导责任"}


async def history(database, resource_id) -> list[tuple[str, str, str]]:
    async with database.transaction(write=False) as s:
        rows = (await s.execute(select(TransitionHistory.action, TransitionHistory.from_status,
                                       TransitionHistory.to_status)
                                .where(TransitionHistory.resource_id == uuid.UUID(str(resource_id)))
                                .order_by(TransitionHistory.occurred_at, TransitionHistory.id))).all()
    return [tuple(r) for r in rows]
