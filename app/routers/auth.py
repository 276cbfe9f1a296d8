"""Signing in, refreshing and signing out (`/auth/*`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from fastapi.responses import JSONResponse

from app.authz.principal import Principal
from app.core.db import Database
from app.core.errors import problem_response
from app.core.openapi import problem_responses
from app.dependencies import SessionDep, authenticated, get_database, public
from app.schemas.auth import (
    LOGIN_PASSWORD_MAX_LENGTH,
    REFRESH_TOKEN_MAX_LENGTH,
    SessionLogout,
    TokenRead,
    TokenRefresh,
)
from app.services import auth as auth_service
from app.services.auth import RefreshTokenReused

router = APIRouter(tags=["auth"])
DatabaseDep = Annotated[Database, Depends(get_database)]
SignedIn = Annotated[Principal, authenticated()]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


def _refused_after_revoking(request: Request, exc: RefreshTokenReused) -> JSONResponse:
    # Returned, not raised: the revocation of the sign-in must commit although the call is refused.
    return problem_response(exc.status, code=exc.code, title=exc.title, detail=exc.detail,
                            instance=request.url.path, headers={**exc.headers, **NO_STORE})


@router.post("/auth/token", response_model=TokenRead, response_model_exclude_none=True,
             dependencies=[public()], responses=problem_responses(400, 401))
async def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    database: DatabaseDep,
    grant_type: Annotated[str | None, Form(max_length=32, description="`password` (the default when omitted), "
                                                                      "`client_credentials` or `refresh_token`.",
                                           examples=["password"])] = None,
    username: Annotated[str | None, Form(max_length=256, description="password grant.",
                                         examples=["hn.env.staff"])] = None,
    password: Annotated[str | None, Form(max_length=LOGIN_PASSWORD_MAX_LENGTH, description="password grant.",
                                         json_schema_extra={"format": "password"})] = None,
    scope: Annotated[str | None, Form(max_length=1000, description="client_credentials: space-separated scopes "
                                                                   "wanted (default: all of the client's).",
                                      examples=["organisations:read"])] = None,
    client_id: Annotated[str | None, Form(max_length=64, description="client_credentials (or HTTP Basic).",
                                          examples=["edc_5b0e7d2a9c41f3e8a6d2"])] = None,
    client_secret: Annotated[str | None, Form(max_length=128, description="client_credentials (or HTTP Basic).",
                                              json_schema_extra={"format": "password"})] = None,
    refresh_token: Annotated[str | None, Form(max_length=REFRESH_TOKEN_MAX_LENGTH,
                                              description="refresh_token grant.")] = None,
    authorization: Annotated[str | None, Header(max_length=2048, include_in_schema=False)] = None,
) -> TokenRead | JSONResponse:
    """OAuth 2.0 token endpoint (form-encoded). Anyone may call; Swagger's *Authorize* uses it.

    - `password`: a user's username and password → access + refresh token.
    - `client_credentials`: an integration client's id and secret (form fields or HTTP Basic)
      → an access token with the requested scopes it holds; no refresh token.
    - `refresh_token`: same as `POST /auth/refresh`.

    401 `invalid_credentials` for any wrong username, password, disabled account or client secret
    (one body for all); 401 `invalid_refresh_token`; 429 after repeated failures (`Retry-After`);
    400 `unsupported_grant_type`, `invalid_scope`; 422 for a field the grant needs."""
    response.headers.update(NO_STORE)
    try:
        return await auth_service.grant(
            session, database, grant_type=grant_type, username=username, password=password, scope=scope,
            client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
            authorization=authorization)
    except RefreshTokenReused as exc:
        return _refused_after_revoking(request, exc)


@router.post("/auth/refresh", response_model=TokenRead, response_model_exclude_none=True,
             dependencies=[public()], responses=problem_responses(401))
async def refresh_access_token(request: Request, response: Response, session: SessionDep,
                               body: TokenRefresh) -> TokenRead | JSONResponse:
    """Exchange a refresh token for a new access + refresh token. Anyone holding one may call.

    The presented token is used up. Presenting a used token again ends the whole sign-in
    (its newest tokens included) and answers 401 (RFC 9700 §4.14); there is no grace period, so
    never refresh twice concurrently. 401 `invalid_refresh_token` when unknown, expired (30 min
    idle, 12 h after sign-in), revoked, or the account is inactive."""
    response.headers.update(NO_STORE)
    try:
        return await auth_service.refresh(session, body.refresh_token)
    except RefreshTokenReused as exc:
        return _refused_after_revoking(request, exc)


@router.post("/auth/logout", status_code=204, response_class=Response)
async def logout(session: SessionDep, principal: SignedIn,
                 body: SessionLogout | None = None) -> Response:
    """End this sign-in: its refresh token and every access token carrying its `sid` stop
    working at once. Any signed-in caller; other devices stay signed in. Optionally names a
    refresh token of your own whose sign-in also ends."""
    await auth_service.logout(session, principal, body.refresh_token if body else None)
    return Response(status_code=204)
