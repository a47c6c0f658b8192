"""Synthetic Lao people as POST /v1/jobseekers bodies, and the same people as retyped by others.

The same `seed` gives the same people. Relatives come in households of one to three registered
one after another: they share family name, ethnicity, village and sometimes a phone, which is
what makes telling relatives from duplicates hard.
"""

from __future__ import annotations

import copy
import random
import re
from bisect import bisect_right
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from shared.synthetic.geography import PROVINCES, VILLAGE_HEADS, VILLAGE_TAILS, Province
from shared.synthetic.lao_names import (
    FAMILY,
    FEMALE_GIVEN,
    HMONG_FAMILY,
    HMONG_FEMALE_GIVEN,
    HMONG_MALE_GIVEN,
    MALE_GIVEN,
    Name,
    zipf_weights,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

T = TypeVar("T")

REFERENCE_DAY = date(2026, 1, 1)  # ages are counted on this day
MIN_AGE, MAX_AGE = 15, 60
# Document numbers are a bijection of the person's number modulo 10**7 (see `_Numbers`).
CAPACITY = 10_000_000


class _Pick(Generic[T]):
    """Weighted choice by bisecting cumulative weights: a few times cheaper than rng.choices."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        cumulative, running = [], 0.0
        for weight in weights:
            running += weight
            cumulative.append(running)
        # random() * total can round up to total itself; the last bound must still catch it.
        cumulative[-1] = float("inf")
        self._items, self._cumulative, self._total = list(items), cumulative, running

    def __call__(self, random_: Callable[[], float]) -> T:
        return self._items[bisect_right(self._cumulative, random_() * self._total)]


def _table(weighted: Mapping[T, float]) -> _Pick[T]:
    return _Pick(list(weighted), list(weighted.values()))


# ISCO-08 unit groups common among Lao jobseekers and migrant workers: weight for men, weight
# for women, skill tags, and the Lao National Skills Standard a certificate would name.
_OCCUPATIONS: tuple[tuple[str, float, float, tuple[str, ...], str | None], ...] = (
    ("9211", 12, 12, ("farm work", "harvesting"), None),
    ("6111", 8, 7, ("rice farming", "vegetable growing"), None),
    ("6121", 3, 2, ("livestock",), None),
    ("6221", 1, 0.5, ("fish farming",), None),
    ("9214", 1, 1, ("gardening",), None),
    ("9312", 6, 1, ("construction labour",), None),
    ("9313", 8, 2, ("construction labour", "concrete work"), None),
    ("7112", 4, 0.3, ("bricklaying",), "LNSS-masonry"),
    ("7115", 3, 0.2, ("carpentry",), "LNSS-carpentry"),
    ("7212", 3, 0.2, ("welding",), "LNSS-welding"),
    ("7231", 4, 0.2, ("motorcycle repair", "car repair"), "LNSS-automotive-mechanics"),
    ("7411", 3, 0.3, ("electrical installation",), "LNSS-electrical-installation"),
    ("7126", 1.5, 0.1, ("plumbing",), "LNSS-plumbing"),
    ("7522", 1.5, 0.3, ("furniture making",), "LNSS-furniture-making"),
    ("7421", 1, 0.2, ("electronics repair", "mobile phone repair"), None),
    ("7531", 0.5, 3, ("tailoring", "sewing"), "LNSS-garment-making"),
    ("8153", 1, 7, ("sewing machine operation", "garment production"), "LNSS-garment-making"),
    ("8212", 1, 2, ("electronics assembly",), None),
    ("8160", 1, 2, ("food processing",), None),
    ("9329", 4, 5, ("factory work", "packing"), None),
    ("8322", 4, 0.3, ("driving",), None),
    ("8332", 3, 0.1, ("truck driving",), None),
    ("8341", 1.5, 0.1, ("tractor driving",), None),
    ("9333", 3, 0.5, ("loading", "forklift operation"), None),
    ("9621", 2, 0.5, ("delivery", "motorbike riding"), None),
    ("5120", 2, 4, ("cooking",), "LNSS-food-preparation"),
    ("7512", 0.5, 1, ("baking",), None),
    ("9412", 1, 3, ("kitchen work",), None),
    ("5131", 2, 5, ("food and beverage service",), "LNSS-food-and-beverage-service"),
    ("5223", 2, 6, ("sales", "customer service"), None),
    ("5230", 0.5, 2, ("cashier",), None),
    ("9112", 1, 4, ("housekeeping", "cleaning"), "LNSS-housekeeping"),
    ("9111", 0.3, 4, ("housekeeping", "childcare"), None),
    ("5322", 0.3, 2, ("elderly care",), None),
    ("5141", 0.5, 2, ("hairdressing",), "LNSS-hairdressing"),
    ("5142", 0.1, 1.5, ("beauty care",), "LNSS-beauty-care"),
)
# Occupations open to people with tertiary education (ISCED 5 and above).
_SKILLED: tuple[tuple[str, float, float, tuple[str, ...], str | None], ...] = (
    ("4110", 3, 4, ("office work", "computer skills"), None),
    ("4311", 1, 3, ("bookkeeping", "computer skills"), None),
    ("3313", 1, 2, ("accounting",), None),
    ("4224", 1, 2, ("front office", "english"), "LNSS-front-office"),
    ("2330", 1, 1.5, ("teaching",), None),
    ("3221", 0.3, 2, ("nursing",), None),
    ("2512", 1, 0.3, ("programming", "computer skills"), None),
)
_TAGS = {code: tags for code, _, _, tags, _ in _OCCUPATIONS + _SKILLED}
_STANDARD = {code: std for code, _, _, _, std in _OCCUPATIONS + _SKILLED}


def _occupations(pool: Sequence[tuple[str, float, float, Any, Any]], female: bool) -> _Pick[str]:
    return _Pick([row[0] for row in pool], [row[2] if female else row[1] for row in pool])


_OCCUPATION = {sex: _occupations(_OCCUPATIONS, sex == "female") for sex in ("male", "female")}
_SKILLED_OCCUPATION = {sex: _occupations(_SKILLED, sex == "female") for sex in ("male", "female")}


def _age_weight(age: int) -> float:
    """Working-age jobseekers: few under 18, most 18-35, fewer after 45."""
    if age < 18:
        return 2.0
    if age < 25:
        return 5.0
    if age < 36:
        return 4.0
    return 2.0 if age < 46 else 0.8


def _birth_days(age: int) -> list[str]:
    """Every birth date (ISO) of someone exactly `age` years old on REFERENCE_DAY."""
    first = date(REFERENCE_DAY.year - age - 1, REFERENCE_DAY.month, REFERENCE_DAY.day)
    last = date(REFERENCE_DAY.year - age, REFERENCE_DAY.month, REFERENCE_DAY.day)
    return [(first + timedelta(days=d)).isoformat() for d in range(1, (last - first).days + 1)]


_AGES = range(MIN_AGE, MAX_AGE + 1)
_AGE = _Pick(_AGES, [_age_weight(age) for age in _AGES])
_BIRTH_DAYS = {age: _birth_days(age) for age in _AGES}

_PROVINCE = _Pick(PROVINCES, [p.population_2015 for p in PROVINCES])
_ETHNICITY = {p.code: _table(p.ethnicity) for p in PROVINCES}
# The provincial capital's district has about twice the people of the others.
_DISTRICT = {p.code: _Pick(p.districts, [2.0] + [1.0] * (len(p.districts) - 1)) for p in PROVINCES}
_HOUSEHOLD_SIZE = _table({1: 75.0, 2: 18.0, 3: 7.0})

_GIVEN = {
    "male": _Pick(MALE_GIVEN, zipf_weights(len(MALE_GIVEN), 0.6)),
    "female": _Pick(FEMALE_GIVEN, zipf_weights(len(FEMALE_GIVEN), 0.6)),
}
_HMONG_GIVEN = {
    "male": _Pick(HMONG_MALE_GIVEN, zipf_weights(len(HMONG_MALE_GIVEN), 0.8)),
    "female": _Pick(HMONG_FEMALE_GIVEN, zipf_weights(len(HMONG_FEMALE_GIVEN), 0.8)),
}
_FAMILY = _Pick(FAMILY, zipf_weights(len(FAMILY), 0.6))
_HMONG_FAMILY = _Pick(HMONG_FAMILY, zipf_weights(len(HMONG_FAMILY), 0.6))

# ISCED 2011 levels: Vientiane Capital is better schooled than the rest of the country.
_EDUCATION_CAPITAL = _table({0: 2, 1: 12, 2: 20, 3: 32, 4: 8, 5: 9, 6: 15, 7: 1.7, 8: 0.3})
_EDUCATION = _table({0: 8, 1: 30, 2: 28, 3: 22, 4: 5, 5: 3, 6: 3.6, 7: 0.35, 8: 0.05})

_WG_DOMAINS = ("seeing", "hearing", "walking", "cognition", "self_care", "communication")
_NO_DIFFICULTY = dict.fromkeys(_WG_DOMAINS, "no_difficulty")
_SEVERE_DOMAIN = _table(
    {
        "walking": 30,
        "seeing": 25,
        "hearing": 15,
        "cognition": 15,
        "communication": 8,
        "self_care": 7,
    }
)
_MILD_DOMAIN = _table({"seeing": 50, "walking": 25, "hearing": 15, "cognition": 10})

_WORK_COUNTRY = _table({"LA": 68, "TH": 25, "KR": 3, "MY": 2, "JP": 1.5, "CN": 0.5})
_EXPERIENCE_COUNT = _table({0: 30, 1: 45, 2: 20, 3: 5})
_LEVEL = _table({1: 50, 2: 30, 3: 15, 4: 5})
_AVAILABILITY = _table({"full_time": 75, "part_time": 10, "seasonal": 15})
_OWN_LANGUAGE = {
    "khmu": "kjg",
    "hmong": "hmn",
    "phouthay": "pht",
    "tai": "blt",
    "lue": "khb",
    "akha": "ahk",
    "iumien": "ium",
}
_LAO_TAI = frozenset({"lao", "phouthay", "tai", "lue", "nyouan", "yang", "xaek", "thaineua"})
_SECOND_LAO = _table({"fluent": 55, "conversational": 35, "basic": 10})
_THAI = _table({None: 40, "basic": 20, "conversational": 35, "fluent": 5})
_THAI_AFTER_THAILAND = _table({"conversational": 60, "fluent": 40})
_ENGLISH = _table({None: 85, "basic": 12, "conversational": 3})
_ENGLISH_TERTIARY = _table({None: 15, "basic": 40, "conversational": 35, "fluent": 10})
_ABROAD_LANGUAGE = {"KR": "ko", "JP": "ja", "MY": "ms", "CN": "zh"}


class _Numbers:
    """Unique numbers per person without memory: n -> (a*n + b) mod M, a bijection of 0..M-1."""

    def __init__(self, rng: random.Random) -> None:
        # Multipliers are prime to 2 and 5, hence to every modulus below.
        self._id_b = rng.randrange(10**9)
        self._book_b = rng.randrange(10**7)
        self._passport_b = rng.randrange(10**7)
        self._phone_b = rng.randrange(4 * 10**7)

    def national_id(self, n: int) -> str:
        return f"{(738_560_941 * n + self._id_b) % 10**9:09d}"

    def family_book(self, n: int, province: str) -> str:
        return f"{province[3:]}{(6_364_137 * n + self._book_b) % 10**7:07d}"

    def passport(self, n: int) -> str:
        return f"P{(4_871_093 * n + self._passport_b) % 10**7:07d}"

    def phone(self, n: int) -> str:
        # +856 20 then eight digits whose first is 2, 5, 7 or 9: mobile ranges phonenumbers
        # accepts (the same series as bench.bodies).
        series, rest = divmod((9_576_653 * n + self._phone_b) % (4 * 10**7), 10**7)
        return f"+85620{'2579'[series]}{rest:07d}"


class _Household(NamedTuple):
    """What relatives registered one after another have in common."""

    province: Province
    ethnicity: str
    district: str
    village: str
    family: Name


def _household(random_: Callable[[], float]) -> _Household:
    province = _PROVINCE(random_)
    ethnicity = _ETHNICITY[province.code](random_)
    village = (
        f"Ban {VILLAGE_HEADS[int(random_() * len(VILLAGE_HEADS))]}"
        f"{VILLAGE_TAILS[int(random_() * len(VILLAGE_TAILS))]}"
    )
    return _Household(
        province,
        ethnicity,
        _DISTRICT[province.code](random_),
        village,
        (_HMONG_FAMILY if ethnicity == "hmong" else _FAMILY)(random_),
    )


def generate_people(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`n` registration bodies (JSON-ready dicts); the same seed gives the same people."""
    if not 0 <= n <= CAPACITY:
        raise ValueError(f"n must be within 0..{CAPACITY} so document numbers stay unique")
    rng = random.Random(seed)
    random_ = rng.random
    numbers = _Numbers(rng)
    household: _Household | None = None
    members_left = 0
    shared_phone: str | None = None
    for index in range(n):
        if household is None or members_left == 0:
            household, members_left = _household(random_), _HOUSEHOLD_SIZE(random_)
            shared_phone = None
        members_left -= 1
        person = _person(index, random_, numbers, household, shared_phone)
        # A relative registered next gives the same phone one time in four.
        shared_phone = person["phone"] if random_() < 0.25 else None
        yield person


def _person(
    index: int,
    random_: Callable[[], float],
    numbers: _Numbers,
    household: _Household,
    shared_phone: str | None,
) -> dict[str, Any]:
    province, ethnicity, family = household.province, household.ethnicity, household.family
    sex = "male" if random_() < 0.52 else "female"
    age = _AGE(random_)
    days = _BIRTH_DAYS[age]
    given = (
        _HMONG_GIVEN[sex](random_)
        if ethnicity == "hmong" and random_() < 0.7
        else _GIVEN[sex](random_)
    )
    education = (_EDUCATION_CAPITAL if province.code == "LA-VT" else _EDUCATION)(random_)
    if age < 18:
        education = min(education, 2)
    experience = _experience(random_, sex, age, education)
    abroad = any(job["country"] != "LA" for job in experience)
    return {
        "given_name_lo": given[1],
        "family_name_lo": family[1],
        "given_name_en": given[0],
        "family_name_en": family[0],
        "sex": sex,
        "date_of_birth": days[int(random_() * len(days))],
        "ethnicity": ethnicity,
        "disability": _disability(random_, age),
        "phone": shared_phone or (numbers.phone(index) if random_() < 0.85 else None),
        "email": (
            f"{given[0].lower()}.{family[0].lower()}{index}@example.la"
            if random_() < 0.10
            else None
        ),
        "documents": _documents(random_, numbers, index, province.code, abroad),
        "province_code": province.code,
        "district": household.district,
        "village": household.village,
        "education": {"isced_level": education},
        "skills": _skills(random_, experience),
        "languages": _languages(random_, ethnicity, education, experience),
        "experience": experience,
        "preferred_language": "lo",
        "jobseeker": _jobseeker(random_, sex, age, education, province.code, experience, abroad),
    }


def _disability(random_: Callable[[], float], age: int) -> dict[str, str]:
    """WG-SS answers: 2.5 % of people pass the disability cut-off, more have some difficulty."""
    answers = dict(_NO_DIFFICULTY)
    draw = random_()
    if draw < 0.025:
        answers[_SEVERE_DOMAIN(random_)] = (
            "cannot_do_at_all" if random_() < 0.2 else "a_lot_of_difficulty"
        )
        if random_() < 0.25:
            mild = _MILD_DOMAIN(random_)
            if answers[mild] == "no_difficulty":
                answers[mild] = "some_difficulty"
    elif draw < 0.025 + 0.04 + 0.004 * (age - MIN_AGE):  # eyesight and knees go with age
        answers[_MILD_DOMAIN(random_)] = "some_difficulty"
    return answers


def _documents(
    random_: Callable[[], float], numbers: _Numbers, index: int, province: str, abroad: bool
) -> list[dict[str, str]]:
    documents = []
    if random_() < 0.60:
        documents.append({"kind": "national_id", "number": numbers.national_id(index)})
    if random_() < 0.90:
        documents.append({"kind": "family_book", "number": numbers.family_book(index, province)})
    # Passports are mostly held by people who have worked abroad.
    if random_() < (0.18 if abroad else 0.04):
        expires = REFERENCE_DAY + timedelta(days=30 + int(random_() * 3600))
        documents.append(
            {"kind": "passport", "number": numbers.passport(index), "expires_on": str(expires)}
        )
    return documents


def _experience(
    random_: Callable[[], float], sex: str, age: int, education: int
) -> list[dict[str, Any]]:
    count = (1 if random_() < 0.3 else 0) if age < 18 else _EXPERIENCE_COUNT(random_)
    jobs: list[dict[str, Any]] = []
    most_years = min(12, age - MIN_AGE) or 1
    for _ in range(count):
        skilled = education >= 5 and random_() < 0.6
        code = (_SKILLED_OCCUPATION if skilled else _OCCUPATION)[sex](random_)
        if any(job["isco08"] == code for job in jobs):
            continue
        years = max(0.5, int(random_() * most_years * 2) / 2)
        jobs.append({"isco08": code, "years": years, "country": _WORK_COUNTRY(random_)})
    return jobs


def _skills(random_: Callable[[], float], experience: list[dict[str, Any]]) -> dict[str, Any]:
    tags: list[str] = []
    certificates: list[dict[str, Any]] = []
    for job in experience:
        options = _TAGS[job["isco08"]]
        if random_() < 0.7:
            tag = options[int(random_() * len(options))]
            if tag not in tags:
                tags.append(tag)
        standard = _STANDARD[job["isco08"]]
        if standard and random_() < 0.15:
            certificates.append({"standard": standard, "level": _LEVEL(random_)})
    return {"tags": tags, "certificates": certificates}


def _languages(
    random_: Callable[[], float], ethnicity: str, education: int, experience: list[dict[str, Any]]
) -> list[dict[str, str]]:
    own = _OWN_LANGUAGE.get(ethnicity)
    if ethnicity == "lao" or (ethnicity in _LAO_TAI and own is None):
        languages = [{"code": "lo", "proficiency": "native"}]
    else:
        languages = [{"code": "lo", "proficiency": _SECOND_LAO(random_)}]
        if own is not None:
            languages.insert(0, {"code": own, "proficiency": "native"})
    countries = {job["country"] for job in experience}
    thai = (_THAI_AFTER_THAILAND if "TH" in countries else _THAI)(random_)
    if thai:
        languages.append({"code": "th", "proficiency": thai})
    english = (_ENGLISH_TERTIARY if education >= 5 else _ENGLISH)(random_)
    if english:
        languages.append({"code": "en", "proficiency": english})
    for country in sorted(countries & _ABROAD_LANGUAGE.keys()):
        languages.append({"code": _ABROAD_LANGUAGE[country], "proficiency": "basic"})
    return languages


def _jobseeker(
    random_: Callable[[], float],
    sex: str,
    age: int,
    education: int,
    province: str,
    experience: list[dict[str, Any]],
    abroad: bool,
) -> dict[str, Any]:
    desired: list[str] = []
    if experience and random_() < 0.6:
        desired.append(experience[-1]["isco08"])
    for _ in range(1 if not desired else int(random_() < 0.35)):
        skilled = education >= 5 and random_() < 0.6
        code = (_SKILLED_OCCUPATION if skilled else _OCCUPATION)[sex](random_)
        if code not in desired:
            desired.append(code)
    provinces = [province]
    if province != "LA-VT" and random_() < 0.15:
        provinces.append("LA-VT")
    # Recruitment abroad under the bilateral agreements starts at 18.
    willing = age >= 18 and random_() < (0.7 if abroad else 0.35 if age <= 35 else 0.15)
    countries: list[str] = []
    if willing:
        countries.append("TH" if random_() < 0.85 else "KR")
        for country, chance in (("KR", 0.15), ("JP", 0.10), ("MY", 0.05)):
            if country not in countries and random_() < chance:
                countries.append(country)
    return {
        "desired_occupations": desired,
        "preferred_provinces": provinces,
        "willing_to_work_abroad": willing,
        "abroad_countries": countries,
        "availability": _AVAILABILITY(random_),
    }


# How a second officer may romanise the same Lao name (each applied to one place in the name).
_RESPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ou", "u"),
        (r"(?<![ou])u", "ou"),
        (r"ph", "p"),
        (r"p(?!h)", "ph"),
        (r"v", "w"),
        (r"w", "v"),
        (r"x", "s"),
        (r"^s", "x"),
        (r"h$", ""),  # Souksavanh -> Souksavan, Sisavath -> Sisavat
        (r"([bdfgklmnprstvwxz])\1", r"\1"),  # Phommavong -> Phomavong
        (r"([aeiou])([lmnt])([aeiou])", r"\1\2\2\3"),  # Manivanh -> Mannivanh
        (r"y$", "i"),
        (r"ay", "ai"),
        (r"ai", "ay"),
        (r"one$", "on"),
        (r"on$", "one"),
        (r"ch", "j"),
        (r"kh", "k"),
        (r"eo", "aew"),  # Keomany -> Kaewmany, as Thai is romanised
        (r"eu", "ue"),
        (r"ieng", "iang"),
    )
)
_LAO_RESPELLINGS = (("ໝ", "ຫມ"), ("ໜ", "ຫນ"), ("ຫຼ", "ຫລ"))  # ligatures typed as two letters
_TONE_MARKS = str.maketrans("", "", "\u0ec8\u0ec9\u0eca\u0ecb")


