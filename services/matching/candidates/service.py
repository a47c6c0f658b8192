"""Candidate read model operations: each event's change, and the officer's view of a person.

Every function runs in the caller's transaction (the consumer's, with its inbox row) and
writes state so that applying the same event again leaves the same rows. A person's record
and consent carry a version or time, so an older one arriving late is recognised and ignored;
status changes carry neither and rely on registry's per-person order on one partition.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.matching.candidates import domain
from services.matching.candidates.models import Candidate, CandidateOrientation
from services.matching.candidates.schemas import CandidateRead, Exclusion, OrientationRead
from shared import readmodels
from shared.problems import NotFound
from shared.readmodels import Outcome

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from shared.events.registry import PersonDetails

log = logging.getLogger(__name__)


_orientations = cast("Table", CandidateOrientation.__table__)
_new_orientation = pg_insert(_orientations)
# A completion replaces the stored one of its destination unless that one was recorded later.
_UPSERT_ORIENTATION = _new_orientation.on_conflict_do_update(
    index_elements=["person_id", "destination_country"],
    set_={
        c: _new_orientation.excluded[c]
        for c in ("certificate_number", "completed_on", "valid_until", "recorded_at")
    },
    where=_orientations.c.recorded_at <= _new_orientation.excluded.recorded_at,
)


def _refresh(candidate: Candidate) -> None:
    """Recompute what is derived from the stored state: retrieval keys and eligibility."""
    candidate.match_keys = domain.match_keys(candidate)
    candidate.eligible = domain.is_eligible(candidate)
    candidate.updated_at = datetime.now(UTC)


async def _sync_orientations(session: AsyncSession, candidate: Candidate) -> None:
    """Copy the destinations of the person's orientations onto the row (retrieval keys)."""
    countries = await session.scalars(
        select(_orientations.c.destination_country)
        .where(_orientations.c.person_id == candidate.person_id)
        .order_by(_orientations.c.destination_country)
    )
    candidate.oriented_countries = list(countries.all())
    _refresh(candidate)
    await session.flush()


async def _following_merges(session: AsyncSession, person_id: uuid.UUID) -> Candidate | None:
    """The locked row of the person, or of the record they were merged into."""
    return await readmodels.locked_following_merges(session, Candidate, person_id)


# -- registry's events -----------------------------------------------------------------------


async def apply_person(session: AsyncSession, details: PersonDetails, version: int) -> Outcome:
    """A registration (version 1) or update: the whole record replaces the kept one (see
    `shared.readmodels.apply_record` for versions and merged records)."""

    def fill(candidate: Candidate) -> None:
        fields = domain.person_fields(details)
        if details.jobseeker is None and candidate.jobseeker_status is None:
            # No profile: the wish to go abroad is the open migration record's, kept on the row.
            prospective = candidate.migration_status == domain.MIGRANT_LOOKING
            fields["willing_abroad"] = bool(candidate.willing_abroad) and prospective
            fields["abroad_countries"] = (
                list(candidate.abroad_countries or []) if prospective else []
            )
        for name, value in fields.items():
            setattr(candidate, name, value)
        _refresh(candidate)

    return await readmodels.apply_record(
        session,
        Candidate,
        details.person_id,
        version,
        fill,
        new={"consent_job_matching": False, "migration_status": None},
    )


async def apply_consent(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    status: str,
    expires_on: date | None,
    recorded_at: datetime,
) -> Outcome:
    """A job_matching decision: in force (given, renewed) until `expires_on`, or not at all.

    A withdrawal takes the person out of matching in this same transaction. A decision older
    than the stored one (a replay) changes nothing.
    """
    candidate = await _following_merges(session, person_id)
    if candidate is None:
        return Outcome.UNKNOWN_PERSON
    if not domain.not_older(recorded_at, candidate.consent_recorded_at):
        return Outcome.STALE
    in_force = status in domain.CONSENT_IN_FORCE
    candidate.consent_job_matching = in_force
    candidate.consent_expires_on = expires_on if in_force else None
    candidate.consent_recorded_at = recorded_at
    _refresh(candidate)
    await session.flush()
    return Outcome.APPLIED


async def apply_jobseeker_status(
    session: AsyncSession, person_id: uuid.UUID, status: str
) -> Outcome:
    """The jobseeker's status moved (events of a person arrive in order)."""
    candidate = await _following_merges(session, person_id)
    if candidate is None:
        return Outcome.UNKNOWN_PERSON
    candidate.jobseeker_status = status
    _refresh(candidate)
    await session.flush()
    return Outcome.APPLIED


async def apply_migration_status(
    session: AsyncSession, person_id: uuid.UUID, status: str, destination_country: str
) -> Outcome:
    """The latest migration record moved; without a jobseeker profile it also says where the
    person would work (a prospective migrant is found for jobs in that country)."""
    candidate = await _following_merges(session, person_id)
    if candidate is None:
        return Outcome.UNKNOWN_PERSON
    candidate.migration_status = status
    candidate.migration_destination = destination_country
    if candidate.jobseeker_status is None:
        willing, countries = domain.migrant_wishes(status, destination_country)
        candidate.willing_abroad, candidate.abroad_countries = willing, countries
    _refresh(candidate)
    await session.flush()
    return Outcome.APPLIED


async def apply_served_at(session: AsyncSession, person_id: uuid.UUID, office_code: str) -> Outcome:
    """An office outside the person's province now serves them: its staff may rank, refer and
    place the person from now on (an office already serving them changes nothing)."""
    return await readmodels.add_serving_office(
        session,
        Candidate,
        person_id,
        office_code,
        lambda held, office: domain.with_offices(held, [office]),
    )


