"""How matching's candidate read model follows registry and predeparture events.

Each handler maps its event onto one function of candidates/service.py, in the consumer's
transaction. Events about people matching does not hold (erased, or never announced) change
nothing: they are logged and counted, never dead-lettered, since an erasure may overtake
events still in flight on other topics. A merge or erasure reaches only the candidate tables
here; referrals and recruitment react to it on their own tables (their `person_events.py`),
and matching's app.py runs them after this one in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.candidates import service
from shared.consumer import expect
from shared.consumer.runner import Handler
from shared.events import CloudEvent, Event
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.events.registry import (
    ConsentChanged,
    JobseekerStatusChanged,
    MigrationStatusChanged,
    PersonErased,
    PersonMerged,
    PersonServedAt,
)
from shared.readmodels import Skipped, record_handlers

log = logging.getLogger(__name__)

CANDIDATE_EVENTS_SKIPPED = Counter(
    "labourx_matching_candidate_events_skipped_total",
    "Events the candidate read model applied without a change (unknown person, stale, merged)",
    ["type", "reason"],
)

JOB_MATCHING = "job_matching"


_note = Skipped(CANDIDATE_EVENTS_SKIPPED, log, "candidate read model")


async def on_consent_changed(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """A job_matching decision; other purposes are not matching's business."""
    consent = expect(payload, ConsentChanged)
    if consent.purpose != JOB_MATCHING:
        return
    outcome = await service.apply_consent(
        session,
        consent.person_id,
        status=consent.status,
        expires_on=consent.expires_on,
        recorded_at=consent.recorded_at,
    )
    _note(event, outcome)


async def on_jobseeker_status_changed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    changed = expect(payload, JobseekerStatusChanged)
    _note(event, await service.apply_jobseeker_status(session, changed.person_id, changed.status))


async def on_migration_status_changed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    changed = expect(payload, MigrationStatusChanged)
    outcome = await service.apply_migration_status(
        session, changed.person_id, changed.status, changed.destination_country
    )
    _note(event, outcome)


async def on_person_served_at(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """An office of another province serves the person (a visit or an enrolment there)."""
    served = expect(payload, PersonServedAt)
    _note(event, await service.apply_served_at(session, served.person_id, served.office_code))


async def on_person_merged(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The duplicate retires; its orientations, consent and serving offices follow the
    survivor."""
    merged = expect(payload, PersonMerged)
    _note(event, await service.merge(session, merged.person_id, merged.survivor_id))


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The person leaves the read model (with the offices serving them)."""
    erased = expect(payload, PersonErased)
    _note(event, await service.erase(session, erased.person_id))


async def on_orientation_completed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    completed = expect(payload, OrientationCompleted)
    outcome = await service.record_orientation(
        session,
        completed.person_id,
        destination_country=completed.destination_country,
        certificate_number=completed.certificate_number,
        completed_on=completed.completed_on,
        valid_until=completed.valid_until,
        recorded_at=completed.recorded_at,
    )
    _note(event, outcome)


async def on_orientation_withdrawn(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    withdrawn = expect(payload, OrientationCompletionWithdrawn)
    outcome = await service.withdraw_orientation(
        session,
        withdrawn.person_id,
        destination_country=withdrawn.destination_country,
        certificate_number=withdrawn.certificate_number,
    )
    _note(event, outcome)


HANDLERS: Mapping[str, Handler] = {
    **record_handlers(service.apply_person, _note),
    ConsentChanged.event_type(): on_consent_changed,
    JobseekerStatusChanged.event_type(): on_jobseeker_status_changed,
    MigrationStatusChanged.event_type(): on_migration_status_changed,
    PersonServedAt.event_type(): on_person_served_at,
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
    OrientationCompleted.event_type(): on_orientation_completed,
    OrientationCompletionWithdrawn.event_type(): on_orientation_withdrawn,
}