def respell(name: str, rng: random.Random) -> str:
    """Another plausible romanisation of a Latin name, always different from `name`."""
    lower = name.lower()
    usable = [rule for rule in _RESPELLINGS if rule[0].search(lower)]
    rng.shuffle(usable)
    changed = lower
    for pattern, replacement in usable[: 1 if rng.random() < 0.7 else 2]:
        changed = pattern.sub(replacement, changed, count=1)
    if changed == lower:  # no rule applied: a typing slip instead
        if len(lower) > 2:
            cut = rng.randrange(1, len(lower))
            changed = lower[:cut] + lower[cut + 1 :]
        else:
            changed = lower + "h"
    return changed.capitalize() if name[:1].isupper() else changed


def messy_variant(person: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same person as a second officer might register them, for duplicate detection.

    Same sex and date of birth; the Latin names spelled another way (or left out, the Lao
    ones then kept), sometimes only one script, no documents, contact details often missing.
    """
    variant = copy.deepcopy(person)
    variant["documents"] = []
    _vary_scripts(variant, person, rng)
    _respell_lao(variant, rng)
    if rng.random() < 0.03:  # given and family name entered the wrong way round
        for given, family in (
            ("given_name_lo", "family_name_lo"),
            ("given_name_en", "family_name_en"),
        ):
            variant[given], variant[family] = variant.get(family), variant.get(given)
    if rng.random() < 0.30:
        variant["phone"] = None
    if rng.random() < 0.50:
        variant["email"] = None
    if rng.random() < 0.20:
        variant["village"] = None
    return variant


def _vary_scripts(variant: dict[str, Any], person: dict[str, Any], rng: random.Random) -> None:
    """Keep only the Lao names, or only the Latin ones, or both; the Latin ones respelled and
    sometimes typed in capitals."""
    script = rng.random()
    has_latin = bool(person.get("given_name_en") or person.get("family_name_en"))
    if script < 0.12 and person.get("given_name_lo"):
        variant["given_name_en"] = variant["family_name_en"] = None
        return
    if script < 0.24 and has_latin:
        variant["given_name_lo"] = variant["family_name_lo"] = None
    _respell_latin(variant, rng)
    if rng.random() < 0.10:  # typed in capitals
        for key in ("given_name_en", "family_name_en"):
            if variant.get(key):
                variant[key] = variant[key].upper()


def _respell_lao(variant: dict[str, Any], rng: random.Random) -> None:
    """Sometimes write a Lao name without its tone marks and with its ligatures spelled out."""
    for key in ("given_name_lo", "family_name_lo"):
        if variant.get(key) and rng.random() < 0.15:
            text = variant[key].translate(_TONE_MARKS)
            for ligature, letters in _LAO_RESPELLINGS:
                text = text.replace(ligature, letters)
            variant[key] = text


def _respell_latin(variant: dict[str, Any], rng: random.Random) -> None:
    """Respell the family name, the given name or both; at least one when either is there."""
    present = [key for key in ("given_name_en", "family_name_en") if variant.get(key)]
    if not present:
        return
    draw = rng.random()
    if draw < 0.45:
        wanted: tuple[str, ...] = ("family_name_en",)
    elif draw < 0.70:
        wanted = ("given_name_en",)
    else:
        wanted = ("given_name_en", "family_name_en")
    for key in [key for key in wanted if key in present] or present:
        variant[key] = respell(variant[key], rng)
