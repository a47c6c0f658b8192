"""HTTP routes for migration records and their lifecycle."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.registry.keys.api import PublishingNoted
from services.registry.migration_records import service
from services.registry.migration_records.schemas import (
    Documents,
    MigrationCreate,
    MigrationList,
    MigrationRead,
    MigrationStatusIn,
)
from services.registry.offices.api import Staff
from services.registry.people.deps import PersonId
from shared.app import SettingsDep
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(prefix="/v1", tags=["migration"], dependencies=[PublishingNoted])


@router.post("/people/{person_id}/migrations", status_code=201, response_model=MigrationRead)
@idempotent
async def open_record(
    person_id: PersonId,
    body: MigrationCreate,
    session: SessionDep,
    principal: Staff,
    settings: SettingsDep,
) -> Answer[MigrationRead]:
    """Open a prospective migration record; 409 with `existing_id` when one is already open."""
    record = await service.open_record(
        session, person_id, body, principal, minimum_age=settings.registry_min_age_migrant
    )
    return Answer(201, service.to_read(record))


@router.get("/people/{person_id}/migrations", response_model=MigrationList)
async def list_records(person_id: PersonId, session: SessionDep, principal: Staff) -> MigrationList:
    records = await service.list_for_person(session, person_id, principal)
    return MigrationList(items=[service.to_read(r) for r in records])


@router.get("/migrations/{migration_id}", response_model=MigrationRead)
async def get_record(
    migration_id: uuid.UUID, session: SessionDep, principal: Staff
) -> MigrationRead:
    return service.to_read(await service.read_record(session, migration_id, principal))


@router.patch("/migrations/{migration_id}", response_model=MigrationRead)
async def update_documents(
    migration_id: uuid.UUID, body: Documents, session: SessionDep, principal: Staff
) -> MigrationRead:
    """Record new or renewed documents, e.g. an MOU work permit extended by two years.

    The return date follows the permit, and the return reminder is armed again for it.
    """
    return service.to_read(await service.update_documents(session, migration_id, body, principal))


@router.post("/migrations/{migration_id}/status", response_model=MigrationRead)
@idempotent
async def change_status(
    migration_id: uuid.UUID,
    body: MigrationStatusIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[MigrationRead]:
    """prospective → ready → departed → abroad → returned, or cancelled before departure.

    An invalid change answers 409 with `current_status` and the `allowed` next states.
    """
    record = await service.change_status(session, migration_id, body, principal)
    return Answer(200, service.to_read(record))
