"""How predeparture follows registry's people and matching's referrals.

Each handler maps its event onto service functions, in the consumer's transaction. Events
about people predeparture does not hold (erased, or never announced) change nothing: they are
logged and counted, never dead-lettered, since an erasure may overtake events still in flight
on other topics. A merge or erasure reaches only the learners table here (`ERASURE` apart, as
the app runs it after the other features'); sessions, attendance and completions react to it
on their own tables (their `person_events.py`), combined in predeparture's app.py.

Orientation becomes required at the offer, not at the referral: a referral is a shortlist that
most people leave without a job, while an offer abroad means a departure within weeks, which
the person may not make without a valid orientation for that destination.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services.predeparture.learners import service
from services.predeparture.learners.domain import PROSPECTIVE
from services.predeparture.sessions import invitations
from shared.consumer import expect
from shared.events.matching import ReferralStatusChanged
from shared.events.predeparture import OrientationRequired
from shared.events.registry import (
    MigrationStatusChanged,
)
from shared.outbox import add_event
from shared.readmodels import Outcome, Skipped, person_handlers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.consumer.runner import Handler
    from shared.events import CloudEvent, Event
    from shared.work import Work

log = logging.getLogger(__name__)


# The referral status at which orientation becomes urgent (see the module's docstring).
OFFERED = "offered"


_note = Skipped(
    "labourx_predeparture_learner_events_skipped_total",
    "Events predeparture applied without a change (unknown person, stale, merged, not needed)",
    log,
    "learners",
)


async def on_migration_status_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """Kept on the learner; a prospective migrant is invited to orientation automatically."""
    changed = expect(payload, MigrationStatusChanged)
    learner = await service.apply_migration_status(
        work.session, changed.person_id, changed.status, changed.destination_country
    )
    if learner is None:
        _note(event, Outcome.UNKNOWN_PERSON)
        return
    if changed.status != PROSPECTIVE:
        return
    invited = await invitations.invite(
        work.session,
        learner.person_id,
        province_code=learner.province_code,
        destination_country=changed.destination_country,
        today=work.today,
    )
    if invited is None:
        _note(event, Outcome.NOT_NEEDED)


async def on_referral_status_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """An offer of work abroad to someone without a valid orientation for the destination:
    OrientationRequired, and an invitation unless they already hold a place or a turn."""
    referral = expect(payload, ReferralStatusChanged)
    if not referral.overseas or referral.status != OFFERED:
        return
    learner = await service.following_merges(work.session, referral.person_id)
    if learner is None:
        _note(event, Outcome.UNKNOWN_PERSON)
        return
    destination = referral.destination_country or learner.destination_country
    if destination is None:
        log.warning("referral %s: an overseas offer without a destination", referral.referral_id)
        _note(event, Outcome.NOT_NEEDED)
        return
    today = work.today
    if await invitations.is_oriented(
        work.session, learner.person_id, destination, today
    ) or await invitations.is_on_the_way(work.session, learner.person_id):
        # Oriented, or orientation already on its way: nothing to ask for, and a redelivered
        # offer asks nothing twice.
        _note(event, Outcome.NOT_NEEDED)
        return
    await add_event(
        work.session,
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
        work.session,
        learner.person_id,
        province_code=learner.province_code,
        destination_country=destination,
        today=today,
    )


HANDLERS: Mapping[str, Handler] = {
    **person_handlers(
        _note,
        apply_person=service.apply_person,
        apply_served_at=service.apply_served_at,
        merge=service.merge,
    ),
    MigrationStatusChanged.event_type(): on_migration_status_changed,
    ReferralStatusChanged.event_type(): on_referral_status_changed,
}

# The erasure apart: the app runs it after the other features' reactions, which find the
# records merged into the person through the learners rows this deletes.
ERASURE: Mapping[str, Handler] = person_handlers(_note, erase=service.erase)
