"""Events the predeparture service publishes about orientation.

Declared ahead of the predeparture service itself so that matching's candidate read model
(overseas readiness) is in place and contract-tested before the first certificate is issued.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import PREDEPARTURE_ORIENTATIONS
from shared.personal import IDENTIFIER, Personal


class OrientationEvent(Event):
    service: ClassVar[str] = "predeparture"
    entity: ClassVar[str] = "orientation"
    topic: ClassVar[str] = PREDEPARTURE_ORIENTATIONS
    # Keyed by person: a person's completions and withdrawals stay in order.
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID
    # Printed on the person's certificate and verifiable by anyone who holds it.
    certificate_number: Annotated[str, Personal(IDENTIFIER)]
    destination_country: str = Field(description="ISO 3166-1 alpha-2 the orientation covers")


@catalogued
class OrientationCompleted(OrientationEvent):
    """A person met the completion rule for a destination; a certificate was issued."""

    verb: ClassVar[str] = "completed"
    version: ClassVar[int] = 1

    completed_on: date
    valid_until: date = Field(description="Last day the orientation counts for a departure")
    office_code: str | None = None
    recorded_at: datetime


@catalogued
class OrientationCompletionWithdrawn(OrientationEvent):
    """A completion no longer holds (an attendance correction after closing): the certificate is
    void and the person is not ready until they complete again."""

    verb: ClassVar[str] = "completion_withdrawn"
    version: ClassVar[int] = 1

    reason: str
    recorded_at: datetime


SessionState = Literal["scheduled", "held", "closed", "cancelled"]


@catalogued
class SessionStatusChanged(Event):
    """An orientation session was scheduled (`previous_status` null), changed, held, closed or
    cancelled; a cancellation is followed by each enrolled person's EnrolmentChanged."""

    service: ClassVar[str] = "predeparture"
    entity: ClassVar[str] = "session"
    verb: ClassVar[str] = "status_changed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = PREDEPARTURE_ORIENTATIONS
    subject_field: ClassVar[str] = "session_id"

    session_id: uuid.UUID
    office_code: str
    province_code: str = Field(description="ISO 3166-2:LA province where the session is held")
    status: SessionState
    previous_status: SessionState | None = None
    reason: str | None = None
    starts_at: datetime
    ends_at: datetime
    venue: str
    outreach: bool = Field(default=False, description="Held in a village, not at the office")
    language: str = Field(description="ISO 639-1 code of the language it is given in")
    capacity: int
    changed_by: str
    changed_at: datetime
    entered_late: bool = Field(
        default=False,
        description="Held on a day without a connection and entered afterwards from paper",
    )
    entered_late_by: str | None = Field(default=None, description="Who entered it late")
    entered_late_at: datetime | None = Field(default=None, description="When it was entered")


EnrolmentState = Literal["enrolled", "waitlisted", "cancelled"]


@catalogued
class EnrolmentChanged(Event):
    """A person was enrolled in a session (by staff, or invited automatically), put on its
    waiting list, moved up from it, or their place was cancelled (by them, staff, or the
    session's cancellation). Notify turns these into invitations and notices."""

    service: ClassVar[str] = "predeparture"
    entity: ClassVar[str] = "enrolment"
    verb: ClassVar[str] = "status_changed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = PREDEPARTURE_ORIENTATIONS
    # Keyed by person, like their completions: a person's orientation events stay in order.
    subject_field: ClassVar[str] = "person_id"

    enrolment_id: uuid.UUID
    session_id: uuid.UUID
    person_id: uuid.UUID
    status: EnrolmentState
    previous_status: EnrolmentState | None = None
    automatic: bool = Field(
        default=False, description="Invited by the service, not enrolled by staff"
    )
    reason: str | None = None
    office_code: str
    starts_at: datetime
    venue: str
    language: str
    changed_by: str
    changed_at: datetime
    entered_late: bool = Field(
        default=False,
        description="The session was entered late, after it was held: the person was there "
        "already, so this is a record, not an invitation",
    )


@catalogued
class OrientationRequired(Event):
    """A person was offered work abroad for a destination they have no valid orientation for;
    they are invited to the next session (EnrolmentChanged follows when there is one)."""

    service: ClassVar[str] = "predeparture"
    entity: ClassVar[str] = "orientation"
    verb: ClassVar[str] = "required"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = PREDEPARTURE_ORIENTATIONS
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID
    destination_country: str = Field(description="ISO 3166-1 alpha-2")
    referral_id: uuid.UUID | None = None
    vacancy_id: uuid.UUID | None = None
    reason: str
    recorded_at: datetime
