"""The audit trail, for admins: who read or changed what about a person in predeparture, and
which sessions and outreach were entered late."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.predeparture.audit import service
from shared.auth import Admin
from shared.db import SessionDep
from shared.pagination import split_page
from shared.problems import InvalidField

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    office_code: str | None
    action: str
    person_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    basis: str | None
    reason: str | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_before_id: int | None = Field(description="Pass as `before_id` for older entries")


@router.get("", response_model=AuditPage)
async def query_audit(
    session: SessionDep,
    _: Admin,
    person_id: uuid.UUID | None = None,
    subject_id: Annotated[
        uuid.UUID | None, Query(description="A session's or outreach record's id")
    ] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Entries newest first; filter by `person_id`, `subject_id` or `actor` (one is required)."""
    if person_id is None and subject_id is None and actor is None:
        raise InvalidField("person_id", "give person_id, subject_id or actor")
    entries = await service.query(
        session,
        person_id=person_id,
        subject_id=subject_id,
        actor=actor,
        since=since,
        before_id=before_id,
        limit=limit + 1,
    )
    page, last = split_page(entries, limit)
    return AuditPage(
        items=[AuditEntryRead.model_validate(e) for e in page],
        next_before_id=None if last is None else last.id,
    )
