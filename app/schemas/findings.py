"""Request and response bodies of `/findings` and its workflow actions (DOMAIN.md "Inspections and findings").

Also the finding's records: progress updates, look-backs, extension requests (measures are in
app/schemas/measures.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.core.openapi import omit_null
from app.models import (
    DispatchCadence,
    ExtensionStatus,
    FindingRelation,
    FindingStatus,
    InspectionKind,
    LookbackOutcome,
    LookbackPerformer,
    RectificationType,
)
from app.schemas.dates import CalendarDate
from app.schemas.duty_lists import OrganisationBrief
from app.schemas.measures import EvidenceList, PlanMeasure
from app.schemas.stats import FindingBucket

Comment = Field(default=None, max_length=2000, description="A note kept on the history row.",
                examples=["同意"])
RequiredComment = Field(min_length=1, max_length=2000, description="Why (required; kept on the history row).",
                        examples=["整改措施不具体,请细化时间节点"])


class RelatedFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding_id: uuid.UUID = Field(description="A finding you can see.")
    relation: FindingRelation = Field(description="How it relates.", examples=["same_problem"])


class FindingCreate(BaseModel):
    """Registering a finding (inspectors of the inspecting body, or the rectification office)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    inspection_id: uuid.UUID = Field(description="The campaign that found it.")
    category_id: uuid.UUID | None = Field(default=None, description="Its node in the campaign's category tree.")
    code: str | None = Field(default=None, max_length=32, description="Its number in the ledger (unique in the "
                                                                      "campaign).", examples=["1-1-1"])
    title: str = Field(min_length=1, max_length=300, description="The problem in a line.",
                       examples=["夯实习近平生态文明思想不够"])
    description: str | None = Field(default=None, max_length=10_000, description="The problem as fed back.")
    rectification_type: RectificationType = Field(default=RectificationType.time_limited,
                                                  description="立行立改 / 限期整改 / 长期整改.",
                                                  examples=["time_limited"])
    deadline: date | None = Field(default=None, description="A deadline already set by the feedback, if any "
                                                            "(assignment sets it otherwise).")
    key_problem: bool = Field(default=False, description="A key problem (重点督办), handled by a named person.")
    key_problem_handler: str | None = Field(default=None, max_length=100, description="Its dedicated handler "
                                                                                      "(专人办理).",
                                            examples=["孙善芳"])
    related: list[RelatedFinding] = Field(default_factory=list, max_length=20,
                                          description="The same problem found elsewhere; 举一反三 follow-ups.")


class FindingUpdate(BaseModel):
    """Partial: descriptive fields only (the office; status and deadline move through actions)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str | None = Field(default=None, max_length=32, description="New ledger number.")
    title: str | None = Field(default=None, min_length=1, max_length=300, description="New title.",
                              json_schema_extra=omit_null)
    description: str | None = Field(default=None, max_length=10_000, description="New description.")
    category_id: uuid.UUID | None = Field(default=None, description="New category node.")
    key_problem: bool | None = Field(default=None, description="Key problem or not.", json_schema_extra=omit_null)
    key_problem_handler: str | None = Field(default=None, max_length=100, description="New dedicated handler.")
    responsible_leader: str | None = Field(default=None, max_length=100, description="责任领导.")
    responsible_unit_id: uuid.UUID | None = Field(default=None, description="责任部门: the responsible "
                                                                            "organisation or a unit below it.")
    responsible_person: str | None = Field(default=None, max_length=100, description="责任人.")
    related: list[RelatedFinding] | None = Field(default=None, max_length=20, description="Replaces the links.")


class FindingAssign(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    responsible_organisation_id: uuid.UUID = Field(description="The responsible (主责) organisation.")
    lead_organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20,
                                                   description="Lead (牵头) organisations, if others lead.")
    cooperating_organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20,
                                                          description="Cooperating (配合) organisations.")
    deadline: date = Field(description="The rectification deadline (整改时限); kept as `original_deadline`.",
                           examples=["2020-12-31"])
    rectification_type: RectificationType | None = Field(default=None, description="Changes the type if given.")
    responsible_leader: str | None = Field(default=None, max_length=100, description="责任领导.",
                                           examples=["孙善芳"])
    responsible_unit_id: uuid.UUID | None = Field(default=None, description="责任部门: the responsible "
                                                                            "organisation or a unit below it.")
    responsible_person: str | None = Field(default=None, max_length=100, description="责任人.", examples=["王五"])
    comment: str | None = Comment


class FindingPlanSubmit(BaseModel):
    """submit_plan: the whole plan. amend_plan: what changes (listed measures change or are added; approved
    measures not listed stay as they are; never-approved ones not listed are dropped)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    summary: str | None = Field(default=None, max_length=10_000, description="The plan in words.",
                                examples=["制定学习计划,按月调度"])
    measures: list[PlanMeasure] = Field(min_length=1, max_length=50, description="Measures, each with a deadline.")
    comment: str | None = Comment


