"""Request and response bodies of name lists and the recruitment cost ledger."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.matching.recruitment.domain import EntryStatus, PaidBy
from services.matching.referrals.domain import ReferralStatus
from shared.events.matching import CostItem
from shared.fields import Currency

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

# A demand letter's name list is sent in one go; more rows than this come in several batches.
MAX_ROWS = 500


class NameListRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID = Field(description="A person with an open referral to the vacancy")


class NameListSubmission(BaseModel):
    """Selected workers, all or none: a bad row refuses the whole submission."""

    model_config = ConfigDict(extra="forbid")

    entries: Annotated[list[NameListRow], Field(min_length=1, max_length=MAX_ROWS)]


class NameListWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class NameListEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    referral_id: uuid.UUID
    referral_status: ReferralStatus
    status: EntryStatus
    submitted_by: str
    submitted_at: datetime
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


class NameListRead(BaseModel):
    vacancy_id: uuid.UUID
    quota: int = Field(description="The demand letter's positions")
    selected: int
    remaining: int
    entries: list[NameListEntryRead]


class NameListSubmitted(NameListRead):
    added: list[uuid.UUID] = Field(description="People selected by this submission")
    unchanged: list[uuid.UUID] = Field(description="People sent who were already selected")


class CostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID = Field(description="A worker on the vacancy's name list")
    item: CostItem
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: Currency = Field(examples=["THB", "LAK"])
    paid_by: PaidBy
    paid_on: date | None = Field(default=None, description="Not in the future")
    note: Note | None = None


class CostRead(BaseModel):
    id: uuid.UUID
    vacancy_id: uuid.UUID
    agency_id: uuid.UUID
    person_id: uuid.UUID
    item: CostItem
    amount: Decimal
    currency: str
    paid_by: PaidBy
    paid_on: date | None
    note: str | None
    recorded_by: str
    recorded_at: datetime
    flagged: bool = Field(description="Paid by the worker: counts against the agency")
    rule: str | None = Field(description="The rule a flagged cost breaks")


class PayerTotalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    paid_by: PaidBy
    currency: str
    amount: Decimal
    entries: int


class CurrencyTotalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    amount: Decimal
    entries: int


class CostLedger(BaseModel):
    vacancy_id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="The worker the ledger is limited to")
    items: list[CostRead]
    totals: list[PayerTotalRead] = Field(description="Per payer and currency")
    currency_totals: list[CurrencyTotalRead] = Field(description="Per currency, every payer")
    flagged: int = Field(description="Costs paid by the worker")
