"""The synthetic Lao people of shared.synthetic: realistic, valid and reproducible."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from typing import Any

import phonenumbers
import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.people.schemas import PersonCreate
from shared.reference.disability import Answer, Domain, has_disability
from shared.reference.ethnicity import ETHNIC_GROUPS
from shared.reference.isco08 import validate_isco08
from shared.synthetic import generate_people, messy_variant, respell
from shared.synthetic import lao_names as names
from shared.synthetic.geography import PROVINCES

Person = dict[str, Any]
COUNT = 20_000
ALL_POOLS = (
    names.MALE_GIVEN,
    names.FEMALE_GIVEN,
    names.FAMILY,
    names.HMONG_FAMILY,
    names.HMONG_MALE_GIVEN,
    names.HMONG_FEMALE_GIVEN,
)


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return list(generate_people(COUNT, seed=2026))


def _is_lao(text: str) -> bool:
    return bool(text) and all(0x0E80 <= ord(c) <= 0x0EFF for c in text)


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_the_same_seed_gives_the_same_people() -> None:
    assert list(generate_people(500, seed=3)) == list(generate_people(500, seed=3))
    assert list(generate_people(500, seed=3)) != list(generate_people(500, seed=4))


def test_document_numbers_are_unique_per_kind(people: list[Person]) -> None:
    numbers: dict[str, list[str]] = {}
    for person in people:
        for document in person["documents"]:
            numbers.setdefault(document["kind"], []).append(document["number"])
    assert set(numbers) == {"national_id", "family_book", "passport"}
    for kind, listed in numbers.items():
        assert len(set(listed)) == len(listed), kind


def test_documents_are_held_in_realistic_proportions(people: list[Person]) -> None:
    held = Counter(document["kind"] for person in people for document in person["documents"])
    assert held["family_book"] / COUNT == pytest.approx(0.90, abs=0.02)
    assert held["national_id"] / COUNT == pytest.approx(0.60, abs=0.02)
    assert held["passport"] / COUNT == pytest.approx(0.08, abs=0.02)
    passports = [d for p in people for d in p["documents"] if d["kind"] == "passport"]
    assert all(date.fromisoformat(d["expires_on"]) > date(2026, 1, 1) for d in passports)


def test_phones_are_valid_lao_mobile_numbers_in_e164(people: list[Person]) -> None:
    phones = [person["phone"] for person in people if person["phone"] is not None]
    for phone in phones:
        number = phonenumbers.parse(phone, None)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.region_code_for_number(number) == "LA"
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
        assert phone.startswith("+85620")
        assert len(phone) == 14
    assert len(phones) / COUNT == pytest.approx(0.85, abs=0.03)


def test_some_relatives_share_a_phone(people: list[Person]) -> None:
    by_phone: dict[str, list[Person]] = {}
    for person in people:
        if person["phone"]:
            by_phone.setdefault(person["phone"], []).append(person)
    shared = [group for group in by_phone.values() if len(group) > 1]
    assert 0 < sum(len(group) for group in shared) / COUNT < 0.2
    # Those who share a phone are family: same family name and village.
    for group in shared:
        assert len({(p["family_name_en"], p["village"]) for p in group}) == 1


def test_lao_names_are_written_only_in_lao_script(people: list[Person]) -> None:
    for pool in ALL_POOLS:
        assert all(_is_lao(lao) for _, lao in pool)
    for person in people:
        assert _is_lao(person["given_name_lo"]), person["given_name_lo"]
        assert _is_lao(person["family_name_lo"]), person["family_name_lo"]


def test_latin_names_are_plain_ascii_letters(people: list[Person]) -> None:
    for person in people:
        for key in ("given_name_en", "family_name_en"):
            assert person[key].isascii(), person[key]
            assert person[key].isalpha(), person[key]


def test_name_pools_are_large_and_common_names_repeat(people: list[Person]) -> None:
    assert len(names.MALE_GIVEN) >= 60
    assert len(names.FEMALE_GIVEN) >= 60
    assert len(names.FAMILY) >= 80
    for pool in ALL_POOLS:
        assert len({latin for latin, _ in pool}) == len(pool)
        assert len({lao for _, lao in pool}) == len(pool)
    family = Counter(person["family_name_en"] for person in people).most_common()
    # Zipf-like: the most common family name is far more frequent than the rarest.
    assert family[0][1] > 10 * family[-1][1]


def test_provinces_follow_the_2015_census_populations(people: list[Person]) -> None:
    total = sum(province.population_2015 for province in PROVINCES)
    assert total == 6_492_228  # the census total
    seen = Counter(person["province_code"] for person in people)
    for province in PROVINCES:
        expected = 100 * province.population_2015 / total
        assert 100 * seen[province.code] / COUNT == pytest.approx(expected, abs=1.5), province


def test_every_province_code_is_an_iso_3166_2_la_code(people: list[Person]) -> None:
    iso = {s.code for s in pycountry.subdivisions.get(country_code="LA") or []}
    assert {province.code for province in PROVINCES} == iso
    assert {person["province_code"] for person in people} <= iso
    for person in people:
        assert person["jobseeker"]["preferred_provinces"]
        assert set(person["jobseeker"]["preferred_provinces"]) <= iso


def test_districts_belong_to_the_person_s_province(people: list[Person]) -> None:
    districts = {province.code: set(province.districts) for province in PROVINCES}
    for person in people:
        assert person["district"] in districts[person["province_code"]]
        assert person["village"].startswith("Ban ")


def test_ages_are_15_to_60_on_1_january_2026_and_mostly_18_to_35(people: list[Person]) -> None:
    ages = [_age_on(date.fromisoformat(p["date_of_birth"]), date(2026, 1, 1)) for p in people]
    assert min(ages) >= 15
    assert max(ages) <= 60
    assert sum(18 <= age <= 35 for age in ages) / COUNT > 0.5


def test_isco_codes_are_existing_four_digit_unit_groups(people: list[Person]) -> None:
    codes = {job["isco08"] for person in people for job in person["experience"]}
    codes |= {code for person in people for code in person["jobseeker"]["desired_occupations"]}
    for code in codes:
        assert len(code) == 4, code
        assert code.isdigit(), code
        assert validate_isco08(code) == code


def test_ethnic_groups_are_official_and_near_census_shares(people: list[Person]) -> None:
    seen = Counter(person["ethnicity"] for person in people)
    assert set(seen) <= set(ETHNIC_GROUPS)
    for province in PROVINCES:
        assert set(province.ethnicity) <= set(ETHNIC_GROUPS)
        assert sum(province.ethnicity.values()) == pytest.approx(100)
    census_2015 = {"lao": 53.2, "khmu": 11.0, "hmong": 9.2, "phouthay": 3.4}
    for code, percent in census_2015.items():
        assert 100 * seen[code] / COUNT == pytest.approx(percent, abs=2.5), code


def test_hmong_people_carry_hmong_clan_names(people: list[Person]) -> None:
    clans = {latin for latin, _ in names.HMONG_FAMILY}
    for person in people:
        assert (person["family_name_en"] in clans) == (person["ethnicity"] == "hmong")


def test_two_to_three_percent_pass_the_washington_group_cutoff(people: list[Person]) -> None:
    answers = [
        {Domain(domain): Answer(answer) for domain, answer in person["disability"].items()}
        for person in people
    ]
    assert all(len(a) == len(Domain) for a in answers)
    assert sum(has_disability(a) for a in answers) / COUNT == pytest.approx(0.025, abs=0.007)


def test_education_is_mostly_primary_to_upper_secondary(people: list[Person]) -> None:
    levels = Counter(person["education"]["isced_level"] for person in people)
    assert set(levels) <= set(range(9))
    assert (levels[1] + levels[2] + levels[3]) / COUNT > 0.6


def test_generated_people_are_valid_registrations(people: list[Person]) -> None:
    rng = random.Random(1)
    for person in people[:2000]:
        PersonCreate.model_validate(person)
        PersonCreate.model_validate(messy_variant(person, rng))


def test_messy_variant_keeps_sex_and_birth_date_and_changes_the_latin_spelling(
    people: list[Person],
) -> None:
    rng = random.Random(7)
    only_lao = only_latin = 0
    for person in people[:5000]:
        variant = messy_variant(person, rng)
        assert variant["sex"] == person["sex"]
        assert variant["date_of_birth"] == person["date_of_birth"]
        assert variant["documents"] == []
        latin = (variant["given_name_en"], variant["family_name_en"])
        if latin == (None, None):
            only_lao += 1
            continue
        only_latin += variant["given_name_lo"] is None
        before = {person["given_name_en"].casefold(), person["family_name_en"].casefold()}
        assert {name.casefold() for name in latin if name} != before, (person, variant)
    assert only_lao > 0
    assert only_latin > 0


def test_messy_variant_leaves_the_original_untouched(people: list[Person]) -> None:
    person = people[0]
    before = repr(person)
    messy_variant(person, random.Random(0))
    assert repr(person) == before


@given(
    st.sampled_from([latin for pool in ALL_POOLS for latin, _ in pool]),
    st.integers(0, 2**32),
)
def test_respelling_always_changes_a_name(name: str, seed: int) -> None:
    respelled = respell(name, random.Random(seed))
    assert respelled.casefold() != name.casefold()
    assert respelled.isascii()
    assert respelled.isalpha()


def test_more_people_than_unique_document_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        next(generate_people(10_000_001))