class FindingAction(BaseModel):
    """Body of approve_plan, approve_unrectifiable and sustain: an optional comment."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Comment


class FindingReturn(BaseModel):
    """Body of return, return_amendment, reject_closure and reject_unrectifiable: why (required)."""

    model_config = ConfigDict(extra="forbid")

    comment: str = RequiredComment


class FindingClosureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    summary: str = Field(min_length=1, max_length=4000, description="What was done (整改情况).",
                         examples=["已完成整改,印发相关制度13项"])
    evidence: EvidenceList = Field(min_length=1, max_length=50,
                                   description="Evidence (佐证材料), at least one structured reference: a document, "
                                               "an attachment or a link. Uploaded files (`attachment_ids`) come "
                                               "with the attachments work.")
    comment: str | None = Comment


class FindingClose(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    verification_note: str = Field(min_length=1, max_length=2000, description="What the office checked (核验).",
                                   examples=["经核验,整改到位,同意销号"])
    closed_on: date | None = Field(default=None, description="The day of 销号 (default today; not in the future).")
    comment: str | None = Comment


class FindingUnrectifiable(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=4000, description="Why it cannot be rectified.",
                        examples=["款项已上缴国库无法退还"])
    confirming_organisation_id: uuid.UUID = Field(description="The organisation that confirms it.")
    evidence: EvidenceList = Field(default_factory=list, max_length=50, description="Evidence, if any.")
    comment: str | None = Comment


class InspectionBrief(BaseModel):
    id: uuid.UUID
    title: str = Field(examples=["七届省委第一巡视组巡视省生态环境厅党组"])
    kind: InspectionKind = Field(examples=["party_inspection"])
    dispatch_cadence: DispatchCadence = Field(examples=["monthly"])


class CategoryBrief(BaseModel):
    id: uuid.UUID
    code: str | None = Field(examples=["(1)"])
    title: str = Field(examples=["在夯实习近平生态文明思想方面"])


class RelatedFindingRead(BaseModel):
    finding_id: uuid.UUID
    relation: FindingRelation


class MeasureCounts(BaseModel):
    total: int = Field(examples=[3])
    open: int = Field(examples=[1])
    done: int = Field(examples=[1])
    verified: int = Field(examples=[1])
    cannot_complete_requested: int = Field(examples=[0])
    cannot_complete: int = Field(examples=[0])
    overdue: int = Field(description="Open or awaiting confirmation, past their deadline.", examples=[0])


class ProgressSchedule(BaseModel):
    """The progress-update schedule at the campaign's cadence, counted from the first plan approval."""

    cadence: DispatchCadence = Field(examples=["monthly"])
    active: bool = Field(description="Updates are due now (the finding is being rectified).")
    last_reported_on: date | None
    current_period_start: date | None = Field(description="The period now running (null when inactive).")
    next_due_on: date | None = Field(description="The last day of the running period.")
    missed_period_count: int = Field(description="Ended periods since rectification began with no update.",
                                     examples=[0])
    missed_periods: list[date] = Field(description="Their first days, the latest 24.", examples=[["2021-01-25"]])
    last_period_missed: bool = Field(description="The period that ended last has no update: a missed update.")


