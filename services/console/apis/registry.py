"""The registry's public API, as the console reads it (only the fields its pages show)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from services.console.apis.client import Api


class _Read(BaseModel):
    # A field the registry adds later must not break a page that does not show it.
    model_config = ConfigDict(extra="ignore")


class Names(_Read):
    given_name_lo: str | None = None
    family_name_lo: str | None = None
    given_name_en: str | None = None
    family_name_en: str | None = None

    @property
    def name_lo(self) -> str:
        return " ".join(p for p in (self.given_name_lo, self.family_name_lo) if p)

    @property
    def name_en(self) -> str:
        return " ".join(p for p in (self.given_name_en, self.family_name_en) if p)


class PersonSummary(Names):
    id: uuid.UUID
    reference: str
    sex: str
    date_of_birth: date | None = None
    province_code: str
    district: str | None = None
    office_code: str | None = None
    migration_status: str | None = None
    jobseeker_status: str | None = None
    created_at: datetime


class CardAction(_Read):
    action: str
    method: Literal["GET", "POST"]
    href: str
    description: str


class PersonCard(Names):
    """Enough to recognise someone outside the officer's scope, as the registry shows it."""

    id: uuid.UUID
    reference: str
    sex: str
    date_of_birth: date | None = None
    province_code: str
    province_name_lo: str
    province_name_en: str
    office_code: str | None = None
    office_name_lo: str | None = None
    office_name_en: str | None = None
    outside_scope: bool
    actions: list[CardAction] = Field(default_factory=list)


class PersonPage(_Read):
    items: list[PersonSummary]
    next_cursor: str | None = None
    cards: list[PersonCard] = Field(default_factory=list)


class Person(PersonSummary):
    phone: str | None = None
    village: str | None = None
    preferred_language: str = "lo"
    record_status: str = "active"


class Office(_Read):
    code: str
    name_lo: str
    name_en: str
    kind: str
    province_code: str
    active: bool = True

    def name(self, language: str) -> str:
        return self.name_lo if language == "lo" else self.name_en


# The registry's filters of GET /v1/people, as the people search passes them on.
SEARCH_FILTERS = (
    "status",
    "sex",
    "age_band",
    "province_code",
    "office_code",
    "occupation",
    "migration_status",
)


async def search_people(
    api: Api,
    *,
    q: str | None = None,
    filters: dict[str, str | None] | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> PersonPage:
    params = {"q": q, **(filters or {}), "cursor": cursor, "limit": limit}
    return PersonPage.model_validate(await api.get("registry", "/v1/people", params))


async def get_person(api: Api, person: str) -> Person:
    """One person by id or reference (`P-XXXXXXXX`); the registry audits the read."""
    return Person.model_validate(await api.get("registry", f"/v1/people/{person}"))


async def offices(api: Api, province_code: str | None = None) -> list[Office]:
    found = await api.get("registry", "/v1/offices", {"province_code": province_code})
    return [Office.model_validate(o) for o in found["items"]]
