"""Reference data packaged with shared/: ethnic groups, ISCO-08 occupations (with Lao titles),
languages, districts."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.reference.districts import (
    PROVINCE_NUMBERS,
    District,
    DistrictDataError,
    check,
    districts,
    districts_of,
    find_district,
)
from shared.reference.ethnicity import ETHNIC_GROUPS, EthnicGroup, Family, validate_ethnicity
from shared.reference.isco08 import (
    ancestors,
    isco08_groups,
    isco08_title,
    level,
    validate_isco08,
)
from shared.reference.languages import Proficiency, validate_language
from shared.reference.occupations import (
    lao_titles,
    occupation,
    occupations,
    search_occupations,
)
from shared.reference.places import PROVINCE_NAMES
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
        assert code.isascii()
        assert code.isalpha()
        assert code.islower()


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
    with pytest.raises(ValueError, match="ISCO-08"):
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


# --- Districts -----------------------------------------------------------------------------------

# The districts of each province as the statistics bureau counts them (148 in all).
DISTRICTS_PER_PROVINCE = {
    "LA-VT": 9,
    "LA-PH": 7,
    "LA-LM": 5,
    "LA-OU": 7,
    "LA-BK": 5,
    "LA-LP": 12,
    "LA-HO": 10,
    "LA-XA": 11,
    "LA-XI": 7,
    "LA-VI": 11,
    "LA-BL": 7,
    "LA-KH": 10,
    "LA-SV": 15,
    "LA-SL": 8,
    "LA-XE": 4,
    "LA-CH": 10,
    "LA-AT": 5,
    "LA-XS": 5,
}


def test_lao_pdr_has_148_districts_in_its_18_provinces() -> None:
    assert len(districts()) == 148
    assert Counter(d.province_code for d in districts().values()) == DISTRICTS_PER_PROVINCE
    assert set(DISTRICTS_PER_PROVINCE) == set(PROVINCE_NAMES) == set(PROVINCE_NUMBERS.values())


def test_district_codes_are_unique_and_begin_with_their_provinces_number() -> None:
    for code, district in districts().items():
        assert code == district.code
        assert len(code) == 4
        assert code.isdigit()
        assert PROVINCE_NUMBERS[code[:2]] == district.province_code, district
    # A province's districts are numbered from 01 up, its capital's district first.
    for province in PROVINCE_NAMES:
        numbers = [int(d.code[2:]) for d in districts_of(province)]
        assert numbers == sorted(numbers), province
        assert numbers[0] == 1, province


def test_district_names_are_lao_script_and_latin_and_unique_within_a_province() -> None:
    for district in districts().values():
        assert is_lao_script(district.name_lo), district
        assert district.name_en.isascii(), district
        assert district.name_en[0].isupper(), district
        assert not district.name_lo.startswith("ເມືອງ"), district
    for province in PROVINCE_NAMES:
        names = [d.name_lo for d in districts_of(province)]
        assert len(names) == len(set(names)), province


@pytest.mark.parametrize(
    ("code", "province", "lao", "english"),
    [
        ("0101", "LA-VT", "ຈັນທະບູລີ", "Chanthabouly"),
        ("0701", "LA-HO", "ຊຳເໜືອ", "Xamneua"),
        ("1301", "LA-SV", "ໄກສອນ ພົມວິຫານ", "Kaysone Phomvihane"),
        ("1601", "LA-CH", "ປາກເຊ", "Pakse"),
        ("1012", "LA-VI", "ໝື່ນ", "Meun"),
        ("1805", "LA-XS", "ລ້ອງຊານ", "Longxan"),
    ],
)
def test_districts_carry_the_statistics_bureaus_codes(
    code: str, province: str, lao: str, english: str
) -> None:
    assert districts()[code] == District(code, province, lao, english)


@pytest.mark.parametrize(
    ("typed", "province", "code"),
    [
        ("1301", None, "1301"),
        ("Kaysone Phomvihane", None, "1301"),
        ("kaysone-phomvihane", "LA-SV", "1301"),
        ("ເມືອງໄກສອນພົມວິຫານ", None, "1301"),
        ("Sisattanak", "LA-VT", "0104"),
        ("Viengkham", "LA-VI", "1009"),  # two provinces have a Viengkham
        ("ວຽງຄຳ", "LA-LP", "0610"),
    ],
)
def test_a_district_is_found_by_code_or_name_in_either_script(
    typed: str, province: str | None, code: str
) -> None:
    found = find_district(typed, province)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize(("typed", "province"), [("Pakse", "LA-VT"), ("1301", "LA-CH"), ("", None)])
def test_a_district_outside_the_province_or_unknown_is_not_found(
    typed: str, province: str | None
) -> None:
    assert find_district(typed, province) is None


def test_the_district_check_refuses_a_code_under_the_wrong_province_and_repeats() -> None:
    good = list(districts().values())
    with pytest.raises(DistrictDataError, match="not LA-CH's"):
        check([*good[:-1], District("1805", "LA-CH", "ລ້ອງຊານ", "Longxan")])
    with pytest.raises(DistrictDataError, match="listed twice"):
        check([*good, District("0101", "LA-VT", "ທົດລອງ", "Test")])
    with pytest.raises(DistrictDataError, match="LA-XS: no district"):
        check([d for d in good if d.province_code != "LA-XS"])


# --- Occupations in Lao --------------------------------------------------------------------------


def test_every_major_sub_major_and_minor_isco08_group_has_a_lao_title() -> None:
    lao = lao_titles()
    upper = {code for code in isco08_groups() if len(code) <= 3}
    assert upper <= set(lao), sorted(upper - set(lao))
    assert set(lao) <= set(isco08_groups()), sorted(set(lao) - set(isco08_groups()))
    assert sum(len(code) == 4 for code in lao) >= 150  # the unit groups most recorded
    for code, title in lao.items():
        assert is_lao_script(title), (code, title)


def test_an_occupation_reads_in_lao_and_falls_back_to_english_where_it_has_no_lao() -> None:
    assert occupation("7112") is not None
    assert occupation("7112").title("lo") == "ຊ່າງກໍ່ດິນຈີ່"  # type: ignore[union-attr]
    assert occupation("7112").title("en") == "Bricklayers and related workers"  # type: ignore[union-attr]
    untranslated = next(o for o in occupations().values() if o.title_lo is None)
    assert untranslated.title("lo") == untranslated.title_en
    assert occupation("7118") is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ຊ່າງເຊື່ອມ", "7212"),
        ("ຊ່າງ ເຊື່ອມ", "7212"),  # typed with a space
        ("welder", "7212"),
        ("Weld", "7212"),
        ("bricklay", "7112"),
        ("ກຳມະກອນກໍ່ສ້າງ", "9313"),
        ("building construction", "9313"),
        ("ແມ່ບ້ານ", "9111"),
        ("7112", "7112"),
        ("sewing machine", "8153"),
    ],
)
def test_an_occupation_is_found_by_typing_its_title_in_lao_or_english_or_its_code(
    typed: str, code: str
) -> None:
    assert code in [o.code for o in search_occupations(typed)]


def test_occupation_search_puts_precise_groups_first_and_shows_a_title_once() -> None:
    found = search_occupations("ຊ່າງກໍ່")
    assert [len(o.code) for o in found] == sorted((len(o.code) for o in found), reverse=True)
    assert [o.code for o in search_occupations("0")][:1] == ["0"]
    officers = search_occupations("commissioned armed")
    # 01, 011 and 0110 share one title (and so do 02, 021 and 0210): the unit group shows.
    assert [o.code for o in officers] == ["0110", "0210"]
    assert search_occupations("") == []
    assert search_occupations("zzzz") == []
    assert len(search_occupations("ຊ່າງ", limit=5)) == 5
