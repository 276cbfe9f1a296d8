"""Users and their memberships (`/users`). Never carries password hashes or token versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.core.openapi import omit_null
from app.core.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from app.models import OrganisationKind, Role

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{2,63}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^[0-9+()\- ]{3,32}$"
MAX_INITIAL_MEMBERSHIPS = 20


def _lower(value: object) -> object:
    # Usernames are case-insensitive: stored lower-case, looked up lower-case at sign-in.
    return value.strip().lower() if isinstance(value, str) else value


# Pydantic leaves `pattern` out of the input schema when a BeforeValidator runs first, so clients and
# the fuzzer saw any 3–64 characters as valid: the contract states it, capitals allowed (lowered here).
Username = Annotated[str, BeforeValidator(_lower), Field(
    min_length=3, max_length=64, pattern=USERNAME_PATTERN,
    description="Sign-in name: 3–64 of a–z 0–9 . _ @ -, case-insensitive (stored lower-case); unique.",
    examples=["hn.env.staff"], json_schema_extra={"pattern": r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$"})]
DisplayName = Annotated[str, Field(min_length=1, max_length=100, description="Name shown to others.",
                                   examples=["王芳"])]
Email = Annotated[str | None, Field(
    max_length=254, pattern=EMAIL_PATTERN, description="Work e-mail.", examples=["wangfang@hainan.gov.cn"])]
Phone = Annotated[str | None, Field(
    max_length=32, pattern=PHONE_PATTERN, description="Work phone.", examples=["0898-65200000"])]
# Validated loosely so that a short or long password gets the policy's own 422 (AUTH-1), but the
# contract states the policy's lengths: schema-valid passwords were otherwise mostly refused.
NewPassword = Annotated[str, Field(min_length=1, max_length=1024,
                                   description="8 to 128 characters, not a common password; no composition "
                                               "rules (ASVS 6.2). Never returned.",
                                   examples=["long memorable river phrase"],
                                   json_schema_extra={"minLength": PASSWORD_MIN_LENGTH,
                                                      "maxLength": PASSWORD_MAX_LENGTH})]


class MembershipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="An organisation in your scope.",
                                       examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])
    role: Role = Field(description="What the user does there.", examples=["staff"])


class MembershipRead(BaseModel):
    id: uuid.UUID = Field(description="Membership id.", examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f62"])
    organisation_id: uuid.UUID = Field(description="Organisation id.",
                                       examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f60"])
    organisation_name: str = Field(max_length=200, description="Organisation name.", examples=["海南省生态环境厅"])
    organisation_kind: OrganisationKind = Field(description="Organisation kind.", examples=["department"])
    role: Role = Field(description="Role held there.", examples=["staff"])
    created_at: datetime = Field(description="When it was granted.", examples=["2026-11-20T01:02:03Z"])


class MembershipPage(BaseModel):
    items: list[MembershipRead] = Field(max_length=200, description="Memberships in your scope.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[3])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: DisplayName
    email: Email = None
    phone: Phone = None
    password: NewPassword
    must_change_password: bool = Field(default=True, description="Make the user choose a new password at first "
                                                                 "sign-in (AUTH-5).", examples=[True])
    memberships: list[MembershipCreate] = Field(
        default_factory=list, max_length=MAX_INITIAL_MEMBERSHIPS,
        description="Initial (organisation, role) pairs, each in your scope. Only an admin of a root "
                    "organisation may create a user without any.")


class UserUpdate(BaseModel):
    """Partial: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = Field(default=None, json_schema_extra=omit_null)  # null refused below
    email: Email = None
    phone: Phone = None

    @field_validator("display_name")
    @classmethod
    def _display_name_not_null(cls, value: str | None) -> str | None:
        # null clears email or phone (runs only when sent); a user always has a display name
        if value is None:
            raise ValueError("display_name cannot be null")
        return value


class UserPasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: NewPassword


class UserRead(BaseModel):
    id: uuid.UUID = Field(description="User id.", examples=["0191d6a8-7c3e-7b1a-9f00-3b1c2d4e5f61"])
    username: str = Field(max_length=64, description="Sign-in name.", examples=["hn.env.staff"])
    display_name: str = Field(max_length=100, description="Name shown to others.", examples=["王芳"])
    email: str | None = Field(max_length=254, description="Work e-mail.", examples=["wangfang@hainan.gov.cn"])
    phone: str | None = Field(max_length=32, description="Work phone.", examples=["0898-65200000"])
    is_active: bool = Field(description="False once deactivated: cannot sign in.", examples=[True])
    must_change_password: bool = Field(description="Must choose a new password.", examples=[False])
    last_login_at: datetime | None = Field(description="Last successful sign-in.",
                                           examples=["2026-11-20T01:02:03Z"])
    memberships: list[MembershipRead] = Field(max_length=200,
                                              description="Memberships in your scope (others are not shown).")
    created_at: datetime = Field(description="Created.", examples=["2026-11-20T01:02:03Z"])
    updated_at: datetime = Field(description="Last changed.", examples=["2026-11-20T01:02:03Z"])
    version: int = Field(description="Bumped on every change; the ETag is derived from it.", examples=[1])


class UserPage(BaseModel):
    items: list[UserRead] = Field(max_length=200, description="Users, oldest first.")
    next_cursor: str | None = Field(default=None, max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Count of all matches (with `include_total=true`).",
                              examples=[42])
