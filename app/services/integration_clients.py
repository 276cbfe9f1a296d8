"""Integration clients (provincial systems on the client-credentials grant), managed by
admins with clients:manage for organisations in their scope.

The secret is shown once, at creation and at rotation, and stored only as a SHA-256
digest (RELIABILITY §2.3). Rotation and deactivation bump `token_version`, so tokens
already issued stop working at the next request, not at expiry.

These POSTs take no Idempotency-Key on purpose: a replay would have to store the
one-time secret in the idempotency table. A retried create makes a second client,
which the admin sees in the list and deactivates.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import can_reach, in_scope
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.etag import check_if_match
from app.core.security import digest_secret, new_client_secret
from app.models import IntegrationClient, Organisation
from app.schemas.integration_clients import (
    IntegrationClientCreate,
    IntegrationClientPage,
    IntegrationClientRead,
    IntegrationClientSecretRead,
)
from app.services import audit
from app.services.users import PageParams, keyset_page
from app.services.versioned import update_if_current

MANAGE = Permission.clients_manage
CLIENT_ID_PREFIX = "edc_"


def _snapshot(client: IntegrationClient) -> dict[str, Any]:
    return {"client_id": client.client_id, "name": client.name, "scopes": list(client.scopes or []),
            "organisation_id": client.organisation_id, "is_active": client.is_active}


def _read(client: IntegrationClient) -> IntegrationClientRead:
    return IntegrationClientRead.model_validate(client, from_attributes=True)


def _with_secret(client: IntegrationClient, secret: str) -> IntegrationClientSecretRead:
    return IntegrationClientSecretRead(**_read(client).model_dump(), client_secret=secret)


async def _load(session: AsyncSession, principal: Principal, client_id: uuid.UUID) -> IntegrationClient:
    client = await session.scalar(select(IntegrationClient).where(
        IntegrationClient.id == client_id, in_scope(IntegrationClient.organisation_id, principal, MANAGE)))
    if client is None:
        raise NotFound("No such integration client in your scope.")
    return client


async def _change(session: AsyncSession, client: IntegrationClient, if_match: str | None, **values: Any) -> None:
    """If-Match, then a conditional UPDATE on that version (412 for the loser of a race); every change
    also retires the client's issued tokens (token_version + 1)."""
    check_if_match(if_match, client.id, client.version)
    await update_if_current(session, client, noun="client", token_version=IntegrationClient.token_version + 1,
                            **values)


async def create_client(session: AsyncSession, principal: Principal,
                        data: IntegrationClientCreate) -> IntegrationClientSecretRead:
    """422 when the organisation is not in the caller's scope (or inactive) or a scope is unknown."""
    active = await session.scalar(select(Organisation.is_active).where(Organisation.id == data.organisation_id))
    if not active or not await can_reach(session, principal, MANAGE, data.organisation_id):
        raise ValidationFailed("No such organisation in your scope.", errors=[{
            "pointer": "/organisation_id", "source": "body", "type": "unknown_organisation",
            "message": "unknown organisation"}])
    secret = new_client_secret()
    client = IntegrationClient(client_id=CLIENT_ID_PREFIX + secrets.token_hex(10), name=data.name,
                               secret_hash=digest_secret(secret), scopes=list(data.scopes),
                               organisation_id=data.organisation_id, is_active=True, token_version=0, version=1)
    session.add(client)
    await session.flush()
    audit.record(session, action="integration_client.create", resource_type="integration_client",
                 resource_id=client.id, organisation_id=client.organisation_id, after=_snapshot(client))
    return _with_secret(client, secret)


async def list_clients(session: AsyncSession, principal: Principal, page: PageParams) -> IntegrationClientPage:
    stmt = select(IntegrationClient).where(in_scope(IntegrationClient.organisation_id, principal, MANAGE))
    rows, next_cursor, total = await keyset_page(session, stmt, IntegrationClient, page,
                                                 scope="integration_clients")
    return IntegrationClientPage(items=[_read(r[0]) for r in rows], next_cursor=next_cursor, total=total)


async def get_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID) -> IntegrationClientRead:
    return _read(await _load(session, principal, client_id))


async def rotate_secret(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                        if_match: str | None) -> IntegrationClientSecretRead:
    """A new secret; the old one and every token issued with it stop working now. 409 if inactive."""
    client = await _load(session, principal, client_id)
    if not client.is_active:
        check_if_match(if_match, client.id, client.version)
        raise Conflict("The client is deactivated; its secret cannot be rotated.")
    secret = new_client_secret()
    await _change(session, client, if_match, secret_hash=digest_secret(secret))
    audit.record(session, action="integration_client.rotate_secret", resource_type="integration_client",
                 resource_id=client.id, organisation_id=client.organisation_id)
    return _with_secret(client, secret)


async def deactivate_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                            if_match: str | None) -> IntegrationClientRead:
    """No new tokens; issued ones stop working now. 409 when already inactive."""
    client = await _load(session, principal, client_id)
    check_if_match(if_match, client.id, client.version)
    if not client.is_active:
        raise Conflict("The client is already deactivated.")
    before = _snapshot(client)
    await _change(session, client, if_match, is_active=False)
    audit.record(session, action="integration_client.deactivate", resource_type="integration_client",
                 resource_id=client.id, organisation_id=client.organisation_id, before=before,
                 after=_snapshot(client))
    return _read(client)
