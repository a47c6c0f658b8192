"""The registry's API for one person's record, as the console's pages read and change it:
registration and the duplicate check, the whole record, consents, jobseeker status, migration
records, serving a person of another province, the audit trail and erasure."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from services.console.apis.registry import Person, PersonCard

if TYPE_CHECKING:
    from services.console.apis.client import Api


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Document(_Read):
    kind: str
    number: str
    country: str
    issued_on: date | None = None
    expires_on: date | None = None


class Jobseeker(_Read):
    status: str
    status_reason: str | None = None
    status_changed_at: datetime | None = None


class PersonRecord(Person):
    """The whole record, as `GET /v1/people/{id}` answers it."""

    ethnicity: str | None = None
    email: str | None = None
    documents: list[Document] = Field(default_factory=list)
    isced_level: int | None = None
    skills: list[str] = Field(default_factory=list)
    languages: list[dict[str, Any]] = Field(default_factory=list)
    experience: list[dict[str, Any]] = Field(default_factory=list)
    jobseeker: Jobseeker | None = None
    registered_by: str | None = None
    version: int = 1
    updated_at: datetime | None = None


class Candidate(_Read):
    """A probable duplicate: the registry's scores and the person's identity card."""

    id: uuid.UUID
    reference: str
    score: float = 0.0
    same_date_of_birth: bool = False
    same_phone: bool = False
    card: PersonCard


class Consent(_Read):
    id: uuid.UUID
    purpose: str
    agency: str | None = None
    category: str | None = None
    status: str
    method: str
    witness_name: str | None = None
    expires_on: date | None = None
    note: str | None = None
    recorded_by: str
    office_code: str | None = None
    recorded_at: datetime


class Migration(_Read):
    id: uuid.UUID
    person_id: uuid.UUID
    status: str
    destination_country: str
    channel: str
    agency_code: str | None = None
    employer_name: str | None = None
    departed_on: date | None = None
    returned_on: date | None = None
    return_reason: str | None = None
    skills_gained: list[str] = Field(default_factory=list)
    passport_number: str | None = None
    passport_expires_on: date | None = None
    visa_number: str | None = None
    visa_expires_on: date | None = None
    permit_number: str | None = None
    permit_issued_on: date | None = None
    permit_extended: bool = False
    permit_expires_on: date | None = None
    return_due_on: date | None = None
    office_code: str | None = None
    created_at: datetime
    updated_at: datetime


class AuditEntry(_Read):
    id: int
    at: datetime
    actor: str
    office_code: str | None = None
    action: str
    fields: list[str] = Field(default_factory=list)
    reason: str | None = None
    basis: str | None = None


class AuditPage(_Read):
    items: list[AuditEntry]
    next_before_id: int | None = None


async def register(api: Api, body: dict[str, Any], *, idempotency_key: str) -> PersonRecord:
    """A registration with its jobseeker profile; a 409 (`probable-duplicate`,
    `duplicate-document`) or 422 comes back as `Rejected` with the registry's problem."""
    made = await api.send(
        "POST", "registry", "/v1/jobseekers", json=body, idempotency_key=idempotency_key
    )
    return PersonRecord.model_validate(made)


async def duplicate_check(api: Api, body: dict[str, Any]) -> list[Candidate]:
    """Who registering `body` would name as probable duplicates (nothing is written; no
    Idempotency-Key, so each check as the officer types is a fresh answer)."""
    found = await api.send(
        "POST", "registry", "/v1/people/duplicate-check", json=body, idempotency_key=None
    )
    return [Candidate.model_validate(c) for c in found["candidates"]]


async def get_record(api: Api, person: str) -> PersonRecord:
    return PersonRecord.model_validate(await api.get("registry", f"/v1/people/{person}"))


async def card_of(api: Api, reference: str) -> PersonCard | None:
    """The identity card of a person outside the officer's scope, found by their reference."""
    found = await api.get("registry", "/v1/people", {"q": reference, "limit": 1})
    cards = [PersonCard.model_validate(c) for c in found.get("cards") or []]
    return next((c for c in cards if c.reference == reference.upper()), None)


async def consents(api: Api, person: str) -> list[Consent]:
    found = await api.get("registry", f"/v1/people/{person}/consents")
    return [Consent.model_validate(c) for c in found["items"]]


async def record_consent(
    api: Api, person: str, decision: dict[str, Any], *, idempotency_key: str
) -> Consent:
    made = await api.send(
        "POST",
        "registry",
        f"/v1/people/{person}/consents",
        json=decision,
        idempotency_key=idempotency_key,
    )
    return Consent.model_validate(made)


async def migrations(api: Api, person: str) -> list[Migration]:
    found = await api.get("registry", f"/v1/people/{person}/migrations")
    return [Migration.model_validate(m) for m in found["items"]]


async def open_migration(
    api: Api, person: str, body: dict[str, Any], *, idempotency_key: str
) -> Migration:
    made = await api.send(
        "POST",
        "registry",
        f"/v1/people/{person}/migrations",
        json=body,
        idempotency_key=idempotency_key,
    )
    return Migration.model_validate(made)


async def change_migration_status(
    api: Api, migration_id: uuid.UUID, body: dict[str, Any], *, idempotency_key: str
) -> Migration:
    made = await api.send(
        "POST",
        "registry",
        f"/v1/migrations/{migration_id}/status",
        json=body,
        idempotency_key=idempotency_key,
    )
    return Migration.model_validate(made)


async def update_migration_documents(
    api: Api, migration_id: uuid.UUID, body: dict[str, Any]
) -> Migration:
    # A PATCH of the fields sent: sending the same change twice leaves the same record.
    made = await api.send(
        "PATCH", "registry", f"/v1/migrations/{migration_id}", json=body, idempotency_key=None
    )
    return Migration.model_validate(made)


async def _with_reason(
    api: Api, person: str, action: str, reason: str, *, idempotency_key: str
) -> None:
    """POST the officer's reason to one of the registry's actions on a person."""
    await api.send(
        "POST",
        "registry",
        f"/v1/people/{person}/{action}",
        json={"reason": reason},
        idempotency_key=idempotency_key,
    )


async def record_visit(api: Api, person: str, reason: str, *, idempotency_key: str) -> None:
    await _with_reason(api, person, "visits", reason, idempotency_key=idempotency_key)


async def take_over(api: Api, person: str, reason: str, *, idempotency_key: str) -> None:
    await _with_reason(api, person, "transfer", reason, idempotency_key=idempotency_key)


async def erase(api: Api, person: str, reason: str, *, idempotency_key: str) -> None:
    await _with_reason(api, person, "erasure", reason, idempotency_key=idempotency_key)


async def audit_trail(
    api: Api, person_id: uuid.UUID, *, before_id: int | None = None, limit: int = 50
) -> AuditPage:
    found = await api.get(
        "registry",
        "/v1/audit",
        {"person_id": str(person_id), "before_id": before_id, "limit": limit},
    )
    return AuditPage.model_validate(found)
