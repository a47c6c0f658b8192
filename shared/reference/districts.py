"""The districts of Lao PDR with the Lao Statistics Bureau's codes, Lao and English names.

A district's code is four digits: its province's two (the bureau's numbering, `PROVINCE_NUMBERS`)
and its own two. The data and how it was checked are in `data/lao_districts.csv`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.reference.places import PROVINCE_NAMES

DATA_FILE = Path(__file__).parent / "data" / "lao_districts.csv"

# The statistics bureau's two-digit province numbers (the order of the 2015 census tables).
PROVINCE_NUMBERS: dict[str, str] = {
    "01": "LA-VT",
    "02": "LA-PH",
    "03": "LA-LM",
    "04": "LA-OU",
    "05": "LA-BK",
    "06": "LA-LP",
    "07": "LA-HO",
    "08": "LA-XA",
    "09": "LA-XI",
    "10": "LA-VI",
    "11": "LA-BL",
    "12": "LA-KH",
    "13": "LA-SV",
    "14": "LA-SL",
    "15": "LA-XE",
    "16": "LA-CH",
    "17": "LA-AT",
    "18": "LA-XS",
}


@dataclass(frozen=True, slots=True)
class District:
    code: str  # four digits, e.g. 1301
    province_code: str  # ISO 3166-2:LA, e.g. LA-SV
    name_lo: str
    name_en: str

    def name(self, language: str = "lo") -> str:
        return self.name_lo if language == "lo" else self.name_en


class DistrictDataError(ValueError):
    """The data file breaks a rule every district list must keep."""


@cache
def districts() -> dict[str, District]:
    """Code → district, by province in the bureau's order; checked when first read."""
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        found = [
            District(row["code"], row["province_code"], row["name_lo"], row["name_en"])
            for row in rows
        ]
    check(found)
    return {d.code: d for d in found}


def check(found: list[District]) -> None:
    """Refuse a list with a malformed or repeated code, a code under the wrong province, a
    province without districts, or two districts of one province with the same name."""
    problems = []
    seen: set[str] = set()
    names: set[tuple[str, str]] = set()
    for d in found:
        if len(d.code) != 4 or not d.code.isdigit():
            problems.append(f"{d.code}: not four digits")
        elif PROVINCE_NUMBERS.get(d.code[:2]) != d.province_code:
            problems.append(f"{d.code}: its first two digits are not {d.province_code}'s")
        if d.code in seen:
            problems.append(f"{d.code}: listed twice")
        seen.add(d.code)
        for key in ((d.province_code, d.name_lo), (d.province_code, d.name_en.casefold())):
            if key in names:
                problems.append(f"{d.code}: a second district named {key[1]} in {d.province_code}")
            names.add(key)
        if not d.name_lo.strip() or not d.name_en.strip():
            problems.append(f"{d.code}: a name is missing")
    empty = set(PROVINCE_NAMES) - {d.province_code for d in found}
    problems += [f"{code}: no district" for code in sorted(empty)]
    if problems:
        raise DistrictDataError("; ".join(problems))


def districts_of(province_code: str) -> list[District]:
    """The province's districts in the bureau's order (the provincial capital's first)."""
    return [d for d in districts().values() if d.province_code == province_code]


def _fold(text: str) -> str:
    # "Kaysone Phomvihane", "kaysone-phomvihane" and "ໄກສອນພົມວິຫານ" typed with or without a space.
    return "".join(c for c in text.casefold() if c.isalnum() or 0x0EB0 <= ord(c) <= 0x0ECD)


def find_district(text: str | None, province_code: str | None = None) -> District | None:
    """The district a stored value names: its code, or its Lao or English name (with or without
    ເມືອງ), within `province_code` when given (two provinces have a Viengkham). None if unknown."""
    if not text:
        return None
    value = text.strip()
    if value in districts():
        found = districts()[value]
        return found if province_code in (None, found.province_code) else None
    key = _fold(value.removeprefix("ເມືອງ"))
    for d in districts_of(province_code) if province_code else districts().values():
        if key in (_fold(d.name_lo), _fold(d.name_en)):
            return d
    return None
