"""`/public/lead-decisions`: what the public may read of a published lead decision.

Only what 000 §(八), 002 §(六), 003 §(七) and 004 §五 say is made public (向社会公开): the matter,
the decided lead and cooperating organisations and the split of work, where and when it was
published. Opinions, the rationale, the requester, parties and internal fields never appear.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from app.models import DecisionLevel

_ID = "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"


class PublicOrganisationRef(BaseModel):
    id: uuid.UUID = Field(description="Organisation id.", examples=[_ID])
    name: str = Field(max_length=200, description="Its name.", examples=["海南省农业农村厅"])


class PublicTaskRead(BaseModel):
    organisation_id: uuid.UUID = Field(description="Who does it.", examples=[_ID])
    organisation_name: str = Field(max_length=200, description="Its name.", examples=["海南省农业农村厅"])
    task: str = Field(max_length=1000, description="What it does.", examples=["牵头制定治理方案"])


class PublicLeadDecisionRead(BaseModel):
    id: uuid.UUID = Field(description="Decision id.", examples=[_ID])
    title: str = Field(max_length=300, description="The matter.", examples=["南渡江流域农业面源污染治理牵头部门"])
    description: str | None = Field(max_length=10000, description="The matter in full.", examples=[None])
    level: DecisionLevel = Field(description="provincial or sub_provincial.", examples=["provincial"])
    region_name: str = Field(max_length=200, description="The region that decided it.", examples=["海南省"])
    lead_organisations: list[PublicOrganisationRef] = Field(max_length=10, description="Lead organisations.")
    first_lead_organisation: PublicOrganisationRef | None = Field(description="The first lead, with several.")
    cooperating_organisations: list[PublicOrganisationRef] = Field(max_length=30,
                                                                   description="Cooperating organisations.")
    task_split: list[PublicTaskRead] = Field(max_length=40, description="The split of the work.")
    published_on: date = Field(description="Publication date (the jurisdiction's zone).", examples=["2024-05-20"])
    portal_url: str = Field(max_length=500, description="Where it was published.",
                            examples=["https://www.hainan.gov.cn/hainan/qtgg/202405/t20240520.html"])


class PublicLeadDecisionPage(BaseModel):
    items: list[PublicLeadDecisionRead] = Field(max_length=200, description="This page, newest publication "
                                                "first.")
    next_cursor: str | None = Field(max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Only with include_total=true.", examples=[2])


class PublicLeadDecisionFilter:
    def __init__(
        self,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this province.")] = None,
        lead_organisation_id: Annotated[uuid.UUID | None, Query(description="Only decisions that made this "
                                                                            "organisation a lead.")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Substring of the title.")]
        = None,
    ) -> None:
        self.jurisdiction_id, self.lead_organisation_id, self.q = jurisdiction_id, lead_organisation_id, q
