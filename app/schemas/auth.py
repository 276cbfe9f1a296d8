"""Tokens, sign-out, password change and the caller's own profile (`/auth/*`, `/me`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import OrganisationKind, Role

# Opaque refresh tokens are 43 characters (256 bits, base64url); the cap only stops abuse.
REFRESH_TOKEN_MAX_LENGTH = 256
# Login accepts more than the password policy's 128 so a long wrong guess is a clean 401,
# yet little enough that argon2 never hashes a megabyte.
LOGIN_PASSWORD_MAX_LENGTH = 1024


class TokenRead(BaseModel):
    """An OAuth 2.0 token response (RFC 6749 §5.1)."""

    access_token: str = Field(description="Bearer token for the `Authorization` header (a JWT, 15 min).",
                              examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9…"])
    token_type: Literal["bearer"] = Field(default="bearer", description="Always `bearer`.",
                                          examples=["bearer"])
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])
    refresh_token: str | None = Field(
        default=None, description="Opaque, single-use: exchange it at `POST /auth/refresh` for a new pair. "
                                  "Users only; never for client credentials.",
        examples=["3q2-7wq1u1iZ3lS3l7Vt9s0o8q4W6x0yM7b5cQ2x1aE"])
    refresh_expires_in: int | None = Field(
        default=None, description="Seconds until the refresh token expires unused (idle timeout, capped by "
                                  "the sign-in's absolute lifetime).", examples=[1800])
    scope: str | None = Field(default=None, description="Space-separated scopes granted (client tokens).",
                              examples=["organisations:read users:read"])


class TokenRefresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=REFRESH_TOKEN_MAX_LENGTH,
                               description="The refresh token from the last token response. It is used up "
                                           "by this call; presenting it again ends the whole sign-in.",
                               examples=["3q2-7wq1u1iZ3lS3l7Vt9s0o8q4W6x0yM7b5cQ2x1aE"])


class SessionLogout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, min_length=1, max_length=REFRESH_TOKEN_MAX_LENGTH,
                                      description="Optional: also end the sign-in this refresh token belongs "
                                                  "to (it must be your own).",
                                      examples=["3q2-7wq1u1iZ3lS3l7Vt9s0o8q4W6x0yM7b5cQ2x1aE"])


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=LOGIN_PASSWORD_MAX_LENGTH,
                                  description="Your password now.", examples=["Old-Pass-2024!"])
    new_password: str = Field(min_length=1, max_length=LOGIN_PASSWORD_MAX_LENGTH,
                              description="8 to 128 characters, not a common password; no composition rules "
                                          "(ASVS 6.2).", examples=["long memorable river phrase"])


class MeOrganisation(BaseModel):
    organisation_id: uuid.UUID = Field(description="Organisation id.",
                                       examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])
    name: str = Field(max_length=200, description="Organisation name.", examples=["海南省生态环境厅"])
    kind: OrganisationKind = Field(description="Organisation kind.", examples=["department"])
    roles: list[Role] = Field(max_length=len(Role), description="Your roles there (empty for a client).",
                              examples=[["staff", "leader"]])


class MeRead(BaseModel):
    """The signed-in caller: a user (with memberships) or an integration client (with scopes)."""

    kind: Literal["user", "client"] = Field(description="Who is calling.", examples=["user"])
    id: uuid.UUID = Field(description="User id or integration client id.",
                          examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f61"])
    name: str = Field(max_length=200, description="Display name (users) or client name.", examples=["王芳"])
    username: str | None = Field(default=None, max_length=64, description="Users only.",
                                 examples=["hn.env.staff"])
    email: str | None = Field(default=None, max_length=254, description="Users only.",
                              examples=["wangfang@hainan.gov.cn"])
    phone: str | None = Field(default=None, max_length=32, description="Users only.", examples=["0898-65200000"])
    must_change_password: bool = Field(default=False, description="Set after an admin reset: change it with "
                                                                  "`POST /me/password`.", examples=[False])
    last_login_at: datetime | None = Field(default=None, description="Previous successful sign-in (users).",
                                           examples=["2026-11-20T01:02:03Z"])
    client_id: str | None = Field(default=None, max_length=64, description="Integration clients only.",
                                  examples=["edc_5b0e7d2a9c41f3e8a6d2"])
    scopes: list[str] = Field(default_factory=list, max_length=50,
                              description="Scopes of this token (integration clients only).",
                              examples=[["organisations:read"]])
    organisations: list[MeOrganisation] = Field(max_length=500,
                                                description="Where you act: your memberships grouped by "
                                                            "organisation (a client: its one organisation).")
    permissions: list[str] = Field(max_length=100, description="Effective permissions, sorted.",
                                   examples=[["organisations:read", "profiles:read"]])
