"""Bad input, generated from the OpenAPI document: every operation meets it, none is hand-picked.

RELIABILITY.md API3-a (mass assignment), API4-a (body size), API4-b (unbounded parameters),
API8-a/b (malformed requests, methods), REL-07 (problem documents), REL-12 (tampered and foreign
cursors). For every operation with a JSON body: malformed JSON, wrong types, unknown fields,
strings past maxLength, arrays past maxItems, huge strings and arrays, invalid UTF-8, 10,000-level
nesting, oversized bodies. For every parameter: out-of-range, malformed and foreign values. For
every path: methods it does not serve. Each answer must be a problem document with the right status
(422, or 413 / 415 / 405 / 404), and the database must be exactly as it was before.

Requests go out as the admin of the Hainan tree, with the ids of real objects in the path and a
current If-Match, so neither authorization nor a stale ETag can hide a validation gap. Framework
errors on one route are covered whole in tests/routers/test_http_conventions.py; here the point is
breadth. A new operation joins the corpus by itself; a new path parameter needs a real object in
the `targets` fixture (until then it gets a random id, and a 404 instead of a 422 says so).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import inspect, select, text

from app.core.db import Database
from app.core.routes import iter_routes
from app.main import create_app
from app.models import DutyList, Event, Membership, Notification, WebhookDelivery, WebhookSubscription, utcnow
from tests.factories import TEST_PASSWORD
from tests.factories_lead import make_world_decision as make_lead_decision
from tests.report_factories import make_report

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://envduty.example/problems/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Built once for its schema and routes; never serves a request (an in-memory URL it never opens).
_SPEC_APP = create_app(database=Database("sqlite+aiosqlite://"))
SPEC = _SPEC_APP.openapi()
ROUTES = {(m.lower(), r.path): r for r in iter_routes(_SPEC_APP.router.routes)
          for m in (getattr(r, "methods", None) or ())}
OPERATIONS = [(m, p, op) for p, ops in SPEC["paths"].items() for m, op in ops.items() if m in HTTP_METHODS]


def _op_id(operation: tuple[str, str, dict]) -> str:
    return operation[2]["operationId"]


JSON_OPS = [o for o in OPERATIONS if "application/json" in o[2].get("requestBody", {}).get("content", {})]
FORM_OPS = [o for o in OPERATIONS
            if "application/x-www-form-urlencoded" in o[2].get("requestBody", {}).get("content", {})]
PARAM_OPS = [o for o in OPERATIONS if any(p["in"] in ("query", "path") for p in o[2].get("parameters", []))]

# API3-a: columns a client must never set through a body, whatever the resource.
MASS_ASSIGNMENT = {"status": "approved", "version": 99, "id": "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f",
                   "jurisdiction_id": "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f",
                   "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "token_version": 0,
                   "is_active": False, "created_at": "2020-01-01T00:00:00Z", "deleted_at": None,
                   "created_by": "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"}
HUGE_STRING = 256 * 1024
DEEP = 10_000


# ------------------------------------------------------------------------------ schema walking


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**SPEC["components"]["schemas"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def concrete(schema: dict) -> dict:
    """The non-null branch of `X | None`, with the outer description/examples kept."""
    schema = resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        real = [resolve(b) for b in branches if b.get("type") != "null"]
        if len(real) == 1:
            outer = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return {**real[0], **{k: v for k, v in outer.items() if k not in real[0]}}
    return schema


def example_of(schema: dict) -> Any:
    """A schema-valid value: the documented example first (the contract promises one per field)."""
    s = concrete(schema)
    for key in ("examples", "example"):
        if key in s:
            return copy.deepcopy(s[key][0] if key == "examples" else s[key])
    if "enum" in s:
        return s["enum"][0]
    kind = s.get("type")
    if kind == "string":
        return {"uuid": str(uuid.uuid4()), "date-time": "2026-11-01T00:00:00Z"}.get(
            s.get("format", ""), "x" * max(1, s.get("minLength", 1)))
    if kind == "integer":
        return s.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [example_of(s["items"]) for _ in range(max(1, s.get("minItems", 0)))]
    if kind == "object":
        return {name: example_of(p) for name, p in s.get("properties", {}).items() if name in s.get("required", [])}
    raise AssertionError(f"no example for schema {s}")


def body_schema(operation: tuple[str, str, dict]) -> tuple[dict, bool]:
    body = operation[2]["requestBody"]
    media = "application/json" if "application/json" in body["content"] else "application/x-www-form-urlencoded"
    return concrete(body["content"][media]["schema"]), bool(body.get("required"))


def base_body(operation: tuple[str, str, dict]) -> dict:
    schema, _ = body_schema(operation)
    return {n: example_of(p) for n, p in schema.get("properties", {}).items() if n in schema.get("required", [])}


def huge_array(item: Any) -> list[Any]:
    """As many items as fit in ~600 KB: far past any maxItems, still under the 1 MiB body limit."""
    return [item] * max(1000, 600_000 // len(json.dumps(item, ensure_ascii=False).encode()))


def leaf_mutations(s: dict) -> Iterator[tuple[str, Any]]:
    """(label, bad value) for one value of schema `s`."""
    kind = s.get("type")
    if "enum" in s:
        yield "wrong type", 12345
        yield "unknown enum value", "no_such_value"
    elif kind == "string":
        yield "wrong type", 12345
        yield "object instead of string", {"$gt": ""}
        if s.get("format") == "uuid":
            yield "malformed uuid", "not-a-uuid"
        elif s.get("format") == "date-time":
            yield "malformed date-time", "yesterday"
        else:
            if "maxLength" in s:
                yield "maxLength+1", "x" * (s["maxLength"] + 1)
            yield "huge string", "x" * HUGE_STRING
    elif kind in ("integer", "number"):
        yield "wrong type", "abc"
        yield "float for integer" if kind == "integer" else "string", 1.5 if kind == "integer" else "1.5"
    elif kind == "boolean":
        yield "wrong type", "maybe"
    elif kind == "array":
        yield "wrong type", "not-an-array"
        item = example_of(s["items"])
        if "maxItems" in s:
            items = concrete(s["items"])
            many = ([str(uuid.uuid4()) for _ in range(s["maxItems"] + 1)] if items.get("format") == "uuid"
                    else [copy.deepcopy(item) for _ in range(s["maxItems"] + 1)])
            yield "maxItems+1", many
        yield "huge array", huge_array(item)
    elif kind == "object":
        yield "wrong type", 42


def mutations(schema: dict) -> Iterator[tuple[str, tuple, Any]]:
    """(label, path, bad value) for every property of an object schema, items and nesting included."""
    for name, raw in concrete(schema).get("properties", {}).items():
        s = concrete(raw)
        for label, bad in leaf_mutations(s):
            yield label, (name,), bad
        if s.get("type") == "array":
            item = concrete(s["items"])
            for label, bad in leaf_mutations(item):
                if label not in ("huge string", "huge array"):
                    yield f"item: {label}", (name, 0), bad
            if item.get("type") == "object":
                for label, sub, bad in mutations(item):
                    yield f"item: {label}", (name, 0, *sub), bad
                yield "item: unknown field", (name, 0, "unexpected_field"), "x"
        elif s.get("type") == "object":
            for label, sub, bad in mutations(s):
                yield label, (name, *sub), bad


def string_leaves(schema: dict, prefix: tuple = ()) -> Iterator[tuple]:
    """Paths of the free-text strings (not enums, ids or timestamps) of an object schema."""
    for name, raw in concrete(schema).get("properties", {}).items():
        s = concrete(raw)
        if s.get("type") == "string" and "enum" not in s and "format" not in s:
            yield (*prefix, name)
        elif s.get("type") == "array" and concrete(s["items"]).get("type") == "object":
            yield from string_leaves(concrete(s["items"]), (*prefix, name, 0))
        elif s.get("type") == "array" and concrete(s["items"]).get("type") == "string" \
                and "format" not in concrete(s["items"]):
            yield (*prefix, name, 0)


def with_value(base: dict, schema: dict, path: tuple, value: Any) -> dict:
    """`base` with `value` at `path`; containers on the way are filled with schema examples."""
    body = copy.deepcopy(base)
    node, node_schema = body, concrete(schema)
    for step, nxt in itertools.pairwise(path):
        if isinstance(step, int):
            node_schema = concrete(node_schema["items"])
        else:
            node_schema = concrete(node_schema.get("properties", {}).get(step, {}))
            if step not in node or not node[step]:
                node[step] = example_of(node_schema) if node_schema else ([{}] if isinstance(nxt, int) else {})
        node = node[step]
    node[path[-1]] = value
    return body


def pointer(path: tuple) -> str:
    return "/" + "/".join(str(p) for p in path)


# --------------------------------------------------------------------------- the world's ids


@dataclass
class Targets:
    """Real objects for every path parameter, plus an admin's headers."""

    headers: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    per_path: dict[str, dict[str, str]] = field(default_factory=dict)  # paths that need another object

    def fill(self, path: str) -> str:
        values = {**self.values, **self.per_path.get(path, {})}
        return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


