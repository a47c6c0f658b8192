"""API shapes for people, kept apart from the tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from services.registry.consent.schemas import CounterConsentIn
from shared.events.registry import (
    JobseekerProfile,
    Language,
    LanguageSkill,
    Sex,
    SkillCertificate,
    WorkExperience,
)
from shared.fields import Country, IscedLevel, Isco08, Phone, Place, Province
from shared.fields import Language as LanguageCode
from shared.reference.disability import Answer, Domain
from shared.reference.ethnicity import validate_ethnicity
from shared.reference.scripts import is_lao_script, is_latin_script


def _lao(value: str | None) -> str | None:
    if value is not None and not is_lao_script(value):
        raise ValueError("must be written in Lao script")
    return value


def _latin(value: str | None) -> str | None:
    if value is not None and not is_latin_script(value):
        raise ValueError("must be written in Latin letters")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LaoName = Annotated[Name | None, AfterValidator(_lao)]
LatinName = Annotated[Name | None, AfterValidator(_latin)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=60)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class IdentityDocumentIn(BaseModel):
    """A national ID card, family book (ສຳມະໂນຄົວ) or passport."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["national_id", "family_book", "passport"]
    number: Annotated[
        str,
        StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9/-]{4,40}$"),
    ]
    country: Country = "LA"
    issued_on: date | None = None
    expires_on: date | None = None

    @model_validator(mode="after")
    def _passport_has_expiry(self) -> IdentityDocumentIn:
        if self.kind == "passport" and self.expires_on is None:
            raise ValueError("a passport needs expires_on")
        if self.issued_on and self.expires_on and self.expires_on <= self.issued_on:
            raise ValueError("expires_on must be after issued_on")
        return self


class CertificateIn(SkillCertificate):
    model_config = ConfigDict(extra="forbid")

    standard: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class LanguageIn(LanguageSkill):
    model_config = ConfigDict(extra="forbid")

    code: LanguageCode


class ExperienceIn(WorkExperience):
    model_config = ConfigDict(extra="forbid")

    isco08: Isco08
    country: Country | None = None


class Education(BaseModel):
    model_config = ConfigDict(extra="forbid")

    isced_level: IscedLevel


class Skills(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Tag] = Field(default_factory=list, max_length=50)
    certificates: list[CertificateIn] = Field(default_factory=list, max_length=20)


class JobseekerProfileIn(JobseekerProfile):
    """What the jobseeker is looking for; the status is set by transitions, not here."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["active"] = "active"
    desired_occupations: list[Isco08] = Field(default_factory=list, max_length=10)
    preferred_provinces: list[Province] = Field(default_factory=list, max_length=18)
    abroad_countries: list[Country] = Field(default_factory=list, max_length=20)


def _no_duplicate_documents(documents: list[IdentityDocumentIn]) -> list[IdentityDocumentIn]:
    seen = set()
    for document in documents:
        key = (document.kind, document.country, document.number)
        if key in seen:
            raise ValueError(f"{document.kind} {document.number} is listed twice")
        seen.add(key)
    return documents


Documents = Annotated[
    list[IdentityDocumentIn], AfterValidator(_no_duplicate_documents), Field(max_length=10)
]


class PersonFields(BaseModel):
    """Every field of a person's record an officer enters; all optional for an update."""

    model_config = ConfigDict(extra="forbid")

    given_name_lo: LaoName = None
    family_name_lo: LaoName = None
    given_name_en: LatinName = None
    family_name_en: LatinName = None
    sex: Sex | None = None
    date_of_birth: date | None = None
    ethnicity: Annotated[str, AfterValidator(validate_ethnicity)] | None = None
    disability: dict[Domain, Answer] | None = Field(
        default=None, description="Washington Group short set: answers by domain"
    )
    phone: Phone | None = Field(default=None, examples=["+856 20 5555 1234"])
    email: EmailStr | None = None
    documents: Documents | None = None
    province_code: Province | None = Field(default=None, examples=["LA-VT"])
    district: Place | None = None
    village: Place | None = None
    education: Education | None = None
    skills: Skills | None = None
    languages: list[LanguageIn] | None = Field(default=None, max_length=10)
    experience: list[ExperienceIn] | None = Field(default=None, max_length=20)
    preferred_language: Language | None = None


