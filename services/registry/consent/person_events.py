"""How consent decisions follow a person's merge and erasure (combined in `registry.reactions`):
the duplicate's history becomes the survivor's; every decision goes with an erasure."""

from __future__ import annotations

from services.registry.consent.models import Consent
from services.registry.people.reactions import PersonReaction, rows_follow_person

REACTION: PersonReaction = rows_follow_person(Consent)
