"""Synthetic job bank for benchmarks: employers, licensed agencies and published vacancies.

Rows are dicts with the columns of matching's `employers`, `agencies` and `vacancies` tables
(retrieval keys and timestamps apart, which the loader derives), and every vacancy satisfies
the table's rules: a domestic one names its employer, an overseas one its agency and
destination, and nothing is charged to the worker (the Employer Pays Principle).

About three quarters are domestic jobs: the employer sits in a province weighted like the
people of shared.synthetic.people, and the occupations are the same ISCO-08 unit groups, weighted
the way employers ask for them (factories, building sites, hotels and shops well ahead of farm
work, which is mostly family work and seldom advertised). The rest are demand letters from
abroad, mostly Thailand under the MOU, then Malaysia, the Republic of Korea and Japan, each
recruited through one of a few licensed agencies, with the trades those countries ask for.

The same `seed` (and `today`) gives the same rows.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.synthetic.geography import PROVINCES
from shared.synthetic.people import _TAGS, REFERENCE_DAY, _Pick, _table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

OVERSEAS_SHARE = 0.25

# ISIC Rev. 4 section of the employers that hire each occupation.
_SECTION = {
    "9211": "A", "6111": "A", "6121": "A", "6221": "A", "8341": "A", "9214": "N",
    "9312": "F", "9313": "F", "7112": "F", "7115": "F", "7411": "F", "7126": "F",
    "7212": "C", "7522": "C", "7531": "C", "8153": "C", "8212": "C", "8160": "C",
    "9329": "C", "7512": "C", "7231": "G", "5223": "G", "5230": "G", "7421": "S",
    "5141": "S", "5142": "S", "8322": "H", "8332": "H", "9333": "H", "9621": "H",
    "5120": "I", "9412": "I", "5131": "I", "9112": "I", "4224": "I", "9111": "N",
    "4110": "N", "5322": "Q", "3221": "Q", "4311": "K", "3313": "K", "2330": "P",
    "2512": "J",
}  # fmt: skip
_SECTOR_NAMES = {
    "A": ("Agriculture", "Plantation", "Farm"),
    "C": ("Garment", "Manufacturing", "Food Industry", "Electronics"),
    "F": ("Construction", "Building", "Engineering"),
    "G": ("Trading", "Motors", "Mart"),
    "H": ("Transport", "Logistics", "Express"),
    "I": ("Hotel", "Restaurant", "Resort"),
    "J": ("Digital", "Software"),
    "K": ("Microfinance", "Accounting Services"),
    "N": ("Services", "Facility Services"),
    "P": ("School", "Training Centre"),
    "Q": ("Clinic", "Hospital"),
    "S": ("Repair Shop", "Beauty Salon"),
}
# Employers per province and section, before weighting by population (each gets at least one).
_EMPLOYERS_PER_SECTION = 20

# What domestic employers advertise: weight per unit group (of shared.synthetic.people's table).
_DOMESTIC_DEMAND: Mapping[str, float] = {
    "9211": 2, "6111": 1, "6121": 0.5, "6221": 0.3, "9214": 0.5,
    "9312": 4, "9313": 6, "7112": 4, "7115": 3, "7212": 3, "7231": 3, "7411": 3,
    "7126": 1.5, "7522": 2, "7421": 1, "7531": 3, "8153": 8, "8212": 4, "8160": 4,
    "9329": 8, "8322": 3, "8332": 3, "8341": 0.5, "9333": 3, "9621": 2,
    "5120": 4, "7512": 1, "9412": 3, "5131": 5, "5223": 6, "5230": 2, "9112": 4,
    "9111": 1, "5322": 0.5, "5141": 1, "5142": 1,
    "4110": 3, "4311": 2, "3313": 1.5, "4224": 2, "2330": 1, "3221": 1, "2512": 1,
}  # fmt: skip
_SKILLED = frozenset({"4110", "4311", "3313", "4224", "2330", "3221", "2512"})
_DAILY_PAID = frozenset({"9211", "6111", "9312", "9313", "9333", "9214"})
_ENGLISH_AT_WORK = frozenset({"4224", "2512", "4110", "3313"})

_TITLES = {
    "9211": "Farm worker", "6111": "Rice and vegetable grower", "6121": "Livestock worker",
    "6221": "Fish farm worker", "9214": "Gardener", "9312": "Construction labourer",
    "9313": "Building construction labourer", "7112": "Bricklayer", "7115": "Carpenter",
    "7212": "Welder", "7231": "Motor vehicle mechanic", "7411": "Electrician",
    "7126": "Plumber", "7522": "Furniture maker", "7421": "Electronics repairer",
    "7531": "Tailor", "8153": "Sewing machine operator", "8212": "Electronics assembler",
    "8160": "Food processing operator", "9329": "Factory worker", "8322": "Driver",
    "8332": "Truck driver", "8341": "Tractor driver", "9333": "Warehouse loader",
    "9621": "Delivery rider", "5120": "Cook", "7512": "Baker", "9412": "Kitchen helper",
    "5131": "Waiter / waitress", "5223": "Shop sales assistant", "5230": "Cashier",
    "9112": "Hotel cleaner", "9111": "Domestic helper", "5322": "Caregiver",
    "5141": "Hairdresser", "5142": "Beautician", "4110": "Office clerk",
    "4311": "Bookkeeper", "3313": "Accountant", "4224": "Hotel receptionist",
    "2330": "Teacher", "3221": "Nurse", "2512": "Software developer",
}  # fmt: skip

# Overseas demand by destination: share of demand letters, the trades asked for, pay and terms.
_DESTINATION = _table({"TH": 70, "MY": 10, "KR": 12, "JP": 8})
_OVERSEAS_DEMAND: Mapping[str, Mapping[str, float]] = {
    "TH": {
        "9329": 10, "8153": 6, "9313": 8, "9312": 4, "9211": 6, "6121": 2, "9111": 4,
        "9112": 4, "5131": 3, "9412": 3, "8160": 5, "8212": 3, "9333": 3, "5223": 2,
        "7112": 2,
    },
    "KR": {"8212": 6, "9329": 6, "9211": 4, "6111": 2, "6221": 2, "7212": 2, "9313": 2,
           "8160": 2},
    "JP": {"5322": 5, "8160": 5, "7212": 3, "9313": 3, "8153": 2, "9329": 2, "6111": 2},
    "MY": {"8212": 5, "9329": 5, "9112": 3, "5131": 2, "8153": 2},
}  # fmt: skip
_OVERSEAS_OCCUPATION = {country: _table(demand) for country, demand in _OVERSEAS_DEMAND.items()}
# (currency, period, lowest, highest, rounded to) of what demand letters offer.
_OVERSEAS_WAGE = {
    "TH": ("THB", "day", 350, 400, 5),
    "MY": ("MYR", "month", 1_500, 1_900, 50),
    "KR": ("KRW", "month", 2_060_000, 2_400_000, 10_000),
    "JP": ("JPY", "month", 170_000, 220_000, 1_000),
}
_CONTRACT_MONTHS = {"TH": 24, "MY": 24, "KR": 58, "JP": 36}
_MAX_AGE_ABROAD = {
    "TH": (0.6, (40, 45)),
    "MY": (0.5, (40,)),
    "KR": (0.9, (39,)),
    "JP": (0.5, (35,)),
}
_LANGUAGE_ABROAD = {"TH": (0.25, "th"), "MY": (0.2, "en"), "KR": (0.5, "ko"), "JP": (0.4, "ja")}
_FOREIGN_EMPLOYERS = {
    "TH": ("Siam Garment", "Chonburi Food Products", "Rayong Construction", "Korat Poultry",
           "Bangkok Hotel Group", "Nakhon Electronics"),
    "MY": ("Penang Electronics", "Selangor Components", "Johor Hospitality"),
    "KR": ("Hanbit Precision", "Gyeonggi Plastics", "Jeonnam Agricultural Cooperative"),
    "JP": ("Aichi Care Services", "Hokkaido Seafood", "Osaka Steel Works"),
}  # fmt: skip

# Licensed recruitment agencies (synthetic names): code, name, destinations, province.
_AGENCIES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("AG-LOM", "Lao Overseas Manpower", ("TH",), "LA-VT"),
    ("AG-SVK", "Savan Labour Supply", ("TH",), "LA-SV"),
    ("AG-CPS", "Champasak Workforce", ("TH", "MY"), "LA-CH"),
    ("AG-MKL", "Mekong Labour Services", ("TH", "KR"), "LA-VT"),
    ("AG-KMN", "Khammouane Recruitment", ("TH",), "LA-KH"),
    ("AG-ASG", "Asia Skills Gateway", ("JP", "KR"), "LA-VT"),
    ("AG-VTE", "Vientiane Employment Link", ("TH", "JP", "MY"), "LA-VT"),
    ("AG-SLV", "Salavan Job Bridge", ("TH",), "LA-SL"),
)
_NAMESPACE = uuid.UUID("5a1b7c1e-7d0e-4c6a-9a44-6c6162c0b001")

_PROVINCE = _Pick(PROVINCES, [p.population_2015 for p in PROVINCES])
_DOMESTIC_OCCUPATION = _table(_DOMESTIC_DEMAND)
_REQUIRED_SKILLS = _table({0: 40, 1: 45, 2: 15})
_MIN_ISCED = _table({1: 15, 2: 35, 3: 50})
_MIN_ISCED_SKILLED = _table({5: 50, 6: 50})
_MIN_YEARS = _table(
    {Decimal("0.5"): 15, Decimal("1.0"): 40, Decimal("2.0"): 30, Decimal("3.0"): 15}
)
_POSITIONS = _table({1: 40, 2: 20, 3: 12, 5: 12, 10: 10, 20: 6})
_OVERSEAS_POSITIONS = _table({10: 25, 20: 25, 50: 25, 100: 15, 200: 10})

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def vacancy_reference(index: int) -> str:
    """A distinct reference per generated vacancy, in the API's format (`V-` and 8 letters)."""
    return "V-" + "".join(_REFERENCE_ALPHABET[(index >> (5 * i)) & 31] for i in range(8))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate_agencies() -> list[dict[str, Any]]:
    """The licensed agencies overseas vacancies are recruited through (licence dates apart)."""
    return [
        {
            "id": uuid.uuid5(_NAMESPACE, code),
            "code": code,
            "name": f"{name} Co., Ltd.",
            "licence_number": f"MLSW-REC-{n:04d}",
            "destinations": list(destinations),
            "province_code": province,
        }
        for n, (code, name, destinations, province) in enumerate(_AGENCIES, start=1)
    ]


