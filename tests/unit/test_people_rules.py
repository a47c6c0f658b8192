"""Pure rules about people and reference data: no database, no broker."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.people.domain import age_on, check_minimum_age, new_reference
from shared.problems import InvalidField
from shared.reference.phones import normalise_phone
from shared.reference.places import lao_provinces, validate_province
from shared.reference.scripts import is_lao_script, is_latin_script


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 120))
def test_age_is_completed_years(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a non-leap year
        return
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - timedelta(days=1)) == years - 1


def test_a_jobseeker_must_be_old_enough() -> None:
    today = date(2026, 11, 23)
    check_minimum_age(date(2011, 11, 23), today, 15)
    with pytest.raises(InvalidField) as refused:
        check_minimum_age(date(2011, 11, 24), today, 15)
    assert refused.value.extensions["errors"][0]["field"] == "date_of_birth"


def test_a_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidField, match="future"):
        check_minimum_age(date(2030, 1, 1), date(2026, 11, 23), 15)


def test_references_avoid_characters_misread_on_the_phone() -> None:
    refs = {new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(ref.startswith("P-") and len(ref) == 10 for ref in refs)
    assert not any(set(ref[2:]) & set("01IO") for ref in refs)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("020 5555 1234", "+8562055551234"),
        ("+856 20 5555 1234", "+8562055551234"),
        ("021 212 345", "+85621212345"),
        ("+66 81 234 5678", "+66812345678"),
    ],
)
def test_lao_and_thai_phones_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12", "+1 202 555 0100", "not a phone"])
def test_other_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_all_eighteen_provinces_come_from_iso_3166_2() -> None:
    assert len(lao_provinces()) == 18
    assert validate_province(" la-vt ") == "LA-VT"
    with pytest.raises(ValueError, match="ISO 3166-2:LA"):
        validate_province("LA-ZZ")


def test_names_are_checked_for_their_script() -> None:
    assert is_lao_script("ສົມສັກ ພົມມະຈັນ")
    assert not is_lao_script("Somsak")
    assert is_latin_script("Sengdao Phommachan")
    assert not is_latin_script("ສົມສັກ")
