"""How imported CSV rows follow a person's merge and erasure (combined in `registry.reactions`):
a row that created or matched the duplicate leads to the survivor; the rows go with an erasure."""

from __future__ import annotations

from services.registry.imports.models import ImportedRow
from services.registry.people.reactions import PersonReaction, rows_follow_person

REACTION: PersonReaction = rows_follow_person(ImportedRow)
