"""Which status changes the console offers: those the registry's lifecycles allow.

The registry owns the rules (`jobseekers/domain.py: ALLOWED`, `migration_records/domain.py:
TRANSITIONS`) and refuses anything else with a 409; the console cannot import a service's code,
so it keeps a copy to offer only what will be accepted, and tests/console/test_person_page.py
fails the day the two differ.
"""

from __future__ import annotations

JOBSEEKER_MOVES: dict[str, tuple[str, ...]] = {
    "active": ("referred", "inactive"),
    "referred": ("active", "placed", "inactive"),
    "placed": ("active", "inactive"),
    "inactive": ("active",),
}

MIGRATION_MOVES: dict[str, tuple[str, ...]] = {
    "prospective": ("ready", "cancelled"),
    "ready": ("departed", "prospective", "cancelled"),
    "departed": ("abroad", "returned"),
    "abroad": ("returned",),
    "returned": (),
    "cancelled": (),
}
# A record still open: a new one cannot be opened beside it.
OPEN_MIGRATION = ("prospective", "ready", "departed", "abroad")


def jobseeker_moves(status: str | None) -> tuple[str, ...]:
    return JOBSEEKER_MOVES.get(status or "", ())


def migration_moves(status: str) -> tuple[str, ...]:
    return MIGRATION_MOVES.get(status, ())
