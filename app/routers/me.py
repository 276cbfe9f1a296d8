"""The signed-in caller (`/me`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from app.authz.principal import Principal
from app.core.openapi import problem_responses
from app.dependencies import SessionDep, authenticated, read_only
from app.schemas.auth import MeRead, PasswordChange
from app.services import auth as auth_service
from app.services import users as user_service

router = APIRouter(tags=["me"])
SignedIn = Annotated[Principal, authenticated()]


@router.get("/me", response_model=MeRead)
@read_only
async def get_me(session: SessionDep, principal: SignedIn) -> MeRead:
    """Who you are: a user with memberships (organisation, kind, roles) or an integration client
    with its scopes and organisation, plus the effective permissions. Any signed-in caller; 401
    otherwise. Reloaded per request, so a membership change shows at once."""
    return await user_service.describe_caller(session, principal)


@router.post("/me/password", status_code=204, response_class=Response, responses=problem_responses(403))
async def change_my_password(session: SessionDep, body: PasswordChange,
                             principal: SignedIn) -> Response:
    """Change your own password. Users only (403 for integration clients).

    422 on `/current_password` when it is wrong (not 401: you are signed in), on `/new_password` when
    it breaks the policy (8–128 characters, not common, different from the current one); 429 after
    repeated wrong attempts. On success every sign-in ends, this one included: sign in again."""
    await auth_service.change_own_password(session, principal, body)
    return Response(status_code=204)
