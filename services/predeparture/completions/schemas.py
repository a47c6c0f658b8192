"""Response bodies of completions, certificates and a person's orientation record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.predeparture.completions.domain import CertificateState, Shortfall


class CertificateRead(BaseModel):
    """A certificate as staff see it (never its verification code: that is printed only)."""

    person_id: uuid.UUID
    certificate_number: str
    destination_country: str
    curriculum_id: uuid.UUID
    completed_on: date
    valid_until: date
    office_code: str | None
    state: CertificateState = Field(description="valid, withdrawn, or expired by its date")
    withdrawn_reason: str | None
    issued_at: datetime
    withdrawn_at: datetime | None


class CertificateChange(BaseModel):
    """A certificate issued or withdrawn by a change of attendance."""

    person_id: uuid.UUID
    destination_country: str
    certificate_number: str
    completed_on: date


class Recomputed(BaseModel):
    issued: list[CertificateChange] = Field(default_factory=list)
    withdrawn: list[CertificateChange] = Field(default_factory=list)


class AttendanceRecord(BaseModel):
    session_id: uuid.UUID
    office_code: str
    attended_on: date = Field(description="The session's start date, Lao time")
    curriculum_code: str
    module_code: str
    status: str
    note: str | None
    counted: bool = Field(
        description="False while the session is not closed: its roster counts once it is"
    )


class CurriculumRef(BaseModel):
    id: uuid.UUID
    code: str
    version: int


class DestinationProgress(BaseModel):
    """Where the person stands for one destination under the curriculum that suits them best."""

    destination_country: str
    complete: bool
    completed_on: date | None = None
    curriculum: CurriculumRef | None = None
    required: list[str] = Field(default_factory=list)
    attended: list[str] = Field(
        default_factory=list, description="Required modules attended (present) at least once"
    )
    missing: list[str] = Field(
        default_factory=list,
        description="Modules still to attend: never attended, or attended too long ago",
    )
    shortfall: Shortfall | None = None


class OrientationRead(BaseModel):
    person_id: uuid.UUID
    initials: str | None
    destination_country: str | None = Field(description="From the person's migration record")
    destinations: list[DestinationProgress]
    attendance: list[AttendanceRecord]
    certificates: list[CertificateRead]


class Verification(BaseModel):
    """The public answer about a certificate: nothing that identifies the person beyond
    initials."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["valid", "withdrawn", "expired"]
    initials: str | None
    destination_country: str
    completed_on: date
    valid_until: date
    certificate_number: str
