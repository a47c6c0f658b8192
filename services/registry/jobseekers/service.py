"""Jobseeker profiles and status: changed by officers, by referral events, and by returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.registry.jobseekers.domain import (
    JobseekerStatus,
    check_transition,
    status_after_referral,
)
from services.registry.jobseekers.models import JobseekerProfile, Referral
from services.registry.people.models import Person
from shared.db import clock_now
from shared.events.matching import OPEN_REFERRAL_STATES
from shared.events.registry import JobseekerProfile as ProfileData
from shared.events.registry import JobseekerStatusChanged
from shared.outbox import add_event

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

_INSERT_PROFILE = insert(cast("Table", JobseekerProfile.__table__))
_PROFILE_FIELDS = (
    "desired_occupations",
    "preferred_provinces",
    "willing_to_work_abroad",
    "abroad_countries",
    "availability",
    "available_from",
)

# What `new_profile_dict` and `profile_dict` give: every column but the person's id.
PROFILE_COLUMNS = ("status", *_PROFILE_FIELDS, "status_reason", "status_changed_at")


def empty_profile() -> ProfileData:
    return ProfileData()


def profile_dict(profile: JobseekerProfile) -> dict[str, Any]:
    """The profile as events and API answers carry it."""
    return {
        "status": profile.status,
        **{f: getattr(profile, f) for f in _PROFILE_FIELDS},
        "status_reason": profile.status_reason,
        "status_changed_at": profile.status_changed_at,
    }


def new_profile_dict(data: ProfileData, at: datetime, reason: str | None = None) -> dict[str, Any]:
    """A profile as `create_profile` writes it, in the shape `profile_dict` gives."""
    return {
        "status": JobseekerStatus.ACTIVE.value,
        **{f: getattr(data, f) for f in _PROFILE_FIELDS},
        "status_reason": reason,
        "status_changed_at": at,
    }


async def create_profile(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: ProfileData,
    at: datetime,
    reason: str | None = None,
    *,
    mirrored: bool = False,
) -> None:
    """A new profile, active. `mirrored`: the caller already set the person's status copy."""
    await session.execute(
        _INSERT_PROFILE, {"person_id": person_id, **new_profile_dict(data, at, reason)}
    )
    if not mirrored:
        await _mirror(session, person_id, JobseekerStatus.ACTIVE)


async def _mirror(session: AsyncSession, person_id: uuid.UUID, status: JobseekerStatus) -> None:
    """Copy the status onto the person's row, where lists filter on it without a join."""
    await session.execute(
        update(Person).where(Person.id == person_id).values(jobseeker_status=status.value)
    )


async def update_profile(
    session: AsyncSession,
    person_id: uuid.UUID,
    profile: JobseekerProfile | None,
    data: ProfileData,
) -> bool:
    """Create or change the profile's wishes (never its status); True when anything changed."""
    if profile is None:
        await create_profile(session, person_id, data, datetime.now(UTC))
        return True
    changed = False
    for field in _PROFILE_FIELDS:
        if field in data.model_fields_set and getattr(profile, field) != getattr(data, field):
            setattr(profile, field, getattr(data, field))
            changed = True
    await session.flush()
    return changed


async def move(
    session: AsyncSession,
    profile: JobseekerProfile,
    new: JobseekerStatus,
    *,
    reason: str | None,
    changed_by: str,
    referral_id: uuid.UUID | None = None,
) -> None:
    """Set the status and announce it, in the caller's transaction."""
    previous = profile.status
    profile.status = new.value
    await _mirror(session, profile.person_id, new)
    profile.status_reason = reason
    profile.status_changed_at = await clock_now(session)
    await session.flush()
    await add_event(
        session,
        JobseekerStatusChanged(
            person_id=profile.person_id,
            status=new.value,
            previous_status=previous,
            reason=reason,
            referral_id=referral_id,
            changed_by=changed_by,
            changed_at=profile.status_changed_at,
        ),
    )


