"""The registry's features' reactions to a person's merge and erasure (`people.reactions`),
combined in the order they run: each feature changes only its own tables, as notify's features
each declare their handlers and `notify/app.py` combines them. `people/lifecycle.py` runs them
in the merge's or erasure's own transaction, after the person's identity documents and before
the record itself is retired and announced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.registry.consent import person_events as consent
from services.registry.imports import person_events as imports
from services.registry.jobseekers import person_events as jobseekers
from services.registry.migration_records import person_events as migration_records
from services.registry.serving import person_events as serving

if TYPE_CHECKING:
    from services.registry.people.reactions import PersonReaction

PERSON_REACTIONS: tuple[PersonReaction, ...] = (
    consent.REACTION,
    migration_records.REACTION,
    # Referral states before the profile (the order erasure always deleted them in).
    jobseekers.REACTION,
    imports.REACTION,
    serving.REACTION,
)
