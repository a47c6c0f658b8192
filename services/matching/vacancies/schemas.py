"""API shapes for vacancies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.matching.vacancies.domain import Channel, Kind, VacancyStatus, WagePeriod
from shared.fields import Country, Currency, IscedLevel, Language, Name, Place, Province
from shared.reference.isco08 import UNIT, level, validate_isco08


def _unit_group(code: str) -> str:
    code = validate_isco08(code)
    if level(code) != UNIT:
        raise ValueError(f"{code} is not a 4-digit ISCO-08 unit group (e.g. 7112, 9211)")
    return code


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


UnitGroup = Annotated[str, AfterValidator(_unit_group)]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
DemandLetterRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Age = Annotated[int, Field(ge=0, le=99)]


class WorkerFee(BaseModel):
    """One line of the statement of fees charged to the worker; every amount must be zero."""

    model_config = ConfigDict(extra="forbid")

    item: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: Currency


class VacancyFields(BaseModel):
    """Every term of a vacancy; all optional for a change."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    isco08: UnitGroup | None = Field(default=None, examples=["7112"])
    employer_id: uuid.UUID | None = None
    province_code: Province | None = Field(
        default=None, description="Where the job is; for overseas, the province recruited in"
    )
    district: Place | None = None
    destination_country: Country | None = Field(default=None, examples=["TH"])
    foreign_employer: Name | None = None
    demand_letter_ref: DemandLetterRef | None = None
    channel: Channel | None = None
    required_skills: Annotated[list[Skill], Field(max_length=30)] | None = None
    min_isced: IscedLevel | None = Field(default=None, description="ISCED 2011 level, 0 to 8")
    min_experience_years: Decimal | None = Field(default=None, ge=0, le=60, decimal_places=1)
    languages: Annotated[list[Language], AfterValidator(_unique), Field(max_length=10)] | None = (
        None
    )
    min_age: Age | None = Field(default=None, description="Default 15, or 18 abroad")
    max_age: Age | None = None
    positions: int | None = Field(default=None, ge=1, le=100_000)
    wage_amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    wage_currency: Currency | None = Field(default=None, examples=["LAK", "THB"])
    wage_period: WagePeriod | None = None
    contract_months: int | None = Field(default=None, ge=1, le=120)
    starts_on: date | None = None
    closes_on: date | None = None
    worker_fees: Annotated[list[WorkerFee], Field(max_length=30)] | None = Field(
        default=None,
        description="Statement of fees charged to the worker: must total zero (Employer Pays)",
    )


class VacancyCreate(VacancyFields):
    kind: Kind
    title: Title
    isco08: UnitGroup = Field(examples=["7112"])
    agency_id: uuid.UUID | None = Field(
        default=None, description="Overseas: the licensed agency; an agent's own by default"
    )
    province_code: Province = Field(examples=["LA-VT"])
    positions: int = Field(ge=1, le=100_000)
    wage_amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    wage_currency: Currency = Field(examples=["LAK", "THB"])
    wage_period: WagePeriod
    required_skills: Annotated[list[Skill], Field(max_length=30)] = Field(default_factory=list)
    languages: Annotated[list[Language], AfterValidator(_unique), Field(max_length=10)] = Field(
        default_factory=list
    )
    min_experience_years: Decimal = Field(default=Decimal(0), ge=0, le=60, decimal_places=1)
    worker_fees: Annotated[list[WorkerFee], Field(max_length=30)] = Field(default_factory=list)


class VacancyUpdate(VacancyFields):
    """A partial change. Drafts: any term; published or paused: description, closes_on, and
    positions upwards only."""


class VacancyStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: VacancyStatus = Field(description="published, filled or closed")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class VacancyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    kind: Kind
    status: VacancyStatus
    status_reason: str | None
    title: str
    description: str | None
    isco08: str
    employer_id: uuid.UUID | None
    province_code: str
    district: str | None
    agency_id: uuid.UUID | None
    destination_country: str | None
    foreign_employer: str | None
    demand_letter_ref: str | None
    channel: Channel | None
    required_skills: list[str]
    min_isced: int | None
    min_experience_years: Decimal
    languages: list[str]
    min_age: int
    max_age: int | None
    positions: int
    open_positions: int
    wage_amount: Decimal
    wage_currency: str
    wage_period: WagePeriod
    contract_months: int | None
    starts_on: date | None
    closes_on: date | None
    worker_fees: list[dict[str, Any]]
    worker_fee_total: Decimal
    office_code: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    version: int


class VacancyPage(BaseModel):
    items: list[VacancyRead]
    next_cursor: str | None = None