async def merge(session: AsyncSession, person_id: uuid.UUID, survivor_id: uuid.UUID) -> Outcome:
    """`person_id` was a duplicate of `survivor_id`: retire it and move what it held.

    The survivor gets the orientations (the later valid_until wins per destination), the more
    recent consent decision and, when it has none, the migration status: as registry moves
    consents and migration records to the survivor without announcing them again.
    """

    async def absorb(duplicate: Candidate, survivor: Candidate | None) -> None:
        if survivor is not None:
            await _move_orientations(session, duplicate.person_id, survivor.person_id)
            await _sync_orientations(session, survivor)
            _take_over(duplicate, survivor)
        duplicate.oriented_countries = []
        _refresh(duplicate)

    return await readmodels.merge(session, Candidate, person_id, survivor_id, absorb)


def _take_over(duplicate: Candidate, survivor: Candidate) -> None:
    """What the survivor gets of the duplicate's row besides its orientations."""
    if duplicate.consent_recorded_at is not None and domain.not_older(
        duplicate.consent_recorded_at, survivor.consent_recorded_at
    ):
        survivor.consent_job_matching = duplicate.consent_job_matching
        survivor.consent_expires_on = duplicate.consent_expires_on
        survivor.consent_recorded_at = duplicate.consent_recorded_at
    if survivor.migration_status is None and duplicate.migration_status is not None:
        survivor.migration_status = duplicate.migration_status
        survivor.migration_destination = duplicate.migration_destination
        if survivor.jobseeker_status is None and duplicate.jobseeker_status is None:
            survivor.willing_abroad = duplicate.willing_abroad
            survivor.abroad_countries = list(duplicate.abroad_countries or [])
    # Offices that served either record serve the person.
    survivor.serving_offices = domain.with_offices(
        survivor.serving_offices, duplicate.serving_offices
    )
    _refresh(survivor)


async def _move_orientations(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    columns = ("destination_country", "certificate_number", "completed_on", "valid_until")
    moved = pg_insert(_orientations).from_select(
        ["person_id", *columns, "recorded_at"],
        select(
            literal(to_id, _orientations.c.person_id.type),
            *(_orientations.c[c] for c in columns),
            _orientations.c.recorded_at,
        ).where(_orientations.c.person_id == from_id),
    )
    await session.execute(
        moved.on_conflict_do_update(
            index_elements=["person_id", "destination_country"],
            set_={c: moved.excluded[c] for c in (*columns[1:], "recorded_at")},
            where=_orientations.c.valid_until < moved.excluded.valid_until,
        )
    )
    await session.execute(delete(_orientations).where(_orientations.c.person_id == from_id))


async def erase(session: AsyncSession, person_id: uuid.UUID) -> Outcome:
    """The person was erased in registry: their row, orientations and merged copies go."""
    ids = await readmodels.records_of(session, Candidate, person_id)
    if not ids:
        return Outcome.UNKNOWN_PERSON
    await session.execute(delete(_orientations).where(_orientations.c.person_id.in_(ids)))
    await readmodels.delete_records(session, Candidate, ids)
    return Outcome.APPLIED


# -- predeparture's events -------------------------------------------------------------------


async def record_orientation(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    destination_country: str,
    certificate_number: str,
    completed_on: date,
    valid_until: date,
    recorded_at: datetime,
) -> Outcome:
    """A completed orientation for a destination; an older completion does not replace it."""
    candidate = await _following_merges(session, person_id)
    if candidate is None:
        return Outcome.UNKNOWN_PERSON
    await session.execute(
        _UPSERT_ORIENTATION,
        {
            "person_id": candidate.person_id,
            "destination_country": destination_country,
            "certificate_number": certificate_number,
            "completed_on": completed_on,
            "valid_until": valid_until,
            "recorded_at": recorded_at,
        },
    )
    await _sync_orientations(session, candidate)
    return Outcome.APPLIED


async def withdraw_orientation(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    destination_country: str,
    certificate_number: str,
) -> Outcome:
    """A completion voided: its row goes, unless a later certificate already replaced it."""
    candidate = await _following_merges(session, person_id)
    if candidate is None:
        return Outcome.UNKNOWN_PERSON
    await session.execute(
        delete(_orientations).where(
            _orientations.c.person_id == candidate.person_id,
            _orientations.c.destination_country == destination_country,
            _orientations.c.certificate_number == certificate_number,
        )
    )
    await _sync_orientations(session, candidate)
    return Outcome.APPLIED


# -- reading ---------------------------------------------------------------------------------


async def read_candidate(
    session: AsyncSession, person_id: uuid.UUID, actor: Actor, *, today: date
) -> CandidateRead:
    """What matching knows of a person and why they cannot be matched, for office staff who
    serve the person (their province, an office serving them, or national scope)."""
    actor.require_staff()
    candidate = await session.get(Candidate, person_id)
    if candidate is None:
        raise NotFound(f"matching knows no person {person_id}")
    actor.require_serves_candidate(candidate)
    orientations = await session.scalars(
        select(CandidateOrientation)
        .where(CandidateOrientation.person_id == candidate.person_id)
        .order_by(CandidateOrientation.destination_country)
    )
    return CandidateRead.model_validate(
        {
            **{c.key: getattr(candidate, c.key) for c in Candidate.__table__.columns},
            "orientations": [OrientationRead.model_validate(o) for o in orientations],
            "exclusions": [Exclusion(**r) for r in domain.exclusion_reasons(candidate, today)],
        }
    )
