"""API shapes for the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    office_code: str | None
    action: str
    person_id: uuid.UUID | None
    fields: list[str]
    reason: str | None
    basis: str | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_before_id: int | None = Field(description="Pass as `before_id` for older entries")
