"""Integration clients (`/integration-clients`): provincial systems on client credentials."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.etag import make_etag
from app.core.openapi import problem_responses
from app.dependencies import IfMatch, PageDep, SessionDep, require
from app.schemas.integration_clients import (
    IntegrationClientCreate,
    IntegrationClientPage,
    IntegrationClientRead,
    IntegrationClientSecretRead,
)
from app.services import integration_clients as client_service

router = APIRouter(tags=["integration-clients"])
ClientAdmin = Annotated[Principal, require(Permission.clients_manage)]


def _etag(response: Response, client: IntegrationClientRead) -> None:
    response.headers["ETag"] = make_etag(client.id, client.version)


@router.post("/integration-clients", status_code=201, response_model=IntegrationClientSecretRead)
async def create_integration_client(body: IntegrationClientCreate, session: SessionDep, response: Response,
                                    principal: ClientAdmin) -> IntegrationClientSecretRead:
    """Register a client; the response holds its `client_secret`, shown this once. Admins
    (clients:manage), for an organisation in their scope (422 otherwise, or for an unknown scope).
    No Idempotency-Key: a stored replay would keep the secret."""
    client = await client_service.create_client(session, principal, body)
    _etag(response, client)
    response.headers["Location"] = f"/integration-clients/{client.id}"
    return client


@router.get("/integration-clients", response_model=IntegrationClientPage)
async def list_integration_clients(session: SessionDep, page: PageDep,
                                   principal: ClientAdmin) -> IntegrationClientPage:
    """Clients of organisations in your scope, oldest first; never their secrets. Admins."""
    return await client_service.list_clients(session, principal, page)


@router.get("/integration-clients/{integration_client_id}", response_model=IntegrationClientRead,
            responses=problem_responses(404))
async def get_integration_client(integration_client_id: uuid.UUID, session: SessionDep, response: Response,
                                 principal: ClientAdmin) -> IntegrationClientRead:
    """One client, without its secret. Admins; 404 outside your scope."""
    client = await client_service.get_client(session, principal, integration_client_id)
    _etag(response, client)
    return client


@router.post("/integration-clients/{integration_client_id}/rotate-secret",
             response_model=IntegrationClientSecretRead, responses=problem_responses(404, 409, 412, 428))
async def rotate_integration_client_secret(integration_client_id: uuid.UUID, session: SessionDep,
                                           response: Response, principal: ClientAdmin,
                                           if_match: IfMatch = None) -> IntegrationClientSecretRead:
    """Issue a new secret (shown this once); the old secret and every token issued with it stop
    working now. Admins in scope; If-Match. 409 when the client is deactivated."""
    client = await client_service.rotate_secret(session, principal, integration_client_id, if_match)
    _etag(response, client)
    return client


@router.post("/integration-clients/{integration_client_id}/deactivate", response_model=IntegrationClientRead,
             responses=problem_responses(404, 409, 412, 428))
async def deactivate_integration_client(integration_client_id: uuid.UUID, session: SessionDep,
                                        response: Response, principal: ClientAdmin,
                                        if_match: IfMatch = None) -> IntegrationClientRead:
    """No new tokens; tokens already issued stop working now. Admins in scope; If-Match.
    409 when already deactivated."""
    client = await client_service.deactivate_client(session, principal, integration_client_id, if_match)
    _etag(response, client)
    return client
