"""Bodies of `/organisations/{id}/designations`: who fills the roles profiles name in a region."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.models import DesignationKey

KeyField = Field(description="The role: 党委和政府 (jointly), 生态环境厅/局, 督察领导小组办公室, 环委会, 环委办, "
                             "纪委监委, 组织部.", examples=["environment_department"])


class DesignationRead(BaseModel):
    key: DesignationKey = KeyField
    organisation_ids: list[uuid.UUID] = Field(description="Who fills it here (several: jointly, as 省委、省政府).")
    organisation_names: list[str] = Field(description="Their names, in the same order.", examples=[["海南省生态环境厅"]])
    by_default: bool = Field(description="True when no row names them and the region's own 党委/政府 children "
                                         "are used.")


class DesignationsRead(BaseModel):
    region_id: uuid.UUID = Field(description="The region (kind `region`).")
    version: int = Field(description="The region's version; its ETag guards a replacement.", examples=[3])
    items: list[DesignationRead] = Field(description="Every key, filled or empty.")


class DesignationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: DesignationKey = KeyField
    organisation_ids: list[uuid.UUID] = Field(max_length=10, description="Active organisations inside the region; "
                                                                       "[] clears the key (back to the default).",
                                              examples=[["01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"]])


class DesignationsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[DesignationEntry] = Field(min_length=1, max_length=len(DesignationKey),
                                          description="The keys to replace; keys not listed stay as they are.")