@pytest.fixture
async def targets(client, world, database) -> Targets:
    admin = world.headers("admin")
    created = await client.post("/integration-clients", headers=admin, json={
        "name": "语料测试平台", "scopes": ["organisations:read"], "organisation_id": str(world.org("env").id)})
    assert created.status_code == 201, created.text
    duty_list = await client.post("/duty-lists", headers=world.headers("env_staff"), json={
        "organisation_id": str(world.org("env").id), "title": "语料测试清单"})
    assert duty_list.status_code == 201, duty_list.text
    item = await client.post(f"/duty-lists/{duty_list.json()['id']}/items", headers=world.headers("env_staff"),
                             json={"title": "语料测试事项", "domain": "water"})
    assert item.status_code == 201, item.text
    async with database.transaction() as s:  # a published list for the /public paths (drafts are 404 there)
        public_list = DutyList(organisation_id=world.org("water").id, jurisdiction_id=world.org("hainan").id,
                               region_id=world.org("hainan").id, version_no=1, status="published", title="公开清单",
                               profile_code="hainan", profile_version=1)
        s.add(public_list)
        await s.flush()
        decision = await make_lead_decision(s, world)
    findings = await _finding_targets(client, world)
    findings.update(await _escalation_targets(client, world, database))
    async with database.transaction() as s:
        membership = await s.scalar(select(Membership.id).where(Membership.user_id == world.users["env_staff"].id))
        seq = await s.scalar(text("SELECT max(seq) FROM audit_event"))
        report = await make_report(s, world.org("env"), recipients=(world.org("gov"),))
        hooks = await _webhook_targets(s, world, created.json()["id"])
    return Targets(headers=admin, values={
        "organisation_id": str(world.org("env").id), "user_id": str(world.users["env_staff"].id),
        "integration_client_id": created.json()["id"], "membership_id": str(membership), "seq": str(seq),
        "code": "hainan", "duty_list_id": duty_list.json()["id"], "item_id": item.json()["id"],
        "lead_decision_id": str(decision), "report_id": str(report.id), **findings, **hooks}, per_path={
        "/organisations/{organisation_id}/designations": {"organisation_id": str(world.org("hainan").id)},
        "/public/duty-lists/{duty_list_id}": {"duty_list_id": str(public_list.id)},
        "/public/duty-lists/{duty_list_id}/items": {"duty_list_id": str(public_list.id)},
        "/public/organisations/{organisation_id}/duty-list": {"organisation_id": str(world.org("water").id)}})


