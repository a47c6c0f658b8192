"""Retention of records: a person with no activity for `LABOURX_RECORD_RETENTION_DAYS` is
anonymised as an erasure does it (`people.lifecycle.erase`, basis "retention"): the same
tombstone that keeps the counts, the same PersonErased every service follows, the same entry
in the erasure ledger. docs/operations.md, "Retention of records", says what counts as
activity."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, select

from services.registry.consent.models import Consent
from services.registry.jobseekers.models import JobseekerProfile, Referral
from services.registry.migration_records.models import MigrationRecord
from services.registry.people.lifecycle import erase
from services.registry.people.models import Person
from services.registry.serving.models import ServiceLink
from shared.auth import Principal
from shared.clock import LAO_TIME
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.work import Work

# People anonymised per pass (each in the pass's one transaction, with its events).
BATCH = 100
# Who anonymises, in the audit trail and as PersonErased's `erased_by`: no member of staff.
RETENTION = Principal(subject="labourx:record-retention", roles=frozenset(), national=True)
# A worker abroad is kept whatever their last activity: their record is how they are helped
# home (return reminders) and what a permit, a complaint or a repatriation is checked against.
AWAY = ("departed", "abroad")


def cutoff(today: date, days: int) -> datetime:
    """The start of the day (Vientiane) `days` before today: activity before it is too old."""
    return datetime.combine(today - timedelta(days=days), time(), LAO_TIME)


async def inactive(session: AsyncSession, since: datetime, limit: int) -> list[uuid.UUID]:
    """Active records with no activity since `since`, the longest inactive first, locked (SKIP
    LOCKED: two job processes take different people)."""
    person = Person.id
    recent = (
        exists().where(Consent.person_id == person, Consent.recorded_at >= since),
        exists().where(
            MigrationRecord.person_id == person,
            (MigrationRecord.updated_at >= since) | MigrationRecord.status.in_(AWAY),
        ),
        exists().where(ServiceLink.person_id == person, ServiceLink.recorded_at >= since),
        exists().where(Referral.person_id == person, Referral.changed_at >= since),
        exists().where(
            JobseekerProfile.person_id == person, JobseekerProfile.status_changed_at >= since
        ),
    )
    found = await session.scalars(
        select(person)
        .where(
            Person.record_status == "active",
            Person.updated_at < since,
            Person.created_at < since,
            *(~condition for condition in recent),
        )
        .order_by(Person.updated_at, person)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(found.all())


async def anonymise_inactive(work: Work) -> int:
    """Anonymise up to BATCH people inactive for the retention period; how many."""
    days = work.settings.record_retention_days
    since = cutoff(work.today, days)
    people = await inactive(work.session, since, BATCH)
    reason = f"no activity for {days} days (none since {since.date().isoformat()})"
    for person_id in people:
        await erase(work.session, person_id, RETENTION, reason=reason, basis="retention")
    return len(people)


JOBS: list[PeriodicJob] = [PeriodicJob("record-retention", anonymise_inactive)]
