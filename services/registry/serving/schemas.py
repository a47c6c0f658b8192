"""API shapes for serving a person of another province."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(
        description="Why the person came, for the audit trail", examples=["orientation at MRC"]
    )


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(
        description="Why the record moves, for the audit trail",
        examples=["moved to Savannakhet, lives in Kaysone Phomvihane now"],
    )


class VisitRead(BaseModel):
    person_id: uuid.UUID
    reference: str
    office_code: str
    served_as: Literal["province", "visit", "enrolment"] = Field(
        description="Why your office may now act for the person: they are of its province, or "
        "it serves them since a visit or an enrolment (the first one recorded is kept)"
    )
    linked_now: bool = Field(description="This visit made your office one serving the person")
    recorded_at: datetime
