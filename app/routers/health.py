"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.core.errors import problem_response
from app.core.openapi import problem_responses
from app.dependencies import public

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str = Field(description="`ok` when the check passed.", examples=["ok"])


@router.get("/healthz", response_model=HealthRead, dependencies=[public()])
async def get_health() -> HealthRead:
    """The process is up. Anyone may call; it does not touch the database."""
    return HealthRead(status="ok")


@router.get("/readyz", response_model=HealthRead, dependencies=[public()], responses=problem_responses(503))
async def get_readiness(request: Request) -> HealthRead | JSONResponse:
    """The database answers. 503 with `Retry-After` while it does not; recovers by itself when it returns."""
    try:
        async with request.app.state.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database means "not ready"
        return problem_response(503, code="service_unavailable", title="Service unavailable",
                                detail="The database is unavailable; retry shortly.", instance="/readyz",
                                headers={"Retry-After": "5"})
    return HealthRead(status="ok")
