"""API shapes for people, kept apart from the tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared.events.registry import Language, Sex
from shared.reference.phones import normalise_phone
from shared.reference.places import validate_province
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
Phone = Annotated[str, AfterValidator(normalise_phone)]
Province = Annotated[str, AfterValidator(validate_province)]


class PersonCreate(BaseModel):
    """A minimal jobseeker registration, as an ESC officer enters it."""

    model_config = ConfigDict(extra="forbid")

    given_name_lo: LaoName = None
    family_name_lo: LaoName = None
    given_name_en: LatinName = None
    family_name_en: LatinName = None
    sex: Sex
    date_of_birth: date
    phone: Phone | None = Field(default=None, examples=["+856 20 5555 1234"])
    province_code: Province = Field(examples=["LA-VT"])
    office_code: str | None = Field(default=None, max_length=20)
    preferred_language: Language = "lo"

    @model_validator(mode="after")
    def _a_name_in_some_script(self) -> PersonCreate:
        if not (self.given_name_lo or self.given_name_en):
            raise ValueError("given_name_lo or given_name_en is required")
        return self


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    given_name_lo: str | None
    family_name_lo: str | None
    given_name_en: str | None
    family_name_en: str | None
    sex: Sex
    date_of_birth: date
    phone: str | None
    province_code: str
    office_code: str | None
    preferred_language: Language
    registered_by: str
    created_at: datetime
