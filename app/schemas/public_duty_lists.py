"""What the public portal reads of duty lists: published versions and their items, nothing else.

Only fields a department publishes (000 §(七), 002 §(五), 003 §(六), 004 §六): the duties, their
basis, lead and cooperating departments, and the complaint channels (举报受理途径). Internal notes,
the decomposition to units and people, workflow state and who acted are not here.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.models import DutyDomain
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.organisations import ComplaintChannel
from app.schemas.responsibility_items import BasisReference


class PublicDutyListRead(BaseModel):
    id: uuid.UUID = Field(description="The published version.")
    organisation: OrganisationBrief
    jurisdiction_id: uuid.UUID
    version_no: int = Field(examples=[2])
    title: str = Field(examples=["海南省生态环境厅生态环境保护具体事项清单"])
    published_on: date | None = Field(description="The day it was published.")
    portal_url: str | None = Field(description="Where the department published it.")
    item_count: int = Field(examples=[42])
    complaint_channels: list[ComplaintChannel] = Field(description="The organisation's public complaint channels, "
                                                                   "published with the list.")


class PublicDutyListPage(BaseModel):
    items: list[PublicDutyListRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class PublicItemRead(BaseModel):
    id: uuid.UUID
    position: int
    code: str | None
    title: str
    description: str | None
    domain: DutyDomain
    basis: list[BasisReference]
    lead_organisations: list[OrganisationBrief]
    first_lead_organisation_id: uuid.UUID | None
    cooperating_organisations: list[OrganisationBrief]
    complaint_channels: list[ComplaintChannel]


class PublicItemPage(BaseModel):
    items: list[PublicItemRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
