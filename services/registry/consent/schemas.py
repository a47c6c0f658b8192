"""API shapes for consent decisions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.registry.consent.domain import ConsentStatus, Method, Purpose

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]

# Statuses staff record; `expired` is derived from expires_on, never sent.
Recordable = Literal["requested", "given", "renewed", "refused", "withdrawn", "invalidated"]


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Code | None = Field(default=None, examples=["IOM-LA"])
    category: Code | None = Field(default=None, examples=["un_agencies"])


class ConsentDecisionIn(BaseModel):
    """One decision of the person, as the officer records it."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    scope: ScopeIn = Field(default_factory=ScopeIn)
    status: Recordable
    method: Method
    witness_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None
    expires_on: date | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    purpose: Purpose
    agency: str | None
    category: str | None
    status: ConsentStatus = Field(description="Effective now: a lapsed consent reads `expired`")
    recorded_status: ConsentStatus
    method: Method
    witness_name: str | None
    expires_on: date | None
    note: str | None
    recorded_by: str
    office_code: str | None
    recorded_at: datetime


class ConsentList(BaseModel):
    items: list[ConsentRead]


class CounterConsentIn(BaseModel):
    """A consent the person gave or refused at the counter, sent with their registration."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    status: Literal["given", "refused"]
    method: Method
    agency: Code | None = Field(default=None, description="Partner agency (partner_sharing)")
    category: Code | None = Field(
        default=None, description="Category of partner agencies (partner_sharing)"
    )
    witness_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = Field(default=None, description="Needed for verbal and thumbprint consent")
    expires_on: date | None = None
