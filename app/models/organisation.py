"""Organisations: the forest of provinces, national bodies and everything below them.

The subtree of an organisation is read from `organisation_closure` (one row per
ancestor/descendant pair, depth 0 included), so "is X inside Y's subtree" is one
index lookup on both SQLite and PostgreSQL, never a recursive walk per request.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, new_id


class OrganisationKind(str, enum.Enum):
    region = "region"  # grouping node of an administrative area (our design: each province is one)
    party_committee = "party_committee"
    government = "government"
    department = "department"
    coordination_body = "coordination_body"
    coordination_office = "coordination_office"
    discipline_body = "discipline_body"
    judicial_body = "judicial_body"
    national_body = "national_body"
    enterprise = "enterprise"
    internal_unit = "internal_unit"


class OrganisationLevel(str, enum.Enum):
    national = "national"
    province = "province"
    city = "city"
    county = "county"
    township = "township"


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """Enums are stored as their value in a VARCHAR (no native PG enum), so adding
    a member is a code change, not a migration that locks the table."""
    return Enum(enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        Index("ix_organisation_parent_id_name", "parent_id", "name"),
        Index("ix_organisation_jurisdiction_id_created_at_id", "jurisdiction_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    short_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    level: Mapped[OrganisationLevel] = mapped_column(enum_column(OrganisationLevel))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    # The root of this organisation's tree: the tenant key for scoping and, later, distribution.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    profile_code: Mapped[str | None] = mapped_column(String(32))  # set on roots: which jurisdiction profile
    superior_department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    major_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_person: Mapped[str | None] = mapped_column(String(100))
    lead_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    complaint_channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class OrganisationClosure(Base):
    """Transitive closure of the parent relation, maintained by the organisation service."""

    __tablename__ = "organisation_closure"
    __table_args__ = (Index("ix_organisation_closure_descendant_id_depth", "descendant_id", "depth"),)

    ancestor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    descendant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)


class CoordinationMember(Base):
    """Member units (成员单位) of a coordination body: 002 §(八), 003 §(二十).

    An office serving the body sees its member units (DOMAIN.md, scope rules)."""

    __tablename__ = "coordination_member"
    body_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True, index=True)