class ProposedPlanRead(BaseModel):
    """A plan or amendment awaiting the office; its measures become rows when it is approved."""

    amendment: bool = Field(description="An amendment of a plan under way (else a first plan).")
    summary: str | None
    measures: list[PlanMeasure] = Field(description="As submitted: with `id`, a change to that measure.")
    submitted_at: datetime


class FindingRead(BaseModel):
    id: uuid.UUID
    jurisdiction_id: uuid.UUID
    inspection: InspectionBrief
    category: CategoryBrief | None
    code: str | None = Field(examples=["1-1-1"])
    title: str = Field(examples=["夯实习近平生态文明思想不够"])
    description: str | None
    status: FindingStatus = Field(examples=["in_progress"])
    version: int = Field(description="Optimistic-concurrency version; the ETag is built from it.", examples=[4])
    rectification_type: RectificationType = Field(examples=["time_limited"])
    rectification_office: OrganisationBrief
    inspecting_body: OrganisationBrief
    responsible_organisation: OrganisationBrief | None = Field(description="主责; null until assigned.")
    lead_organisations: list[OrganisationBrief]
    cooperating_organisations: list[OrganisationBrief]
    responsible_leader: str | None
    responsible_unit: OrganisationBrief | None
    responsible_person: str | None
    deadline: date | None = Field(description="The deadline in force (moved only by approved extensions).")
    original_deadline: date | None = Field(description="The deadline first assigned.")
    deadline_extended: bool
    overdue: bool = Field(description="Not finished and past `deadline` (closure requested counts as finished).")
    key_problem: bool
    key_problem_handler: str | None
    related: list[RelatedFindingRead]
    plan_summary: str | None = Field(description="The summary of the plan in force.")
    proposed_plan: ProposedPlanRead | None = Field(description="A plan or amendment awaiting the office.")
    rectification_started_on: date | None = Field(description="First plan approval: the schedule's anchor.")
    closure_requested_at: datetime | None
    closure_summary: str | None
    closure_evidence: EvidenceList
    closed_on: date | None
    closed_at: datetime | None
    verification_note: str | None
    unrectifiable_reason: str | None
    unrectifiable_confirming_organisation: OrganisationBrief | None
    sustained_at: datetime | None
    rebounded: bool = Field(description="A look-back found it back at least once (反弹).")
    rebound_count: int = Field(examples=[0])
    last_lookback_on: date | None
    measures: MeasureCounts
    progress: ProgressSchedule
    allowed_actions: list[str] = Field(description="Actions you may take now.", examples=[["amend_plan"]])
    created_at: datetime
    updated_at: datetime