class PersonCreate(PersonFields):
    """A registration as an ESC or MRC officer enters it."""

    sex: Sex
    date_of_birth: date
    province_code: Province = Field(examples=["LA-VT"])
    documents: Documents = Field(default_factory=list)
    preferred_language: Language = "lo"
    office_code: str | None = Field(
        default=None, max_length=20, description="Defaults to the officer's office"
    )
    jobseeker: JobseekerProfileIn | None = None
    consents: list[CounterConsentIn] = Field(
        default_factory=list,
        max_length=20,
        description="What the person answered at the counter (SMS, email, job matching, "
        "partner sharing): recorded with the registration, before anything is sent to them",
    )
    confirm_not_duplicate: bool = Field(
        default=False,
        description="The officer checked the probable duplicates the registry named and "
        'decided this is someone else ("not them"); the decision and the candidates are '
        "recorded with the registration",
    )

    @model_validator(mode="after")
    def _a_name_in_some_script(self) -> PersonCreate:
        if not (self.given_name_lo or self.given_name_en):
            raise ValueError("given_name_lo or given_name_en is required")
        return self


class PersonUpdate(PersonFields):
    """A partial change: fields sent replace the stored ones; `documents` replaces the list."""

    jobseeker: JobseekerProfileIn | None = None
    reason: Reason | None = Field(default=None, description="Why, kept in the audit trail")


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    number: str
    country: str
    issued_on: date | None
    expires_on: date | None


class PersonIdentity(BaseModel):
    """Who the person is: what every view of a person starts with, from a card to the record."""

    id: uuid.UUID
    reference: str
    given_name_lo: str | None
    family_name_lo: str | None
    given_name_en: str | None
    family_name_en: str | None
    sex: Sex
    date_of_birth: date | None
    province_code: str


class PersonHeader(PersonIdentity):
    """Who the person is, as lists and the whole record both show it."""

    model_config = ConfigDict(from_attributes=True)

    district: str | None
    office_code: str | None
    migration_status: str | None
    created_at: datetime


class PersonRead(PersonHeader):
    ethnicity: str | None
    disability: dict[str, str] | None
    has_disability: bool | None
    phone: str | None
    email: str | None
    documents: list[DocumentRead] = Field(default_factory=list)
    village: str | None
    isced_level: int | None
    skills: list[str]
    certificates: list[dict[str, Any]]
    languages: list[dict[str, Any]]
    experience: list[dict[str, Any]]
    preferred_language: Language
    jobseeker: dict[str, Any] | None = None
    registered_by: str
    record_status: str
    version: int
    updated_at: datetime


class PersonSummary(PersonHeader):
    """A line of a list or search result."""

    jobseeker_status: str | None = None


class CardAction(BaseModel):
    """Something the officer may do about a person shown on a card."""

    action: Literal["open", "record_visit", "take_over"]
    method: Literal["GET", "POST"]
    href: str
    description: str


class PersonCard(PersonIdentity):
    """Enough to recognise a person, and no more: no contact details, documents or history.

    What an exact lookup answers for someone of another province, and what a duplicate warning
    shows of each candidate. Showing one is audited.
    """

    province_name_lo: str
    province_name_en: str
    office_code: str | None = Field(description="The office the person is registered at")
    office_name_lo: str | None
    office_name_en: str | None
    outside_scope: bool = Field(
        description="True when the officer may not open the record: only this card is shown"
    )
    actions: list[CardAction]


class PersonPage(BaseModel):
    items: list[PersonSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
    cards: list[PersonCard] = Field(
        default_factory=list,
        description="A search by reference, phone or document number also finds people outside "
        "the officer's scope: for them only an identity card, with what can be done",
    )


class DuplicateCandidate(BaseModel):
    """A registered person this registration would be taken for: how they match (no names) and
    their identity card."""

    id: uuid.UUID
    reference: str
    province_code: str
    office_code: str | None = Field(description="The office the person is registered at")
    score: float = Field(description="How alike, 0 to 1, best first")
    name_similarity: float = Field(description="How alike the names are, 0 to 1")
    same_date_of_birth: bool
    same_phone: bool
    card: PersonCard


class DuplicateCheck(BaseModel):
    candidates: list[DuplicateCandidate] = Field(
        description="Scored candidates, each with its identity card"
    )


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate_id: uuid.UUID = Field(description="The record that goes; this one survives")
    reason: Reason


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="E.g. the reference of the person's written request")


class Erased(BaseModel):
    id: uuid.UUID
    record_status: str
