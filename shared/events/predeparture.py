"""Events the predeparture service publishes about orientation.

Declared ahead of the predeparture service itself so that matching's candidate read model
(overseas readiness) is in place and contract-tested before the first certificate is issued.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import PREDEPARTURE_ORIENTATIONS


class OrientationEvent(Event):
    service: ClassVar[str] = "predeparture"
    entity: ClassVar[str] = "orientation"
    topic: ClassVar[str] = PREDEPARTURE_ORIENTATIONS
    # Keyed by person: a person's completions and withdrawals stay in order.
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID
    certificate_number: str
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