class FindingPage(BaseModel):
    items: list[FindingRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class FindingFilter:
    """Query filters of `GET /findings` (a FastAPI dependency, passed on to the service)."""

    def __init__(
        self,
        inspection_id: Annotated[uuid.UUID | None, Query(description="Findings of one campaign.")] = None,
        category_id: Annotated[uuid.UUID | None, Query(description="Findings under this category node "
                                                                   "(the node and its descendants).")] = None,
        subtree_of: Annotated[uuid.UUID | None, Query(description="The responsible organisation is this one or "
                                                                  "below it.")] = None,
        responsible_organisation_id: Annotated[uuid.UUID | None, Query(
            description="The responsible organisation is exactly this one.")] = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Findings of one province.")] = None,
        status: Annotated[FindingStatus | None, Query(description="Only findings in this state.")] = None,
        rectification_type: Annotated[RectificationType | None, Query(description="Only this type.")] = None,
        overdue: Annotated[bool | None, Query(description="true: not finished and past the deadline in force; "
                                                          "false: the others.")] = None,
        key_problem: Annotated[bool | None, Query(description="Key problems (重点督办) only, or none.")] = None,
        rebounded: Annotated[bool | None, Query(description="Findings that rebounded (反弹) at least once.")]
        = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the title or code.")]
        = None,
        bucket: Annotated[FindingBucket | None, Query(description="A statistics bucket (`GET /stats/findings` "
                                                                  "links here): where the finding stands.")] = None,
        as_of: Annotated[CalendarDate | None, Query(description="Select by the state at the end of this day, recomputed "
                                                        "from history (only findings that existed then); the "
                                                        "items still show the current state.")] = None,
    ) -> None:
        self.inspection_id, self.category_id, self.subtree_of = inspection_id, category_id, subtree_of
        self.responsible_organisation_id, self.jurisdiction_id = responsible_organisation_id, jurisdiction_id
        self.status, self.rectification_type, self.overdue = status, rectification_type, overdue
        self.key_problem, self.rebounded, self.q = key_problem, rebounded, q
        self.bucket, self.as_of = bucket, as_of


# ------------------------------------------------------------------ the finding's records


class ProgressUpdateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reported_on: date | None = Field(default=None, description="The day it reports on (default today; not in "
                                                               "the future).", examples=["2021-03-31"])
    summary: str = Field(min_length=1, max_length=4000, description="Progress (进展情况).",
                         examples=["已完成2项措施,第3项按序时推进"])
    difficulties: str | None = Field(default=None, max_length=4000, description="Problems met.")
    next_steps: str | None = Field(default=None, max_length=4000, description="What comes next.")


class ProgressUpdateRead(BaseModel):
    id: uuid.UUID
    finding_id: uuid.UUID
    reported_on: date
    period_start: date | None = Field(description="The schedule period it counts for.")
    summary: str
    difficulties: str | None
    next_steps: str | None
    organisation: OrganisationBrief = Field(description="The reporting (responsible) organisation.")
    reported_by_name: str | None
    created_at: datetime


class ProgressUpdatePage(BaseModel):
    items: list[ProgressUpdateRead] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class LookbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: LookbackOutcome = Field(description="passed: recorded; rebounded (反弹): the finding reopens and "
                                                 "counts as rebounded.", examples=["passed"])
    performed_on: date | None = Field(default=None, description="When (default today; not in the future).")
    note: str = Field(min_length=1, max_length=4000, description="What was checked and found.",
                      examples=["经回头看,整改成果巩固,未发现反弹"])


class LookbackRead(BaseModel):
    id: uuid.UUID
    finding_id: uuid.UUID
    outcome: LookbackOutcome
    performer: LookbackPerformer = Field(description="Who looked back (001 一(三)).")
    organisation: OrganisationBrief = Field(description="The organisation they looked back for.")
    performed_on: date
    note: str
    finding_status: FindingStatus = Field(description="The state the finding was looked back on in.")
    finding_status_after: FindingStatus = Field(description="Its state now (in_progress after a rebound).")
    finding_version: int = Field(description="The finding's version now (its ETag changes on a rebound).")
    recorded_by_name: str | None
    created_at: datetime


class LookbackPage(BaseModel):
    items: list[LookbackRead] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class ExtensionRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    requested_deadline: date = Field(description="The new deadline asked for (after the one in force).",
                                     examples=["2021-06-30"])
    reason: str = Field(min_length=1, max_length=4000, description="Why (申请延期理由).",
                        examples=["涉及多部门协调,需延长整改时限"])


class ExtensionRequestRead(BaseModel):
    id: uuid.UUID
    finding_id: uuid.UUID
    status: ExtensionStatus = Field(examples=["pending"])
    version: int = Field(description="Optimistic-concurrency version; the ETag is built from it.", examples=[1])
    requested_deadline: date
    previous_deadline: date | None = Field(description="The deadline in force when it was asked.")
    reason: str
    requested_by_name: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    decision_comment: str | None
    allowed_actions: list[str] = Field(description="Actions you may take now.", examples=[["approve", "reject"]])
    created_at: datetime
    updated_at: datetime


class ExtensionRequestPage(BaseModel):
    items: list[ExtensionRequestRead] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")
