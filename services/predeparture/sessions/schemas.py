"""API shapes for orientation sessions and enrolments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.predeparture.completions.schemas import Recomputed
from services.predeparture.sessions.domain import MAX_CAPACITY, EnrolmentStatus, SessionStatus
from shared.fields import Country, Language, Name, Place

Venue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
ModuleCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]
Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY)]
Modules = Annotated[list[ModuleCode], Field(min_length=1, max_length=50)]


class SessionCreate(BaseModel):
    """A session to schedule at a Migrant Resource Centre, or in a village (outreach)."""

    model_config = ConfigDict(extra="forbid")

    office_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = Field(
        examples=["MRC-SV"]
    )
    curriculum_id: uuid.UUID
    starts_at: AwareDatetime = Field(description="With its time zone, e.g. +07:00")
    ends_at: AwareDatetime
    facilitator: Name
    language: Language = Field(examples=["lo"], description="ISO 639 code it is given in")
    venue: Venue
    outreach: bool = Field(default=False, description="Held in a village, not at the office")
    district: Place | None = None
    village: Place | None = None
    capacity: Capacity
    planned_modules: Modules = Field(description="Codes of modules of the curriculum")


class SessionUpdate(BaseModel):
    """A partial change of a scheduled session; the office and curriculum stay."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    facilitator: Name | None = None
    language: Language | None = None
    venue: Venue | None = None
    outreach: bool | None = None
    district: Place | None = None
    village: Place | None = None
    capacity: Capacity | None = None
    planned_modules: Modules | None = None


class SessionStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: SessionStatus = Field(description="held, closed or cancelled")
    reason: Reason | None = Field(default=None, description="Required to cancel")


class SessionRead(BaseModel):
    id: uuid.UUID
    office_code: str
    province_code: str
    curriculum_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    facilitator: str
    language: str
    venue: str
    outreach: bool
    district: str | None
    village: str | None
    capacity: int
    planned_modules: list[str]
    status: SessionStatus
    status_reason: str | None
    entered_late: bool = Field(
        description="Held without a connection and entered afterwards from paper; created_by"
        " and created_at say who entered it and when"
    )
    enrolled: int
    waitlisted: int
    places_left: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class SessionStatusRead(SessionRead):
    """The session after a change of status; closing it issues the certificates of those who
    completed orientation with it."""

    certificates: Recomputed = Field(
        default_factory=Recomputed, description="Issued or withdrawn by this change"
    )


class SessionPage(BaseModel):
    items: list[SessionRead]
    next_cursor: str | None = None


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    destination_country: Country | None = Field(
        default=None, examples=["TH"], description="ISO 3166-1 alpha-2 the person prepares for"
    )


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class EnrolmentRead(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    person_id: uuid.UUID
    # From the learners read model; null once the person was erased.
    reference: str | None
    initials: str | None
    status: EnrolmentStatus
    automatic: bool
    destination_country: str | None
    reason: str | None
    waitlist_position: int | None = Field(
        default=None, description="1 for the next to move up; null unless waitlisted"
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class Roster(BaseModel):
    """Who holds a place, and the waiting list in the order places are offered."""

    session_id: uuid.UUID
    status: SessionStatus
    capacity: int
    enrolled: list[EnrolmentRead]
    waitlisted: list[EnrolmentRead]
