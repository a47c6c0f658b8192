"""API shapes for offices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.registry.offices.domain import OfficeKind
from shared.fields import Name, Province
from shared.reference.scripts import LAO_BLOCK, is_latin_script


def _lao(value: str) -> str:
    # Lao script, though an office's Lao name may carry a Latin acronym (LFTU, IOM).
    if not any(ord(c) in LAO_BLOCK for c in value):
        raise ValueError("must be written in Lao script")
    return value


def _latin(value: str) -> str:
    if not is_latin_script(value):
        raise ValueError("must be written in Latin letters")
    return value


OfficeCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9-]{2,20}$")
]


class OfficeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: OfficeCode = Field(examples=["ESC-VT"])
    name_lo: Annotated[Name, AfterValidator(_lao)] = Field(examples=["ສູນບໍລິການຈັດຫາງານ ແຂວງອຸດົມໄຊ"])
    name_en: Annotated[Name, AfterValidator(_latin)] = Field(
        examples=["Employment Service Centre, Oudomxay"]
    )
    kind: OfficeKind
    province_code: Province


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_lo: str
    name_en: str
    kind: OfficeKind
    province_code: str
    active: bool
    created_at: datetime


class OfficeList(BaseModel):
    items: list[OfficeRead]
