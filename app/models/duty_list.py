"""Duty lists (生态环境保护具体事项清单) and their responsibility items.

A row of `duty_list` is one *version* of an organisation's list: Henan and Hubei
approve a list as a whole and every province publishes it whole (002 §(五),
003 §(六), 000 §(七), 004 §六), so the version is what moves through the
workflow and its items are its content. Versions of one organisation's list share
`organisation_id` and count up in `version_no`; a revision starts as a copy of the
published version (`previous_version_id`), which stays public until the revision
is published and supersedes it.

Two partial unique indexes hold the invariants the workflow relies on, on both
databases: at most one version of a list is being worked on (draft … approved),
and at most one is published.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id
from app.models.organisation import enum_column


class DutyListStatus(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    reviewed = "reviewed"  # 审核 done (Henan)
    approved = "approved"  # 审定 / 批准 done (Henan, Hubei)
    returned = "returned"
    published = "published"
    superseded = "superseded"  # a newer version was published
    retired = "retired"


OPEN_STATUSES = ("draft", "submitted", "reviewed", "approved", "returned")
EDITABLE_STATUSES = ("draft", "returned")

_OPEN_SQL = "status IN ('draft', 'submitted', 'reviewed', 'approved', 'returned')"
_PUBLISHED_SQL = "status = 'published'"


class DutyDomain(str, enum.Enum):
    """The environmental field a duty belongs to (DOMAIN.md "Duty lists")."""

    water = "water"
    air = "air"
    soil = "soil"
    solid_waste = "solid_waste"
    marine = "marine"
    ecology = "ecology"
    climate = "climate"
    nature_reserves = "nature_reserves"
    noise = "noise"
    radiation = "radiation"
    rural = "rural"
    other = "other"


class DutyList(TimestampMixin, Base):
    __tablename__ = "duty_list"
    __table_args__ = (
        UniqueConstraint("organisation_id", "version_no"),
        Index("ix_duty_list_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
        Index("ix_duty_list_organisation_id_created_at_id", "organisation_id", "created_at", "id"),
        Index("uq_duty_list_one_open_version", "organisation_id", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("uq_duty_list_one_published_version", "organisation_id", unique=True,
              sqlite_where=text(_PUBLISHED_SQL), postgresql_where=text(_PUBLISHED_SQL)),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    # The owner's administrative region (nearest `region` ancestor): where the profile's reviewer and
    # approver are resolved (a city's lists by the city's bodies: 000 §(七) "市县参照落实").
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    previous_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("duty_list.id"))
    status: Mapped[DutyListStatus] = mapped_column(enum_column(DutyListStatus), default=DutyListStatus.draft)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(2000))
    # The profile the version was made under: a later profile version never rewrites it.
    profile_code: Mapped[str] = mapped_column(String(32))
    profile_version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None]
    published_on: Mapped[date | None] = mapped_column(Date)  # in the jurisdiction's zone (000 §(七) deadline)
    published_at: Mapped[datetime | None]
    portal_url: Mapped[str | None] = mapped_column(String(500))
    superseded_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))


class ItemRelation(str, enum.Enum):
    lead = "lead"  # 牵头
    cooperating = "cooperating"  # 配合


class ResponsibilityItem(TimestampMixin, Base):
    """One concrete duty inside one list version.

    `lineage_id` stays the same when a revision copies the item, so a revision's
    difference from the published version (added, changed, removed) is a join on it.
    """

    __tablename__ = "responsibility_item"
    __table_args__ = (
        UniqueConstraint("duty_list_id", "lineage_id"),
        Index("ix_responsibility_item_duty_list_id_position_id", "duty_list_id", "position", "id"),
        Index("ix_responsibility_item_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
        Index("ix_responsibility_item_lineage_id", "lineage_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    duty_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duty_list.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))  # the list's owner
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    lineage_id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[DutyDomain] = mapped_column(enum_column(DutyDomain))
    basis: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    first_lead_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    decomposition: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    complaint_channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    lead_decision_id: Mapped[uuid.UUID | None]  # the decision that set its lead, when one did
    # The spreadsheet import that created it (app/services/imports/), if one did.
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("duty_list_import_batch.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ResponsibilityItemOrganisation(Base):
    """Lead (牵头) and cooperating (配合) organisations of an item: rows, so "items led by X" is an index."""

    __tablename__ = "responsibility_item_organisation"
    __table_args__ = (Index("ix_responsibility_item_organisation_org_relation", "organisation_id", "relation"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("responsibility_item.id", ondelete="CASCADE"),
                                               primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    relation: Mapped[ItemRelation] = mapped_column(enum_column(ItemRelation, 16))
    position: Mapped[int] = mapped_column(Integer, default=0)
