"""ISCO-08, the ILO International Standard Classification of Occupations (2008), all four levels.

10 major, 43 sub-major, 130 minor and 436 unit groups; a code's number of digits is its level
(`7` → `71` → `711` → `7112`). The source is named in `data/isco08.csv`.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "isco08.csv"

MAJOR, SUB_MAJOR, MINOR, UNIT = 1, 2, 3, 4


@cache
def isco08_groups() -> dict[str, str]:
    """Code → English title, every level, in hierarchical order."""
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {row["code"]: row["title"] for row in rows}


def validate_isco08(code: str) -> str:
    """The code, stripped, when it is an ISCO-08 group at any level; ValueError otherwise."""
    canonical = code.strip()
    if canonical not in isco08_groups():
        raise ValueError(
            f"{code!r} is not an ISCO-08 code: 1 to 4 digits naming an existing group"
            " (e.g. 7 Craft and related trades workers, 7112 Bricklayers and related workers)"
        )
    return canonical


def isco08_title(code: str) -> str:
    """The English title of a group, e.g. `5223` → `Shop sales assistants`."""
    return isco08_groups()[validate_isco08(code)]


def level(code: str) -> int:
    """1 major, 2 sub-major, 3 minor, 4 unit group."""
    return len(validate_isco08(code))


def ancestors(code: str) -> list[str]:
    """The path from the major group down to the code itself: `7112` → 7, 71, 711, 7112."""
    canonical = validate_isco08(code)
    return [canonical[:n] for n in range(1, len(canonical) + 1)]
