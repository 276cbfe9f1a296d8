"""The OpenAPI document: every error response is a Problem, every route documents
the errors any request can meet (401/403 when secured, 422, 429, 500, 503)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def omit_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for a partial-update field that may be left out but not sent as null.

    The field stays `X | None` for pydantic (plain error pointers; a validator refuses null), but the
    contract must not offer null: clients and the stateful fuzzer sent it, as allowed, and got 422."""
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    if len(branches) == 1:
        for key, value in branches[0].items():
            schema.setdefault(key, value)
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


class FieldError(BaseModel):
    pointer: str = Field(description="JSON pointer into the body (`/parent_id`) or `query/limit`, `header/if-match`.",
                         examples=["/parent_id"])
    source: str = Field(description="body, query, path or header.", examples=["body"])
    type: str = Field(description="Machine-readable error type.", examples=["uuid_parsing"])
    message: str = Field(description="Human-readable message.", examples=["Input should be a valid UUID"])


class Problem(BaseModel):
    """An RFC 9457 problem document. `code` is stable; branch on it, not on `title`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI naming the problem type.",
                      examples=["https://envduty.example/problems/not-found"])
    title: str = Field(description="Short summary of the problem type.", examples=["Not found"])
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(description="What happened in this occurrence.", examples=["No such organisation."])
    code: str = Field(description="Stable machine code.", examples=["not_found"])
    instance: str | None = Field(default=None, description="The request path.", examples=["/organisations/…"])
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")
    errors: list[FieldError] | None = Field(default=None, description="Field errors (422 only).")
    allowed_actions: list[str] | None = Field(default=None,
                                              description="What the caller may do instead (refused actions).")


DESCRIPTIONS = {
    "400": "Malformed request.", "401": "Missing, invalid or expired access token.",
    "403": "Your roles do not allow this.", "404": "No such record in your scope.",
    "405": "Method not allowed (see `Allow`).",
    "406": "`Accept` names no type this list can produce (JSON, text/csv, XLSX).", "409": "Conflicts with the record's state.",
    "412": "If-Match does not match the current version.", "413": "Body too large.",
    "415": "Body must be JSON.", "422": "Invalid input; see `errors`.",
    "428": "If-Match is required.", "429": "Too many requests (see `Retry-After`).",
    "500": "Unexpected error; quote the request id.", "503": "Database unavailable (see `Retry-After`).",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each code documented as a Problem."""
    return {code: {"model": Problem, "description": DESCRIPTIONS.get(str(code), "Error.")} for code in codes}


def _problem_content() -> dict[str, Any]:
    return {"application/problem+json": {"schema": PROBLEM_REF}}


def _normalise_operation(operation: dict[str, Any], has_body: bool) -> None:
    responses = operation.setdefault("responses", {})
    extra = ["422", "429", "500", "503"]
    if operation.get("security"):
        extra += ["401", "403"]
    if has_body:
        extra += ["413", "415"]
    for code in extra:
        responses.setdefault(code, {"description": DESCRIPTIONS[code]})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = _problem_content()
            response.setdefault("description", DESCRIPTIONS.get(code, "Error."))
            if code == "401":
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            if code in ("429", "503"):
                response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}


def _close_multipart_body(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """Multipart uploads take only their declared parts (unknown parts are 422, app/routers/attachments.py):
    say so, as the JSON bodies do with `extra="forbid"`."""
    media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data", {})
    ref = media.get("schema", {}).get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        components[ref.rsplit("/", 1)[1]]["additionalProperties"] = False


def install_openapi(app: FastAPI) -> None:
    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=getattr(app, "openapi_tags", None))
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        defs = components["Problem"].pop("$defs", {})
        components.update(defs)
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    _normalise_operation(operation, "requestBody" in operation)
                    _close_multipart_body(operation, components)
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
