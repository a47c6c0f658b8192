"""API shapes for learners: the people predeparture knows from registry's events."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class LearnerEnrolment(BaseModel):
    """One of the person's places or turns, with the session it is in."""

    enrolment_id: uuid.UUID
    session_id: uuid.UUID
    status: str
    automatic: bool
    destination_country: str | None
    office_code: str
    session_status: str
    starts_at: datetime


class LearnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: uuid.UUID
    reference: str
    initials: str
    given_name_lo: str | None
    family_name_lo: str | None
    given_name_en: str | None
    family_name_en: str | None
    sex: str
    date_of_birth: date
    province_code: str
    office_code: str | None
    serving_offices: list[str] = Field(
        description="Offices outside the person's province that serve them (registry's links)"
    )
    migration_status: str | None
    destination_country: str | None
    record_status: str
    merged_into: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class LearnerDetail(LearnerRead):
    """A learner with their enrolments, newest first, and whether they wait for orientation."""

    awaiting: bool
    enrolments: list[LearnerEnrolment]


class LearnerPage(BaseModel):
    items: list[LearnerRead]
    next_cursor: str | None = None
