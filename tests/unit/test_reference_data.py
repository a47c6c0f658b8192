"""Reference data packaged with shared/: ethnic groups, ISCO-08 occupations, languages."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.reference.ethnicity import ETHNIC_GROUPS, EthnicGroup, Family, validate_ethnicity
from shared.reference.isco08 import (
    ancestors,
    isco08_groups,
    isco08_title,
    level,
    validate_isco08,
)
from shared.reference.languages import Proficiency, validate_language
from shared.reference.scripts import is_lao_script

# --- Ethnic groups -------------------------------------------------------------------------------


def test_lao_pdr_recognises_fifty_ethnic_groups_in_four_families() -> None:
    assert len(ETHNIC_GROUPS) == 50
    assert Counter(g.family for g in ETHNIC_GROUPS.values()) == {
        Family.LAO_TAI: 8,
        Family.MON_KHMER: 33,
        Family.HMONG_MIEN: 2,
        Family.SINO_TIBETAN: 7,
    }


def test_brou_is_the_fiftieth_group_added_to_the_census_list() -> None:
    assert ETHNIC_GROUPS["brou"] == EthnicGroup("brou", "Brou", "ບຣູ", Family.MON_KHMER)


def test_ethnic_group_codes_are_stable_lower_case_ascii_slugs() -> None:
    for code, group in ETHNIC_GROUPS.items():
        assert code == group.code
        assert code.isascii() and code.isalpha() and code.islower()


def test_lao_names_of_ethnic_groups_are_in_lao_script() -> None:
    for group in ETHNIC_GROUPS.values():
        assert group.name_lo is None or is_lao_script(group.name_lo), group


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("lao", "lao"),
        (" KHMU ", "khmu"),
        ("Hmong", "hmong"),
        ("Phouthay", "phouthay"),
        ("Ta-oy", "taoy"),
        ("thai neua", "thaineua"),
        ("Iu Mien", "iumien"),
        ("ກຶມມຸ", "khmu"),
        ("ມົ້ງ", "hmong"),
    ],
)
def test_an_ethnic_group_is_found_by_code_english_name_or_lao_name(given: str, code: str) -> None:
    assert validate_ethnicity(given) == code


@pytest.mark.parametrize("unknown", ["", "thai", "lao loum", "khmou2"])
def test_an_unknown_ethnic_group_is_refused_with_where_to_find_the_codes(unknown: str) -> None:
    with pytest.raises(ValueError, match="ETHNIC_GROUPS"):
        validate_ethnicity(unknown)


# --- ISCO-08 -------------------------------------------------------------------------------------


def test_isco08_has_10_major_43_sub_major_130_minor_and_436_unit_groups() -> None:
    assert Counter(len(code) for code in isco08_groups()) == {1: 10, 2: 43, 3: 130, 4: 436}


def test_every_isco08_group_below_a_major_group_has_its_parent() -> None:
    groups = isco08_groups()
    for code in groups:
        assert code.isdigit()
        assert len(code) == 1 or code[:-1] in groups, code


def test_every_isco08_minor_group_has_at_least_one_unit_group() -> None:
    groups = isco08_groups()
    minors = {code for code in groups if len(code) == 3}
    assert minors == {code[:3] for code in groups if len(code) == 4}


@pytest.mark.parametrize(
    ("code", "title"),
    [
        ("0", "Armed forces occupations"),
        ("0110", "Commissioned armed forces officers"),
        ("5", "Service and sales workers"),
        ("52", "Sales workers"),
        ("522", "Shop salespersons"),
        ("5223", "Shop sales assistants"),
        ("7112", "Bricklayers and related workers"),
        ("9211", "Crop farm labourers"),
        ("2433", "Technical and medical sales professionals (excluding ICT)"),
        (" 8322 ", "Car, taxi and van drivers"),
    ],
)
def test_isco08_titles_are_the_ilo_english_titles(code: str, title: str) -> None:
    assert isco08_title(code) == title


def test_isco08_ancestors_run_from_the_major_group_down_to_the_code() -> None:
    assert ancestors("7112") == ["7", "71", "711", "7112"]
    assert ancestors("71") == ["7", "71"]
    assert ancestors("0310") == ["0", "03", "031", "0310"]


@pytest.mark.parametrize(("code", "expected"), [("7", 1), ("71", 2), ("711", 3), ("7112", 4)])
def test_an_isco08_codes_level_is_its_number_of_digits(code: str, expected: int) -> None:
    assert level(code) == expected


def test_a_valid_isco08_code_is_returned_stripped() -> None:
    assert validate_isco08(" 7119 ") == "7119"


@pytest.mark.parametrize("code", ["", "10", "7118", "71120", "x", "-1", "07", "7 1"])
def test_codes_that_are_not_isco08_groups_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="ISCO-08"):
        validate_isco08(code)
    with pytest.raises(ValueError):
        ancestors(code)


# --- Languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("lo", "lo"),
        ("lao", "lo"),
        ("LO", "lo"),
        ("tha", "th"),
        ("eng", "en"),
        ("kjg", "kjg"),  # Khmu: ISO 639-3 only
        ("hmn", "hmn"),  # Hmong
        ("vi", "vi"),
    ],
)
def test_languages_are_stored_as_iso_639_1_when_possible_else_iso_639_3(
    code: str, canonical: str
) -> None:
    assert validate_language(code) == canonical


@pytest.mark.parametrize("code", ["", "l", "xx", "zzz", "lao-LA", "Laos"])
def test_unknown_language_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 639"):
        validate_language(code)


def test_proficiency_levels_run_from_basic_to_native() -> None:
    assert [p.value for p in Proficiency] == ["basic", "conversational", "fluent", "native"]
    assert Proficiency("fluent") is Proficiency.FLUENT
