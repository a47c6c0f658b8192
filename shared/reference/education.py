"""Education levels of ISCED 2011 (UNESCO): the codes every service records education with."""

from __future__ import annotations

# Level code → English name (ISCED 2011, levels 0 to 8).
ISCED_2011: dict[int, str] = {
    0: "Early childhood education",
    1: "Primary education",
    2: "Lower secondary education",
    3: "Upper secondary education",
    4: "Post-secondary non-tertiary education",
    5: "Short-cycle tertiary education",
    6: "Bachelor's or equivalent level",
    7: "Master's or equivalent level",
    8: "Doctoral or equivalent level",
}


def validate_isced_level(level: int) -> int:
    if level not in ISCED_2011:
        raise ValueError(f"{level!r} is not an ISCED 2011 level (0 to 8)")
    return level