def generate_employers(seed: int = 0) -> list[dict[str, Any]]:
    """Employers of every section in every province, more where more people live."""
    rng = random.Random(f"employers-{seed}")
    total = sum(p.population_2015 for p in PROVINCES)
    employers: list[dict[str, Any]] = []
    for province in PROVINCES:
        suffix = province.code.removeprefix("LA-")
        count = max(
            1, round(_EMPLOYERS_PER_SECTION * len(PROVINCES) * province.population_2015 / total)
        )
        for section, nouns in sorted(_SECTOR_NAMES.items()):
            for i in range(count):
                district = province.districts[rng.randrange(len(province.districts))]
                employers.append(
                    {
                        "id": _uuid(rng),
                        "name": f"{district} {nouns[i % len(nouns)]} {i + 1} Co., Ltd.",
                        "registration_number": f"ERC-{suffix}-{section}-{i + 1:05d}",
                        "isic_section": section,
                        "province_code": province.code,
                        "district": district,
                        "office_code": f"ESC-{suffix}",
                    }
                )
    return employers


def generate_vacancies(
    n: int,
    seed: int = 0,
    *,
    today: date = REFERENCE_DAY,
    employers: Sequence[Mapping[str, Any]] | None = None,
    agencies: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """`n` published vacancies open on `today`, for `employers` and `agencies` (by default
    generate_employers(seed) and generate_agencies(), which the loader must insert first)."""
    rng = random.Random(seed)
    random_ = rng.random
    by_place: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for employer in employers if employers is not None else generate_employers(seed):
        by_place.setdefault((employer["province_code"], employer["isic_section"]), []).append(
            employer
        )
    recruiting: dict[str, list[Mapping[str, Any]]] = {}
    for agency in agencies if agencies is not None else generate_agencies():
        for country in agency["destinations"]:
            recruiting.setdefault(country, []).append(agency)
    for index in range(n):
        if random_() < OVERSEAS_SHARE:
            row = _overseas(rng, today, recruiting)
        else:
            row = _domestic(rng, today, by_place)
        row["id"] = _uuid(rng)
        row["reference"] = vacancy_reference(index)
        yield row


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def _skills(random_: Callable[[], float], code: str) -> list[str]:
    tags = _TAGS[code]
    wanted = min(_REQUIRED_SKILLS(random_), len(tags))
    if wanted == len(tags):
        return list(tags)
    return [tags[int(random_() * len(tags))]] if wanted else []


def _common(rng: random.Random, today: date, code: str) -> dict[str, Any]:
    """What every vacancy states, whatever its kind."""
    random_ = rng.random
    return {
        "status": "published",
        "status_reason": None,
        "title": _TITLES[code],
        "description": None,
        "isco08": code,
        "required_skills": _skills(random_, code),
        "min_experience_years": Decimal(0),
        "min_isced": None,
        "languages": [],
        "max_age": None,
        "worker_fees": [],
        "worker_fee_total": Decimal(0),
        "closes_on": today + timedelta(days=7 + int(random_() * 84)),
    }


def _domestic(
    rng: random.Random, today: date, by_place: Mapping[tuple[str, str], list[Mapping[str, Any]]]
) -> dict[str, Any]:
    random_ = rng.random
    code = _DOMESTIC_OCCUPATION(random_)
    section = _SECTION[code]
    # Employers given by the caller may not cover every province: the capital's then.
    employers = by_place.get((_PROVINCE(random_).code, section)) or by_place[("LA-VT", section)]
    employer = _choice(rng, employers)
    row = _common(rng, today, code)
    if code in _SKILLED:
        if random_() < 0.7:
            row["min_isced"] = _MIN_ISCED_SKILLED(random_)
    elif random_() < 0.25:
        row["min_isced"] = _MIN_ISCED(random_)
    if random_() < 0.3:
        row["min_experience_years"] = _MIN_YEARS(random_)
    if random_() < 0.35:
        row["languages"].append("lo")
    if code in _ENGLISH_AT_WORK and random_() < 0.4:
        row["languages"].append("en")
    elif random_() < 0.03:  # a shop or garage near the border asks for Thai
        row["languages"].append("th")
    if random_() < 0.2:
        row["max_age"] = _choice(rng, (35, 40, 45))
    if code in _DAILY_PAID:
        period, wage = "day", 100_000 + 10_000 * int(random_() * 11)
    else:
        low = 3_500_000 if code in _SKILLED else 2_500_000
        period, wage = "month", low + 250_000 * int(random_() * 17)
    starts = None if random_() < 0.5 else today + timedelta(days=7 + int(random_() * 60))
    row |= {
        "kind": "domestic",
        "employer_id": employer["id"],
        "province_code": employer["province_code"],
        "district": employer["district"],
        "agency_id": None,
        "destination_country": None,
        "foreign_employer": None,
        "demand_letter_ref": None,
        "channel": None,
        "min_age": 18 if random_() < 0.3 else 15,
        "positions": _POSITIONS(random_),
        "wage_amount": Decimal(wage),
        "wage_currency": "LAK",
        "wage_period": period,
        "contract_months": 12 if random_() < 0.2 else None,
        "starts_on": starts,
        "office_code": employer["office_code"],
    }
    row["open_positions"] = row["positions"]
    return row


def _overseas(
    rng: random.Random, today: date, recruiting: Mapping[str, list[Mapping[str, Any]]]
) -> dict[str, Any]:
    random_ = rng.random
    country = _DESTINATION(random_)
    code = _OVERSEAS_OCCUPATION[country](random_)
    agency = _choice(rng, recruiting[country])
    province = _PROVINCE(random_).code
    row = _common(rng, today, code)
    if random_() < 0.2:
        row["min_experience_years"] = _choice(rng, (Decimal("1.0"), Decimal("2.0")))
    chance, language = _LANGUAGE_ABROAD[country]
    if random_() < chance:
        row["languages"].append(language)
    chance, ages = _MAX_AGE_ABROAD[country]
    if random_() < chance:
        row["max_age"] = _choice(rng, ages)
    currency, period, low, high, step = _OVERSEAS_WAGE[country]
    wage = low + step * int(random_() * ((high - low) // step + 1))
    if random_() < 0.5:  # the demand letter's statement of fees: the employer pays them all
        row["worker_fees"] = [
            {"item": item, "amount": "0.00", "currency": currency}
            for item in ("recruitment fee", "visa", "medical check", "air ticket")
        ]
    row |= {
        "kind": "overseas",
        "employer_id": None,
        "province_code": province,
        "district": None,
        "agency_id": agency["id"],
        "destination_country": country,
        "foreign_employer": f"{_choice(rng, _FOREIGN_EMPLOYERS[country])} Co., Ltd.",
        "demand_letter_ref": f"DL-{country}-{today.year}-{int(random_() * 100_000):05d}",
        "channel": "mou" if country == "TH" else "other_regular",
        "min_age": 18,
        "positions": _OVERSEAS_POSITIONS(random_),
        "wage_amount": Decimal(wage),
        "wage_currency": currency,
        "wage_period": period,
        "contract_months": _CONTRACT_MONTHS[country],
        "starts_on": today + timedelta(days=45 + int(random_() * 120)),
        "office_code": None,
    }
    row["open_positions"] = row["positions"]
    return row
