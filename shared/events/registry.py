"""Events the registry service publishes about people."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field

from shared.events.base import Event, catalogued
from shared.events.topics import REGISTRY_ERASURES, REGISTRY_PEOPLE
from shared.personal import (
    BIRTH_DATE,
    CONTACT,
    ETHNICITY,
    EVENT_DATA,
    HEALTH,
    IDENTIFIER,
    IDENTITY,
    LOCATION,
    Personal,
)

Sex = Literal["female", "male", "other"]
Language = Literal["lo", "en", "th"]


class SkillCertificate(BaseModel):
    standard: str = Field(description="Skills standard, e.g. a Lao National Skills Standard")
    level: int = Field(ge=1, le=5)
    issued_on: date | None = None


class LanguageSkill(BaseModel):
    code: str = Field(description="ISO 639-1 (or 639-3 when there is no 639-1 code)")
    proficiency: Literal["basic", "conversational", "fluent", "native"]


class WorkExperience(BaseModel):
    isco08: str = Field(description="ISCO-08 occupation code")
    years: float = Field(ge=0, le=60)
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")


JobseekerState = Literal["active", "referred", "placed", "inactive"]


class JobseekerProfile(BaseModel):
    status: JobseekerState = "active"
    desired_occupations: list[str] = Field(default_factory=list, description="ISCO-08 codes")
    preferred_provinces: list[str] = Field(default_factory=list, description="ISO 3166-2:LA")
    willing_to_work_abroad: bool = False
    abroad_countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2")
    availability: Literal["full_time", "part_time", "seasonal"] | None = None
    available_from: date | None = None


ConsentPurpose = Literal[
    "registration", "job_matching", "contact_sms", "contact_email", "partner_sharing"
]
ConsentState = Literal["requested", "given", "renewed", "refused", "withdrawn", "invalidated"]


class RegistrationConsent(BaseModel):
    """A consent given or refused at the counter, recorded with the registration itself, so that
    nothing is sent on a channel before the person's answer is known."""

    purpose: ConsentPurpose
    status: Literal["given", "refused"]
    agency: str | None = Field(default=None, description="Partner agency code (partner_sharing)")
    category: str | None = Field(default=None, description="Partner category (partner_sharing)")
    expires_on: date | None = None


class PersonEvent(Event):
    service: ClassVar[str] = "registry"
    entity: ClassVar[str] = "person"
    topic: ClassVar[str] = REGISTRY_PEOPLE
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID


class PersonDetails(PersonEvent):
    """The person's record as read models keep it; identity documents stay in registry."""

    reference: Annotated[str, Personal(IDENTIFIER)] = Field(
        description="Short code staff and the person quote, e.g. on the phone"
    )
    given_name_lo: Annotated[str | None, Personal(IDENTITY)] = None
    family_name_lo: Annotated[str | None, Personal(IDENTITY)] = None
    given_name_en: Annotated[str | None, Personal(IDENTITY)] = None
    family_name_en: Annotated[str | None, Personal(IDENTITY)] = None
    sex: Sex
    date_of_birth: Annotated[date, Personal(BIRTH_DATE)]
    phone: Annotated[str | None, Personal(CONTACT)] = Field(default=None, description="E.164")
    province_code: str = Field(description="ISO 3166-2:LA")
    office_code: str | None = None
    preferred_language: Language = "lo"
    email: Annotated[str | None, Personal(CONTACT)] = None
    ethnicity: Annotated[str | None, Personal(ETHNICITY)] = Field(
        default=None, description="Code of the official ethnic group"
    )
    has_disability: Annotated[bool | None, Personal(HEALTH)] = Field(
        default=None, description="Washington Group short set cut-off; null when not asked"
    )
    district: Annotated[str | None, Personal(LOCATION)] = None
    village: Annotated[str | None, Personal(LOCATION)] = None
    isced_level: int | None = Field(default=None, description="ISCED 2011 level, 0 to 8")
    skills: list[str] = Field(default_factory=list)
    certificates: list[SkillCertificate] = Field(default_factory=list)
    languages: list[LanguageSkill] = Field(default_factory=list)
    experience: list[WorkExperience] = Field(default_factory=list)
    jobseeker: JobseekerProfile | None = Field(
        default=None, description="Present when the person is registered as a jobseeker"
    )
    passport_expires_on: date | None = Field(
        default=None,
        description="Expiry of the person's latest passport (its number stays in registry)",
    )


@catalogued
class PersonRegistered(PersonDetails):
    """A person was registered at an ESC or MRC."""

    verb: ClassVar[str] = "registered"
    version: ClassVar[int] = 1

    registered_by: str
    registered_at: datetime
    consents: list[RegistrationConsent] = Field(
        default_factory=list,
        description="Consents answered at registration; each is also a ConsentChanged after this",
    )


@catalogued
class PersonUpdated(PersonDetails):
    """A person's record changed; the payload is the whole record after the change."""

    verb: ClassVar[str] = "updated"
    version: ClassVar[int] = 1

    changed_fields: list[str]
    record_version: int
    updated_by: str
    updated_at: datetime


