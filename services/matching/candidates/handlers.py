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
from typing import TYPE_CHECKING

from services.matching.candidates import service
from shared.consumer import expect
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.events.registry import (
    ConsentChanged,
    JobseekerStatusChanged,
    MigrationStatusChanged,
)
from shared.readmodels import Skipped, person_handlers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.consumer.runner import Handler
    from shared.events import CloudEvent, Event
    from shared.work import Work

log = logging.getLogger(__name__)


JOB_MATCHING = "job_matching"


_note = Skipped(
    "labourx_matching_candidate_events_skipped_total",
    "Events the candidate read model applied without a change (unknown person, stale, merged)",
    log,
    "candidate read model",
)


async def on_consent_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """A job_matching decision; other purposes are not matching's business."""
    consent = expect(payload, ConsentChanged)
    if consent.purpose != JOB_MATCHING:
        return
    outcome = await service.apply_consent(
        work.session,
        consent.person_id,
        status=consent.status,
        expires_on=consent.expires_on,
        recorded_at=consent.recorded_at,
    )
    _note(event, outcome)


async def on_jobseeker_status_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    changed = expect(payload, JobseekerStatusChanged)
    _note(
        event, await service.apply_jobseeker_status(work.session, changed.person_id, changed.status)
    )


async def on_migration_status_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    changed = expect(payload, MigrationStatusChanged)
    outcome = await service.apply_migration_status(
        work.session, changed.person_id, changed.status, changed.destination_country
    )
    _note(event, outcome)


async def on_orientation_completed(work: Work, event: CloudEvent, payload: Event) -> None:
    completed = expect(payload, OrientationCompleted)
    outcome = await service.record_orientation(
        work.session,
        completed.person_id,
        destination_country=completed.destination_country,
        certificate_number=completed.certificate_number,
        completed_on=completed.completed_on,
        valid_until=completed.valid_until,
        recorded_at=completed.recorded_at,
    )
    _note(event, outcome)


async def on_orientation_withdrawn(work: Work, event: CloudEvent, payload: Event) -> None:
    withdrawn = expect(payload, OrientationCompletionWithdrawn)
    outcome = await service.withdraw_orientation(
        work.session,
        withdrawn.person_id,
        destination_country=withdrawn.destination_country,
        certificate_number=withdrawn.certificate_number,
    )
    _note(event, outcome)


HANDLERS: Mapping[str, Handler] = {
    **person_handlers(
        _note,
        apply_person=service.apply_person,
        apply_served_at=service.apply_served_at,
        merge=service.merge,
        erase=service.erase,
    ),
    ConsentChanged.event_type(): on_consent_changed,
    JobseekerStatusChanged.event_type(): on_jobseeker_status_changed,
    MigrationStatusChanged.event_type(): on_migration_status_changed,
    OrientationCompleted.event_type(): on_orientation_completed,
    OrientationCompletionWithdrawn.event_type(): on_orientation_withdrawn,
}
