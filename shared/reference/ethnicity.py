"""The 50 ethnic groups of Lao PDR recognised by the Lao Front for National Development.

The Front's list of 49 groups in four ethno-linguistic families was used by the 2015 Population
and Housing Census; Brou (ບຣູ, Mon-Khmer) was added as the 50th in 2018. The sources are named
in `data/ethnic_groups.csv`.
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "ethnic_groups.csv"


class Family(enum.StrEnum):
    LAO_TAI = "lao_tai"
    MON_KHMER = "mon_khmer"  # Austroasiatic
    HMONG_MIEN = "hmong_mien"
    SINO_TIBETAN = "sino_tibetan"


@dataclass(frozen=True, slots=True)
class EthnicGroup:
    code: str
    name_en: str
    name_lo: str | None  # None where no reliable Lao spelling was found
    family: Family


@cache
def ethnic_groups() -> dict[str, EthnicGroup]:
    """Code → group, in the order of the Front's list."""
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {
            row["code"]: EthnicGroup(
                code=row["code"],
                name_en=row["name_en"],
                name_lo=row["name_lo"] or None,
                family=Family(row["family"]),
            )
            for row in rows
        }


ETHNIC_GROUPS: dict[str, EthnicGroup] = ethnic_groups()


def _fold(text: str) -> str:
    # "Ta-oy", "ta oy" and "TAOY" are the same name typed three ways.
    return "".join(c for c in text.casefold() if c.isalnum())


@cache
def _by_name() -> dict[str, str]:
    names: dict[str, str] = {}
    for group in ETHNIC_GROUPS.values():
        names[_fold(group.name_en)] = group.code
        if group.name_lo:
            names[group.name_lo] = group.code
    return names


def validate_ethnicity(code: str) -> str:
    """The canonical code for a code, English name or Lao name; ValueError when there is none."""
    text = code.strip()
    if text.lower() in ETHNIC_GROUPS:
        return text.lower()
    found = _by_name().get(text) or _by_name().get(_fold(text))
    if found is None:
        raise ValueError(
            f"{code!r} is not one of the 50 ethnic groups of Lao PDR; use a code such as 'lao',"
            " 'khmu' or 'hmong' (all codes: shared.reference.ethnicity.ETHNIC_GROUPS, or"
            " shared/reference/data/ethnic_groups.csv)"
        )
    return found
