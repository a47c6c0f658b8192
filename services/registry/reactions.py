"""The registry's features' reactions to a person's merge and erasure, combined in the order
they run: each feature changes only its own tables (as notify's features each declare their
handlers and `notify/app.py` combines them); `people/lifecycle.py` runs them in the merge's or
erasure's own transaction, between locking the person and announcing the result."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.consent import person_events as consent
from services.registry.imports import person_events as imports
from services.registry.jobseekers import person_events as jobseekers
from services.registry.migration_records import person_events as migration
from services.registry.people.models import Person
from services.registry.serving import person_events as serving

# (session, survivor, duplicate): raise a problem to refuse the merge before anything moves.
MergeCheck = Callable[[AsyncSession, Person, Person], Awaitable[None]]
# (session, survivor, duplicate) -> the survivor's fields that changed (for its PersonUpdated).
MergeReaction = Callable[[AsyncSession, Person, Person], Awaitable[list[str]]]
# (session, the erased person's id and those of every record merged into it)
EraseReaction = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[None]]


@dataclass(frozen=True)
class PersonReaction:
    """What one feature does on its own tables when a person is merged or erased."""

    on_merge: MergeReaction
    on_erase: EraseReaction
    refuse_merge: MergeCheck | None = None


PERSON_REACTIONS: tuple[PersonReaction, ...] = (
    PersonReaction(consent.on_merge, consent.on_erase),
    PersonReaction(migration.on_merge, migration.on_erase, migration.refuse_merge),
    # Referral states before the profile (the order erasure always deleted them in).
    PersonReaction(jobseekers.on_merge, jobseekers.on_erase),
    PersonReaction(imports.on_merge, imports.on_erase),
    PersonReaction(serving.on_merge, serving.on_erase),
)