async def _escalation_targets(client, world, database) -> dict[str, str]:
    """A warning env issued to water, and an accountability case env handed over (written directly)."""
    from app.models import AccountabilityCase, CaseParty, Escalation

    r = await client.post("/escalations", headers=world.headers("env_office"), json={
        "kind": "warning", "title": "语料测试预警", "issuing_organisation_id": str(world.org("env").id),
        "addressee_organisation_ids": [str(world.org("water").id)]})
    assert r.status_code == 201, r.text
    env = world.org("env")
    async with database.transaction() as s:
        handover = Escalation(jurisdiction_id=env.jurisdiction_id, kind="handover", status="issued",
                              title="语料测试移交", issuing_organisation_id=env.id, addressee_persons=[])
        s.add(handover)
        await s.flush()
        case = AccountabilityCase(jurisdiction_id=env.jurisdiction_id, escalation_id=handover.id,
                                  status="investigating", path="two_stage", title="语料测试问责",
                                  handing_over_organisation_id=env.id, responsible_organisation_id=env.id,
                                  persons_concerned=[])
        s.add(case)
        await s.flush()
        s.add(CaseParty(case_id=case.id, organisation_id=env.id, role="responsible"))
    return {"escalation_id": r.json()["id"], "case_id": str(case.id)}

