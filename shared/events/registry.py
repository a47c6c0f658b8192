"""Events the registry service publishes about people."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import REGISTRY_PEOPLE

Sex = Literal["female", "male", "other"]
Language = Literal["lo", "en", "th"]


class PersonEvent(Event):
    service: ClassVar[str] = "registry"
    entity: ClassVar[str] = "person"
    topic: ClassVar[str] = REGISTRY_PEOPLE
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID


@catalogued
class PersonRegistered(PersonEvent):
    """A person was registered at an ESC or MRC."""

    verb: ClassVar[str] = "registered"
    version: ClassVar[int] = 1

    reference: str = Field(description="Short code staff and the person quote, e.g. on the phone")
    given_name_lo: str | None = None
    family_name_lo: str | None = None
    given_name_en: str | None = None
    family_name_en: str | None = None
    sex: Sex
    date_of_birth: date
    phone: str | None = Field(default=None, description="E.164")
    province_code: str = Field(description="ISO 3166-2:LA")
    office_code: str | None = None
    preferred_language: Language = "lo"
    registered_by: str
    registered_at: datetime


ConsentPurpose = Literal[
    "registration", "job_matching", "contact_sms", "contact_email", "partner_sharing"
]
ConsentState = Literal["requested", "given", "renewed", "refused", "withdrawn", "invalidated"]


@catalogued
class ConsentChanged(PersonEvent):
    """A person's consent for one purpose changed; downstream services must honour it.

    For `partner_sharing` exactly one of `agency` and `category` says which partners it covers.
    A consent in force (`given`, `renewed`) stops counting after `expires_on`.
    """

    verb: ClassVar[str] = "consent_changed"
    version: ClassVar[int] = 1

    consent_id: uuid.UUID
    purpose: ConsentPurpose
    agency: str | None = Field(default=None, description="Partner agency code")
    category: str | None = Field(default=None, description="Category of partner agencies")
    status: ConsentState
    expires_on: date | None = None
    method: Literal["signed", "thumbprint", "verbal", "electronic"]
    recorded_by: str
    office_code: str | None = None
    recorded_at: datetime


MigrationState = Literal["prospective", "ready", "departed", "abroad", "returned", "cancelled"]


@catalogued
class MigrationStatusChanged(PersonEvent):
    """A migration record was opened (`previous_status` null) or moved along its lifecycle.

    `return_due_on` is the last day an MOU worker should be home (30 days before the work permit
    ends); notify reminds the worker ahead of it.
    """

    verb: ClassVar[str] = "migration_status_changed"
    version: ClassVar[int] = 1

    migration_id: uuid.UUID
    status: MigrationState
    previous_status: MigrationState | None = None
    destination_country: str = Field(description="ISO 3166-1 alpha-2")
    channel: Literal["mou", "other_regular", "irregular"]
    agency_code: str | None = None
    departed_on: date | None = None
    returned_on: date | None = None
    return_reason: str | None = None
    permit_expires_on: date | None = None
    return_due_on: date | None = None
    skills_gained: list[str] = Field(default_factory=list)
    changed_by: str
    office_code: str | None = None
    changed_at: datetime
