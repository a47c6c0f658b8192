"""The candidate read model as office staff read it: what matching knows and why it excludes."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Exclusion(BaseModel):
    code: str = Field(description="Stable code of the hard filter, e.g. no_consent, abroad")
    detail: str


class ExperienceRead(BaseModel):
    isco08: str
    years: float


class OrientationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    destination_country: str
    certificate_number: str
    completed_on: date
    valid_until: date = Field(description="Last day the orientation counts for a departure")


class CandidateRead(BaseModel):
    """A person as matching keeps them: no ethnicity, disability, religion or contact details."""

    person_id: uuid.UUID
    reference: str
    display_name: str
    sex: str = Field(description="Kept for placement statistics; ranking never reads it")
    date_of_birth: date
    province_code: str
    district: str | None
    office_code: str | None
    isced_level: int | None
    skills: list[str]
    languages: list[str]
    experience: list[ExperienceRead]
    desired_occupations: list[str]
    preferred_provinces: list[str]
    willing_abroad: bool
    abroad_countries: list[str]
    jobseeker_status: str | None = Field(description="Null when registered without a profile")
    migration_status: str | None = Field(description="Of the latest migration record")
    migration_destination: str | None = Field(description="Of the latest migration record")
    consent_job_matching: bool
    consent_expires_on: date | None
    consent_recorded_at: datetime | None
    passport_expires_on: date | None
    record_status: str = Field(description="active, or merged (see merged_into)")
    merged_into: uuid.UUID | None
    serving_offices: list[str] = Field(
        description="Offices of other provinces serving the person (a visit or an enrolment)"
    )
    record_version: int
    match_keys: list[str] = Field(description="Retrieval keys ranking finds the person by")
    eligible: bool = Field(
        description="Can be matched, the consent's expiry apart (checked in `exclusions`)"
    )
    exclusions: list[Exclusion] = Field(
        description="Why the person cannot be matched today; empty when they can"
    )
    orientations: list[OrientationRead]
    updated_at: datetime
