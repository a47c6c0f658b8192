"""API shapes for offices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.registry.offices.domain import OfficeKind
from shared.reference.places import validate_province

OfficeCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9-]{2,20}$")
]


class OfficeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: OfficeCode = Field(examples=["ESC-VT"])
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    kind: OfficeKind
    province_code: Annotated[str, AfterValidator(validate_province)]


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: OfficeKind
    province_code: str
    active: bool
    created_at: datetime


class OfficeList(BaseModel):
    items: list[OfficeRead]
