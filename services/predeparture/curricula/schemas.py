"""Request and response bodies of curricula."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.predeparture.curricula.domain import CurriculumStatus
from shared.fields import Country
from shared.reference.scripts import is_lao_script


def _lao(text: str) -> str:
    if not is_lao_script(text):
        raise ValueError("must be written in Lao script")
    return text


TitleLo = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_lao),
]
TitleEn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ModuleCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$"),
]
CurriculumCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9][A-Z0-9-]{1,29}$"),
]


class ModuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: ModuleCode = Field(examples=["DEST-TH"])
    title_lo: TitleLo
    title_en: TitleEn
    description_en: str | None = Field(default=None, max_length=4000)
    hours: Decimal = Field(gt=0, lt=1000, decimal_places=1, examples=["1.5"])
    mandatory: bool = True
    destinations: list[Country] = Field(
        default_factory=list,
        max_length=50,
        description="ISO 3166-1 alpha-2 countries the module is for; empty: every destination",
        examples=[["TH"]],
    )


class CurriculumCreate(BaseModel):
    """A new draft version of a curriculum code (version = the code's last version + 1)."""

    model_config = ConfigDict(extra="forbid")

    code: CurriculumCode = Field(examples=["PDO"])
    title_lo: TitleLo
    title_en: TitleEn
    completion_window_months: int = Field(
        ge=1, le=60, description="Every mandatory module attended within this many months"
    )
    validity_months: int = Field(
        ge=1, le=120, description="How long a completion counts for a departure"
    )
    modules: list[ModuleCreate] = Field(min_length=1, max_length=100)


class ModuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    position: int
    title_lo: str
    title_en: str
    description_en: str | None
    hours: Decimal
    mandatory: bool
    destinations: list[str]


class CurriculumSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    version: int
    title_lo: str
    title_en: str
    completion_window_months: int
    validity_months: int
    status: CurriculumStatus
    created_by: str
    created_at: datetime


class CurriculumRead(CurriculumSummary):
    modules: list[ModuleRead]
    destinations: list[str] = Field(description="Destinations with a module of their own")


class CurriculumList(BaseModel):
    items: list[CurriculumSummary]
