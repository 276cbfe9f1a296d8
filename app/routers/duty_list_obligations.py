"""`/duty-list-obligations`: who must publish a duty list, by when, and who still has not
(the table a coordination office reads: 000 §(七) Hainan's lists were due 2024-05-12)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.dependencies import PageDep, SessionDep, require
from app.schemas.duty_lists import DutyListObligationFilter, DutyListObligationPage
from app.services.duty_lists import obligations

router = APIRouter(prefix="/duty-list-obligations", tags=["duty-lists"])

Reader = Annotated[Principal, require(Permission.duty_lists_read)]
Filters = Annotated[DutyListObligationFilter, Depends()]


@router.get("", response_model=DutyListObligationPage)
async def list_duty_list_obligations(session: SessionDep, page: PageDep, filters: Filters,
                                     principal: Reader) -> DutyListObligationPage:
    """Every organisation in your scope that must publish a duty list (the profile's major-duty
    departments, flagged `major_duty`; cities and counties by analogy), with the profile's due
    date (null and `undated` where the text sets none), the state of its newest version, its
    first publication, `overdue` and `published_late`, and how far its published items are
    decomposed to units. `published=false` lists who has still not published. Any role."""
    return await obligations.list_obligations(session, principal, filters, limit=page.limit, cursor=page.cursor,
                                              include_total=page.include_total)
