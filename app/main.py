"""Application factory: routers, middleware, error handlers, operationIds and offline docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.errors import install_error_handlers
from app.core.http import BodySizeLimit, RequestContext
from app.core.logging import configure_logging
from app.core.openapi import install_openapi
from app.core.storage import LocalBlobStore
from app.dependencies import screen_request
from app.routers import (
    accountability_cases,
    attachments,
    audit_events,
    auth,
    designations,
    duty_list_obligations,
    duty_lists,
    escalations,
    findings,
    health,
    imports,
    inspections,
    integration_clients,
    lead_decisions,
    me,
    measures,
    meta,
    notifications,
    organisations,
    profiles,
    public_duty_lists,
    public_lead_decisions,
    public_reports,
    reports,
    responsibility_items,
    stats,
    users,
    webhooks,
)
from app.services.idempotency import ReplayResponse
from app.services.imports import sheets

API_TITLE = "Environmental-protection accountability service"
API_DESCRIPTION = """
The system of record for 生态环境保护责任: which department owns which environmental duty,
who leads where duties overlap, who reported what and when, and how every inspection
finding is rectified and closed (销号).

**Try it:** press *Authorize*, sign in with a demo account from the README (for example
`hn.admin` / `Demo-Pass-2024!`), then call `GET /me`.

Conventions: errors are RFC 9457 problem documents; lists use `limit` + opaque `cursor`;
updates and actions need `If-Match` with the record's ETag; POSTs accept `Idempotency-Key`.
"""

ROUTER_MODULES = (health, meta, auth, me, organisations, designations, users, integration_clients, audit_events,
                  profiles, duty_lists, duty_list_obligations, responsibility_items, lead_decisions, reports,
                  inspections, findings, measures, attachments, stats, imports, public_duty_lists,
                  public_lead_decisions, public_reports, escalations, accountability_cases, webhooks,
                  notifications)


def operation_id_from_function(route: APIRoute) -> str:
    """operationId = the route function's name, so generated clients read `assign_finding(...)`."""
    return route.name


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # WORKER_IN_PROCESS (set by `make run`): the worker runs beside the API as a task, stopped and
        # awaited before the database is disposed. Separate processes use `python -m app.cli worker`.
        stop, task = asyncio.Event(), None
        if settings.worker_in_process:
            from app.worker import Worker

            task = asyncio.create_task(Worker(app.state.database, settings).run(stop), name="envduty-worker")
        try:
            yield
        finally:
            if task is not None:
                stop.set()
                await task
            if owns_database:
                await app.state.database.dispose()

    owns_database = database is None
    app = FastAPI(title=API_TITLE, version="0.1.0", description=API_DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, generate_unique_id_function=operation_id_from_function,
                  swagger_ui_oauth2_redirect_url=None,
                  dependencies=[Depends(screen_request)])
    app.state.settings = settings
    app.state.database = database or Database(
        settings.database_url, pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    app.state.blob_store = LocalBlobStore(settings.attachments_dir)

    install_error_handlers(app)

    @app.exception_handler(ReplayResponse)
    async def _replay(_: Request, exc: ReplayResponse) -> Response:
        return exc.response

    for module in ROUTER_MODULES:
        app.include_router(module.router)
    _install_docs(app)
    install_openapi(app)

    # Outermost first: request context wraps everything so even a 413 carries a request id.
    # Uploads get their own limit (the file plus room for the multipart framing and the small fields).
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, large=[
        (attachments.UPLOAD_PATHS, settings.max_attachment_bytes + attachments.MULTIPART_OVERHEAD),
        (imports.IMPORT_PATHS, sheets.MAX_FILE_BYTES + attachments.MULTIPART_OVERHEAD)])
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key",
                                          "X-Request-Id"],
                           expose_headers=["ETag", "Location", "X-Request-Id", "Retry-After"])
    app.add_middleware(RequestContext, trusted_proxies=settings.trusted_proxies)
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from assets shipped in a package: they work on an intranet."""
    static_dir = files("fastapi_offline") / "static"
    app.mount("/static/docs", StaticFiles(directory=str(static_dir)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{API_TITLE} – Swagger UI",
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/docs/favicon.png",
                                   swagger_ui_parameters={"persistAuthorization": True})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{API_TITLE} – ReDoc",
                              redoc_js_url="/static/docs/redoc.standalone.js",
                              redoc_favicon_url="/static/docs/favicon.png", with_google_fonts=False)


def app_factory() -> FastAPI:
    """Entry point for uvicorn (`--factory`): configures logging at LOG_LEVEL, then builds the app."""
    configure_logging(get_settings().log_level)
    return create_app()
