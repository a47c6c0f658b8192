"""What partner feeds do when events arrive: every event type of the streams partners may
subscribe to becomes a feed entry (fanned out to webhooks and partner topics), and erasures,
merges and partner-sharing consents keep what partners hold honest.

The settings (the key pseudonyms are derived from) are the runner's, given with each event
(`work.settings`), as the API and jobs of the same deployment are given theirs.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from services.notify.partners import feed, person_removals, sharing_changes
from services.notify.partners.streams import STREAMS, EntryKind
from shared.consumer import Handler, expect
from shared.events import CATALOGUE, CloudEvent, Event
from shared.events.registry import (
    ConsentChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    RegistrationConsent,
)

if TYPE_CHECKING:
    from datetime import datetime

    from shared.work import Work


async def on_event(work: Work, event: CloudEvent, payload: Event) -> None:
    """Append the event to its stream's feed, as it arrived (it is redacted when read)."""
    data = payload.model_dump(mode="json")
    person = data.get("person_id")
    await feed.append(
        work.session,
        work.settings,
        stream=payload.topic,
        kind=EntryKind.EVENT,
        event_type=event.type,
        time=event.time,
        data=data,
        event_id=event.id,
        dataschema=event.dataschema,
        subject=event.subject,
        person_id=uuid.UUID(person) if person else None,
    )


async def on_person_erased(work: Work, event: CloudEvent, payload: Event) -> None:
    """Purge the person from the feed and tell every partner; the erasure is no feed event."""
    erased = expect(payload, PersonErased)
    await person_removals.erase_person(
        work.session, work.settings, person_id=erased.person_id, time=event.time, today=work.today
    )


async def on_person_merged(work: Work, event: CloudEvent, payload: Event) -> None:
    """The merge is a feed event (partners relink pseudonyms); personal copies of the duplicate
    are removed."""
    merged = expect(payload, PersonMerged)
    await on_event(work, event, payload)
    await person_removals.merge_person(
        work.session,
        work.settings,
        person_id=merged.person_id,
        survivor_id=merged.survivor_id,
        time=event.time,
        today=work.today,
    )


async def _keep_sharing(
    work: Work,
    person_id: uuid.UUID,
    answer: ConsentChanged | RegistrationConsent,
    *,
    recorded_at: datetime,
) -> None:
    """Keep a partner-sharing decision, whether a ConsentChanged or an answer given with the
    registration; a consent for another purpose is not the partners'."""
    if answer.purpose != "partner_sharing":
        return
    await sharing_changes.record_consent(
        work.session,
        work.settings,
        person_id=person_id,
        agency=answer.agency,
        category=answer.category,
        status=answer.status,
        expires_on=answer.expires_on,
        recorded_at=recorded_at,
        today=work.today,
    )


async def on_consent_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """A feed event like any other; a partner-sharing decision also decides what partners in
    `personal` scope see, and a withdrawal sends them a removal."""
    consent = expect(payload, ConsentChanged)
    await on_event(work, event, payload)
    await _keep_sharing(work, consent.person_id, consent, recorded_at=consent.recorded_at)


async def on_person_registered(work: Work, event: CloudEvent, payload: Event) -> None:
    """The partner-sharing consents answered at the counter count from the registration itself
    (their ConsentChanged events follow and change nothing), so the registration reaches the
    partners the person agreed to as every way out shows it: webhooks and Kafka records are
    written now, the feed is read later."""
    registered = expect(payload, PersonRegistered)
    for answer in registered.consents:
        await _keep_sharing(
            work, registered.person_id, answer, recorded_at=registered.registered_at
        )
    await on_event(work, event, payload)


_SPECIFIC: dict[str, Handler] = {
    PersonRegistered.event_type(): on_person_registered,
    PersonErased.event_type(): on_person_erased,
    PersonMerged.event_type(): on_person_merged,
    ConsentChanged.event_type(): on_consent_changed,
}

HANDLERS: dict[str, Handler] = {
    event_type: _SPECIFIC.get(event_type, on_event)
    for event_type, spec in CATALOGUE.items()
    if spec.topic in STREAMS
}
