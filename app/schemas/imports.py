"""`/imports/finding-ledgers`: a ledger already worked, with its recorded states and dates (JSON).

Each finding says where it ended (`status`) and the day of each step it took on the way there;
measures likewise; look-backs with their day and outcome. The service checks that the steps
fit the finding workflow and the dates follow each other, then writes the history with those
dates (app/services/findings/imports.py). Spreadsheets come later (issue 7): JSON only here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models import FindingStatus, LookbackOutcome, LookbackPerformer, MeasureStatus, RectificationType
from app.schemas.dates import CalendarDate

Day = Field(default=None, description="The day it happened (not after today).", examples=["2021-03-31"])


class ImportedMeasure(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300, examples=["完成财政资金清退"])
    phase: str | None = Field(default=None, max_length=50, examples=["第一阶段"])
    deadline: CalendarDate = Field(description="The deadline in force.", examples=["2021-06-30"])
    original_deadline: CalendarDate | None = Field(default=None, description="As first approved (default: deadline).")
    responsible_person: str | None = Field(default=None, max_length=100)
    status: MeasureStatus = Field(description="Where it ended.", examples=["verified"])
    completed_on: CalendarDate | None = Day
    verified_on: CalendarDate | None = Day
    cannot_complete_reason: str | None = Field(default=None, max_length=4000)
    confirming_organisation_id: uuid.UUID | None = Field(default=None, description="Who confirmed it cannot be "
                                                                                   "completed (001 二(四)2).")
    declared_on: CalendarDate | None = Field(default=None, description="Day it was declared impossible to complete.")
    confirmed_on: CalendarDate | None = Field(default=None, description="Day that was confirmed.")


class ImportedLookback(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    performed_on: CalendarDate = Field(examples=["2022-06-30"])
    outcome: LookbackOutcome = Field(examples=["passed"])
    performer: LookbackPerformer = Field(default=LookbackPerformer.rectification_office)
    note: str = Field(min_length=1, max_length=4000, examples=["回头看未发现反弹"])


class ImportedFinding(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str | None = Field(default=None, max_length=32, examples=["(四)2."])
    title: str = Field(min_length=1, max_length=300, examples=["在落实审计整改方面"])
    description: str | None = Field(default=None, max_length=20000)
    category_id: uuid.UUID | None = Field(default=None, description="A category node of the inspection.")
    rectification_type: RectificationType = RectificationType.time_limited
    key_problem: bool = False
    status: FindingStatus = Field(description="Where it ended.", examples=["closed"])
    registered_on: CalendarDate = Field(description="Day it was registered (fed back).", examples=["2020-09-11"])
    responsible_organisation_id: uuid.UUID | None = Field(default=None, description="主责; required once assigned.")
    lead_organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    cooperating_organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    responsible_leader: str | None = Field(default=None, max_length=100)
    responsible_person: str | None = Field(default=None, max_length=100)
    deadline: CalendarDate | None = Field(default=None, description="The deadline in force.")
    original_deadline: CalendarDate | None = Field(default=None, description="As first given (default: deadline).")
    deadline_extended_on: CalendarDate | None = Field(default=None, description="Day the extension was approved "
                                                                        "(required when the deadlines differ).")
    assigned_on: CalendarDate | None = Day
    plan_submitted_on: CalendarDate | None = Day
    plan_approved_on: CalendarDate | None = Day
    closure_requested_on: CalendarDate | None = Day
    closed_on: CalendarDate | None = Day
    sustained_on: CalendarDate | None = Day
    unrectifiable_requested_on: CalendarDate | None = Day
    unrectifiable_on: CalendarDate | None = Day
    unrectifiable_reason: str | None = Field(default=None, max_length=4000)
    measures: list[ImportedMeasure] = Field(default_factory=list, max_length=100)
    lookbacks: list[ImportedLookback] = Field(default_factory=list, max_length=50)


class FindingLedgerImport(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    inspection_id: uuid.UUID = Field(description="The campaign (an inspection in your scope).")
    source: str | None = Field(default=None, max_length=500, description="The ledger it comes from.",
                               examples=["海南省生态环境厅关于巡视整改进展情况的通报(2023-05-24)"])
    findings: list[ImportedFinding] = Field(min_length=1, max_length=1000)


class ImportedFindingRead(BaseModel):
    id: uuid.UUID
    code: str | None
    title: str
    status: FindingStatus
    measures: int = Field(description="Measures created.")
    lookbacks: int = Field(description="Look-backs created.")


class FindingImportRead(BaseModel):
    id: uuid.UUID = Field(description="The batch id (on every finding, measure and history row it created).")
    inspection_id: uuid.UUID
    source: str | None
    counts: dict[str, int] = Field(description="Rows created: findings, measures, lookbacks, history.")
    created_by_name: str | None
    created_at: datetime
    findings: list[ImportedFindingRead] = Field(description="In the order of the request.")
