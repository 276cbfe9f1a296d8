"""Enum labels for user interfaces."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from app.dependencies import public
from app.schemas.enums import ENUM_NAMES, LABELS

router = APIRouter(tags=["meta"])


class EnumValue(BaseModel):
    value: str = Field(description="The value the API uses.", examples=["department"])
    zh: str = Field(description="Chinese label.", examples=["职能部门"])
    en: str = Field(description="English label.", examples=["Functional department"])


class EnumsRead(BaseModel):
    enums: dict[str, list[EnumValue]] = Field(description="Enum name → its values with labels.")


@router.get("/meta/enums", response_model=EnumsRead, dependencies=[public()])
async def list_enums(response: Response) -> EnumsRead:
    """Every enum with zh/en labels. Public and cacheable: it changes only with a release."""
    response.headers["Cache-Control"] = "public, max-age=3600"
    return EnumsRead(enums={
        ENUM_NAMES[enum_cls]: [EnumValue(value=m.value, zh=labels[m.value][0], en=labels[m.value][1])
                               for m in enum_cls]
        for enum_cls, labels in LABELS.items()})
