"""Request and response bodies of `/lead-decisions` (DOMAIN.md "Lead-department decisions").

Each action has its own body (CONVENTIONS.md: status is never a writable field). Cross-field
rules (the first lead among the leads, cooperating orgs disjoint from them, organisations in the
jurisdiction) are the service's: it answers them with pointers into these bodies.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import DecisionLevel, LeadDecisionStatus, OpinionStance, PartyRole
from app.profiles.schema import LeadScope
from app.schemas.dates import CalendarDate

MAX_PARTICIPANTS = 50
MAX_LINKED_ITEMS = 100
MAX_LEADS = 10
MAX_COOPERATING = 30
MAX_TASKS = 40

_ID = "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"
Title = Annotated[str, Field(min_length=1, max_length=300, description="What the matter is.",
                             examples=["南渡江流域农业面源污染治理牵头部门"])]
Description = Annotated[str, Field(max_length=10000, description="The matter in full: why no department "
                                   "clearly leads it.", examples=["涉及农业农村、生态环境、水务等多个部门"])]
ScopeTests = Annotated[list[LeadScope], Field(
    min_length=1, max_length=5, description="Which of the profile's tests the matter meets (Hainan 000 §(八): "
    "no_lead, wide_range, complex, marked_impact; Henan and Shandong: no_lead, marked_impact; Hubei: no_lead, "
    "outside_list). At least one; each must be one of the profile's.", examples=[["no_lead", "marked_impact"]])]
Participants = Annotated[list[uuid.UUID], Field(
    max_length=MAX_PARTICIPANTS, description="Organisations consulted (研究会商): active, in the same jurisdiction. "
    "Each one's leader records one opinion.", examples=[[_ID]])]
LinkedItems = Annotated[list[uuid.UUID], Field(
    max_length=MAX_LINKED_ITEMS, description="Responsibility items the decision settles: in the same "
    "jurisdiction and readable by you. On approval they take the decided lead.", examples=[[_ID]])]
Comment = Annotated[str, Field(max_length=2000, description="Kept on the history row.", examples=["同意"])]


class LeadDecisionCreate(BaseModel):
    """Raise a matter (a leader of `organisation_id`: `requested`) or open it as the convenor
    (the convenor's office: `consulting`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_id: uuid.UUID = Field(description="Who raises it: a department or a city's 党委/政府, or the "
                                       "convening organisation itself.", examples=[_ID])
    title: Title
    description: Description | None = None
    scope_tests: ScopeTests
    participant_organisation_ids: Participants = []
    linked_item_ids: LinkedItems = []


class LeadDecisionUpdate(BaseModel):
    """Partial update; only the fields sent change (lists are replaced whole). Only `description`
    may be set to null."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Title | None = None
    description: Description | None = None
    scope_tests: ScopeTests | None = None
    participant_organisation_ids: Participants | None = None
    linked_item_ids: LinkedItems | None = None

    @field_validator("title", "scope_tests", "participant_organisation_ids", "linked_item_ids", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields actually sent: an omitted field keeps its default and skips validation.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class TaskSplitEntry(BaseModel):
    """One organisation's share of the work (任务分解意见, 000 §(八))."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_id: uuid.UUID = Field(description="A lead or cooperating organisation of the proposal.",
                                       examples=[_ID])
    task: str = Field(min_length=1, max_length=1000, description="What it does.", examples=["牵头制定治理方案"])