async def change_status(
    session: AsyncSession,
    profile: JobseekerProfile,
    new: JobseekerStatus,
    *,
    reason: str | None,
    changed_by: str,
) -> None:
    """An officer's change: 409 naming the current state when the move is not allowed."""
    check_transition(JobseekerStatus(profile.status), new)
    await move(session, profile, new, reason=reason, changed_by=changed_by)


async def apply_referral(
    session: AsyncSession,
    *,
    referral_id: uuid.UUID,
    person_id: uuid.UUID,
    status: str,
    changed_at: datetime,
    changed_by: str,
) -> None:
    """Record a referral's new state and move the jobseeker if it changes their status.

    Events of one referral arrive in order (keyed by referral); an older state arriving late,
    e.g. replayed from a dead-letter topic, is ignored by comparing times.
    """
    profile = await _profile_following_merges(session, person_id)
    if profile is None:  # not a jobseeker here: registered without a profile, or erased
        return
    upsert = pg_insert(Referral).values(
        referral_id=referral_id, person_id=profile.person_id, status=status, changed_at=changed_at
    )
    applied = await session.scalar(
        upsert.on_conflict_do_update(
            index_elements=["referral_id"],
            set_={"status": upsert.excluded.status, "changed_at": upsert.excluded.changed_at},
            where=Referral.changed_at <= upsert.excluded.changed_at,
        ).returning(Referral.referral_id)
    )
    if applied is None:
        return
    open_count = await session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.person_id == profile.person_id, Referral.status.in_(OPEN_REFERRAL_STATES))
    )
    new = status_after_referral(JobseekerStatus(profile.status), status, open_count or 0)
    if new is not None:
        await move(
            session,
            profile,
            new,
            reason=f"referral {status}",
            changed_by=changed_by,
            referral_id=referral_id,
        )


async def apply_placement_ended(
    session: AsyncSession,
    *,
    person_id: uuid.UUID,
    referral_id: uuid.UUID,
    placement_id: uuid.UUID,
    ended_at: datetime,
    changed_by: str,
) -> None:
    """A placement ended in matching: a placed jobseeker is looking for work again.

    Unless a newer placement (another referral placed after this end) holds them: events of
    different referrals travel on different partitions and may arrive in any order.
    """
    profile = await _profile_following_merges(session, person_id)
    if profile is None or profile.status != JobseekerStatus.PLACED.value:
        return
    newer = await session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.person_id == profile.person_id,
            Referral.referral_id != referral_id,
            Referral.status == "placed",
            Referral.changed_at > ended_at,
        )
    )
    if newer:
        return
    await move(
        session,
        profile,
        JobseekerStatus.ACTIVE,
        reason=f"placement {placement_id} ended",
        changed_by=changed_by,
        referral_id=referral_id,
    )


async def _profile_following_merges(
    session: AsyncSession, person_id: uuid.UUID
) -> JobseekerProfile | None:
    """The locked profile of the person, or of the record they were merged into."""
    for _ in range(5):
        merged_into = await session.scalar(select(Person.merged_into).where(Person.id == person_id))
        if merged_into is None:
            break
        person_id = merged_into
    return await session.get(JobseekerProfile, person_id, with_for_update=True)


async def reactivate(
    session: AsyncSession, person_id: uuid.UUID, *, reason: str, changed_by: str
) -> None:
    """Make the person an active jobseeker again (e.g. back from abroad), creating a profile
    if they never had one."""
    profile = await session.get(JobseekerProfile, person_id, with_for_update=True)
    if profile is None:
        now = await clock_now(session)
        await create_profile(session, person_id, empty_profile(), now, reason)
        await add_event(
            session,
            JobseekerStatusChanged(
                person_id=person_id,
                status=JobseekerStatus.ACTIVE.value,
                reason=reason,
                changed_by=changed_by,
                changed_at=now,
            ),
        )
    elif profile.status != JobseekerStatus.ACTIVE.value:
        await move(session, profile, JobseekerStatus.ACTIVE, reason=reason, changed_by=changed_by)
