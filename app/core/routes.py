"""The app's route inventory.

FastAPI 0.165 keeps included routers as `_IncludedRouter` entries instead of
copying their routes into `app.routes`, so a plain `isinstance(r, APIRoute)`
walk finds nothing below `include_router`. This yields every effective route
(with its final path, methods, name and dependant) however it was included."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def iter_routes(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            yield from contexts()
        else:
            yield route


def allowed_methods(routes: Iterable[Any], path: str) -> set[str]:
    methods: set[str] = set()
    for route in iter_routes(routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return methods
