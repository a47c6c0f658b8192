"""Name matching across Lao script and Latin romanisations: pure functions, no database."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.reference.names import (
    POSSIBLE_DUPLICATE,
    PROBABLE_DUPLICATE,
    PersonName,
    full_name_key,
    name_similarity,
    name_tokens,
    phonetic_key,
    romanise_lao,
)

SOMSAK_LO = PersonName(given_lo="ສົມສັກ", family_lo="ພົມມະວົງ")
SOMSAK_EN = PersonName(given_en="Somsak", family_en="Phommavong")
SOMSACK_EN = PersonName(given_en="Somsack", family_en="Phomavong")


def latin(given: str, family: str | None = None) -> PersonName:
    return PersonName(given_en=given, family_en=family)


def lao(given: str, family: str | None = None) -> PersonName:
    return PersonName(given_lo=given, family_lo=family)


@pytest.mark.parametrize(
    ("a", "b"),
    [(SOMSAK_LO, SOMSAK_EN), (SOMSAK_LO, SOMSACK_EN), (SOMSAK_EN, SOMSACK_EN)],
)
def test_one_person_in_lao_script_and_two_romanisations_is_a_probable_duplicate(
    a: PersonName, b: PersonName
) -> None:
    assert name_similarity(a, b) >= PROBABLE_DUPLICATE
    assert name_similarity(b, a) >= PROBABLE_DUPLICATE


def test_a_name_written_in_both_scripts_matches_either_script() -> None:
    both = PersonName("ສົມສັກ", "ພົມມະວົງ", "Somsak", "Phommavong")
    assert name_similarity(both, SOMSACK_EN) >= PROBABLE_DUPLICATE
    assert name_similarity(both, SOMSAK_LO) == 1.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (latin("Bounmy", "Keomany"), latin("Somsak", "Phommavong")),
        (latin("Khamla"), latin("Khamphone")),
        (latin("Khamla", "Phommavong"), latin("Vanh", "Phommavong")),
        (latin("Vilayvanh", "Sisouphanh"), latin("Phetsamone", "Sisavath")),
        (lao("ບຸນມີ", "ແກ້ວມະນີ"), lao("ສົມສັກ", "ພົມມະວົງ")),
        (lao("ຄຳລາ"), latin("Khamphone")),
    ],
)
def test_different_people_score_below_the_possible_duplicate_threshold(
    a: PersonName, b: PersonName
) -> None:
    assert name_similarity(a, b) < POSSIBLE_DUPLICATE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (latin("Somsak", "Phommavong"), latin("Somsak", "Pommavong")),
        (latin("Khamphone", "Vongsavanh"), latin("Kham Phone", "Wongsavan")),
        (latin("Noy", "Souksavanh"), latin("Noi", "Suksavan")),
        (latin("Bounmy", "Xaysana"), latin("Bounmi", "Saysana")),
        (latin("Bounmy", "Xaysana"), latin("Bunmi", "Chaisana")),
        (latin("Boonmee", "Keomany"), latin("Bounmy", "Keomany")),
        (latin("Phonesavanh", "Sisouphanh"), latin("Phonsavan", "Sisuphan")),
        (latin("Saengsavang", "Xayavong"), latin("Sengsavang", "Xaiyavong")),
    ],
)
def test_romanisation_variants_of_one_name_are_probable_duplicates(
    a: PersonName, b: PersonName
) -> None:
    assert name_similarity(a, b) >= PROBABLE_DUPLICATE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (latin("Sonsak", "Phommavong"), latin("Somsak", "Phommavong")),
        (latin("Khamphoune", "Xaysana"), latin("Khamphone", "Xaysana")),
        (latin("Vilaysack", "Inthavong"), latin("Vilaisak", "Inthavongs")),
        (latin("Somsak Phommavong"), latin("Somsak", "Phommavong")),
    ],
)
def test_typing_slips_and_a_name_typed_into_one_field_are_still_probable_duplicates(
    a: PersonName, b: PersonName
) -> None:
    assert name_similarity(a, b) >= PROBABLE_DUPLICATE


@pytest.mark.parametrize(
    ("lao_script", "romanised"),
    [
        ("ບຸນມີ", "Bounmy"),
        ("ຄຳພອນ", "Khamphone"),
        ("ວົງສະຫວັນ", "Vongsavanh"),
        ("ແສງສະຫວ່າງ", "Sengsavang"),
        ("ແສງສະຫວ່າງ", "Saengsavang"),
        ("ສີສຸພັນ", "Sisouphanh"),
        ("ໄຊຍະວົງ", "Xayavong"),
        ("ແກ້ວມະນີ", "Keomany"),
        ("ສຸກສະຫວັນ", "Souksavanh"),
        ("ບົວພັນ", "Bouaphanh"),
        ("ດວງຈັນ", "Douangchanh"),
    ],
)
def test_a_lao_script_name_matches_its_usual_romanisation(lao_script: str, romanised: str) -> None:
    assert name_similarity(lao(lao_script), latin(romanised)) >= PROBABLE_DUPLICATE
    assert name_tokens(lao_script) == name_tokens(romanised)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (lao("ບຸນມີ", "ໄຊຍະວົງ"), latin("Bounmy", "Xayavong")),
        (lao("ຄຳພອນ", "ວົງສະຫວັນ"), latin("Khamphone", "Vongsavanh")),
        (lao("ແສງສະຫວ່າງ", "ສີສຸພັນ"), latin("Saengsavang", "Sisouphanh")),
    ],
)
def test_full_names_match_across_scripts(a: PersonName, b: PersonName) -> None:
    assert name_similarity(a, b) >= PROBABLE_DUPLICATE


def test_given_and_family_names_swapped_on_a_form_still_match() -> None:
    assert name_similarity(latin("Phommavong", "Somsak"), SOMSAK_EN) >= PROBABLE_DUPLICATE
    assert name_similarity(lao("ພົມມະວົງ", "ສົມສັກ"), SOMSACK_EN) >= PROBABLE_DUPLICATE


def test_a_name_with_nothing_in_it_matches_nothing() -> None:
    assert name_similarity(PersonName(), SOMSAK_EN) == 0.0
    assert name_similarity(latin(" - "), SOMSAK_EN) == 0.0


def test_name_tokens_of_a_lao_name_and_its_romanisations_are_shared() -> None:
    assert name_tokens("ສົມສັກ ພົມມະວົງ") == ["pomavong", "somsak"]
    assert name_tokens("Somsak Phommavong") == ["pomavong", "somsak"]
    assert name_tokens("Somsack", "Phomavong", None) == ["pomavong", "somsak"]
    assert set(name_tokens("ໄຊຍະວົງ")) <= set(name_tokens("Bounmy Xayavong"))


def test_name_tokens_split_on_hyphens_and_drop_duplicates() -> None:
    assert name_tokens("Kham-Phone", "Khamphone Kham") == ["kam", "kampon", "pon"]
    assert name_tokens(None, "", "  ") == []


def test_full_name_key_is_given_then_family_in_phonetic_form() -> None:
    assert full_name_key("Somsack", "Phomavong") == "somsak pomavong"
    assert full_name_key("ສົມສັກ", "ພົມມະວົງ") == "somsak pomavong"
    assert full_name_key(None, "Phommavong") == "pomavong"


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Phommavong", "Phomavong", "Pommavong"], "pomavong"),
        (["Vongsavanh", "Wongsavan"], "vongsavan"),
        (["Souksavanh", "Suksavan"], "suksavan"),
        (["Xaysana", "Saysana", "Chaisana"], "saisana"),
        (["Bounmy", "Bounmi", "Bunmi", "Boonmee"], "bunmi"),
        (["Sengsavang", "Saengsavang"], "sengsavang"),
        (["Keomany", "Kaewmany"], "keomani"),
        (["Phet", "Phed", "Phèt"], "pet"),
        (["Nyouan", "Gnouan", "Youan"], "yuan"),
    ],
)
def test_phonetic_key_folds_the_usual_romanisation_variants(spellings: list[str], key: str) -> None:
    assert {phonetic_key(s) for s in spellings} == {key}


def test_phonetic_key_folds_accents_and_case_and_keeps_words_apart() -> None:
    assert phonetic_key("KHAM PHONE") == "kam pon"
    assert phonetic_key("Sômsák") == "somsak"
    assert phonetic_key("Phommavong-Keo 2") == "pomavong keo"
    assert phonetic_key("D\u2019Souza") == phonetic_key("D'Souza") == "dsusa"


@pytest.mark.parametrize(
    ("lao_script", "romanised"),
    [
        ("ຄຳພອນ", "khamphon"),  # ອ as the vowel o
        ("ແສງສະຫວ່າງ", "sengsavang"),  # leading vowel moved, tone mark and tone-marking ຫ dropped
        ("ໄຊຍະວົງ", "xaiyavong"),
        ("ອຸດົມ", "oudom"),  # ອ carrying a vowel is silent
        ("ເມືອງ", "meuang"),
        ("ເຈົ້າ", "chao"),
        ("ແກ້ວ", "keo"),  # final ວ
        ("ຫຼວງ", "louang"),
        ("ດວງຈັນ", "douangchan"),  # ວ between consonants is the vowel oua
        ("ຫ້ວຍ", "houay"),  # ຫ is silent only before a sonorant that starts a syllable
        ("ສະຫວັນ", "savan"),
        ("ສົມສັກ ພົມມະວົງ", "somsak phommavong"),
    ],
)
def test_romanise_lao_reads_lao_spelling_rules_that_laonlp_leaves_raw(
    lao_script: str, romanised: str
) -> None:
    assert romanise_lao(lao_script) == romanised


@given(st.text(alphabet=[chr(c) for c in range(0x0E80, 0x0F00)] + [" "], max_size=30))
def test_romanise_lao_always_gives_plain_ascii_words(text: str) -> None:
    assert set(romanise_lao(text)) <= set("abcdefghijklmnopqrstuvwxyz ")


names = st.builds(
    PersonName,
    st.none() | st.sampled_from(["ສົມສັກ", "ບຸນມີ", "ຄຳພອນ", "ໄຊຍະວົງ"]),
    st.none() | st.sampled_from(["ພົມມະວົງ", "ແກ້ວມະນີ", "ວົງສະຫວັນ"]),
    st.none() | st.text(max_size=20),
    st.none() | st.text(max_size=20),
)


@given(names, names)
def test_similarity_is_a_symmetric_score_between_zero_and_one(a: PersonName, b: PersonName) -> None:
    score = name_similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert score == name_similarity(b, a)


def test_scoring_a_registration_against_hundreds_of_candidates_is_fast() -> None:
    candidates = [
        latin(given, family)
        for given in ["Somsak", "Bounmy", "Khamphone", "Noy", "Vanh", "Souksavanh", "Khamla"]
        for family in ["Phommavong", "Keomany", "Xayavong", "Sisouphanh", "Inthavong", "Sengsavang"]
    ] * 12
    candidates += [lao("ສົມສັກ", "ພົມມະວົງ"), lao("ບຸນມີ", "ໄຊຍະວົງ")] * 50
    started = time.perf_counter()
    scores = [name_similarity(SOMSAK_LO, c) for c in candidates]
    assert time.perf_counter() - started < 0.5
    assert len(scores) == 604
