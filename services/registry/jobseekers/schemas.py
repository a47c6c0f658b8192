"""API shapes for a jobseeker's status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.registry.jobseekers.domain import JobseekerStatus


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: JobseekerStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class StatusRead(BaseModel):
    status: JobseekerStatus
    status_reason: str | None
    status_changed_at: datetime
