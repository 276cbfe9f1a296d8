"""Jurisdiction profiles: each province's rules as versioned data, with the clauses they come from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.core.openapi import problem_responses
from app.dependencies import public
from app.profiles import Profile
from app.schemas.profiles import DeadlineList, ProfileList
from app.services import profiles as service

router = APIRouter(prefix="/profiles", tags=["profiles"])
Code = Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9_]*$", description="Profile code.",
                           examples=["hainan"])]


@router.get("", response_model=ProfileList, dependencies=[public()])
async def list_profiles() -> ProfileList:
    """The shipped profiles. Public: they restate published policy texts."""
    return service.list_summaries()


@router.get("/{code}", response_model=Profile, dependencies=[public()], responses=problem_responses(404))
async def get_profile(code: Code) -> Profile:
    """One profile in full: who publishes, reviews, approves, convenes, decides and reports, each rule with
    its clause and the words it rests on. 404 for an unknown code."""
    return service.get(code)


@router.get("/{code}/deadlines", response_model=DeadlineList, dependencies=[public()],
            responses=problem_responses(404))
async def list_profile_deadlines(
    code: Code,
    year: Annotated[int, Query(ge=2000, le=2100, description="Reporting period (year).")],
) -> DeadlineList:
    """Every dated rule of the profile evaluated for a reporting year on the statutory-holiday calendar:
    the due date, whether it falls on a rest day (it stays as written), or that the text sets no date."""
    return service.deadlines(code, year)
