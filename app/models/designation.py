"""Designations: which organisation fills a role the jurisdiction profile names.

Profiles name bodies symbolically ("省生态环境厅 reviews", "the 督察领导小组办公室
convenes", "省委、省政府 审定": `app.profiles.schema.OrgRole`); the tree does not say
which row is 省生态环境厅. A designation says it, per administrative region (a
`region` organisation: the province root, a city, a county), so the same key
resolves to the city's bodies for a city's matters (000 §(七) "市县参照落实").

One exception needs no row: a region's 党委和政府 are, by default, its direct
children of kind `party_committee` and `government` (how every province's tree is
built); a designation of that key overrides the default. The resolver is
`app.services.designations`.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.organisation import enum_column


class DesignationKey(str, enum.Enum):
    party_committee_and_government = "party_committee_and_government"  # 党委和政府 (jointly: 省委、省政府)
    environment_department = "environment_department"  # 生态环境厅 / 生态环境局
    inspection_office = "inspection_office"  # 督察领导小组办公室 (Hainan's 督察办)
    environment_committee = "environment_committee"  # 生态环境保护委员会 (环委会)
    environment_committee_office = "environment_committee_office"  # 环委办
    discipline_body = "discipline_body"  # 纪委监委
    organisation_department = "organisation_department"  # 党委组织部


class Designation(Base):
    __tablename__ = "designation"

    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    key: Mapped[DesignationKey] = mapped_column(enum_column(DesignationKey, 48), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), primary_key=True,
                                                       index=True)
