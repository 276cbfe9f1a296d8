"""Request and response bodies of `/duty-lists` (DOMAIN.md "Duty lists")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.core.openapi import omit_null
from app.models import DutyListStatus
from app.schemas.dates import CalendarDate

Comment = Field(default=None, max_length=2000, description="A note kept on the history row.",
                examples=["已按审核意见修改"])
PortalUrl = Field(max_length=500, pattern=r"^https?://\S+$",
                  description="Where the organisation published the list (its portal page): 000 §(七), "
                              "002 §(五), 003 §(六), 004 §六 all publish through the department's own portal.",
                  examples=["https://hnsthb.example.gov.cn/zwgk/sxqd/2024.html"])


class OrganisationBrief(BaseModel):
    id: uuid.UUID = Field(description="Organisation id.")
    name: str = Field(description="Its official name.", examples=["海南省生态环境厅"])


class DutyListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_id: uuid.UUID = Field(description="The organisation whose list it is (one list per "
                                                   "organisation; later versions come from `revise`).")
    title: str = Field(min_length=1, max_length=200, description="The list's title.",
                       examples=["海南省生态环境厅生态环境保护具体事项清单"])
    note: str | None = Field(default=None, max_length=2000, description="Internal note on this version.")


class DutyListUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200, description="New title.",
                              json_schema_extra=omit_null)
    note: str | None = Field(default=None, max_length=2000, description="New internal note.")


class DutyListAction(BaseModel):
    """Body of submit, review, approve, revise and retire: an optional comment."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Comment


class DutyListReturn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=2000, description="Why it goes back (required).",
                         examples=["第3项依据不充分,请补充“三定”方案条款"])


class DutyListPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portal_url: str = PortalUrl
    published_on: CalendarDate | None = Field(default=None, description="The day it went up on the portal, in the "
                                                                "jurisdiction's zone; today when left out. Not "
                                                                "in the future.", examples=["2024-05-10"])
    comment: str | None = Comment


class DutyListRead(BaseModel):
    id: uuid.UUID = Field(description="Id of this version.")
    organisation: OrganisationBrief = Field(description="The organisation the list belongs to.")
    jurisdiction_id: uuid.UUID = Field(description="Its province (or national root).")
    version_no: int = Field(description="1 for the first list, then one more per revision.", examples=[2])
    previous_version_id: uuid.UUID | None = Field(description="The published version this revision started from.")
    status: DutyListStatus = Field(description="Where it is in the workflow.", examples=["draft"])
    version: int = Field(description="Optimistic-concurrency version; the ETag is built from it.", examples=[3])
    title: str = Field(description="The list's title.", examples=["海南省生态环境厅生态环境保护具体事项清单"])
    note: str | None = Field(description="Internal note.")
    profile_code: str = Field(description="The jurisdiction profile it was made under.", examples=["hainan"])
    profile_version: int = Field(description="That profile's version then.", examples=[1])
    review_by: list[OrganisationBrief] = Field(description="Who reviews (审核) it under the profile; empty when "
                                                           "the profile has no review step (only Henan has one).")
    approval_by: list[OrganisationBrief] = Field(description="Who approves (审定/批准) it; empty when the "
                                                             "organisation publishes itself (Hainan, Shandong).")
    item_count: int = Field(description="How many responsibility items it holds.", examples=[42])
    submitted_at: datetime | None = Field(description="When it was last submitted.")
    published_on: date | None = Field(description="The day it was published, in the jurisdiction's zone.")
    published_at: datetime | None = Field(description="When publishing was recorded (UTC).")
    portal_url: str | None = Field(description="Where it was published.")
    superseded_at: datetime | None = Field(description="When a newer published version replaced it.")
    retired_at: datetime | None = Field(description="When it was retired.")
    allowed_actions: list[str] = Field(description="Actions you may take now.", examples=[["submit"]])
    created_at: datetime = Field(description="Created (UTC).")
    updated_at: datetime = Field(description="Last changed (UTC).")


class DutyListPage(BaseModel):
    items: list[DutyListRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class DutyListFilter:
    """Query filters of `GET /duty-lists` (a FastAPI dependency, passed on to the service)."""

    def __init__(
        self,
        organisation_id: Annotated[uuid.UUID | None, Query(description="Versions of this organisation's list.")]
        = None,
        subtree_of: Annotated[uuid.UUID | None, Query(description="Lists of this organisation and everything "
                                                                  "below it (within your scope).")] = None,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="Lists of one province.")] = None,
        status: Annotated[DutyListStatus | None, Query(description="Only versions in this state.")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the title.")] = None,
    ) -> None:
        self.organisation_id, self.subtree_of, self.jurisdiction_id = organisation_id, subtree_of, jurisdiction_id
        self.status, self.q = status, q