class LeadDecisionProposal(BaseModel):
    """`propose` (the convenor's office) and `decide` (the convenor's leadership, where it decides)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_organisation_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=MAX_LEADS, description="The lead organisation(s) (牵头部门): active, in the "
        "jurisdiction, and inside the region for a sub-provincial matter.", examples=[[_ID]])
    first_lead_organisation_id: uuid.UUID | None = Field(
        default=None, description="The first lead (第一牵头): required with several leads, one of them.",
        examples=[None])
    cooperating_organisation_ids: list[uuid.UUID] = Field(
        default=[], max_length=MAX_COOPERATING, description="Cooperating organisations (配合部门), none of "
        "them a lead.", examples=[[_ID]])
    task_split: list[TaskSplitEntry] = Field(default=[], max_length=MAX_TASKS,
                                             description="The split of the work among leads and cooperating "
                                                         "organisations.")
    rationale: str = Field(min_length=1, max_length=4000, description="Why this lead (the 研究会商 result).",
                           examples=["该事项主要涉及农业面源污染防治,属农业农村部门职责"])
    comment: Comment | None = None


class LeadDecisionComment(BaseModel):
    """`accept`, `approve`, `withdraw`: an optional comment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: Comment | None = None


class LeadDecisionReturn(BaseModel):
    """`return`: the decider says why the proposal goes back to consultation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: str = Field(min_length=1, max_length=2000, description="Why it goes back.",
                         examples=["任务分解不够明确"])


class LeadDecisionPublish(BaseModel):
    """`publish`: where and when the decided lead was made public (000 §(八): 省政府门户网站)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    portal_url: str = Field(min_length=8, max_length=500, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$",
                            description="The http(s) address of the publication.",
                            examples=["https://www.hainan.gov.cn/hainan/qtgg/202405/t20240520.html"])
    published_on: CalendarDate | None = Field(default=None, description="Publication date in the jurisdiction's zone; "
                                      "today when omitted, never in the future.", examples=["2024-05-20"])
    comment: Comment | None = None


