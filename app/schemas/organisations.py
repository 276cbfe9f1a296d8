"""Request and response bodies of `/organisations` (DOMAIN.md "Organisations")."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.core.openapi import omit_null
from app.models import OrganisationKind, OrganisationLevel

MAX_COMPLAINT_CHANNELS = 20
MAX_MEMBER_UNITS = 200

_HOTLINE = re.compile(r"^[0-9+(][0-9 ()\-]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEB = re.compile(r"^https?://\S+$", re.IGNORECASE)


class ComplaintChannelKind(str, enum.Enum):
    """How the public reaches the organisation (举报受理途径: 000 §(七), 002 §(五), 004 §六)."""

    hotline = "hotline"
    email = "email"
    web = "web"
    mail = "mail"
    in_person = "in_person"


class ComplaintChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ComplaintChannelKind = Field(description="Channel type.", examples=["hotline"])
    value: str = Field(min_length=1, max_length=300,
                       description="Phone number, e-mail address, http(s) URL, postal address or office address, "
                                   "depending on `kind`.", examples=["0898-12369"])
    label: str | None = Field(default=None, max_length=100, description="What to show next to it.",
                              examples=["生态环境举报热线"])

    @field_validator("value")
    @classmethod
    def _value_matches_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is ComplaintChannelKind.hotline and not (
                _HOTLINE.match(value) and sum(c.isdigit() for c in value) >= 3):
            raise ValueError("a hotline is digits with optional +, spaces, dashes and parentheses")
        if kind is ComplaintChannelKind.email and not _EMAIL.match(value):
            raise ValueError("not an e-mail address")
        if kind is ComplaintChannelKind.web and not _WEB.match(value):
            raise ValueError("a web channel is an http(s) URL")
        return value


Name = Annotated[str, Field(min_length=1, max_length=200, description="Official Chinese name.",
                            examples=["海南省生态环境厅"])]
NameEn = Annotated[str, Field(min_length=1, max_length=200, description="English name.",
                              examples=["Department of Ecology and Environment of Hainan Province"])]
ShortCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                 description="Unique code across the service (letters, digits, . _ -).",
                                 examples=["HI-DEE"])]
ProfileCode = Annotated[str, Field(min_length=1, max_length=32,
                                   description="Jurisdiction profile of a root organisation "
                                               "(`hainan`, `henan`, `hubei`, `shandong`, or one an admin added).",
                                   examples=["hainan"])]
LeadPerson = Annotated[str, Field(min_length=1, max_length=100,
                                  description="Designated lead person for its environmental work "
                                              "(004 §九, 002 §(九)).", examples=["张三"])]
Channels = Annotated[list[ComplaintChannel], Field(
    max_length=MAX_COMPLAINT_CHANNELS, description="Public complaint channels (≤ 20), published with the duty list.",
    examples=[[{"kind": "hotline", "value": "0898-12369", "label": "举报热线"}]])]
MemberIds = Annotated[list[uuid.UUID], Field(
    max_length=MAX_MEMBER_UNITS, description="Coordination bodies only: their member units (成员单位, "
                                             "002 §(八), 003 §(二十)). Duplicates are ignored.",
    examples=[["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"]])]
KindField = Field(description="What sort of organisation it is.", examples=["department"])
LevelField = Field(description="Administrative level.", examples=["province"])
SuperiorField = Field(default=None, description="上级主管部门: any active organisation, possibly a national body in another tree "
                                  "(for 抄报).", examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
MajorDutyField = Field(default=False, description="承担重要生态环境保护职责 (the profile's major-duty departments).",
                       examples=[True])


class OrganisationCreate(BaseModel):
    """A new organisation. Without `parent_id` it is a new root (a new jurisdiction)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    name_en: NameEn | None = None
    short_code: ShortCode | None = None
    kind: OrganisationKind = KindField
    level: OrganisationLevel = LevelField
    parent_id: uuid.UUID | None = Field(default=None, description="Parent organisation; omit to create a root.",
                                        examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    profile_code: ProfileCode | None = None
    superior_department_id: uuid.UUID | None = SuperiorField
    major_duty: bool = MajorDutyField
    lead_person: LeadPerson | None = None
    complaint_channels: Channels = []
    member_unit_ids: MemberIds = []

    def model_post_init(self, _context: Any) -> None:
        self.member_unit_ids = list(dict.fromkeys(self.member_unit_ids))


# Fields a PATCH may leave out but may not set to null (`omit_null` keeps null out of the contract).
_NOT_NULLABLE = ("name", "kind", "level", "major_duty", "complaint_channels", "member_unit_ids")


class OrganisationUpdate(BaseModel):
    """Partial update: only the fields sent change. `parent_id` moves the whole subtree.
    Computed fields (`jurisdiction_id`, `depth`) and `is_active` (use the actions) are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = Field(default=None, json_schema_extra=omit_null)
    name_en: NameEn | None = None
    short_code: ShortCode | None = None
    kind: OrganisationKind | None = Field(default=None, description="What sort of organisation it is.",
                                          examples=["department"], json_schema_extra=omit_null)
    level: OrganisationLevel | None = Field(default=None, description="Administrative level.",
                                            examples=["province"], json_schema_extra=omit_null)
    parent_id: uuid.UUID | None = Field(default=None, description="New parent: moves the organisation and its "
                                        "whole subtree (422 `organisation_cycle` if under itself).",
                                        examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    profile_code: ProfileCode | None = None
    superior_department_id: uuid.UUID | None = SuperiorField
    major_duty: bool | None = Field(default=None, description="承担重要生态环境保护职责 (the profile's major-duty "
                                    "departments).", examples=[True], json_schema_extra=omit_null)
    lead_person: LeadPerson | None = None
    lead_unit_id: uuid.UUID | None = Field(default=None, description="Lead business unit for its environmental "
                                           "work: an active internal unit inside this organisation's subtree.",
                                           examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    complaint_channels: Channels | None = Field(default=None, json_schema_extra=omit_null)
    member_unit_ids: MemberIds | None = Field(default=None, json_schema_extra=omit_null)

    @field_validator(*_NOT_NULLABLE, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields actually sent: an omitted field keeps its default and skips validation.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value

    def model_post_init(self, _context: Any) -> None:
        if self.member_unit_ids is not None:
            self.member_unit_ids = list(dict.fromkeys(self.member_unit_ids))


class OrganisationRead(BaseModel):
    id: uuid.UUID = Field(description="Organisation id.", examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    name: str = Field(max_length=200, description="Official Chinese name.", examples=["海南省生态环境厅"])
    name_en: str | None = Field(max_length=200, description="English name.", examples=["Hainan DEE"])
    short_code: str | None = Field(max_length=64, description="Unique code.", examples=["HI-DEE"])
    kind: OrganisationKind = Field(description="What sort of organisation it is.", examples=["department"])
    level: OrganisationLevel = Field(description="Administrative level.", examples=["province"])
    parent_id: uuid.UUID | None = Field(description="Parent; null for a root.", examples=[None])
    jurisdiction_id: uuid.UUID = Field(description="Root of its tree (computed; the tenant key).",
                                       examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    depth: int = Field(description="Distance from the root (computed; a root is 0).", examples=[2])
    profile_code: str | None = Field(max_length=32, description="Jurisdiction profile (roots only).",
                                     examples=["hainan"])
    superior_department_id: uuid.UUID | None = Field(description="上级主管部门.", examples=[None])
    major_duty: bool = Field(description="承担重要生态环境保护职责.", examples=[True])
    lead_person: str | None = Field(max_length=100, description="Designated lead person.", examples=["张三"])
    lead_unit_id: uuid.UUID | None = Field(description="Lead internal unit.", examples=[None])
    complaint_channels: list[ComplaintChannel] = Field(max_length=MAX_COMPLAINT_CHANNELS,
                                                       description="Public complaint channels.")
    member_unit_ids: list[uuid.UUID] = Field(max_length=MAX_MEMBER_UNITS,
                                             description="Member units (coordination bodies; else empty).")
    is_active: bool = Field(description="False once deactivated (it is never deleted).", examples=[True])
    version: int = Field(description="Bumped on every change; the ETag is derived from it.", examples=[1])
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")


class OrganisationPage(BaseModel):
    items: list[OrganisationRead] = Field(max_length=200, description="This page, oldest first.")
    next_cursor: str | None = Field(max_length=512, description="Pass as `cursor` for the next page; null at "
                                    "the end.", examples=[None])
    total: int | None = Field(default=None, description="Every matching row; only with include_total=true.",
                              examples=[12])


class OrganisationSubtreeRead(OrganisationRead):
    depth_from: int = Field(description="Distance from the organisation whose subtree is listed (itself: 0).",
                            examples=[1])


class OrganisationSubtreePage(BaseModel):
    items: list[OrganisationSubtreeRead] = Field(max_length=200, description="This page, nearest levels first.")
    next_cursor: str | None = Field(max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Only with include_total=true.", examples=[4])


class OrganisationRef(BaseModel):
    id: uuid.UUID = Field(description="Organisation id.", examples=["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
    name: str = Field(max_length=200, description="Official Chinese name.", examples=["海南省人民政府"])
    name_en: str | None = Field(max_length=200, description="English name.", examples=[None])
    kind: OrganisationKind = Field(description="Kind.", examples=["government"])
    level: OrganisationLevel = Field(description="Level.", examples=["province"])
    depth: int = Field(description="Distance from the root.", examples=[1])
    is_active: bool = Field(description="False once deactivated.", examples=[True])


class OrganisationAncestorsRead(BaseModel):
    items: list[OrganisationRef] = Field(max_length=64, description="Root first, the parent last.")


class OrganisationFilter:
    """Query filters of the organisation lists (a FastAPI dependency, passed on to the service)."""

    def __init__(
        self,
        kind: Annotated[OrganisationKind | None, Query(description="Only this kind.")] = None,
        level: Annotated[OrganisationLevel | None, Query(description="Only this level.")] = None,
        parent_id: Annotated[uuid.UUID | None, Query(description="Only direct children of this organisation.")]
        = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this tree (its root's id).")] = None,
        subtree_of: Annotated[uuid.UUID | None, Query(description="Only this organisation and everything "
                                                                  "below it.")] = None,
        major_duty: Annotated[bool | None, Query(description="Only major-duty (or only other) organisations.")]
        = None,
        is_active: Annotated[bool | None, Query(description="Active (default) or deactivated only.")] = None,
        include_inactive: Annotated[bool, Query(description="Both active and deactivated (ignored when "
                                                            "is_active is given).")] = False,
        q: Annotated[str | None, Query(min_length=1, max_length=100,
                                       description="Substring of name, name_en or short_code.")] = None,
    ) -> None:
        self.kind, self.level, self.parent_id = kind, level, parent_id
        self.jurisdiction_id, self.subtree_of, self.major_duty = jurisdiction_id, subtree_of, major_duty
        self.q = q
        # Deactivated organisations appear only when asked for (is_active=false or include_inactive=true).
        self.is_active: bool | None = is_active if is_active is not None else (None if include_inactive else True)
