"""Loads the demo datasets (app/demo/hainan.json, then henan.json) into an empty database.

Each file lists organisations parents-first, so closure rows are computed in
memory. `lead_unit` points at a child of its own organisation and is resolved
in a second pass; a later file may point at an earlier file's keys (Henan's
departments at the national ministries of hainan.json). Demo passwords are
hashed once and shared: the demo accounts all use the same documented password.
The workflow records shown on top of the organisations are made by
`app.services.demo_scenario`, through the services themselves."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import security
from app.models import (
    CoordinationMember,
    Designation,
    DesignationKey,
    Membership,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
    Role,
    User,
    new_id,
)
from app.services import audit


def read_dataset(name: str = "hainan.json") -> dict[str, Any]:
    return json.loads((files("app.demo") / name).read_text(encoding="utf-8"))


async def database_is_empty(session: AsyncSession) -> bool:
    return (await session.scalar(select(func.count()).select_from(Organisation))) == 0


DATASETS = ("hainan.json", "henan.json")


async def load_dataset(session: AsyncSession, data: dict[str, Any],
                       known: dict[str, uuid.UUID] | None = None) -> dict[str, int]:
    """Load one dataset; `known` holds the keys of datasets loaded before it and gains this one's."""
    ids: dict[str, uuid.UUID] = known if known is not None else {}
    ancestors: dict[str, list[tuple[uuid.UUID, int]]] = {}
    orgs: dict[str, Organisation] = {}
    for spec in data["organisations"]:
        key = spec["key"]
        org_id = new_id()
        parent_key = spec.get("parent")
        parent = orgs[parent_key] if parent_key else None
        org = Organisation(
            id=org_id, name=spec["name"], name_en=spec.get("name_en"), short_code=key,
            kind=OrganisationKind(spec["kind"]), level=OrganisationLevel(spec["level"]),
            parent_id=parent.id if parent else None, jurisdiction_id=parent.jurisdiction_id if parent else org_id,
            depth=parent.depth + 1 if parent else 0,
            # The dataset's profile applies to its province root (the root region at province level).
            profile_code=spec.get("profile_code") or (
                data.get("profile_code") if parent is None and spec["level"] == "province" else None),
            superior_department_id=ids[spec["superior_department"]] if spec.get("superior_department") else None,
            major_duty=bool(spec.get("major_duty")), lead_person=spec.get("lead_person"),
            complaint_channels=spec.get("complaint_channels") or [])
        session.add(org)
        ids[key], orgs[key] = org_id, org
        chain = [(org_id, 0)] + [(a, d + 1) for a, d in (ancestors[parent_key] if parent_key else [])]
        ancestors[key] = chain
    await session.flush()
    for key, chain in ancestors.items():
        for ancestor_id, depth in chain:
            session.add(OrganisationClosure(ancestor_id=ancestor_id, descendant_id=ids[key], depth=depth))
    for spec in data["organisations"]:
        if spec.get("lead_unit"):
            orgs[spec["key"]].lead_unit_id = ids[spec["lead_unit"]]
        for member in spec.get("member_units") or []:
            session.add(CoordinationMember(body_id=ids[spec["key"]], member_id=ids[member]))
    for spec in data.get("designations") or []:
        for org_key in spec["organisations"]:
            session.add(Designation(region_id=ids[spec["region"]], key=DesignationKey(spec["key"]),
                                    organisation_id=ids[org_key]))
    password_hashes: dict[str, str] = {}
    for spec in data["users"]:
        password = spec["password"]
        if password not in password_hashes:
            password_hashes[password] = await security.hash_password_async(password)
        user = User(username=spec["username"], display_name=spec["display_name"],
                    password_hash=password_hashes[password])
        session.add(user)
        await session.flush()
        for membership in spec["memberships"]:
            session.add(Membership(user_id=user.id, organisation_id=ids[membership["organisation"]],
                                   role=Role(membership["role"])))
    await session.flush()
    counts = {"organisations": len(orgs), "users": len(data["users"])}
    audit.record(session, action="demo.load", resource_type="dataset", resource_id=data.get("profile_code"),
                 after=counts)
    return counts
