"""The audit trail, for admins: who read or changed a person's record, or what an officer did."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit import service
from services.registry.audit.schemas import AuditEntryRead, AuditPage
from shared.auth import Admin
from shared.db import SessionDep
from shared.pagination import split_page
from shared.problems import InvalidField

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
async def query_audit(
    session: SessionDep,
    principal: Admin,
    person_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Entries newest first; filter by `person_id` or `actor` (one of them is required)."""
    if person_id is None and actor is None:
        raise InvalidField("person_id", "give person_id or actor")
    # One more than the page: a full last page then says there is nothing older.
    entries = await service.query(
        session, person_id=person_id, actor=actor, before_id=before_id, since=since, limit=limit + 1
    )
    page, last = split_page(entries, limit)
    return AuditPage(
        items=[AuditEntryRead.model_validate(e) for e in page],
        next_before_id=None if last is None else last.id,
    )
