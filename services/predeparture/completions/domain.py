"""The completion rule of pre-departure orientation, and certificate codes: pure functions.

Rule: a person has completed orientation for a destination under a curriculum version when
every mandatory module that applies to the destination (the general ones, with no destination,
and that destination's own) was attended, `present`, and the attendances used span no more
than the curriculum's completion window (earliest to latest). An excused absence is not
attendance: the person makes the module up in another session.

Which version applies: the versions of the sessions the person attended are each tried, with
attendance from sessions of any version of the same curriculum code (modules are matched by
code), and the earliest completion wins (ties: the newest version). So a person who completed
under version 1 keeps that completion when they later sit in a version 2 session, and a person
who started under version 1 and finishes under version 2 completes under version 2's modules.

Completion date: the first day on which the rule was met, i.e. the day the last needed module
was attended. Attending a module again later does not move it (a certificate keeps its date).
A destination is covered only if the curriculum has a mandatory module for it: the destination's
law and culture is part of what the issue requires, so general modules alone certify nothing.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection, Iterable, Mapping, Sequence

PRESENT = "present"
ATTENDANCE_STATUSES = ("present", "absent", "excused")

# Verification codes: no 0/O, 1/I/L or U/V look-alikes, so a code read aloud or typed from
# paper survives. 29 symbols ** 10 = 4.2e14 codes (48.6 bits).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 10
# Two symbols at a time: _PAIRS[i + 29 * j] is CODE_ALPHABET[i] + CODE_ALPHABET[j].
_PAIR_BASE = len(CODE_ALPHABET) ** 2
_PAIRS = tuple(a + b for b in CODE_ALPHABET for a in CODE_ALPHABET)


@dataclass(frozen=True)
class ModuleRule:
    code: str
    mandatory: bool
    # Empty: every destination (a general module).
    destinations: frozenset[str] = frozenset()

    def applies_to(self, destination: str) -> bool:
        return not self.destinations or destination in self.destinations


@dataclass(frozen=True)
class CurriculumRule:
    id: uuid.UUID
    code: str
    version: int
    window_months: int
    validity_months: int
    modules: tuple[ModuleRule, ...]

    def required(self, destination: str) -> tuple[str, ...]:
        """Codes of the mandatory modules for `destination`, in curriculum order."""
        return tuple(m.code for m in self.modules if m.mandatory and m.applies_to(destination))

    def covers(self, destination: str) -> bool:
        """Whether the curriculum has a mandatory module specific to `destination`."""
        return any(m.mandatory and destination in m.destinations for m in self.modules)


@dataclass(frozen=True)
class Attended:
    """One attendance record of a person: a module, how they were marked, on which day."""

    module_code: str
    status: str
    on: date
    curriculum_code: str = ""
    office_code: str | None = None


@dataclass(frozen=True)
class Met:
    completed_on: date
    # The attendance counted for each required module.
    used: Mapping[str, Attended] = field(compare=False)

    @property
    def office_code(self) -> str | None:
        """The office where the last needed module was attended (it issues the certificate)."""
        last = [a for a in self.used.values() if a.on == self.completed_on]
        return last[0].office_code if last else None


class Shortfall(StrEnum):
    NOT_ATTENDED = "not_attended"  # some modules were never attended (present)
    OUTSIDE_WINDOW = "outside_window"  # all attended, but not within the window
    NOT_COVERED = "not_covered"  # the curriculum has no module for this destination


@dataclass(frozen=True)
class Unmet:
    reason: Shortfall
    # What the person still needs if they come now: modules never attended, and modules whose
    # last attendance is too old to combine with one attended today.
    missing: tuple[str, ...]


Outcome = Met | Unmet


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day when it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def within_window(earliest: date, latest: date, months: int) -> bool:
    return latest <= add_months(earliest, months)


def evaluate(
    curriculum: CurriculumRule, destination: str, records: Iterable[Attended], *, today: date
) -> Outcome:
    """Whether `records` meet the curriculum's rule for `destination`, and when, or what is
    missing. Records of other curricula (by code) are ignored; only `present` counts."""
    required = curriculum.required(destination)
    if not curriculum.covers(destination):
        return Unmet(Shortfall.NOT_COVERED, required)
    wanted = set(required)
    attended = sorted(
        (
            r
            for r in records
            if r.status == PRESENT
            and r.module_code in wanted
            and (not r.curriculum_code or r.curriculum_code == curriculum.code)
        ),
        key=lambda r: r.on,
    )
    # Sweep the days in order keeping each module's latest attendance so far: the first day on
    # which every module has one and the oldest of them is within the window is the completion.
    latest: dict[str, Attended] = {}
    for record in attended:
        latest[record.module_code] = record
        if len(latest) == len(wanted):
            oldest = min(a.on for a in latest.values())
            if within_window(oldest, record.on, curriculum.window_months):
                return Met(record.on, dict(latest))
    never = tuple(code for code in required if code not in latest)
    if never:
        return Unmet(Shortfall.NOT_ATTENDED, never)
    reference = max(today, attended[-1].on)
    stale = tuple(
        code
        for code in required
        if not within_window(latest[code].on, reference, curriculum.window_months)
    )
    return Unmet(Shortfall.OUTSIDE_WINDOW, stale)


def best(
    curricula: Sequence[CurriculumRule],
    destination: str,
    records: Collection[Attended],
    *,
    today: date,
) -> tuple[CurriculumRule, Outcome] | None:
    """The curriculum version under which the person completed earliest (ties: the newest
    version), or else the newest version with what it still needs; None without curricula."""
    if not curricula:
        return None
    newest_first = sorted(curricula, key=lambda c: c.version, reverse=True)
    outcomes = [(c, evaluate(c, destination, records, today=today)) for c in newest_first]
    met = [(c, o) for c, o in outcomes if isinstance(o, Met)]
    if met:
        return min(met, key=lambda pair: pair[1].completed_on)  # min keeps the first on ties
    return outcomes[0]


def destinations_to_check(
    home: str | None, curricula: Iterable[CurriculumRule], records: Iterable[Attended]
) -> set[str]:
    """The person's own destination, and every destination whose specific module they
    attended (a Korea module is a sign the person is heading to Korea)."""
    specific: dict[str, frozenset[str]] = {}
    for curriculum in curricula:
        for module in curriculum.modules:
            if module.destinations:
                specific[module.code] = specific.get(module.code, frozenset()) | module.destinations
    found = {d for r in records if r.status == PRESENT for d in specific.get(r.module_code, ())}
    return found | ({home} if home else set())


def valid_until(completed_on: date, validity_months: int) -> date:
    """The last day a completion counts for a departure."""
    return add_months(completed_on, validity_months)


CertificateState = Literal["valid", "withdrawn", "expired"]


def certificate_state(status: str, until: date, today: date) -> CertificateState:
    """What a certificate is worth today: withdrawn by a correction, past its date, or valid."""
    if status == "withdrawn":
        return "withdrawn"
    return "expired" if until < today else "valid"


def certificate_number(year: int, sequence: int) -> str:
    return f"PDO-{year}-{sequence:06d}"


def verification_code(key: bytes, completion_id: uuid.UUID) -> str:
    """The code printed on a certificate: a keyed hash of the completion's random id, so it can
    be printed again at any time while the table keeps only its SHA-256."""
    digest = int.from_bytes(hmac.digest(key, completion_id.bytes, "sha256"), "big")
    # The digest's base-29 digits, least significant first, two at a time (a certificate pass
    # derives tens of thousands of codes).
    symbols = []
    for _ in range(CODE_LENGTH // 2):
        digest, pair = divmod(digest, _PAIR_BASE)
        symbols.append(_PAIRS[pair])
    return "".join(symbols)


def normalise_code(text: str) -> str | None:
    """A typed code in canonical form (case, spaces and dashes forgiven), or None when it
    cannot be one."""
    code = "".join(c for c in text.upper() if c not in " -")
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def verification_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def display_code(code: str) -> str:
    """Grouped for reading aloud and typing: `ABCDE-FGHJK`."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"
