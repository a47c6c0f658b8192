"""API shapes for employers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from shared.fields import Name, Phone, Province
from shared.reference.isic import validate_isic_section

IsicSection = Annotated[str, AfterValidator(validate_isic_section)]
RegistrationNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9/.-]{3,50}$")
]


District = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ContactName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EmployerFields(BaseModel):
    """Every field an officer enters about an employer; all optional for an update."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    registration_number: RegistrationNumber | None = Field(
        default=None,
        description="Enterprise registration number (Ministry of Industry and Commerce)",
    )
    isic_section: IsicSection | None = Field(default=None, description="ISIC Rev.4 section letter")
    province_code: Province | None = Field(default=None, examples=["LA-VT"])
    district: District | None = None
    address: Address | None = None
    contact_name: ContactName | None = None
    contact_phone: Phone | None = Field(default=None, examples=["+856 20 5555 1234"])
    contact_email: EmailStr | None = None


class EmployerCreate(EmployerFields):
    name: Name
    registration_number: RegistrationNumber
    isic_section: IsicSection = Field(examples=["C"])
    province_code: Province = Field(examples=["LA-VT"])


class EmployerUpdate(EmployerFields):
    """A partial change: the fields sent replace the stored ones."""


class EmployerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    registration_number: str
    isic_section: str
    province_code: str
    district: str | None
    address: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    office_code: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class EmployerPage(BaseModel):
    items: list[EmployerRead]
    next_cursor: str | None = None
