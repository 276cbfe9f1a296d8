"""Request and response bodies of responsibility items (`/duty-lists/{id}/items`, `/responsibility-items`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.openapi import omit_null
from app.models import DutyDomain, DutyListStatus
from app.profiles.schema import BasisKind
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.organisations import ComplaintChannel

MAX_BASIS = 20
MAX_LEADS = 10
MAX_COOPERATING = 50
MAX_DECOMPOSITION = 100


class BasisReference(BaseModel):
    """Where a duty comes from (000 §(七) 三定 and 琼办发(2020)68号; 002 §(五) laws, policy documents, 三定,
    责任清单; 003 §(六) the superior department's list; 004 §六 职责边界清单)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: BasisKind = Field(description="What sort of source.", examples=["sanding"])
    title: str = Field(min_length=1, max_length=300, description="The source's title.",
                       examples=["海南省生态环境厅职能配置、内设机构和人员编制规定"])
    number: str | None = Field(default=None, max_length=100, description="Its document number, if any.",
                               examples=["琼办发(2020)68号"])
    clause: str | None = Field(default=None, max_length=100, description="The article or clause relied on.",
                               examples=["第三条第(五)项"])


class DecompositionRow(BaseModel):
    """One part of the item handed to an internal unit (任务分解: 000 §(九), 002 §(九), 003 §(十))."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit_id: uuid.UUID = Field(description="An internal unit (处室/直属单位) below the list's organisation.")
    responsible_person: str | None = Field(default=None, min_length=1, max_length=100,
                                           description="责任人; required where the profile decomposes to "
                                                       "persons (Henan 002 §(九), Hubei 003 §(十)).",
                                           examples=["王五"])
    task: str | None = Field(default=None, max_length=1000, description="What that unit does.",
                             examples=["牵头组织入河排污口排查整治"])


class _ItemFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str | None = Field(default=None, max_length=32, description="The list's own numbering.", examples=["3.2"])
    description: str | None = Field(default=None, max_length=4000, description="What the duty involves.")
    basis: list[BasisReference] | None = Field(default=None, max_length=MAX_BASIS, description="Its sources.")
    lead_organisation_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=MAX_LEADS,
        description="Lead (牵头) organisations, in the order the list names them; empty when no lead is clear yet "
                    "(a matter for a lead-department decision). Active organisations of the same province.")
    first_lead_organisation_id: uuid.UUID | None = Field(
        default=None, description="The first lead among several co-leads (must be one of them).")
    cooperating_organisation_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=MAX_COOPERATING, description="Cooperating (配合) organisations, none of them a lead.")
    decomposition: list[DecompositionRow] | None = Field(default=None, max_length=MAX_DECOMPOSITION,
                                                         description="Its split to internal units and people.")
    complaint_channels: list[ComplaintChannel] | None = Field(
        default=None, max_length=10, description="Complaint channels specific to this duty; the organisation's "
                                                 "own channels are published with the list anyway.")

    @model_validator(mode="after")
    def _leads_consistent(self):
        leads = self.lead_organisation_ids or []
        if len(set(leads)) != len(leads):
            raise ValueError("lead_organisation_ids lists an organisation twice")
        cooperating = self.cooperating_organisation_ids or []
        if set(leads) & set(cooperating):
            raise ValueError("an organisation cannot both lead and cooperate on one item")
        return self


class ResponsibilityItemCreate(_ItemFields):
    title: str = Field(min_length=1, max_length=300, description="The duty, as the list states it.",
                       examples=["组织开展入河排污口排查整治"])
    domain: DutyDomain = Field(description="Its environmental field.", examples=["water"])
    position: int | None = Field(default=None, ge=1, le=100_000,
                                 description="Place in the list; after the last item when left out.")


class ResponsibilityItemUpdate(_ItemFields):
    title: str | None = Field(default=None, min_length=1, max_length=300, description="New title.",
                              json_schema_extra=omit_null)
    domain: DutyDomain | None = Field(default=None, description="New field.", json_schema_extra=omit_null)
    position: int | None = Field(default=None, ge=1, le=100_000, description="New place in the list.",
                                 json_schema_extra=omit_null)


class DecompositionRead(BaseModel):
    unit: OrganisationBrief
    responsible_person: str | None
    task: str | None


class ResponsibilityItemRead(BaseModel):
    id: uuid.UUID = Field(description="Id of the item in this version.")
    lineage_id: uuid.UUID = Field(description="The same duty across versions (a revision copies it).")
    duty_list_id: uuid.UUID = Field(description="The list version it belongs to.")
    duty_list_status: DutyListStatus = Field(description="That version's state; items are editable while it is "
                                                         "draft or returned.")
    organisation: OrganisationBrief = Field(description="The list's organisation.")
    position: int = Field(description="Place in the list.", examples=[3])
    code: str | None = Field(description="The list's own numbering.")
    title: str = Field(description="The duty.")
    description: str | None
    domain: DutyDomain
    basis: list[BasisReference]
    lead_organisations: list[OrganisationBrief] = Field(description="Leads, in order.")
    first_lead_organisation_id: uuid.UUID | None
    cooperating_organisations: list[OrganisationBrief]
    decomposition: list[DecompositionRead]
    complaint_channels: list[ComplaintChannel]
    lead_decision_id: uuid.UUID | None = Field(description="The lead decision that set its lead, if any.")
    version: int = Field(description="Optimistic-concurrency version (ETag).")
    created_at: datetime
    updated_at: datetime


class ResponsibilityItemPage(BaseModel):
    items: list[ResponsibilityItemRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class DutyListItemFilter(BaseModel):
    """Query filters of `GET /duty-lists/{id}/items` (and, with `duty_list_id`, of `GET /responsibility-items`)."""

    organisation_id: uuid.UUID | None = Field(default=None, description="Items of this organisation's lists.")
    subtree_of: uuid.UUID | None = Field(default=None, description="Items of lists of this organisation and "
                                                                   "everything below it.")
    status: DutyListStatus | None = Field(default=None, description="Only items of versions in this state "
                                                                    "(`published`: what is in force).")
    domain: DutyDomain | None = Field(default=None, description="Only this environmental field.")
    lead_organisation_id: uuid.UUID | None = Field(default=None, description="Items this organisation leads.")
    cooperating_organisation_id: uuid.UUID | None = Field(default=None,
                                                          description="Items this organisation cooperates on.")
    without_lead: bool | None = Field(default=None, description="true: only items with no lead yet; false: only "
                                                                "items with one.")
    q: str | None = Field(default=None, min_length=1, max_length=100, description="Text in the title or code.")


class ResponsibilityItemFilter(DutyListItemFilter):
    duty_list_id: uuid.UUID | None = Field(default=None, description="Items of one list version.")
