"""Anonymous reads of published reports (`/public/reports`): what the texts say is made public
(000 §(十二), 002 §(十三), 003 §(十一)(十二), 004 §七). Only `published` reports appear."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from app.models import ReportKind
from app.schemas.reports import ID_EXAMPLE, OrganisationName, ReportContent


class PublicReportRead(BaseModel):
    id: uuid.UUID = Field(description="Report id.", examples=[ID_EXAMPLE])
    jurisdiction_id: uuid.UUID = Field(description="The province.", examples=[ID_EXAMPLE])
    title: str = Field(examples=["海南省生态环境厅2024年度生态环境保护职责履行情况报告"])
    kind: ReportKind = Field(examples=["annual_duty_report"])
    filers: list[OrganisationName] = Field(description="Who reported.")
    recipient_label: str = Field(description="To whom.", examples=["中共海南省委、海南省人民政府"])
    period: str | None = Field(examples=["2024"])
    period_year: int = Field(examples=[2024])
    clause: str = Field(description="The clause that asks for publication.", examples=["000 §(十二)"])
    publication_where: str | None = Field(description="Where the text says it is published.",
                                          examples=["own_portal"])
    published_on: date | None = Field(description="When (the jurisdiction's calendar).", examples=["2025-03-01"])
    portal_url: str | None = Field(description="The filer's own publication, when given.", examples=[None])
    content: ReportContent


class PublicReportPage(BaseModel):
    items: list[PublicReportRead] = Field(description="This page, in order of publication.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.", examples=[None])


class PublicReportFilter:
    def __init__(
        self,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this province.")] = None,
        organisation_id: Annotated[uuid.UUID | None, Query(description="Filers in this organisation's subtree.")]
        = None,
        kind: Annotated[ReportKind | None, Query(description="Only this kind.")] = None,
        period_year: Annotated[int | None, Query(ge=2000, le=2100, description="Only this period year.")] = None,
    ) -> None:
        self.jurisdiction_id, self.organisation_id, self.kind, self.period_year = (
            jurisdiction_id, organisation_id, kind, period_year)
