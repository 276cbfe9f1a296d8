"""`/organisations/{id}/designations`: which organisation fills each role the profile names
(who reviews and approves duty lists, who convenes and decides lead matters) in a region."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import IfMatch, SessionDep, require
from app.schemas.designations import DesignationsRead, DesignationsUpdate
from app.services import designations

router = APIRouter(prefix="/organisations", tags=["organisations"])

Reader = Annotated[Principal, require(Permission.organisations_read)]
Admin = Annotated[Principal, require(Permission.organisations_write)]


def _with_etag(response: Response, read: DesignationsRead) -> DesignationsRead:
    response.headers["ETag"] = make_etag(read.region_id, read.version)
    return read


@router.get("/{organisation_id}/designations", response_model=DesignationsRead, responses=problem_responses(404))
async def get_designations(organisation_id: uuid.UUID, session: SessionDep, response: Response,
                           principal: Reader) -> DesignationsRead:
    """Who fills each profile role in this region (kind `region`), with the region's `ETag`.
    Any role reading the region; 404 outside scope, 422 for an organisation that is not a region."""
    return _with_etag(response, await designations.get_designations(session, principal, organisation_id))


@router.put("/{organisation_id}/designations", response_model=DesignationsRead,
            responses=problem_responses(404, 412, 428))
async def replace_designations(organisation_id: uuid.UUID, body: DesignationsUpdate, session: SessionDep,
                               response: Response, principal: Admin,
                               if_match: IfMatch = None) -> DesignationsRead:
    """Replace the listed keys (admins of the region). Each organisation must be active and inside
    the region (422 with a pointer). Send the region's ETag as If-Match (428 without, 412 stale).
    Reports of the region not yet submitted (pending, draft) are re-addressed to the new holders in
    the same transaction (a `re_address` history row each); submitted reports keep their addressees."""
    return _with_etag(response, await designations.replace_designations(session, principal, organisation_id,
                                                                        body, if_match))