class SealedPersonDetails(PersonEvent):
    """The person's record as v2 events carry it: what `PersonDetails` marks `Personal` travels
    only in `sealed`, AES-256-GCM under a key of the person's own that registry destroys on
    erasure (shared/sealing.py), so no copy on any topic can be read after the erasure; the rest
    (for counts, matching and routing) is as in `PersonDetails`."""

    sealed: Annotated[
        str,
        Personal(
            EVENT_DATA,
            note="the fields marked personal in version 1 (reference, names, date of birth, "
            "phone, email, ethnicity, disability, district, village), sealed with AES-256-GCM "
            "under the person's own key, which registry destroys on erasure",
        ),
    ] = Field(
        description="URL-safe base64 of version byte, nonce and AES-256-GCM ciphertext of the "
        "JSON of the personal fields; associated data: the event type and person_id. Opened with "
        "the person's key from registry's internal person-keys endpoint"
    )
    sex: Sex
    province_code: str = Field(description="ISO 3166-2:LA")
    office_code: str | None = None
    preferred_language: Language = "lo"
    isced_level: int | None = Field(default=None, description="ISCED 2011 level, 0 to 8")
    skills: list[str] = Field(default_factory=list)
    certificates: list[SkillCertificate] = Field(default_factory=list)
    languages: list[LanguageSkill] = Field(default_factory=list)
    experience: list[WorkExperience] = Field(default_factory=list)
    jobseeker: JobseekerProfile | None = Field(
        default=None, description="Present when the person is registered as a jobseeker"
    )
    passport_expires_on: date | None = Field(
        default=None,
        description="Expiry of the person's latest passport (its number stays in registry)",
    )


@catalogued
class PersonRegisteredV2(SealedPersonDetails):
    """A person was registered at an ESC or MRC (`PersonRegistered` with its personal part
    sealed)."""

    verb: ClassVar[str] = "registered"
    version: ClassVar[int] = 2

    registered_by: str
    registered_at: datetime
    consents: list[RegistrationConsent] = Field(
        default_factory=list,
        description="Consents answered at registration; each is also a ConsentChanged after this",
    )


@catalogued
class PersonUpdatedV2(SealedPersonDetails):
    """A person's record changed (`PersonUpdated` with its personal part sealed); the payload is
    the whole record after the change."""

    verb: ClassVar[str] = "updated"
    version: ClassVar[int] = 2

    changed_fields: list[str]
    record_version: int
    updated_by: str
    updated_at: datetime


@catalogued
class PersonServedAt(PersonEvent):
    """An office outside the person's province now serves them (a visit recorded there, or an
    enrolment in one of its orientation sessions): its staff may read and act on the
    person's records in every service, as the person's own province's staff do, each access
    audited. See "Who sees what" in docs/architecture.md."""

    verb: ClassVar[str] = "served_at"
    version: ClassVar[int] = 1

    office_code: str
    office_province_code: str = Field(description="ISO 3166-2:LA of the serving office")
    basis: Literal["visit", "enrolment"]
    recorded_by: str
    recorded_at: datetime


@catalogued
class PersonMerged(PersonEvent):
    """`person_id` duplicated `survivor_id`: read models move what they hold to the survivor."""

    verb: ClassVar[str] = "merged"
    version: ClassVar[int] = 1

    survivor_id: uuid.UUID
    merged_by: str
    office_code: str | None = None
    merged_at: datetime


@catalogued
class PersonErased(PersonEvent):
    """The person asked to be erased: every service purges its copy of their personal data."""

    verb: ClassVar[str] = "erased"
    version: ClassVar[int] = 1

    erased_by: str
    office_code: str | None = None
    erased_at: datetime


@catalogued
class JobseekerStatusChanged(PersonEvent):
    """A jobseeker's status moved, by an officer or following a referral in matching."""

    verb: ClassVar[str] = "jobseeker_status_changed"
    version: ClassVar[int] = 1

    status: JobseekerState
    previous_status: JobseekerState | None = None
    reason: str | None = None
    referral_id: uuid.UUID | None = Field(
        default=None, description="The referral that caused the change, if any"
    )
    changed_by: str
    changed_at: datetime


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


@catalogued
class MigrationReturnDue(PersonEvent):
    """An MOU worker's return date is near: notify reminds them to come home in time."""

    verb: ClassVar[str] = "migration_return_due"
    version: ClassVar[int] = 1

    migration_id: uuid.UUID
    destination_country: str
    permit_expires_on: date
    return_due_on: date
    days_left: int


@catalogued
class ErasureRecorded(Event):
    """The erasure ledger's entry for one erased id (ids and dates only, on `registry.erasures`,
    kept for ever): what `labourx erasures reapply` re-applies to every service restored from a
    backup taken before it. One per `PersonErased`, published in the same transaction."""

    service: ClassVar[str] = "registry"
    entity: ClassVar[str] = "erasure"
    verb: ClassVar[str] = "recorded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = REGISTRY_ERASURES
    subject_field: ClassVar[str] = "person_id"

    person_id: uuid.UUID
    erased_at: datetime
    basis: Literal["request", "retention"] = Field(
        description="Erased on the person's request, or anonymised after the retention period"
    )
    survivor_id: uuid.UUID | None = Field(
        default=None,
        description="For a record merged away earlier: the record whose erasure reached it",
    )
    cause_event_id: uuid.UUID = Field(description="The id of the PersonErased event it records")
