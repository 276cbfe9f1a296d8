"""`/stats/findings`: statistics of findings and measures (DOMAIN.md "Statistics").

Any role with `findings:read`; the figures count only the findings you may read. An
organisation, inspection or category outside your scope is 404. Each bucket links to the
`GET /findings` query that lists exactly its findings.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.openapi import problem_responses
from app.dependencies import SessionDep, require
from app.schemas.dates import CalendarDate
from app.schemas.stats import FindingStatsRead
from app.services.findings import stats

router = APIRouter(prefix="/stats", tags=["statistics"])

Reader = Annotated[Principal, require(Permission.findings_read)]


@router.get("/findings", response_model=FindingStatsRead, responses=problem_responses(404, 422))
async def finding_stats(
    session: SessionDep,
    principal: Reader,
    organisation_id: Annotated[uuid.UUID | None, Query(description="Findings whose responsible (主责) organisation "
                                                                   "is this one or below it.")] = None,
    inspection_id: Annotated[uuid.UUID | None, Query(description="Findings of one campaign.")] = None,
    category_id: Annotated[uuid.UUID | None, Query(description="Findings under this category node.")] = None,
    as_of: Annotated[CalendarDate | None, Query(description="Recompute from history as of the end of this day "
                                                    "(Asia/Shanghai); not after today.",
                                        examples=["2022-12-31"])] = None,
) -> FindingStatsRead:
    """Buckets (closed, closure requested, on schedule, behind, long-term, unrectifiable, rebounded, …) for
    findings and for their measures, on-time completion rates (against the original and the extended
    deadline), per inspection, per category node (方面 → topic) and per organisation (scored on the
    responsible organisation only). Any role; 404 for an organisation, inspection or category you cannot see."""
    return await stats.finding_stats(session, principal, organisation_id=organisation_id,
                                     inspection_id=inspection_id, category_id=category_id, as_of=as_of)
