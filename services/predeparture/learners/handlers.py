"""How predeparture follows registry's people and matching's referrals.

Each handler maps its event onto service functions, in the consumer's transaction. Events
about people predeparture does not hold (erased, or never announced) change nothing: they are
logged and counted, never dead-lettered, since an erasure may overtake events still in flight
on other topics.

Orientation becomes required at the offer, not at the referral: a referral is a shortlist that
most people leave without a job, while an offer abroad means a departure within weeks, which
the person may not make without a valid orientation for that destination.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.predeparture.completions import service as completions
from services.predeparture.learners import service
from services.predeparture.learners.domain import PROSPECTIVE, Outcome
from services.predeparture.sessions import invitations
from shared import clock
from shared.consumer import expect
from shared.consumer.runner import Handler
from shared.events import CloudEvent, Event
from shared.events.matching import ReferralStatusChanged
from shared.events.predeparture import OrientationRequired
from shared.events.registry import (
    MigrationStatusChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)
from shared.outbox import add_event

log = logging.getLogger(__name__)

LEARNER_EVENTS_SKIPPED = Counter(
    "labourx_predeparture_learner_events_skipped_total",
    "Events predeparture applied without a change (unknown person, stale, merged, not needed)",
    ["type", "reason"],
)

# The referral status at which orientation becomes urgent (see the module's docstring).
OFFERED = "offered"


def _note(event: CloudEvent, outcome: Outcome) -> None:
    if outcome is Outcome.APPLIED:
        return
    LEARNER_EVENTS_SKIPPED.labels(event.type, outcome.value).inc()
    log.info("learners: %s %s changed nothing (%s)", event.type, event.id, outcome)


async def on_person_registered(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """A new person: what orientation needs of their record, as version 1."""
    person = expect(payload, PersonRegistered)
    _note(event, await service.apply_person(session, person, 1))


async def on_person_updated(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The whole record after a change; an older version than the stored one is ignored."""
    person = expect(payload, PersonUpdated)
    _note(event, await service.apply_person(session, person, person.record_version))


async def on_migration_status_changed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    """Kept on the learner; a prospective migrant is invited to orientation automatically."""
    changed = expect(payload, MigrationStatusChanged)
    learner = await service.apply_migration_status(
        session, changed.person_id, changed.status, changed.destination_country
    )
    if learner is None:
        _note(event, Outcome.UNKNOWN_PERSON)
        return
    if changed.status != PROSPECTIVE:
        return
    invited = await invitations.invite(
        session,
        learner.person_id,
        province_code=learner.province_code,
        destination_country=changed.destination_country,
        today=clock.today(),
    )
    if invited is None:
        _note(event, Outcome.NOT_NEEDED)


async def on_referral_status_changed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    """An offer of work abroad to someone without a valid orientation for the destination:
    OrientationRequired, and an invitation unless they already hold a place or a turn."""
    referral = expect(payload, ReferralStatusChanged)
    if not referral.overseas or referral.status != OFFERED:
        return
    learner = await service.following_merges(session, referral.person_id)
    if learner is None:
        _note(event, Outcome.UNKNOWN_PERSON)
        return
    destination = referral.destination_country or learner.destination_country
    if destination is None:
        log.warning("referral %s: an overseas offer without a destination", referral.referral_id)
        _note(event, Outcome.NOT_NEEDED)
        return
    today = clock.today()
    if await invitations.is_oriented(
        session, learner.person_id, destination, today
    ) or await invitations.is_on_the_way(session, learner.person_id):
        # Oriented, or orientation already on its way: nothing to ask for, and a redelivered
        # offer asks nothing twice.
        _note(event, Outcome.NOT_NEEDED)
        return
    await add_event(
        session,
        OrientationRequired(
            person_id=learner.person_id,
            destination_country=destination,
            referral_id=referral.referral_id,
            vacancy_id=referral.vacancy_id,
            reason=f"offered work in {destination} without a valid pre-departure orientation",
            recorded_at=referral.changed_at,
        ),
    )
    await invitations.invite(
        session,
        learner.person_id,
        province_code=learner.province_code,
        destination_country=destination,
        today=today,
    )


async def on_person_served_at(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """An office outside the person's province serves them now: its staff read and act on the
    person from here on (see services/predeparture/scope.py)."""
    served = expect(payload, PersonServedAt)
    _note(event, await service.apply_served_at(session, served.person_id, served.office_code))


async def on_person_merged(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The duplicate retires; its places, attendance and completions follow the survivor, whose
    completions are then recomputed: the two records' attendance together may meet the rule."""
    merged = expect(payload, PersonMerged)
    outcome = await service.merge(session, merged.person_id, merged.survivor_id)
    _note(event, outcome)
    if outcome is Outcome.APPLIED:
        await completions.recompute(
            session, [merged.survivor_id], today=clock.today(), by=merged.merged_by
        )


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The person leaves the read model; what stays of their orientation keeps only the id."""
    erased = expect(payload, PersonErased)
    _note(event, await service.erase(session, erased.person_id))


HANDLERS: Mapping[str, Handler] = {
    PersonRegistered.event_type(): on_person_registered,
    PersonUpdated.event_type(): on_person_updated,
    MigrationStatusChanged.event_type(): on_migration_status_changed,
    PersonServedAt.event_type(): on_person_served_at,
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
    ReferralStatusChanged.event_type(): on_referral_status_changed,
}
