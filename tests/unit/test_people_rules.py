"""Pure rules about people and reference data: no database, no broker."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.people.domain import (
    Identifiers,
    age_errors,
    age_on,
    identifiers_in,
    new_reference,
    parse_reference,
)
from services.registry.people.slip import Slip, next_steps, render
from shared.reference.phones import normalise_phone, phone_in
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
    assert age_errors(date(2011, 11, 23), today, 15) == []
    [refused] = age_errors(date(2011, 11, 24), today, 15)
    assert refused.field == "date_of_birth"


def test_a_birth_date_in_the_future_is_refused() -> None:
    [refused] = age_errors(date(2030, 1, 1), date(2026, 11, 23), 15)
    assert "future" in refused.message


@pytest.mark.parametrize(
    "typed", ["P-9MLWWRAD", "p-9mlwwrad", "P9MLWWRAD", " p9mlwwrad ", "P- 9MLW WRAD"]
)
def test_a_reference_is_read_however_it_was_typed(typed: str) -> None:
    assert parse_reference(typed) == "P-9MLWWRAD"
    assert identifiers_in(typed) == Identifiers(reference="P-9MLWWRAD")


@pytest.mark.parametrize(
    "typed",
    [
        "020 5555 7001",
        "2055557001",
        "+8562055557001",
        "8562055557001",
        "02055557001",
        "+856 20 5555 7001",
    ],
)
def test_a_lao_phone_is_read_in_every_form_people_type_it(typed: str) -> None:
    assert phone_in(typed) == "+8562055557001"
    assert identifiers_in(typed).phone == "+8562055557001"


def test_a_thai_phone_is_read_too() -> None:
    assert phone_in("+66 81 234 5678") == "+66812345678"


@pytest.mark.parametrize("text", ["Somsak", "ສົມສັກ", "Somsak Phommavong", "123"])
def test_names_and_short_numbers_are_not_taken_for_identifiers(text: str) -> None:
    assert phone_in(text) is None
    assert not identifiers_in(text)


def test_a_document_number_is_read_as_registered() -> None:
    assert identifiers_in(" nid-77001122 ") == Identifiers(document_number="NID-77001122")
    # Digits alone may be a phone or a document number: both are looked up.
    both = identifiers_in("2055557001")
    assert (both.phone, both.document_number) == ("+8562055557001", "2055557001")


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
    with pytest.raises(ValueError, match=r"phone number|not accepted"):
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


def _slip(*, jobseeker: bool, sms: bool) -> Slip:
    return Slip(
        reference="P-9MLWWRAD",
        name_lo="ສົມສັກ ພົມມະວົງ",
        name_en="Somsak Phommavong",
        office_name_lo="ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງສະຫວັນນະເຂດ",
        office_name_en="Migrant Resource Centre, Savannakhet",
        registered_on=date(2026, 12, 5),
        jobseeker=jobseeker,
        sms=sms,
    )


def test_a_jobseekers_slip_says_to_come_back_and_promises_an_sms_only_with_consent() -> None:
    with_sms = [english for _, english in next_steps(_slip(jobseeker=True, sms=True))]
    without = [english for _, english in next_steps(_slip(jobseeker=True, sms=False))]

    assert any("Come back with this slip" in line for line in with_sms)
    assert any("SMS" in line for line in with_sms)
    assert not any("SMS" in line for line in without)


def test_a_migrants_slip_points_to_the_orientation_at_the_mrc_lao_first() -> None:
    steps = next_steps(_slip(jobseeker=False, sms=False))

    assert any("pre-departure orientation" in english for _, english in steps)
    assert all(is_lao_script(lao.replace("SMS", "")) for lao, _ in steps)


def test_the_slip_renders_to_one_page() -> None:
    pdf = render(_slip(jobseeker=False, sms=True))
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1
