"""Merging a duplicate into its survivor, and erasing a person on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy import String, cast, delete, or_, select

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.erasures import ledger
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.keys import service as person_keys
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.reactions import delete_rows, move_rows
from services.registry.people.record_fields import derive as _derived
from services.registry.people.records import PERSONAL, announce_update, get_person
from services.registry.reactions import PERSON_REACTIONS
from shared.db import clock_now
from shared.events.registry import ErasureRecorded, PersonErased, PersonMerged
from shared.idempotency import IdempotencyRecord
from shared.outbox import add_event
from shared.outbox.models import OutboxRecord
from shared.problems import Conflict, InvalidField

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

# Filled on the survivor from the duplicate when the survivor has no value.
_FILLABLE = (
    "given_name_lo",
    "family_name_lo",
    "given_name_en",
    "family_name_en",
    "date_of_birth",
    "ethnicity",
    "phone",
    "email",
    "district",
    "village",
    "disability",
    "isced_level",
)
_UNIONED = ("skills", "certificates", "languages", "experience")


def _scrub(person: Person) -> None:
    for field in PERSONAL:
        setattr(person, field, [] if isinstance(getattr(person, field), list) else None)
    person.migration_status = None
    person.jobseeker_status = None


async def merge(
    session: AsyncSession,
    survivor_id: uuid.UUID,
    duplicate_id: uuid.UUID,
    principal: Principal,
    *,
    reason: str,
) -> Person:
    """Keep `survivor_id`, fold `duplicate_id` into it and leave a redirect behind."""
    survivor, duplicate = await _lock_pair(session, survivor_id, duplicate_id, principal)
    for reaction in PERSON_REACTIONS:
        if reaction.refuse_merge is not None:
            await reaction.refuse_merge(session, survivor, duplicate)

    changed = _fold_fields(survivor, duplicate)
    if await move_rows(session, IdentityDocument, duplicate, survivor):
        changed.append("documents")
    # Every other feature moves (or drops) the duplicate's rows in its own tables.
    for reaction in PERSON_REACTIONS:
        changed.extend(await reaction.on_merge(session, survivor, duplicate))

    _scrub(duplicate)
    duplicate.record_status = "merged"
    duplicate.merged_into = survivor.id
    duplicate.version += 1
    profile = await session.get(JobseekerProfile, survivor.id)
    _derived(survivor, list(profile.desired_occupations) if profile else [])
    if changed:
        await announce_update(session, survivor, changed, principal)
    now = await clock_now(session)
    await add_event(
        session,
        PersonMerged(
            person_id=duplicate.id,
            survivor_id=survivor.id,
            merged_by=principal.subject,
            office_code=principal.office,
            merged_at=now,
        ),
    )
    await audit.record(
        session, principal, Action.MERGED, [survivor.id], fields=sorted(changed), reason=reason
    )
    await audit.record(session, principal, Action.MERGED_INTO, [duplicate.id], reason=reason)
    return survivor


async def _lock_pair(
    session: AsyncSession, survivor_id: uuid.UUID, duplicate_id: uuid.UUID, principal: Principal
) -> tuple[Person, Person]:
    """The survivor and the duplicate, both locked; refused when they are (already) one."""
    if survivor_id == duplicate_id:
        raise InvalidField("duplicate_id", "is the record itself")
    # Both rows locked, always in id order, so two merges of the same pair cannot deadlock.
    locked = {}
    for person_id in sorted((survivor_id, duplicate_id)):
        locked[person_id] = await get_person(session, person_id, principal, lock=True)
    survivor, duplicate = locked[survivor_id], locked[duplicate_id]
    if survivor.id == duplicate.id:
        raise Conflict("the two records are already merged", survivor_id=str(survivor.id))
    return survivor, duplicate


def _fold_fields(survivor: Person, duplicate: Person) -> list[str]:
    """Fill the survivor's empty fields from the duplicate and add the duplicate's list items
    it lacks; the fields changed."""
    changed = []
    for field in _FILLABLE:
        if getattr(survivor, field) is None and getattr(duplicate, field) is not None:
            setattr(survivor, field, getattr(duplicate, field))
            changed.append(field)
    for field in _UNIONED:
        mine, theirs = list(getattr(survivor, field) or []), getattr(duplicate, field) or []
        extra = [item for item in theirs if item not in mine]
        if extra:
            setattr(survivor, field, mine + extra)
            changed.append(field)
    return changed


Basis = Literal["request", "retention"]


async def erase(
    session: AsyncSession,
    person_id: uuid.UUID,
    principal: Principal,
    *,
    reason: str,
    basis: Basis = "request",
) -> Person:
    """Remove the person's personal data from every registry table and tell the others.

    What stays is a tombstone with the counts' dimensions (sex, birth year, province, office,
    dates), so aggregate figures do not change; the audit trail never held personal data. The
    same for an erasure on request and an anonymisation after the retention period (`basis`):
    the erasure ledger (`erasures/ledger.py`) records each id erased, ids and dates only.
    """
    person = await get_person(session, person_id, principal, lock=True)
    ids = await purge(session, person)
    person.record_status = "erased"
    person.erased_at = await clock_now(session)
    await session.flush()
    # One event per id: a service that kept a merged-away copy under its own id (notify's
    # contact from the copy's registration) purges it too, whether or not it saw the merge.
    for erased_id in ids:
        erased = await add_event(
            session,
            PersonErased(
                person_id=erased_id,
                erased_by=principal.subject,
                office_code=principal.office,
                erased_at=person.erased_at,
            ),
        )
        await ledger.record(
            session,
            ErasureRecorded(
                person_id=erased_id,
                erased_at=person.erased_at,
                basis=basis,
                survivor_id=None if erased_id == person.id else person.id,
                cause_event_id=erased.id,
            ),
        )
    await audit.record(session, principal, Action.ERASED, [person.id], reason=reason)
    return person


async def purge(session: AsyncSession, person: Person) -> list[uuid.UUID]:
    """Delete the person's data from every registry table and blank their record (locked by
    the caller): the ids it reached, the person's and those of every record merged into it.

    The record's status is the caller's to set before it flushes (an erasure retires it; the
    erasure ledger's re-application leaves a merged-away copy merged): an active record must
    have a name."""
    # Every record merged into this one, also through earlier merges (C into B, then B into
    # A): each copy's events, stored answers and moved rows are the same person's data.
    merged = select(Person.id).where(Person.merged_into == person.id).cte(recursive=True)
    merged = merged.union(select(Person.id).where(Person.merged_into == merged.c.id))
    merged_away = list((await session.scalars(select(merged.c.id))).all())
    ids = [person.id, *merged_away]
    await delete_rows(session, IdentityDocument, ids)
    # The person's keys: from now on no copy of their events, on any topic, opens.
    await person_keys.destroy_keys(session, ids)
    for reaction in PERSON_REACTIONS:
        await reaction.on_erase(session, ids)
    # Events and stored answers written earlier carry the person's data: they go too. A copy
    # already on the broker is purged by consumers when PersonErased reaches them.
    await session.execute(delete(OutboxRecord).where(OutboxRecord.key.in_([str(i) for i in ids])))
    await session.execute(
        delete(IdempotencyRecord).where(
            or_(*(cast(IdempotencyRecord.body, String).contains(str(i)) for i in ids))
        )
    )
    _scrub(person)
    person.version += 1
    return ids
