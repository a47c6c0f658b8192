"""HTTP routes for outreach: MRC staff record their office's village sessions as anonymous
counts by sex and age band; every reader of predeparture reads them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.predeparture.outreach import service
from services.predeparture.outreach.domain import OUTREACH_TOPICS
from services.predeparture.outreach.schemas import (
    OutreachCreate,
    OutreachPage,
    OutreachRead,
    OutreachTopic,
)
from services.predeparture.scope import Manager
from shared.app import SettingsDep
from shared.auth import Reader
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent
from shared.problems import FieldError, InvalidFields
from shared.reference.places import validate_province

router = APIRouter(prefix="/v1/outreach", tags=["outreach"])


@router.post("", status_code=201, response_model=OutreachRead)
@idempotent
async def record_outreach(
    body: OutreachCreate,
    session: SessionDep,
    principal: Manager,
    settings: SettingsDep,
) -> Answer[OutreachRead]:
    """Record an outreach session of your Migrant Resource Centre with its head counts: one
    row per sex and age band, never a name. One held on an earlier day (entered from paper,
    up to LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS later) is marked `entered_late` and audited.
    422 names every bad field; nothing is written then."""
    outreach = await service.record_outreach(
        session, body, principal, late_entry_days=settings.predeparture_late_entry_days
    )
    return Answer(201, outreach)


@router.get("", response_model=OutreachPage)
async def list_outreach(
    session: SessionDep,
    principal: Reader,
    office_code: Annotated[str | None, Query(max_length=20)] = None,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
    held_from: Annotated[date | None, Query(alias="from", description="Held on or after")] = None,
    held_to: Annotated[date | None, Query(alias="to", description="Held on or before")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OutreachPage:
    """Outreach sessions latest recorded first, one page at a time, with their counts."""
    errors: list[FieldError] = []
    if province_code is not None:
        try:
            province_code = validate_province(province_code)
        except ValueError as exc:
            errors.append(FieldError("province_code", str(exc)))
    if held_from is not None and held_to is not None and held_to < held_from:
        errors.append(FieldError("to", f"is before from ({held_from.isoformat()})"))
    if errors:
        raise InvalidFields(errors)
    filters = service.Filters(
        office_code=office_code.strip().upper() if office_code else None,
        province_code=province_code,
        held_from=held_from,
        held_to=held_to,
    )
    items, following = await service.list_outreach(session, filters, cursor=cursor, limit=limit)
    return OutreachPage(items=items, next_cursor=following)


@router.get("/topics", response_model=list[OutreachTopic])
async def list_topics(principal: Reader) -> list[OutreachTopic]:
    """The topics an outreach session may cover, for the recording form."""
    return [OutreachTopic(code=code, title_en=title) for code, title in OUTREACH_TOPICS.items()]


@router.get("/{outreach_id}", response_model=OutreachRead)
async def get_outreach(
    outreach_id: uuid.UUID, session: SessionDep, principal: Reader
) -> OutreachRead:
    """One outreach session with its counts and totals by sex and by age band."""
    return await service.get_outreach(session, outreach_id)
