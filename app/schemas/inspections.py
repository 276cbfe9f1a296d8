"""Request and response bodies of `/inspections` (DOMAIN.md "Inspections and findings")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.openapi import omit_null
from app.models import DispatchCadence, InspectionKind
from app.schemas.duty_lists import OrganisationBrief

OrgIds = Field(min_length=1, max_length=50, description="Inspected organisations (被督察/被巡视单位); "
                                                        "enterprises allowed (003 §(十六)). All of one province.")


class RectificationPlan(BaseModel):
    """The inspected side's plan for the whole campaign (整改工作方案, 001 一(二))."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issued_date: date | None = Field(default=None, description="When it was issued (印发).",
                                     examples=["2020-09-25"])
    document_number: str | None = Field(default=None, max_length=100, description="Its document number.",
                                        examples=["琼环党组〔2020〕35号"])
    document_title: str | None = Field(default=None, max_length=300, description="Its title.",
                                       examples=["中共海南省生态环境厅党组落实省委巡视反馈意见整改工作方案"])
    leading_group: str | None = Field(default=None, max_length=4000,
                                      description="The rectification leading group (整改工作领导小组), as written.",
                                      examples=["组长:党组书记、厅长;第一副组长:分管副厅长;副组长:其他党组成员"])


class _Dates(BaseModel):
    onsite_start_date: date | None = Field(default=None, description="On-site work began (进驻).",
                                           examples=["2020-04-10"])
    onsite_end_date: date | None = Field(default=None, description="On-site work ended.", examples=["2020-07-10"])
    feedback_date: date | None = Field(default=None, description="Feedback given (反馈): rectification runs "
                                                                 "from it.", examples=["2020-09-11"])

    @model_validator(mode="after")
    def _ordered(self) -> _Dates:
        if self.onsite_start_date and self.onsite_end_date and self.onsite_end_date < self.onsite_start_date:
            raise ValueError("onsite_end_date is before onsite_start_date")
        return self


class InspectionCreate(_Dates):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: InspectionKind = Field(description="What kind of campaign.", examples=["party_inspection"])
    title: str = Field(min_length=1, max_length=300, description="The campaign's name.",
                       examples=["七届省委第一巡视组巡视省生态环境厅党组"])
    code: str | None = Field(default=None, max_length=64, description="Its round or batch, as documents name it.",
                             examples=["七届省委第一轮巡视"])
    inspecting_body_id: uuid.UUID = Field(description="Who inspected: an organisation (national bodies allowed).")
    inspected_organisation_ids: list[uuid.UUID] = OrgIds
    rectification_office_id: uuid.UUID | None = Field(
        default=None, description="The organisation whose office assigns, approves plans, verifies and closes "
                                  "(销号) the findings. Default: for party inspections, audits and self-inspections "
                                  "the (first) inspected organisation itself (001: its own 整改工作领导小组办公室); "
                                  "for the others the region's designated inspection office (督察办), else the "
                                  "inspected organisation.")
    dispatch_cadence: DispatchCadence = Field(default=DispatchCadence.monthly,
                                              description="How often progress is reported (调度).",
                                              examples=["monthly"])
    rectification_plan: RectificationPlan | None = Field(default=None, description="The 整改工作方案, when issued.")
    note: str | None = Field(default=None, max_length=2000, description="Internal note.")


class InspectionUpdate(_Dates):
    """Partial: fields left out stay; `rectification_plan` replaces the plan whole."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=300, description="New name.",
                              json_schema_extra=omit_null)
    code: str | None = Field(default=None, max_length=64, description="New round or batch.")
    dispatch_cadence: DispatchCadence | None = Field(default=None, description="New cadence.",
                                                      json_schema_extra=omit_null)
    rectification_plan: RectificationPlan | None = Field(default=None, description="The plan, whole.")
    note: str | None = Field(default=None, max_length=2000, description="New note.")


class InspectionRead(BaseModel):
    id: uuid.UUID
    jurisdiction_id: uuid.UUID = Field(description="The inspected province.")
    kind: InspectionKind = Field(examples=["party_inspection"])
    title: str = Field(examples=["七届省委第一巡视组巡视省生态环境厅党组"])
    code: str | None
    inspecting_body: OrganisationBrief
    inspected_organisations: list[OrganisationBrief]
    rectification_office: OrganisationBrief
    onsite_start_date: date | None
    onsite_end_date: date | None
    feedback_date: date | None
    dispatch_cadence: DispatchCadence = Field(examples=["monthly"])
    rectification_plan: RectificationPlan
    note: str | None
    version: int = Field(description="Optimistic-concurrency version; the ETag is built from it.", examples=[1])
    can_register_findings: bool = Field(description="You may register findings in it (its inspectors and "
                                                    "its rectification office may).")
    created_at: datetime
    updated_at: datetime


class InspectionPage(BaseModel):
    items: list[InspectionRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class InspectionFilter:
    """Query filters of `GET /inspections`."""

    def __init__(
        self,
        kind: Annotated[InspectionKind | None, Query(description="Only this kind.")] = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Campaigns in one province.")] = None,
        inspected_organisation_id: Annotated[uuid.UUID | None, Query(description="Campaigns that inspected "
                                                                                 "this organisation.")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the title.")] = None,
    ) -> None:
        self.kind, self.jurisdiction_id, self.inspected_organisation_id, self.q = (
            kind, jurisdiction_id, inspected_organisation_id, q)


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    parent_id: uuid.UUID | None = Field(default=None, description="The node above (null for a 方面).")
    code: str | None = Field(default=None, max_length=32, description="Its number in the ledger.",
                             examples=["(一)"])
    title: str = Field(min_length=1, max_length=300, description="Its heading.",
                       examples=["落实党的路线方针政策和党中央决策部署方面"])
    position: int | None = Field(default=None, ge=0, le=10_000, description="Order among its siblings "
                                                                           "(default: last).")


class CategoryRead(BaseModel):
    id: uuid.UUID
    inspection_id: uuid.UUID
    parent_id: uuid.UUID | None
    depth: int = Field(description="0 for a 方面, 1 for a topic under it, …", examples=[0])
    position: int = Field(examples=[0])
    code: str | None = Field(examples=["(一)"])
    title: str = Field(examples=["落实党的路线方针政策和党中央决策部署方面"])


class CategoryList(BaseModel):
    items: list[CategoryRead] = Field(description="The whole tree, depth-first in order.")
