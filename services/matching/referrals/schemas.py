"""Request and response bodies of referrals and placements."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.matching.referrals.domain import ReferralStatus


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vacancy_id: uuid.UUID
    person_id: uuid.UUID
    note: str | None = Field(default=None, max_length=2000)


class ReferralStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ReferralStatus = Field(description="Not `placed`: use the placement route")
    reason: str | None = Field(default=None, max_length=2000)


class PlacementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date | None = None


class PlacementEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_on: date
    reason: str = Field(min_length=1, max_length=2000)


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: ReferralStatus
    previous_status: ReferralStatus | None
    reason: str | None
    changed_by: str
    changed_at: datetime


class ReferralRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    vacancy_id: uuid.UUID
    person_id: uuid.UUID
    status: ReferralStatus
    overseas: bool
    province_code: str
    person_province_code: str
    agency_id: uuid.UUID | None
    score: float | None
    note: str | None
    office_code: str | None
    referred_by: str
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangeRead] = Field(default_factory=list)


class ReferralList(BaseModel):
    items: list[ReferralRead]
    next_cursor: str | None = None


class PlacementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    referral_id: uuid.UUID
    vacancy_id: uuid.UUID
    person_id: uuid.UUID
    status: str
    overseas: bool
    starts_on: date | None
    ended_on: date | None = None
    end_reason: str | None = None
    placed_by: str
    placed_at: datetime