class ItemDiffRow(BaseModel):
    lineage_id: uuid.UUID = Field(description="The item's identity across versions.")
    item_id: uuid.UUID | None = Field(description="The item in this version (null when removed).")
    base_item_id: uuid.UUID | None = Field(description="The item in the published version (null when added).")
    title: str = Field(description="The item's title (this version's, or the removed one's).")
    changed_fields: list[str] = Field(description="Fields that differ (changed rows only).",
                                      examples=[["lead_organisation_ids", "description"]])


class DutyListDiffRead(BaseModel):
    """A version's difference from the published version it was revised from (DOMAIN.md)."""

    duty_list_id: uuid.UUID
    base_version_id: uuid.UUID | None = Field(description="The version compared with; null for a first list "
                                                          "(everything is added).")
    base_version_no: int | None
    added: list[ItemDiffRow]
    changed: list[ItemDiffRow]
    removed: list[ItemDiffRow]
    unchanged_count: int = Field(description="Items identical in both.", examples=[37])


class DueRead(BaseModel):
    """A deadline from the profile, evaluated (DOMAIN.md: a date on a rest day stays as written, flagged)."""

    clause: str = Field(description="Where the rule comes from.", examples=["000 §(七)"])
    due_date: date | None = Field(description="The date; null when the text sets none.", examples=["2024-05-12"])
    undated: bool = Field(description="True when the text gives no date (Henan, Hubei, Shandong lists).")
    falls_on_rest_day: bool = Field(description="The date is a weekend or holiday; it is not moved.")
    rule_text: str = Field(description="The rule in English.", examples=["2 months after the document's issuance"])
    rule_text_zh: str = Field(description="The rule in Chinese.", examples=["印发后2个月内"])


class DecompositionProgress(BaseModel):
    due: DueRead | None = Field(description="When the decomposition is due where the profile dates it "
                                            "(Hainan: a copy to the 督察办 within 3 months, 000 §(九)).")
    items: int = Field(description="Items in the published version.", examples=[42])
    decomposed_items: int = Field(description="Of those, items split to at least one internal unit.",
                                  examples=[40])


class DutyListObligationRead(BaseModel):
    """One organisation that must publish a duty list, and where it stands (000 §(七), 002 §(五),
    003 §(六), 004 §六)."""

    organisation: OrganisationBrief
    jurisdiction_id: uuid.UUID
    profile_code: str = Field(examples=["hainan"])
    due: DueRead = Field(description="The first-publication deadline.")
    status: DutyListStatus | None = Field(description="The state of its newest version; null: no list started.")
    latest_version_id: uuid.UUID | None = Field(description="Its newest version.")
    published_version_id: uuid.UUID | None = Field(description="The version in force on the portal, if any.")
    first_published_on: date | None = Field(description="When a version of it was first published.")
    published_late: bool = Field(description="First published after the due date (kept for good).")
    overdue: bool = Field(description="Still never published and the due date has passed (as of `as_of`).")
    decomposition: DecompositionProgress


class DutyListObligationPage(BaseModel):
    as_of: date = Field(description="The day `overdue` was judged on, in the jurisdiction's zone.")
    items: list[DutyListObligationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int | None = Field(default=None, description="Every match, when `include_total=true`.")


class DutyListObligationFilter:
    """Query filters of `GET /duty-list-obligations`."""

    def __init__(
        self,
        jurisdiction_id: Annotated[uuid.UUID | None, Query(description="One province.")] = None,
        subtree_of: Annotated[uuid.UUID | None, Query(description="Organisations at or below this one.")] = None,
        published: Annotated[bool | None, Query(description="false: who has still not published (ever); "
                                                            "true: who has.")] = None,
        overdue: Annotated[bool | None, Query(description="true: never published and past the due date.")] = None,
        as_of: Annotated[CalendarDate | None, Query(description="Judge `overdue` as of this day (default: today in the "
                                                        "jurisdiction's zone).")] = None,
    ) -> None:
        self.jurisdiction_id, self.subtree_of, self.published = jurisdiction_id, subtree_of, published
        self.overdue, self.as_of = overdue, as_of