async def _webhook_targets(s, world, client_id: str) -> dict[str, str]:
    """A subscription of the corpus client with one delivery, and a notification of the admin's."""
    sub = WebhookSubscription(client_id=uuid.UUID(client_id), url="https://93.184.216.34/hooks",
                              event_types=["finding.assigned"], secret="whsec_" + "A" * 44, is_active=True, version=1)
    event = Event(type="finding.assigned", subject_type="finding", subject_id="corpus",
                  organisation_id=world.org("env").id, payload={}, occurred_at=utcnow())
    s.add_all([sub, event])
    await s.flush()
    delivery = WebhookDelivery(event_id=event.id, subscription_id=sub.id, status="dead", attempts=1,
                               next_attempt_at=utcnow())
    note = Notification(user_id=world.users["admin"].id, kind="assigned", subject_type="finding", subject_id="corpus",
                        title="语料", day=date(2026, 12, 1), created_at=utcnow())
    s.add_all([delivery, note])
    await s.flush()
    return {"webhook_subscription_id": str(sub.id), "webhook_delivery_id": str(delivery.id),
            "notification_id": str(note.id)}


async def _finding_targets(client, world) -> dict[str, str]:
    """A party inspection of env (env is its own rectification office), one finding in progress with a
    measure, and a pending extension request: every findings path parameter gets a real object."""
    office, leader = world.headers("env_office"), world.headers("env_leader")

    async def post(path: str, headers: dict[str, str], body: dict, etag: str | None = None) -> dict:
        r = await client.post(path, json=body, headers={**headers, **({"If-Match": etag} if etag else {})})
        assert r.status_code in (200, 201), r.text
        return {**r.json(), "_etag": r.headers.get("etag")}

    inspection = await post("/inspections", office, {
        "kind": "party_inspection", "title": "语料测试巡视", "inspecting_body_id": str(world.org("office_body").id),
        "inspected_organisation_ids": [str(world.org("env").id)]})
    finding = await post("/findings", office, {"inspection_id": inspection["id"], "title": "语料测试问题"})
    finding = await post(f"/findings/{finding['id']}/assign", office, {
        "responsible_organisation_id": str(world.org("env").id), "deadline": "2030-06-30"}, finding["_etag"])
    finding = await post(f"/findings/{finding['id']}/submit-plan", leader, {
        "measures": [{"title": "语料测试措施", "deadline": "2030-01-01"}]}, finding["_etag"])
    finding = await post(f"/findings/{finding['id']}/approve-plan", office, {}, finding["_etag"])
    measures = await client.get(f"/findings/{finding['id']}/measures", headers=office)
    extension = await post(f"/findings/{finding['id']}/extension-requests", leader, {
        "requested_deadline": "2031-01-01", "reason": "语料测试"})
    attachment = await client.post(f"/findings/{finding['id']}/attachments", headers=leader,
                                   files={"file": ("语料.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")})
    assert attachment.status_code == 201, attachment.text
    return {"inspection_id": inspection["id"], "finding_id": finding["id"],
            "measure_id": measures.json()["items"][0]["id"], "extension_request_id": extension["id"],
            "attachment_id": attachment.json()["attachment"]["id"]}


def needs_if_match(operation: tuple[str, str, dict]) -> bool:
    return any(p["in"] == "header" and p["name"].lower() == "if-match" for p in operation[2].get("parameters", []))


async def request_headers(client, targets: Targets, operation: tuple[str, str, dict]) -> dict[str, str]:
    """The admin's headers, plus the ETag of the record from the nearest GET above the path."""
    headers = dict(targets.headers)
    if needs_if_match(operation):
        path = operation[1]
        while path and "get" not in SPEC["paths"].get(path, {}):
            path = path.rsplit("/", 1)[0]
        r = await client.get(targets.fill(path), headers=targets.headers)
        assert r.status_code == 200 and "etag" in r.headers, f"no ETag for {operation[1]} from GET {path}: {r.text}"
        headers["If-Match"] = r.headers["etag"]
    return headers


# ---------------------------------------------------------------------------- database state

_SHAPE: dict[str, list[str]] = {}


