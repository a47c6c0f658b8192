"""Valid, unique jobseeker registrations, numbered so that no two requests in a run collide.

Each number gives its own phone number and its own Lao and Latin family names, so a duplicate
check (by phone or by name) can never reject a benchmark request as a repeat.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

# Lao mobile numbers are 020 followed by eight digits; these series are all valid.
_PHONE_SERIES = "2579"
_PER_SERIES = 10_000_000
CAPACITY = len(_PHONE_SERIES) * _PER_SERIES

_LAO_LETTERS = "ກຂຄງຈສຊຍດຕຖທນບປຜຝພຟມຢຣລວຫອຮ"
_LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_BORN_FROM = date(1960, 1, 1)  # plus up to 15,000 days: always at least 15 years old


def _spell(number: int, alphabet: str, width: int = 5) -> str:
    """`number` written in `alphabet` (fixed width), to make a name unique without digits."""
    letters = []
    for _ in range(width):
        number, digit = divmod(number, len(alphabet))
        letters.append(alphabet[digit])
    return "".join(reversed(letters))


def phone(number: int) -> str:
    if not 0 <= number < CAPACITY:
        raise ValueError(f"body number {number} is outside 0..{CAPACITY - 1}")
    series, rest = divmod(number, _PER_SERIES)
    return f"020 {_PHONE_SERIES[series]}{rest:07d}"


def jobseeker(number: int) -> dict[str, Any]:
    """Registration number `number`: valid for an ESC officer of Vientiane Capital (LA-VT)."""
    return {
        "given_name_lo": "ສົມສັກ",
        "family_name_lo": "ພົມມະ" + _spell(number, _LAO_LETTERS),
        "given_name_en": "Somsak",
        "family_name_en": "Phomma" + _spell(number, _LATIN_LETTERS),
        "sex": ("male", "female")[number % 2],
        "date_of_birth": (_BORN_FROM + timedelta(days=number % 15_000)).isoformat(),
        "phone": phone(number),
        "province_code": "LA-VT",
        "preferred_language": "lo",
        # Agreed to SMS at the counter: without it notify sends no welcome (issue 14).
        "consents": [{"purpose": "contact_sms", "status": "given", "method": "signed"}],
    }


def encoded(first: int, count: int) -> list[bytes]:
    """Request bodies `first` .. `first + count - 1`, serialised ahead of any timing."""
    return [
        json.dumps(jobseeker(n), ensure_ascii=False).encode() for n in range(first, first + count)
    ]


class Numbering:
    """Hands out disjoint ranges of body numbers to the phases of one run."""

    def __init__(self, start: int = 0) -> None:
        self._next = start

    def take(self, count: int) -> int:
        first = self._next
        self._next += count
        return first
