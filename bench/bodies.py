"""Valid jobseeker registrations, numbered so that no request of a run is a duplicate of another.

The registry refuses a registration as a probable duplicate (409) when an earlier person shares
its birth date or its phone number and their names are alike (services/registry/duplicates).
Body `n` therefore gets:

- its own phone number (020 + series + seven digits), so no two bodies share a phone;
- birth date number `n % DATES` counted from 1960-01-01 (every one at least 15 years old), so
  bodies share a birth date only with bodies a multiple of `DATES` away: the same *date*, a
  different *cohort* `n // DATES`;
- the given name Somsak (ສົມສັກ) and a family name that is the cohort's code word, in Latin
  letters and in Lao script written so that both romanise to the same key.

Code words are syllables (one of ten consonants, then a, i or u) that the registry's phonetic
folding leaves as they are, and are drawn one after the other from a seeded generator, each kept
only if its similarity (the registry's Indel measure) to every earlier code word and to the
given name is below `CODE_SIMILARITY`. Two bodies with the same birth date then have the same
given name and family names at most 0.6 alike: name similarity at most (1 + 0.6) / 2 = 0.8,
below the 0.85 a probable duplicate needs, in every script and order. tests/unit/
test_bench_bodies.py checks this with the registry's own scoring.

So a run can be as long as `CAPACITY` registrations without the duplicate check ever finding a
probable duplicate among them. The code words are the same in every process and every run
(computed on first use; the first few cover a run of any ordinary length at once).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from functools import cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Indel

# Lao mobile numbers are 020 followed by eight digits; these series are all valid.
_PHONE_SERIES = "2579"
_PER_SERIES = 10_000_000
PHONES = len(_PHONE_SERIES) * _PER_SERIES

_BORN_FROM = date(1960, 1, 1)
DATES = 15_000  # birth dates 1960-01-01 .. 2001-01-25: always at least 15 years old

GIVEN_NAME_LO, GIVEN_NAME_EN = "ສົມສັກ", "Somsak"
GIVEN_NAME_KEY = "somsak"  # the registry's phonetic key of both spellings
# Consonants and vowels whose Latin spelling the registry's folding keeps as it is, with the
# Lao letters that romanise to them (a vowel sign after its consonant: no reordering).
_CONSONANTS = {
    "k": "ກ",
    "s": "ສ",
    "d": "ດ",
    "t": "ຕ",
    "n": "ນ",
    "b": "ບ",
    "p": "ປ",
    "f": "ຟ",
    "m": "ມ",
    "l": "ລ",
}
_VOWELS = {"a": "າ", "i": "ິ", "u": "ຸ"}
SYLLABLES = 6
CODE_SIMILARITY = 0.6  # at most this alike, pairwise and with the given name
CODES = -(-PHONES // DATES)  # cohorts needed to use every phone number
CAPACITY = PHONES
_SEED = 19


@cache
def _codes(count: int) -> tuple[str, ...]:
    """The first `count` code words (each extends the last: the same words in every process)."""
    if count <= 0:
        return ()
    kept = list(_codes(count - 1))
    generator = random.Random(f"{_SEED}:{count}")
    consonants, vowels = list(_CONSONANTS), list(_VOWELS)
    while True:
        word = "".join(
            generator.choice(consonants) + generator.choice(vowels) for _ in range(SYLLABLES)
        )
        if Indel.normalized_similarity(word, GIVEN_NAME_KEY) >= CODE_SIMILARITY:
            continue
        if kept and process.extractOne(
            word, kept, scorer=Indel.normalized_similarity, score_cutoff=CODE_SIMILARITY
        ):
            continue
        return (*kept, word)


def code(cohort: int) -> str:
    """Code word number `cohort` (a-z, the registry's phonetic key of the family names)."""
    if not 0 <= cohort < CODES:
        raise ValueError(f"cohort {cohort} is outside 0..{CODES - 1}")
    # Grown in steps so that the recursion of _codes stays shallow.
    step = 64
    for upto in range(step, cohort + 1, step):
        _codes(upto)
    return _codes(cohort + 1)[cohort]


def lao_spelling(word: str) -> str:
    """`word` (a code word) in Lao script: consonant, then its vowel sign, syllable by syllable."""
    return "".join(_CONSONANTS[word[i]] + _VOWELS[word[i + 1]] for i in range(0, len(word), 2))


def phone(number: int) -> str:
    if not 0 <= number < CAPACITY:
        raise ValueError(f"body number {number} is outside 0..{CAPACITY - 1}")
    series, rest = divmod(number, _PER_SERIES)
    return f"020 {_PHONE_SERIES[series]}{rest:07d}"


def date_of_birth(number: int) -> date:
    return _BORN_FROM + timedelta(days=number % DATES)


def jobseeker(number: int) -> dict[str, Any]:
    """Registration number `number`: valid for an ESC officer of Vientiane Capital (LA-VT)."""
    family = code(number // DATES)
    return {
        "given_name_lo": GIVEN_NAME_LO,
        "family_name_lo": lao_spelling(family),
        "given_name_en": GIVEN_NAME_EN,
        "family_name_en": family.capitalize(),
        "sex": ("male", "female")[number % 2],
        "date_of_birth": date_of_birth(number).isoformat(),
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
