"""API shapes for outreach sessions: anonymous counts, unknown keys refused at every level."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.predeparture.outreach.domain import (
    AGE_BANDS,
    MAX_PEOPLE_PER_ROW,
    SEXES,
    validate_topic,
)
from shared.fields import Language, Name, Place

Sex = Literal["female", "male", "other"]
AgeBand = Literal["under_15", "15-17", "18-24", "25-34", "35-44", "45-54", "55+"]
assert set(Sex.__args__) == set(SEXES)  # type: ignore[attr-defined]
assert set(AgeBand.__args__) == set(AGE_BANDS)  # type: ignore[attr-defined]

Topic = Annotated[str, AfterValidator(validate_topic)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
OfficeCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=20)]


class OutreachCountIn(BaseModel):
    """How many people of one sex and age band came. No name or id fits here."""

    model_config = ConfigDict(extra="forbid")

    sex: Sex
    age_band: AgeBand
    people: int = Field(ge=0, le=MAX_PEOPLE_PER_ROW)


class OutreachCreate(BaseModel):
    """An outreach session held in a village, with its anonymous head counts."""

    model_config = ConfigDict(extra="forbid")

    office_code: OfficeCode | None = Field(
        default=None,
        examples=["MRC-SV"],
        description="The Migrant Resource Centre that held it; the caller's office when left out",
    )
    district: Place
    village: Place
    held_on: date = Field(
        description="The day it was held: not in the future, and at most"
        " LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS ago (entered late from paper)"
    )
    facilitator: Name
    language: Language = Field(examples=["lo"], description="ISO 639 code it was given in")
    topics: list[Topic] = Field(
        min_length=1, max_length=50, description="Codes of the outreach topics covered"
    )
    note: Note | None = None
    counts: list[OutreachCountIn] = Field(
        min_length=1, max_length=100, description="One row per sex and age band"
    )


class OutreachCountRead(BaseModel):
    sex: str
    age_band: str
    people: int


class OutreachTotals(BaseModel):
    people: int
    by_sex: dict[str, int]
    by_age_band: dict[str, int]


class OutreachRead(BaseModel):
    id: uuid.UUID
    office_code: str
    province_code: str
    district: str
    village: str
    held_on: date
    facilitator: str
    language: str
    topics: list[str]
    note: str | None
    entered_late: bool = Field(
        description="Recorded on a later day than it was held (from paper); recorded_by and"
        " recorded_at say who entered it and when"
    )
    counts: list[OutreachCountRead]
    totals: OutreachTotals
    recorded_by: str
    recorded_at: datetime


class OutreachPage(BaseModel):
    items: list[OutreachRead]
    next_cursor: str | None = None


class OutreachTopic(BaseModel):
    code: str
    title_en: str
