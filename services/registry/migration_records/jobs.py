"""Scheduled work of migration records: return reminders, an event ahead of each MOU worker's
return date, once per due date."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.registry.migration_records.domain import MOU_RETURN_MARGIN
from services.registry.migration_records.models import MigrationRecord
from shared.events.registry import MigrationReturnDue
from shared.outbox import add_event
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from shared.work import Work

BATCH = 500


async def send_return_reminders(work: Work) -> int:
    """Announce every worker abroad whose return date is within the lead time, not yet told.

    Rows are claimed with SKIP LOCKED and marked in the same transaction as their event, so
    two job processes never remind twice and a crash reminds on the next pass.
    """
    session, today = work.session, work.today
    horizon = today + timedelta(days=work.settings.registry_return_reminder_lead_days)
    records = (
        await session.scalars(
            select(MigrationRecord)
            .where(
                MigrationRecord.status.in_(["departed", "abroad"]),
                MigrationRecord.return_due_on <= horizon,
                MigrationRecord.reminded_for.is_distinct_from(MigrationRecord.return_due_on),
            )
            .order_by(MigrationRecord.return_due_on)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for record in records:
        assert record.return_due_on is not None
        expires_on = record.return_due_on + MOU_RETURN_MARGIN
        await add_event(
            session,
            MigrationReturnDue(
                person_id=record.person_id,
                migration_id=record.id,
                destination_country=record.destination_country,
                permit_expires_on=expires_on,
                return_due_on=record.return_due_on,
                days_left=(record.return_due_on - today).days,
            ),
        )
        record.reminded_for = record.return_due_on
    await session.flush()
    return len(records)


JOBS: list[PeriodicJob] = [PeriodicJob("return-reminders", send_return_reminders)]