async def db_state(database) -> dict[str, Any]:
    """Every table's rows, digested (the append-only audit trail: its count and last seq)."""
    async with database.engine.connect() as conn:
        if not _SHAPE:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            for table in sorted(set(tables) - {"alembic_version"}):
                _SHAPE[table] = await conn.run_sync(lambda c, t=table: [col["name"] for col in
                                                                     inspect(c).get_columns(t)])
        state: dict[str, Any] = {}
        for table, columns in _SHAPE.items():
            if table == "audit_event":
                row = (await conn.execute(text("SELECT count(*), max(seq) FROM audit_event"))).one()
                state[table] = tuple(row)
                continue
            rows = (await conn.execute(text(f'SELECT {", ".join(columns)} FROM "{table}"'))).all()
            digest = hashlib.sha256(repr(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
            state[table] = (len(rows), digest)
        await conn.rollback()
    return state


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {t: (before.get(t), after.get(t)) for t in set(before) | set(after) if before.get(t) != after.get(t)}


# ------------------------------------------------------------------------------ the probing


@dataclass
class Case:
    label: str
    status: int
    content: bytes | None = None
    json_body: Any = None
    content_type: str | None = "application/json"
    pointers: set[str] = field(default_factory=set)  # each must be (or contain) an error pointer
    code: str | None = None
    stream: bool = False


def problem_failures(case: Case, r: httpx.Response) -> list[str]:
    """What is wrong with `r` as the answer to `case` (empty when it is right)."""
    where = f"{case.label}: {r.status_code}"
    if r.status_code != case.status:
        return [f"{where}, expected {case.status}: {r.text[:200]}"]
    if not r.headers.get("content-type", "").startswith(PROBLEM):
        return [f"{where} as {r.headers.get('content-type')}"]
    body = r.json()
    problems = []
    if body.get("status") != case.status or not body.get("title") or not str(body.get("type")).startswith(
            PROBLEM_BASE) or not body.get("code"):
        problems.append(f"{where}: incomplete problem {body}")
    if case.code and body.get("code") != case.code:
        problems.append(f"{where}: code {body.get('code')}, expected {case.code}")
    found = [e.get("pointer", "") for e in body.get("errors") or []]
    for wanted in case.pointers:
        if not any(p == wanted or p.startswith(wanted + "/") for p in found):
            problems.append(f"{where}: no error at {wanted} (errors at {found})")
    if "Traceback" in r.text or "sqlalchemy" in r.text.lower():
        problems.append(f"{where}: internals leaked")
    return problems


async def send(client, method: str, url: str, headers: dict[str, str], case: Case) -> httpx.Response:
    headers = dict(headers)
    if case.content_type:
        headers["content-type"] = case.content_type
    if case.stream:
        data = case.content or b""

        async def chunks() -> Any:
            for start in range(0, len(data), 65536):
                yield data[start:start + 65536]

        return await client.request(method, url, content=chunks(), headers=headers)
    if case.json_body is not None:
        content = json.dumps(case.json_body, ensure_ascii=False).encode()
    else:
        content = case.content
    return await client.request(method, url, content=content, headers=headers)


async def run_cases(client, database, method: str, url: str, headers: dict[str, str], cases: list[Case]
                    ) -> list[str]:
    before = await db_state(database)
    failures = []
    for case in cases:
        failures += problem_failures(case, await send(client, method, url, headers, case))
    if diff := changed(before, await db_state(database)):
        failures.append(f"the database changed: {sorted(diff)}")
    return failures


# ------------------------------------------------------------------------------------- bodies


def malformed_cases(operation: tuple[str, str, dict]) -> list[Case]:
    schema, required = body_schema(operation)
    base = base_body(operation)
    text_base = json.dumps(base, ensure_ascii=False)
    first = next(iter(concrete(schema)["properties"]))
    first_string = next(iter(string_leaves(schema)), (first,))[0]
    invalid_json = "validation_failed"
    cases = [
        Case("truncated JSON", 422, text_base[:-1].encode() or b"{", code=invalid_json),
        Case("trailing comma", 422, (text_base[:-1] + (", }" if base else ",}")).encode(), code=invalid_json),
        Case("single quotes", 422, b"{'" + first.encode() + b"': 1}", code=invalid_json),
        Case("NaN for a field", 422, json.dumps({**base, first: math.nan}).encode(), pointers={f"/{first}"}),
        Case("-Infinity for a field", 422, json.dumps({**base, first: -math.inf}).encode(),
             pointers={f"/{first}"}),
        Case("bare NaN", 422, b"NaN", pointers={"/"}),
        Case("bare string", 422, b'"just a string"', pointers={"/"}),
        Case("bare number", 422, b"42", pointers={"/"}),
        Case("bare true", 422, b"true", pointers={"/"}),
        Case("array instead of object", 422, json.dumps([base]).encode(), pointers={"/"}),
        Case("empty array", 422, b"[]", pointers={"/"}),
        Case("invalid UTF-8 in a string", 422, b'{"' + first_string.encode() + b'": "\xff\xfe"}',
             code="malformed_body"),
        Case("overlong UTF-8", 422, b'{"' + first_string.encode() + b'": "\xc0\xaf"}', code="malformed_body"),
        Case(f"{DEEP} nested arrays", 422, b"[" * DEEP + b"]" * DEEP, code="malformed_body"),
        Case(f"{DEEP} nested objects", 422, b'{"a":' * DEEP + b"1" + b"}" * DEEP, code="malformed_body"),
        Case(f"{DEEP} nested arrays in a field", 422,
             b'{"' + first.encode() + b'": ' + b"[" * DEEP + b"]" * DEEP + b"}", code="malformed_body"),
        Case("200 nested arrays in a field", 422, json.dumps({**base, first: _nested(200)}).encode(),
             pointers={f"/{first}"}),
        Case("text/plain body", 415, text_base.encode(), content_type="text/plain", code="unsupported_media_type"),
    ]
    if required:  # an optional body (POST /auth/logout) may be empty or null
        cases += [Case("null", 422, b"null", pointers={"/"}), Case("empty body", 422, b"", pointers={"/"})]
    if concrete(schema).get("required"):
        cases.append(Case("empty object", 422, b"{}",
                          pointers={f"/{r}" for r in concrete(schema)["required"]}))
    return cases


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def oversized_cases(limit: int) -> list[Case]:
    prefix, suffix = b'{"name": "', b'"}'
    body = prefix + b"x" * (limit + 1 - len(prefix) - len(suffix)) + suffix
    return [Case("Content-Length one byte past the limit", 413, body, code="payload_too_large"),
            Case("chunked, past the limit", 413, body + b" " * 65536, stream=True, code="payload_too_large")]


def schema_cases(operation: tuple[str, str, dict]) -> list[Case]:
    schema, _ = body_schema(operation)
    base = base_body(operation)
    inputs = set(concrete(schema).get("properties", {}))
    cases = [Case(f"{label} at {pointer(path)}", 422, json_body=with_value(base, schema, path, bad),
                  pointers={pointer(path)}, code="validation_failed")
             for label, path, bad in mutations(schema)]
    # API3-a: what the server owns, and whatever the response shows that the request may not set
    response_fields: set[str] = set()
    for status, response in operation[2]["responses"].items():
        content = response.get("content", {}).get("application/json")
        if status.startswith("2") and content:
            response_fields |= set(concrete(content["schema"]).get("properties", {}))
    for name in sorted((set(MASS_ASSIGNMENT) | response_fields | {"unexpected_field"}) - inputs):
        cases.append(Case(f"unknown field {name}", 422, json_body={**base, name: MASS_ASSIGNMENT.get(name, "x")},
                          pointers={f"/{name}"}, code="validation_failed"))
    return cases


@pytest.mark.parametrize("operation", JSON_OPS, ids=_op_id)
async def test_bad_json_bodies_are_refused_and_change_nothing(client, database, settings, targets, operation):
    method, path, _ = operation
    route = ROUTES[(method, path)]
    base = base_body(operation)
    # The corpus mutates one thing at a time: the base must be valid, so each 422 is the mutation's.
    TypeAdapter(route.body_field.field_info.annotation).validate_python(base)

    headers = await request_headers(client, targets, operation)
    cases = malformed_cases(operation) + schema_cases(operation) + oversized_cases(settings.max_body_bytes)
    failures = await run_cases(client, database, method.upper(), targets.fill(path), headers, cases)
    assert failures == [], f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)


# ------------------------------------------------------------------------- the token endpoint


async def test_bad_token_requests_are_refused_and_only_failed_sign_ins_are_recorded(client, database, settings,
                                                                                   world):
    """POST /auth/token takes a form, and a failed sign-in is audited by design (LOG-1): its corpus
    may add `auth.login_failed` rows and nothing else."""
    [(method, path, _)] = FORM_OPS
    schema, _ = body_schema(FORM_OPS[0])
    form = "application/x-www-form-urlencoded"

    def encoded(fields: dict[str, str]) -> bytes:
        return urllib.parse.urlencode(fields).encode()

    login = {"grant_type": "password", "username": "t.env.staff", "password": TEST_PASSWORD}
    cases = [Case(f"maxLength+1 at /{name}", 422, encoded({**login, name: "x" * (concrete(p)["maxLength"] + 1)}),
                  content_type=form, pointers={f"/{name}"}, code="validation_failed")
             for name, p in concrete(schema)["properties"].items() if "maxLength" in concrete(p)]
    cases += [
        Case("JSON instead of a form", 422, json.dumps(login).encode(), content_type="application/json"),
        Case("password grant without a password", 422, encoded({"grant_type": "password", "username": "t.admin"}),
             content_type=form),
        Case("client grant without a secret", 422, encoded({"grant_type": "client_credentials", "client_id": "x"}),
             content_type=form),
        Case("unknown grant type", 400, encoded({"grant_type": "implicit"}), content_type=form,
             code="unsupported_grant_type"),
        Case("wrong password", 401, encoded({**login, "password": "Wrong-Pass-9999!"}), content_type=form,
             code="invalid_credentials"),
        Case("unknown user", 401, encoded({**login, "username": "t.nobody"}), content_type=form,
             code="invalid_credentials"),
        *[Case(c.label, c.status, c.content, content_type=form, stream=c.stream, code=c.code)
          for c in oversized_cases(settings.max_body_bytes)],
    ]
    before = await db_state(database)
    failures = []
    sent: list[str] = []
    for case in cases:
        r = await send(client, method.upper(), path, {}, case)
        sent.append(r.headers["x-request-id"])
        failures += problem_failures(case, r)
    after = await db_state(database)
    assert failures == [], "\n".join(failures)
    assert set(changed(before, after)) <= {"audit_event", "audit_chain_head"}
    async with database.transaction(write=False) as s:
        actions = list(await s.scalars(text("SELECT action FROM audit_event WHERE seq > :seq ORDER BY seq"),
                                       {"seq": before["audit_event"][1] or 0}))
    assert actions == ["auth.login_failed", "auth.login_failed"]


# -------------------------------------------------------------------------------- parameters


def parameter_cases(operation: tuple[str, str, dict], targets: Targets, foreign_cursor: str
                    ) -> Iterator[tuple[str, dict[str, str], Case]]:
    """(url, query, case) for each bad value of each path or query parameter."""
    _, path, op = operation
    params = [p for p in op.get("parameters", []) if p["in"] in ("query", "path")]
    for p in params:
        s, name = concrete(p["schema"]), p["name"]
        bad: list[tuple[str, str]] = []
        if s.get("type") == "integer":
            bad += [("not a number", "abc"), ("a fraction", "1.5"), ("past int64", str(2**64))]
            if "minimum" in s:
                bad.append(("below minimum", str(s["minimum"] - 1)))
            if "maximum" in s:
                bad.append(("above maximum", str(s["maximum"] + 1)))
            if name == "limit":
                bad += [("limit 0", "0"), ("limit -1", "-1"), ("limit 10**9", str(10**9))]
        elif s.get("type") == "boolean":
            bad.append(("not a boolean", "maybe"))
        elif "enum" in s:
            bad.append(("unknown value", "no_such_value"))
        elif s.get("format") == "uuid":
            bad += [("malformed uuid", "not-a-uuid"), ("uuid with SQL", "' OR 1=1 --")]
        elif s.get("format") == "date-time":
            bad += [("not a date", "yesterday"), ("unix time", "1700000000"), ("no time zone", "2026-11-01T00:00:00")]
        elif s.get("type") == "string":
            if "maxLength" in s:
                bad.append(("maxLength+1", "x" * (s["maxLength"] + 1)))
            if s.get("minLength", 0) > 0 and p["in"] == "query":
                bad.append(("empty", ""))
            if "pattern" in s:
                bad.append(("pattern mismatch", "NOT-valid!"))
        if name == "cursor":
            bad += [("garbage cursor", "garbage"), ("cursor of padding", "eyJ9"), ("cursor with NUL", "%00"),
                    ("cursor from another list", foreign_cursor)]
        for label, value in bad:
            pointer_ = f"{p['in']}/{name}"
            code = "validation_failed"
            if p["in"] == "path":
                values = {**targets.values, name: value}
                url = re.sub(r"\{([^}]+)\}", lambda m, v=values: v.get(m.group(1), str(uuid.uuid4())), path)
                if "/" in value:
                    continue  # another path altogether; the 404 tests cover unknown paths
                yield url, {}, Case(f"{label} in {pointer_}", 422, pointers={pointer_}, code=code)
            else:
                yield targets.fill(path), {name: value}, Case(f"{label} in {pointer_}", 422, pointers={pointer_},
                                                              code=code)
        if p.get("required") and p["in"] == "query":
            yield targets.fill(path), {}, Case(f"missing {name}", 422, pointers={f"query/{name}"})


@pytest.mark.parametrize("operation", PARAM_OPS, ids=_op_id)
async def test_bad_parameters_are_refused_and_change_nothing(client, database, targets, operation):
    method, path, op = operation
    users = await client.get("/users", params={"limit": 1}, headers=targets.headers)
    orgs = await client.get("/organisations", params={"limit": 1}, headers=targets.headers)
    foreign = orgs.json()["next_cursor"] if path == "/users" else users.json()["next_cursor"]
    assert foreign, "the world has more than one user and organisation: a next page exists"

    headers = await request_headers(client, targets, operation)
    body = base_body(operation) if operation in JSON_OPS else None
    required_query = {p["name"]: str(example_of(p["schema"])) for p in op.get("parameters", [])
                      if p["in"] == "query" and p.get("required")}
    before = await db_state(database)
    failures, count = [], 0
    for url, query, case in parameter_cases(operation, targets, foreign):
        count += 1
        params = {**required_query, **query} if not case.label.startswith("missing") else {}
        r = await client.request(method.upper(), url, params=params, json=body, headers=headers)
        failures += problem_failures(case, r)
    if diff := changed(before, await db_state(database)):
        failures.append(f"the database changed: {sorted(diff)}")
    assert count, "an operation with parameters has bad values to try"
    assert failures == [], f"{len(failures)} of {count} cases:\n" + "\n".join(failures)


# ------------------------------------------------------------------------ methods and routes


def allowed_at(concrete_path: str) -> set[str]:
    """Every method the contract serves at a concrete path (all templates that match it)."""
    methods: set[str] = set()
    for template, ops in SPEC["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), concrete_path):
            methods |= {m.upper() for m in ops if m in HTTP_METHODS}
    return methods | ({"HEAD"} if "GET" in methods else set())


@pytest.mark.parametrize("path", list(SPEC["paths"]))
async def test_unserved_methods_are_405_with_allow_and_unknown_subpaths_404(client, database, targets, path):
    url = targets.fill(path)
    allowed = allowed_at(url)
    before = await db_state(database)
    failures = []
    for method in ("TRACE", "OPTIONS", "PUT", "PATCH", "DELETE", "POST", "GET"):
        if method in allowed:
            continue
        r = await client.request(method, url, headers=targets.headers)
        failures += problem_failures(Case(f"{method} {path}", 405, code="method_not_allowed"), r)
        if r.status_code == 405 and set(r.headers.get("allow", "").split(", ")) != allowed:
            failures.append(f"{method} {path}: Allow {r.headers.get('allow')!r}, expected {sorted(allowed)}")
    unknown = url.rstrip("/") + "/no-such-thing/at-all/here"
    if not allowed_at(unknown):
        r = await client.get(unknown, headers=targets.headers)
        failures += problem_failures(Case(f"GET {path}/no-such-thing/at-all/here", 404, code="not_found"), r)
    if diff := changed(before, await db_state(database)):
        failures.append(f"the database changed: {sorted(diff)}")
    assert failures == [], "\n".join(failures)


# ---------------------------------------------------------------------------------- U+0000


async def test_nul_characters_are_refused_everywhere(client, database, targets):
    """A NUL in any free-text field of any body, form or query: a 422, never a 500 or a stored NUL."""
    nul = "a\x00b"
    failures: list[str] = []
    before = await db_state(database)
    for operation in JSON_OPS:
        method, path, _ = operation
        schema, _ = body_schema(operation)
        headers = await request_headers(client, targets, operation)
        for leaf in string_leaves(schema):
            case = Case(f"NUL at {pointer(leaf)} of {method.upper()} {path}", 422,
                        json_body=with_value(base_body(operation), schema, leaf, nul))
            r = await send(client, method.upper(), targets.fill(path), headers, case)
            failures += problem_failures(case, r)
    for method, path, op in PARAM_OPS:
        for p in op.get("parameters", []):
            s = concrete(p["schema"])
            if p["in"] == "query" and s.get("type") == "string" and "format" not in s and "enum" not in s \
                    and p["name"] != "cursor":
                r = await client.request(method.upper(), targets.fill(path), params={p["name"]: nul},
                                         headers=targets.headers)
                failures += problem_failures(Case(f"NUL in query/{p['name']} of {path}", 422), r)
    r = await client.post("/auth/token", data={"grant_type": "password", "username": "t.env.staff" + nul,
                                               "password": TEST_PASSWORD})
    failures += problem_failures(Case("NUL in the username of POST /auth/token", 422), r)
    if diff := changed(before, await db_state(database)):
        failures.append(f"the database changed: {sorted(diff)}")
    assert failures == [], "\n".join(failures)
