"""Offices: the kinds of office and the seed list the network starts with."""

from __future__ import annotations

import enum

from shared.reference.places import lao_provinces


class OfficeKind(enum.StrEnum):
    ESC = "esc"  # Employment Service Centre: labour bank and job bank of a province
    MRC = "mrc"  # Migrant Resource Centre: counselling and pre-departure orientation


# The Migrant Resource Centres named in the design (run with the Lao Federation of Trade Unions
# and IOM); admins add offices through the API as the network grows.
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
