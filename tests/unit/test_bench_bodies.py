"""The benchmark's registrations never look like each other to the registry's duplicate check.

Issue 19: bodies that shared a birth date every 15,000 numbers and had family names one or two
letters apart were refused as probable duplicates once a run was long enough, and the figures
counted the refusals. These tests run the registry's own key and scoring code over the bodies.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

import pytest
from rapidfuzz import process
from rapidfuzz.distance import Indel

from bench import bodies
from services.registry.duplicates.domain import Applicant, compare
from shared.reference.names import PersonName, name_similarity

BODIES = 200_000


def _applicant(body: dict[str, object]) -> Applicant:
    return Applicant(
        PersonName(
            str(body["given_name_lo"]),
            str(body["family_name_lo"]),
            str(body["given_name_en"]),
            str(body["family_name_en"]),
        ),
        date.fromisoformat(str(body["date_of_birth"])),
        str(body["phone"]),
    )


def test_no_probable_duplicate_among_200k_bodies() -> None:
    """Blocked as the registry blocks (same birth date or same phone), scored by its compare()."""
    by_birth: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    phones: set[str] = set()
    for number in range(BODIES):
        body = bodies.jobseeker(number)
        phones.add(str(body["phone"]))
        name = (
            str(body["given_name_lo"]),
            str(body["family_name_lo"]),
            str(body["given_name_en"]),
            str(body["family_name_en"]),
        )
        assert name not in by_birth[str(body["date_of_birth"])], f"body {number} repeats a name"
        by_birth[str(body["date_of_birth"])].add(name)
    assert len(phones) == BODIES  # no two bodies block together by phone

    # compare() depends on the names, the birth date and the phone; within a birth date the
    # phones all differ, so each pair of names that share a date is scored once.
    pairs = {
        tuple(sorted(pair))
        for names in by_birth.values()
        for pair in itertools.combinations(names, 2)
    }
    assert pairs, "the bodies should share birth dates, as people do"
    born = date(1990, 1, 1)
    for a, b in pairs:
        match = compare(
            Applicant(PersonName(*a), born, "020 20000000"),
            Applicant(PersonName(*b), born, "020 20000001"),
        )
        assert not match.probable, (a, b, match)


def test_a_body_is_valid_for_the_registry() -> None:
    from services.registry.people.schemas import PersonCreate

    for number in (0, 1, bodies.DATES - 1, bodies.DATES, 7 * bodies.DATES + 123):
        PersonCreate.model_validate(bodies.jobseeker(number))


def test_code_words_are_their_own_keys_in_both_scripts() -> None:
    """The registry folds neither spelling: what the bodies compare is the code word itself."""
    from shared.reference.names import _parts

    for cohort in range(40):
        word = bodies.code(cohort)
        latin = word.capitalize()
        lao = bodies.lao_spelling(word)
        assert _parts(bodies.GIVEN_NAME_EN, latin) == (bodies.GIVEN_NAME_KEY, word)
        assert _parts(bodies.GIVEN_NAME_LO, lao) == (bodies.GIVEN_NAME_KEY, word)


def test_code_words_stay_apart() -> None:
    """Every pair of the first 400 code words (6 million bodies), and each with the given name,
    at most CODE_SIMILARITY alike; then the registry's name_similarity of whole names."""
    words = [bodies.code(c) for c in range(400)]
    for i, word in enumerate(words[1:], 1):
        closest = process.extractOne(word, words[:i], scorer=Indel.normalized_similarity)
        assert closest is not None
        assert closest[1] < bodies.CODE_SIMILARITY, (word, closest)
    assert (
        max(Indel.normalized_similarity(w, bodies.GIVEN_NAME_KEY) for w in words)
        < bodies.CODE_SIMILARITY
    )
    people = [_applicant(bodies.jobseeker(cohort * bodies.DATES)).name for cohort in range(60)]
    assert max(name_similarity(a, b) for a, b in itertools.combinations(people, 2)) < 0.85


def test_code_words_are_the_same_in_every_process() -> None:
    assert bodies.code(3) == bodies._codes(4)[3]
    with pytest.raises(ValueError, match="outside"):
        bodies.code(bodies.CODES)
    with pytest.raises(ValueError, match="outside"):
        bodies.phone(bodies.CAPACITY)
