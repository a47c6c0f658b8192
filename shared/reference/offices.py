"""The network's offices as it starts, and how far apart provinces are.

Registry keeps the office register (admins add offices through its API); the seed list lives
here so that services which need to know the Migrant Resource Centres before any event tells
them (predeparture inviting a prospective migrant to the nearest one) read the same list.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from shared.reference.places import PROVINCE_NAMES


class OfficeKind(enum.StrEnum):
    ESC = "esc"  # Employment Service Centre: labour bank and job bank of a province
    MRC = "mrc"  # Migrant Resource Centre: counselling and pre-departure orientation


@dataclass(frozen=True)
class Office:
    code: str
    kind: OfficeKind
    province_code: str
    name_lo: str
    name_en: str

    def name(self, language: str = "lo") -> str:
        """The office's name in Lao (default) or English."""
        return self.name_lo if language == "lo" else self.name_en


_ESC_LO, _ESC_EN = "ສູນບໍລິການຈັດຫາງານ", "Employment Service Centre"
_MRC_LO, _MRC_EN = "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ", "Migrant Resource Centre"


def _esc(province: str) -> Office:
    lo, en = PROVINCE_NAMES[province]
    return Office(
        "ESC-" + province.removeprefix("LA-"),
        OfficeKind.ESC,
        province,
        f"{_ESC_LO} {lo}",
        f"{_ESC_EN}, {en}",
    )


def _mrc(code: str, province: str) -> Office:
    lo, en = PROVINCE_NAMES[province]
    return Office(code, OfficeKind.MRC, province, f"{_MRC_LO} {lo}", f"{_MRC_EN}, {en}")


# The Migrant Resource Centres named in the design (run with the Lao Federation of Trade Unions
# and IOM), and the LFTU skills institute in Vientiane, which also runs orientation.
SEED_MRCS: dict[str, Office] = {
    office.code: office
    for office in (
        _mrc("MRC-BK", "LA-BK"),
        _mrc("MRC-CH", "LA-CH"),
        _mrc("MRC-LP", "LA-LP"),
        _mrc("MRC-SV", "LA-SV"),
        Office(
            "MRC-VT",
            OfficeKind.MRC,
            "LA-VT",
            "ສະຖາບັນພັດທະນາສີມືແຮງງານ ສະຫະພັນກຳມະບານລາວ, ນະຄອນຫຼວງວຽງຈັນ",
            "LFTU Skills Development Institute, Vientiane Capital",
        ),
    )
}
# One ESC per province (code `ESC-` + the ISO 3166-2 suffix) and the known MRCs.
SEED_OFFICES: dict[str, Office] = {
    **{office.code: office for office in map(_esc, sorted(PROVINCE_NAMES))},
    **SEED_MRCS,
}


def seed_offices() -> list[dict[str, str]]:
    """The seed list as rows of registry's office register (English name in `name`)."""
    return [
        {
            "code": o.code,
            "name": o.name_en,
            "kind": o.kind.value,
            "province_code": o.province_code,
        }
        for o in SEED_OFFICES.values()
    ]


def office_name(code: str | None, language: str = "lo") -> str:
    """A seed office's name for people to read; an unknown code (an office an admin added
    later) is shown as its code."""
    if code is None:
        return ""
    office = SEED_OFFICES.get(code)
    return office.name(language) if office else code


# Latitude and longitude of each province's capital town, rounded to a hundredth of a degree:
# enough to say which office is nearer for a person of the province.
PROVINCE_CENTRES: dict[str, tuple[float, float]] = {
    "LA-AT": (14.81, 106.83),  # Samakhixay (Attapeu)
    "LA-BK": (20.28, 100.41),  # Houayxay
    "LA-BL": (18.38, 103.66),  # Paksan
    "LA-CH": (15.12, 105.80),  # Pakse
    "LA-HO": (20.42, 104.05),  # Xam Neua
    "LA-KH": (17.40, 104.80),  # Thakhek
    "LA-LM": (21.00, 101.40),  # Luang Namtha
    "LA-LP": (19.89, 102.13),  # Luang Prabang
    "LA-OU": (20.69, 101.98),  # Muang Xay
    "LA-PH": (21.68, 102.10),  # Phongsaly
    "LA-SL": (15.72, 106.42),  # Salavan
    "LA-SV": (16.56, 104.75),  # Kaysone Phomvihane
    "LA-VI": (18.49, 102.41),  # Phonhong
    "LA-VT": (17.97, 102.61),  # Vientiane
    "LA-XA": (19.25, 101.71),  # Xayaboury
    "LA-XE": (15.35, 106.72),  # Lamam (Sekong)
    "LA-XI": (19.45, 103.22),  # Phonsavan
    "LA-XS": (18.88, 103.10),  # Anouvong
}


def distance_km(province_a: str, province_b: str) -> float:
    """Great-circle distance between two provinces' capitals, in kilometres."""
    (lat1, lon1), (lat2, lon2) = PROVINCE_CENTRES[province_a], PROVINCE_CENTRES[province_b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def nearest_first(province_code: str, offices: dict[str, str]) -> list[str]:
    """Office codes (`offices`: code → province) ordered from the nearest to `province_code`;
    offices of the person's own province come first, ties by code."""
    return sorted(offices, key=lambda code: (distance_km(province_code, offices[code]), code))
