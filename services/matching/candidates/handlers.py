"""How matching's candidate read model follows registry and predeparture events.

Each handler maps its event onto one function of candidates/service.py, in the consumer's
transaction. Events about people matching does not hold (erased, or never announced) change
nothing: they are logged and counted, never dead-lettered, since an erasure may overtake
events still in flight on other topics.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.candidates import service
from services.matching.candidates.service import Outcome
from services.matching.recruitment import service as recruitment
from services.matching.referrals import service as referrals
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
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)

log = logging.getLogger(__name__)

CANDIDATE_EVENTS_SKIPPED = Counter(
    "labourx_matching_candidate_events_skipped_total",
    "Events the candidate read model applied without a change (unknown person, stale, merged)",
    ["type", "reason"],
)

JOB_MATCHING = "job_matching"


def _note(event: CloudEvent, outcome: Outcome) -> None:
    if outcome is Outcome.APPLIED:
        return
    CANDIDATE_EVENTS_SKIPPED.labels(event.type, outcome.value).inc()
    log.info("candidate read model: %s %s changed nothing (%s)", event.type, event.id, outcome)


async def on_person_registered(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """A new person: their record, as version 1."""
    person = expect(payload, PersonRegistered)
    _note(event, await service.apply_person(session, person, 1))


async def on_person_updated(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The whole record after a change; an older version than the stored one is ignored."""
    person = expect(payload, PersonUpdated)
    _note(event, await service.apply_person(session, person, person.record_version))


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
    """The duplicate retires; its referrals, placements, name list entries and costs follow
    the survivor."""
    merged = expect(payload, PersonMerged)
    _note(event, await service.merge(session, merged.person_id, merged.survivor_id))
    await referrals.repoint_merged_person(session, merged.person_id, merged.survivor_id)
    await recruitment.repoint_merged_person(session, merged.person_id, merged.survivor_id)


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The person leaves the read model (with the offices serving them); referrals and
    recruitment records keep no free text about them."""
    erased = expect(payload, PersonErased)
    _note(event, await service.erase(session, erased.person_id))
    await referrals.forget_person(session, erased.person_id)
    await recruitment.forget_person(session, erased.person_id)


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
    PersonRegistered.event_type(): on_person_registered,
    PersonUpdated.event_type(): on_person_updated,
    ConsentChanged.event_type(): on_consent_changed,
    JobseekerStatusChanged.event_type(): on_jobseeker_status_changed,
    MigrationStatusChanged.event_type(): on_migration_status_changed,
    PersonServedAt.event_type(): on_person_served_at,
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
    OrientationCompleted.event_type(): on_orientation_completed,
    OrientationCompletionWithdrawn.event_type(): on_orientation_withdrawn,
}
