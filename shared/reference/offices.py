"""The network's offices as it starts, and how far apart provinces are.

Registry keeps the office register (admins add offices through its API); the seed list lives
here so that services which need to know the Migrant Resource Centres before any event tells
them (predeparture inviting a prospective migrant to the nearest one) read the same list.
"""

from __future__ import annotations

import enum
import math

from shared.reference.places import lao_provinces


class OfficeKind(enum.StrEnum):
    ESC = "esc"  # Employment Service Centre: labour bank and job bank of a province
    MRC = "mrc"  # Migrant Resource Centre: counselling and pre-departure orientation


# The Migrant Resource Centres named in the design (run with the Lao Federation of Trade Unions
# and IOM), and the LFTU skills institute in Vientiane, which also runs orientation.
SEED_MRCS = {
    "MRC-BK": ("Migrant Resource Centre Bokeo", "LA-BK"),
    "MRC-CH": ("Migrant Resource Centre Champasak", "LA-CH"),
    "MRC-LP": ("Migrant Resource Centre Luang Prabang", "LA-LP"),
    "MRC-SV": ("Migrant Resource Centre Savannakhet", "LA-SV"),
    "MRC-VT": ("LFTU Skills Development Institute, Vientiane", "LA-VT"),
}


def seed_offices() -> list[dict[str, str]]:
    """One ESC per province (code `ESC-` + the ISO 3166-2 suffix) and the known MRCs."""
    escs = [
        {
            "code": "ESC-" + code.removeprefix("LA-"),
            "name": f"Employment Service Centre {name}",
            "kind": OfficeKind.ESC.value,
            "province_code": code,
        }
        for code, name in sorted(lao_provinces().items())
    ]
    mrcs = [
        {"code": code, "name": name, "kind": OfficeKind.MRC.value, "province_code": province}
        for code, (name, province) in SEED_MRCS.items()
    ]
    return escs + mrcs


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
