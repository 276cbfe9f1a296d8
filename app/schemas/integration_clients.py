"""Integration clients: provincial systems using the client-credentials grant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.authz.roles import CLIENT_SCOPES

ScopeName = Annotated[str, Field(max_length=64, examples=["organisations:read"])]


class IntegrationClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="What the system is, for people reading logs.",
                      examples=["海南省生态环境监测平台"])
    scopes: list[ScopeName] = Field(min_length=1, max_length=len(CLIENT_SCOPES),
                              description=f"What it may do; each one of: {', '.join(sorted(CLIENT_SCOPES))}.",
                              examples=[["organisations:read"]])
    organisation_id: uuid.UUID = Field(description="The one organisation (with its subtree) it acts in; must be "
                                                   "in your scope.",
                                       examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(CLIENT_SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; allowed: {sorted(CLIENT_SCOPES)}")
        return sorted(set(scopes))


class IntegrationClientRead(BaseModel):
    id: uuid.UUID = Field(description="Record id (used in paths).", examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f63"])
    client_id: str = Field(max_length=64, description="The `client_id` for `POST /auth/token`.",
                           examples=["edc_5b0e7d2a9c41f3e8a6d2"])
    name: str = Field(max_length=200, description="Name.", examples=["海南省生态环境监测平台"])
    scopes: list[ScopeName] = Field(max_length=len(CLIENT_SCOPES), description="Granted scopes.",
                              examples=[["organisations:read"]])
    organisation_id: uuid.UUID = Field(description="Organisation it acts in.",
                                       examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])
    is_active: bool = Field(description="False once deactivated: no new tokens, issued ones stop working.",
                            examples=[True])
    created_at: datetime = Field(description="Created.", examples=["2026-11-20T01:02:03Z"])
    updated_at: datetime = Field(description="Last changed.", examples=["2026-11-20T01:02:03Z"])
    version: int = Field(description="Bumped on every change; the ETag is derived from it.", examples=[1])


class IntegrationClientSecretRead(IntegrationClientRead):
    """Returned only by create and rotate-secret: the secret is shown this once and stored only as a digest."""

    client_secret: str = Field(max_length=128, description="Store it now; it cannot be shown again.",
                               examples=["edcs_Zr3Qm1…"])


class IntegrationClientPage(BaseModel):
    items: list[IntegrationClientRead] = Field(max_length=200, description="Clients in your scope, oldest first.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[2])
