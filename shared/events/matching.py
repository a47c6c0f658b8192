"""Events the matching service publishes: referrals and placements, vacancies, agencies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import MATCHING_AGENCIES, MATCHING_REFERRALS, MATCHING_VACANCIES

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
    destination_country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 of an overseas vacancy"
    )
    changed_by: str
    changed_at: datetime


@catalogued
class PlacementMade(Event):
    """A referred person was placed in a vacancy; registry moves the migration record if abroad.

    For an overseas placement `destination_country`, `channel` and `agency_code` are set: the
    worker is now ready to depart through that licensed agency.
    """

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "placement"
    verb: ClassVar[str] = "made"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_REFERRALS
    # Keyed like the referral it closes, so it follows that referral's `placed` event in order.
    subject_field: ClassVar[str] = "referral_id"

    placement_id: uuid.UUID
    referral_id: uuid.UUID
    person_id: uuid.UUID
    vacancy_id: uuid.UUID
    isco08: str = Field(description="ISCO-08 unit group of the job")
    overseas: bool = False
    destination_country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    channel: Literal["mou", "other_regular"] | None = None
    agency_code: str | None = None
    province_code: str = Field(description="ISO 3166-2:LA province of the vacancy (recruitment)")
    starts_on: date | None = None
    contract_months: int | None = None
    placed_by: str
    placed_at: datetime


@catalogued
class PlacementEnded(Event):
    """A placement ended (the contract finished, the worker left, or it fell through before the
    start); the person may be placed again, and registry makes a placed jobseeker active."""

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "placement"
    verb: ClassVar[str] = "ended"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_REFERRALS
    # Keyed like the referral and the placement it ends, so it follows PlacementMade in order.
    subject_field: ClassVar[str] = "referral_id"

    placement_id: uuid.UUID
    referral_id: uuid.UUID
    person_id: uuid.UUID
    vacancy_id: uuid.UUID
    overseas: bool = False
    ended_on: date
    reason: str
    ended_by: str
    ended_at: datetime


VacancyState = Literal["draft", "published", "paused", "filled", "closed", "expired"]


@catalogued
class VacancyStatusChanged(Event):
    """A vacancy was drafted (`previous_status` null), published, paused, filled, closed, expired.

    Carries what partner feeds and notices need to describe the job, never who applied.
    """

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "vacancy"
    verb: ClassVar[str] = "status_changed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_VACANCIES
    subject_field: ClassVar[str] = "vacancy_id"

    vacancy_id: uuid.UUID
    reference: str
    status: VacancyState
    previous_status: VacancyState | None = None
    reason: str | None = None
    title: str
    isco08: str
    overseas: bool
    province_code: str = Field(description="ISO 3166-2:LA: where the job is, or where recruited")
    destination_country: str | None = None
    employer_id: uuid.UUID | None = None
    agency_code: str | None = None
    positions: int
    open_positions: int
    changed_by: str
    changed_at: datetime


AgencyState = Literal["active", "suspended", "revoked", "expired"]


@catalogued
class AgencyStatusChanged(Event):
    """A recruitment agency was licensed (`previous_status` null), suspended, reinstated,
    revoked, or its licence expired or was renewed."""

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "agency"
    verb: ClassVar[str] = "status_changed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_AGENCIES
    subject_field: ClassVar[str] = "agency_id"

    agency_id: uuid.UUID
    agency_code: str
    name: str
    licence_number: str
    licence_expires_on: date
    destinations: list[str] = Field(description="ISO 3166-1 alpha-2 countries it may recruit for")
    status: AgencyState
    previous_status: AgencyState | None = None
    reason: str | None = None
    effective_on: date
    changed_by: str
    changed_at: datetime


CostItem = Literal[
    "passport", "visa", "work_permit", "medical_check", "insurance", "travel", "training", "other"
]


@catalogued
class WorkerPaidCostRecorded(Event):
    """A recruitment cost was paid by the worker: against the Employer Pays Principle, it counts
    against the agency."""

    service: ClassVar[str] = "matching"
    entity: ClassVar[str] = "agency"
    verb: ClassVar[str] = "worker_paid_cost_recorded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = MATCHING_AGENCIES
    subject_field: ClassVar[str] = "agency_id"

    agency_id: uuid.UUID
    agency_code: str
    vacancy_id: uuid.UUID
    person_id: uuid.UUID
    cost_id: uuid.UUID
    item: CostItem
    amount: Decimal
    currency: str = Field(description="ISO 4217")
    recorded_by: str
    recorded_at: datetime