class OpinionCreate(BaseModel):
    """A participating organisation's opinion (会商意见), recorded by its leader."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_id: uuid.UUID = Field(description="The participant you lead.", examples=[_ID])
    stance: OpinionStance = Field(description="agree or disagree.", examples=["agree"])
    reason: str | None = Field(default=None, max_length=2000, description="Required when disagreeing.",
                               examples=[None])


class OpinionRead(BaseModel):
    id: uuid.UUID = Field(description="Opinion id.", examples=[_ID])
    decision_id: uuid.UUID = Field(description="The decision.", examples=[_ID])
    organisation_id: uuid.UUID = Field(description="The participant.", examples=[_ID])
    organisation_name: str = Field(max_length=200, description="Its name.", examples=["海南省农业农村厅"])
    stance: OpinionStance = Field(description="agree or disagree.", examples=["disagree"])
    reason: str | None = Field(max_length=2000, description="Why (always given for disagree).",
                               examples=["该事项主要在水务部门"])
    recorded_by_name: str | None = Field(max_length=100, description="Who recorded it.", examples=["王五"])
    recorded_at: datetime = Field(description="When (UTC).")


class OpinionList(BaseModel):
    items: list[OpinionRead] = Field(max_length=MAX_PARTICIPANTS, description="Oldest first.")


class PartyRead(BaseModel):
    organisation_id: uuid.UUID = Field(description="Organisation.", examples=[_ID])
    organisation_name: str = Field(max_length=200, description="Its name.", examples=["海南省人民政府"])
    role: PartyRole = Field(description="What it is to the decision.", examples=["decider"])
    position: int = Field(description="Order within its role.", examples=[0])


class LinkedItemRead(BaseModel):
    item_id: uuid.UUID = Field(description="The item as linked.", examples=[_ID])
    lineage_id: uuid.UUID = Field(description="Its lineage across list versions.", examples=[_ID])
    organisation_id: uuid.UUID = Field(description="Its list's owner.", examples=[_ID])


class LeadDecisionRead(BaseModel):
    id: uuid.UUID = Field(description="Decision id.", examples=[_ID])
    jurisdiction_id: uuid.UUID = Field(description="The province (root).", examples=[_ID])
    region_id: uuid.UUID = Field(description="The region whose bodies decide.", examples=[_ID])
    region_name: str = Field(max_length=200, description="Its name.", examples=["海南省"])
    level: DecisionLevel = Field(description="provincial or sub_provincial (decided at that level).",
                                 examples=["provincial"])
    status: LeadDecisionStatus = Field(description="Workflow state.", examples=["consulting"])
    version: int = Field(description="Bumped on every change; the ETag derives from it.", examples=[2])
    title: str = Field(max_length=300, description="The matter.", examples=["南渡江流域农业面源污染治理牵头部门"])
    description: str | None = Field(max_length=10000, description="In full.", examples=[None])
    scope_tests: list[LeadScope] = Field(max_length=5, description="Profile tests claimed.",
                                         examples=[["no_lead"]])
    profile_code: str = Field(max_length=32, description="Profile it was opened under.", examples=["hainan"])
    profile_version: int = Field(description="That profile's version.", examples=[1])
    convenor_decides: bool = Field(description="The convenor decides itself (Hubei 003 §(七); every "
                                   "sub-provincial matter): `decide` instead of propose → approve.")
    parties: list[PartyRead] = Field(max_length=200, description="Requester, convenor, decider, participants, "
                                     "and after a proposal the lead and cooperating organisations.")
    first_lead_organisation_id: uuid.UUID | None = Field(description="The first lead, with several leads.",
                                                         examples=[None])
    task_split: list[TaskSplitEntry] = Field(max_length=MAX_TASKS, description="The proposed split of work.")
    rationale: str | None = Field(max_length=4000, description="Why this lead.", examples=[None])
    proposed_at: datetime | None = Field(description="Last proposal (UTC).")
    decided_at: datetime | None = Field(description="Approved or decided (UTC).")
    published_on: date | None = Field(description="Publication date (jurisdiction's zone).")
    published_at: datetime | None = Field(description="When `publish` was recorded (UTC).")
    portal_url: str | None = Field(max_length=500, description="Where it was published.", examples=[None])
    opinions_count: int = Field(description="Opinions recorded so far.", examples=[1])
    linked_items: list[LinkedItemRead] = Field(max_length=MAX_LINKED_ITEMS, description="Items it settles.")
    allowed_actions: list[str] = Field(max_length=10, description="Workflow actions you may take now.",
                                       examples=[["propose", "withdraw"]])
    can_update: bool = Field(description="You may PATCH it now.")
    opinion_organisation_ids: list[uuid.UUID] = Field(
        max_length=MAX_PARTICIPANTS, description="Participants you lead that may still record an opinion.")
    created_by: str | None = Field(max_length=64, description="Who opened it (user or client id).")
    created_at: datetime = Field(description="When (UTC).")
    updated_at: datetime = Field(description="Last change (UTC).")


class LeadDecisionPage(BaseModel):
    items: list[LeadDecisionRead] = Field(max_length=200, description="This page, oldest first.")
    next_cursor: str | None = Field(max_length=512, description="Pass as `cursor` for the next page.",
                                    examples=[None])
    total: int | None = Field(default=None, description="Only with include_total=true.", examples=[3])


class LeadDecisionFilter:
    """Query filters of `GET /lead-decisions` (a FastAPI dependency passed on to the service)."""

    def __init__(
        self,
        status: Annotated[LeadDecisionStatus | None, Query(description="Only this state.")] = None,
        level: Annotated[DecisionLevel | None, Query(description="Only this level.")] = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Only this province.")] = None,
        organisation_id: Annotated[uuid.UUID | None, Query(description="Only where it is a party "
                                                                       "(any role).")] = None,
        subtree_of: Annotated[uuid.UUID | None, Query(description="Only where a party lies in this "
                                                                  "organisation's subtree.")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Substring of the title.")]
        = None,
    ) -> None:
        self.status, self.level, self.jurisdiction_id = status, level, jurisdiction_id
        self.organisation_id, self.subtree_of, self.q = organisation_id, subtree_of, q
