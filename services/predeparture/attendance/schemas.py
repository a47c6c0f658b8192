"""Request and response bodies of a session's roster and its corrections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.predeparture.completions.domain import ATTENDANCE_STATUSES
from services.predeparture.completions.schemas import Recomputed

ModuleCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=20)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
# The whole roster of the biggest session with room to spare (300 people, 12 modules).
MAX_ROWS = 3600


class RosterRowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    module_code: ModuleCode = Field(examples=["RIGHTS"])
    # Checked with the other rows (every bad row named in one answer), not here.
    status: str = Field(max_length=20, json_schema_extra={"enum": list(ATTENDANCE_STATUSES)})
    note: Note | None = None


class RosterIn(BaseModel):
    """Cells of the roster to set: each person's status in each module. Cells not sent stay
    as they are."""

    model_config = ConfigDict(extra="forbid")

    rows: list[RosterRowIn] = Field(min_length=1, max_length=MAX_ROWS)


class CorrectionIn(BaseModel):
    """Changes to the roster of a closed session, with why they are made."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)
    rows: list[RosterRowIn] = Field(min_length=1, max_length=MAX_ROWS)


class Cell(BaseModel):
    status: str
    note: str | None
    recorded_by: str
    recorded_at: datetime


class RosterLine(BaseModel):
    person_id: uuid.UUID
    reference: str | None
    initials: str | None
    enrolled: bool = Field(description="False: attendance kept from before the place was cancelled")
    modules: dict[str, Cell] = Field(description="By module code; a module not entered is absent")


class RosterRead(BaseModel):
    session_id: uuid.UUID
    office_code: str
    session_status: str
    starts_at: datetime
    modules: list[str] = Field(description="The modules the session plans, in order")
    people: list[RosterLine]


class RosterWritten(BaseModel):
    """What a roster entry did (the grid itself is read with GET)."""

    session_id: uuid.UUID
    received: int = Field(description="Cells sent")
    changed: int = Field(description="Cells whose status or note changed")
    certificates: Recomputed = Field(
        default_factory=Recomputed,
        description="Always empty: an open session's attendance counts once the session is"
        " closed, which issues the certificates (kept for the clients of the first version)",
    )


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    module_code: str
    previous_status: str | None
    status: str
    reason: str
    corrected_by: str
    corrected_at: datetime


class CorrectionsRead(BaseModel):
    session_id: uuid.UUID
    items: list[CorrectionRead]
