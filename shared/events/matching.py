"""Events the matching service publishes that other services act on.

Declared ahead of the matching service itself so that registry's handler (jobseeker status
follows referrals) is in place and contract-tested before the first referral is ever made.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import MATCHING_REFERRALS

ReferralState = Literal[
    "referred", "interviewed", "offered", "placed", "rejected", "withdrawn", "no_show"
]
OPEN_REFERRAL_STATES = frozenset({"referred", "interviewed", "offered"})


@catalogued
class ReferralStatusChanged(Event):
    """A referral of a person to a vacancy was made (`previous_status` null) or moved on."""

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "referral"
    verb: ClassVar[str] = "status_changed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_REFERRALS
    subject_field: ClassVar[str] = "referral_id"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    vacancy_id: uuid.UUID
    status: ReferralState
    previous_status: ReferralState | None = None
    overseas: bool = Field(default=False, description="The vacancy is abroad (a demand letter)")
    changed_by: str
    changed_at: datetime
