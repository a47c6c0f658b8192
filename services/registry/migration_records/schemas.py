"""API shapes for migration records."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.registry.migration_records.domain import Channel, MigrationStatus, ReturnReason
from shared.fields import Country

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
DocumentNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9-]{4,40}$")
]
SkillTag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Documents(BaseModel):
    """Travel and work documents; each change replaces the fields it sends."""

    model_config = ConfigDict(extra="forbid")

    passport_number: DocumentNumber | None = None
    passport_expires_on: date | None = None
    visa_number: DocumentNumber | None = None
    visa_expires_on: date | None = None
    permit_number: DocumentNumber | None = None
    permit_issued_on: date | None = None
    permit_extended: bool | None = Field(
        default=None, description="An MOU permit extended once by two more years"
    )


class MigrationCreate(Documents):
    destination_country: Country = Field(examples=["TH"])
    channel: Channel
    agency_code: Code | None = Field(default=None, description="Licensed recruitment agency")
    employer_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None


class MigrationStatusIn(Documents):
    status: MigrationStatus
    on: date | None = Field(default=None, description="Departure or return date")
    return_reason: ReturnReason | None = None
    skills_gained: list[SkillTag] = Field(default_factory=list, max_length=50)
    agency_code: Code | None = None


class MigrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    status: MigrationStatus
    destination_country: str
    channel: Channel
    agency_code: str | None
    employer_name: str | None
    departed_on: date | None
    returned_on: date | None
    return_reason: ReturnReason | None
    skills_gained: list[str]
    passport_number: str | None
    passport_expires_on: date | None
    visa_number: str | None
    visa_expires_on: date | None
    permit_number: str | None
    permit_issued_on: date | None
    permit_extended: bool
    permit_expires_on: date | None = Field(description="MOU permits: 2 years, or 4 if extended")
    return_due_on: date | None = Field(description="MOU: 30 days before the permit ends")
    office_code: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class MigrationList(BaseModel):
    items: list[MigrationRead]
