"""The OpenAPI contract: committed snapshot, operationIds, policies and limits on every route."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from app.core.errors import ValidationFailed
from app.core.routes import iter_routes
from app.core.security import password_problems
from app.dependencies import policy_of
from app.main import create_app
from app.schemas.organisations import _NOT_NULLABLE, OrganisationUpdate
from app.schemas.users import UserCreate, UserUpdate
from app.services.idempotency import _check_key

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "post", "put", "patch", "delete"}


def _schema() -> dict:
    return create_app().openapi()


def _api_routes() -> list:
    routes = [r for r in iter_routes(create_app().router.routes) if getattr(r, "dependant", None) is not None]
    assert len(routes) > 20, "the route inventory found too few routes: it is not seeing included routers"
    return routes


def _policies(route) -> list[str]:
    found = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        policy = policy_of(dep.call) if dep.call else None
        if policy:
            found.append(policy)
        stack.extend(dep.dependencies)
    return found


class TestCommittedContract:
    def test_committed_openapi_matches_the_app(self):
        committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
        assert committed == json.loads(json.dumps(_schema())), "run `make openapi` and commit openapi/openapi.json"


class TestOperations:
    def test_operation_ids_are_the_route_function_names_and_unique(self):
        seen: dict[str, str] = {}
        for route in _api_routes():
            if not route.include_in_schema:
                continue
            assert route.unique_id == route.name, f"{route.path}: operationId {route.unique_id}"
            assert route.name not in seen, f"{route.name} used by {seen.get(route.name)} and {route.path}"
            seen[route.name] = route.path

    def test_every_route_declares_exactly_one_access_policy(self):
        """Deny by default: a route without require()/authenticated()/public() fails here."""
        missing = [f"{sorted(r.methods)} {r.path}" for r in _api_routes()
                   if r.include_in_schema and len(set(_policies(r))) != 1]
        assert missing == []

    def test_every_operation_has_a_tag_and_problem_error_responses(self):
        for path, item in _schema()["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                assert op.get("tags"), f"{method} {path} has no tag"
                for code, response in op["responses"].items():
                    if int(code) >= 400:
                        assert "application/problem+json" in response.get("content", {}), f"{method} {path} {code}"
                assert "422" in op["responses"] and "500" in op["responses"]

    def test_secured_operations_document_401_and_403(self):
        for path, item in _schema()["paths"].items():
            for method, op in item.items():
                if method in METHODS and op.get("security"):
                    assert {"401", "403"} <= set(op["responses"]), f"{method} {path}"


def _unbounded(schema: dict, where: str, out: list[str], components: dict) -> None:
    if "$ref" in schema:
        return
    kind = schema.get("type")
    if kind == "string" and not ({"maxLength", "enum", "const", "format"} & set(schema)):
        out.append(where)
    if kind == "string" and schema.get("format") not in (None, "uuid", "date", "date-time", "email", "uri",
                                                         "binary", "password") and "maxLength" not in schema:
        out.append(where)
    if kind == "array" and "maxItems" not in schema:
        out.append(where)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _unbounded(schema[key], f"{where}.{key}", out, components)
    for name, sub in (schema.get("properties") or {}).items():
        _unbounded(sub, f"{where}.{name}", out, components)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key) or []):
            _unbounded(sub, f"{where}.{key}[{i}]", out, components)


class TestInputLimits:
    """API4-b: every string an input can carry has a maxLength, every array a maxItems."""

    def test_request_bodies_and_parameters_are_bounded(self):
        schema = _schema()
        components = schema["components"]["schemas"]
        input_models: set[str] = set()
        problems: list[str] = []
        for path, item in schema["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                for param in op.get("parameters", []):
                    _unbounded(param["schema"], f"{method} {path} {param['name']}", problems, components)
                for content in (op.get("requestBody") or {}).get("content", {}).values():
                    ref = content["schema"].get("$ref", "")
                    if ref:
                        input_models.add(ref.rsplit("/", 1)[-1])
                    else:
                        _unbounded(content["schema"], f"{method} {path} body", problems, components)
        pending = list(input_models)
        while pending:
            name = pending.pop()
            model = components[name]
            text = json.dumps(model)
            for other in components:
                if f'"#/components/schemas/{other}"' in text and other not in input_models:
                    input_models.add(other)
                    pending.append(other)
            _unbounded(model, name, problems, components)
        assert problems == []


@functools.cache
def _committed() -> dict:
    return json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))


def _matches(schema: dict, value: str) -> bool:
    return (schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9)
            and re.search(schema.get("pattern", ""), value) is not None)


def _accepted(model: type[BaseModel], **fields: object) -> bool:
    try:
        model.model_validate(fields)
    except ValidationError:
        return False
    return True


class TestContractStatesWhatTheServerEnforces:
    """Gaps the stateful walk found: schema-valid input the server refused (422) and schema-invalid
    input it took. Each sample is judged by the committed contract and by the server's own rules."""

    @pytest.mark.parametrize("username", ["hn.env.staff", "Hn.Env.Staff", "a_b@c-d", "abc", "x" * 64,
                                          "ab", "x" * 65, "-abc", "wang fang", "王芳ab", "ab\x13"])
    def test_username_contract_and_validation_agree(self, username):
        contract = _committed()["components"]["schemas"]["UserCreate"]["properties"]["username"]
        assert _matches(contract, username) == _accepted(UserCreate, username=username, display_name="x",
                                                         password="long enough password")

    @pytest.mark.parametrize("password", ["x" * 7, "x" * 8, "x" * 128, "x" * 129])
    def test_password_lengths_in_the_contract_are_the_policy(self, password):
        contract = _committed()["components"]["schemas"]["UserPasswordReset"]["properties"]["password"]
        assert _matches(contract, password) == (not password_problems(password))

    @pytest.mark.parametrize("key", ["k", "order-2026-11-21 #3", "x" * 255, "x" * 256, " k", "k ", "é", ""])
    def test_idempotency_key_contract_and_check_agree(self, key):
        [param] = [p for p in _committed()["paths"]["/organisations"]["post"]["parameters"]
                   if p["name"] == "Idempotency-Key"]
        schema = {**param["schema"], **param["schema"]["anyOf"][0]}
        try:
            _check_key(key)
            accepted = True
        except ValidationFailed:
            accepted = False
        # HTTP trims the spaces around a header value before the service sees it.
        assert _matches(schema, key) == (accepted and key == key.strip())

    @pytest.mark.parametrize(("model", "field"), [("OrganisationUpdate", f) for f in _NOT_NULLABLE]
                             + [("UserUpdate", "display_name")])
    def test_partial_update_fields_that_refuse_null_do_not_offer_it(self, model, field):
        contract = json.dumps(_committed()["components"]["schemas"][model]["properties"][field])
        assert '"null"' not in contract
        assert not _accepted({"OrganisationUpdate": OrganisationUpdate, "UserUpdate": UserUpdate}[model],
                             **{field: None})
