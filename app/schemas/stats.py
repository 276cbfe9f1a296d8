"""`GET /stats/findings`: the statistics of DOMAIN.md "Statistics" (buckets, on-time rate, groups)."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from pydantic import BaseModel, Field


class FindingBucket(str, enum.Enum):
    """Where a finding stands (app/services/findings/buckets.py defines each)."""

    registered = "registered"
    assigned = "assigned"
    planning = "planning"  # plan_submitted
    on_schedule = "on_schedule"  # 按序时推进
    behind = "behind"  # 滞后
    unrectifiable_requested = "unrectifiable_requested"
    closure_requested = "closure_requested"  # 已完成待销号
    closed = "closed"  # 已完成并销号
    long_term = "long_term"  # 长期整改
    unrectifiable = "unrectifiable"
    rebounded = "rebounded"  # 反弹: beside the others


class BucketCount(BaseModel):
    bucket: str = Field(description="The bucket.", examples=["behind"])
    count: int = Field(description="How many.", examples=[3])
    link: str | None = Field(default=None, description="The `/findings` query listing exactly these findings "
                                                       "(`include_total=true` gives the same count); null for "
                                                       "measures, which have no list across findings.",
                             examples=["/findings?inspection_id=…&bucket=behind"])


class OnTimeRate(BaseModel):
    due: int = Field(description="Finished with a deadline, or unfinished and past it.")
    on_time: int = Field(description="Finished on or before the deadline.")
    rate: float | None = Field(description="on_time / due; null when nothing is due.", examples=[1.0])


class OnTime(BaseModel):
    original: OnTimeRate = Field(description="Against the deadline first given (extensions ignored).")
    extended: OnTimeRate = Field(description="Against the deadline in force after approved extensions.")


class MeasureStats(BaseModel):
    total: int = Field(description="Measures (整改措施/任务) of the findings counted.")
    buckets: list[BucketCount] = Field(description="closed (verified), closure_requested (done), on_schedule, "
                                                   "behind, unrectifiable_requested, unrectifiable.")
    on_time: OnTime = Field(description="Completion by the measure's deadline (original: as first approved).")


class Figures(BaseModel):
    total: int = Field(description="Findings counted.", examples=[36])
    link: str = Field(description="The `/findings` query listing all of them.")
    buckets: list[BucketCount] = Field(description="Every finding is in exactly one of these (rebounded aside).")
    rebounded: BucketCount = Field(description="Findings a look-back found back (反弹) at least once.")
    on_time: OnTime = Field(description="On-time completion (按期完成) of the findings.")
    measures: MeasureStats


class InspectionFigures(BaseModel):
    id: uuid.UUID
    title: str
    figures: Figures


class CategoryFigures(BaseModel):
    id: uuid.UUID
    inspection_id: uuid.UUID
    parent_id: uuid.UUID | None
    depth: int = Field(description="0 for a 方面, 1 for a topic under it, …")
    code: str | None = Field(examples=["(一)"])
    title: str
    figures: Figures = Field(description="The node and everything below it.")


class OrganisationFigures(BaseModel):
    id: uuid.UUID
    name: str
    subtree: bool = Field(description="true: the organisation and everything below it; false: findings it is "
                                      "responsible (主责) for itself.")
    figures: Figures


class FindingStatsRead(BaseModel):
    as_of: date | None = Field(description="The day recomputed from history (end of day, Asia/Shanghai); null: "
                                           "now.")
    day: date = Field(description="The day deadlines are judged against (as_of, or today).")
    organisation_id: uuid.UUID | None
    inspection_id: uuid.UUID | None
    category_id: uuid.UUID | None
    figures: Figures = Field(description="All findings counted: scored on the responsible (主责) organisation.")
    per_inspection: list[InspectionFigures]
    per_category: list[CategoryFigures] = Field(description="With inspection_id (a category tree is one "
                                                            "campaign's): its nodes (方面 → topic) with findings, in "
                                                            "tree order; else empty.")
    per_organisation: list[OrganisationFigures] = Field(
        description="With organisation_id: that organisation's own findings, then each child's subtree; "
                    "without: each responsible organisation's own.")
