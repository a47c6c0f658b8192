"""API shapes for recruitment agencies, their licences and complaints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from services.matching.agencies.domain import AgencyStatus, ComplaintCategory, ComplaintStatus
from shared.events.matching import AgencyState
from shared.fields import Country, Name, Phone, Province


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Destinations = Annotated[
    list[Country], AfterValidator(_unique), Field(min_length=1, max_length=50, examples=[["TH"]])
]
AgencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9-]{2,20}$")
]
LicenceNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9/.-]{3,50}$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AgencyCreate(BaseModel):
    """A licensed recruitment agency as the ministry's supervisors record it."""

    model_config = ConfigDict(extra="forbid")

    code: AgencyCode = Field(examples=["AG-017"], description="The code agents' tokens carry")
    name: Name
    licence_number: LicenceNumber
    licence_issued_on: date
    licence_expires_on: date
    destinations: Destinations = Field(description="ISO 3166-1 alpha-2 countries licensed for")
    province_code: Province = Field(examples=["LA-VT"], description="Where its office is")
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    contact_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None
    contact_phone: Phone | None = None
    contact_email: EmailStr | None = None


class AgencyStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AgencyStatus = Field(description="suspended, revoked, or active to reinstate")
    reason: Text | None = Field(default=None, description="Required to suspend or revoke")
    effective_on: date | None = Field(default=None, description="Default today")


class LicenceRenewal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    licence_expires_on: date
    licence_number: LicenceNumber | None = None
    licence_issued_on: date | None = Field(default=None, description="Default: unchanged")
    destinations: Destinations | None = None


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    previous_status: str | None
    reason: str | None
    effective_on: date
    changed_by: str
    changed_at: datetime


class AgencyRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    status: AgencyState = Field(description="Effective today: `expired` once the licence ran out")
    recorded_status: AgencyStatus = Field(description="The supervisors' last decision")
    status_reason: str | None
    status_changed_on: date | None
    licence_number: str
    licence_issued_on: date
    licence_expires_on: date
    destinations: list[str]
    province_code: str
    address: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    open_complaints: int = Field(description="Complaints open or under investigation")
    complaints_total: int
    worker_paid_costs: int = Field(description="Recruitment costs recorded as paid by workers")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class AgencyDetail(AgencyRead):
    history: list[StatusChangeRead] = Field(default_factory=list)


class AgencyPage(BaseModel):
    items: list[AgencyRead]
    next_cursor: str | None = None


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: ComplaintCategory
    received_on: date
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5000)
    ]
    person_id: uuid.UUID | None = Field(
        default=None, description="The complainant when registered; complaints may be anonymous"
    )


class ComplaintStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ComplaintStatus = Field(description="investigating, upheld or dismissed")
    outcome: Text | None = Field(default=None, description="Required to uphold or dismiss")


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agency_id: uuid.UUID
    category: ComplaintCategory
    received_on: date
    person_id: uuid.UUID | None
    description: str
    status: ComplaintStatus
    outcome: str | None
    recorded_by: str
    office_code: str | None
    created_at: datetime
    updated_at: datetime


class ComplaintList(BaseModel):
    items: list[ComplaintRead]
