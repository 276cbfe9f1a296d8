"""Response shapes for jurisdiction profiles (the full profile model lives in app/profiles)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ProfileSummary(BaseModel):
    code: str = Field(description="Profile code.", examples=["hainan"])
    version: int = Field(description="Raised whenever a rule changes; history keeps the old one.", examples=[1])
    name: str = Field(description="Chinese name.", examples=["海南省"])
    name_en: str = Field(description="English name.", examples=["Hainan"])
    document_number: str | None = Field(description="The source document's number.", examples=["琼环督字〔2024〕2号"])
    issued_on: date | None = Field(description="The document's 印发 date; deadlines count from it.",
                                   examples=["2024-03-12"])


class ProfileList(BaseModel):
    items: list[ProfileSummary]


class DeadlineRead(BaseModel):
    rule: str = Field(description="Where the rule sits in the profile.", examples=["reports.annual_duty_report"])
    clause: str = Field(description="The clause it comes from.", examples=["000 §(十二)"])
    due_date: date | None = Field(description="The computed date; null when the text sets none.",
                                  examples=["2025-01-31"])
    undated: bool = Field(description="True when the text gives no date (定期, 及时, 每年 without a day).")
    falls_on_rest_day: bool = Field(description="The date is a weekend or holiday; it stays as written.")
    calendar_estimated: bool = Field(description="The holiday calendar does not cover that year yet.")
    rule_text: str = Field(description="The rule in English.", examples=["by Jan 31 of the following year"])
    rule_text_zh: str = Field(description="The rule in Chinese.", examples=["次年1月31日前"])


class DeadlineList(BaseModel):
    profile: str = Field(examples=["hainan"])
    period_year: int = Field(description="The reporting period the dates are computed for.", examples=[2024])
    items: list[DeadlineRead]
