"""What `labourx seed` creates, and where (pure: drawn from the seed and the synthetic
registers, no I/O): the plan, the registers of agencies and employers in the order they are
seeded, and the vacancies those can offer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.synthetic import generate_agencies, generate_employers, generate_vacancies
from shared.synthetic.geography import PROVINCES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

Item = tuple[int, dict[str, Any]]  # the generator's index of an item, and the item
DRAWS_PER_VACANCY = 200  # generated rows read per vacancy wanted before giving up
_CAPITAL_DISTRICT = {p.code: p.districts[0] for p in PROVINCES}


@dataclass(frozen=True)
class Plan:
    """What to seed, and where."""

    people: int
    employers: int
    agencies: int
    vacancies: int
    seed: int
    registry_url: str
    matching_url: str
    concurrency: int


# -- what to seed (pure) ----------------------------------------------------------------------


def agencies_in_order() -> list[dict[str, Any]]:
    """The synthetic register of licensed agencies, each next one adding the most destinations,
    so that the first two already recruit for every country demand letters come from."""
    left, ordered, covered = generate_agencies(), [], set[str]()
    while left:
        best = max(left, key=lambda a: len(set(a["destinations"]) - covered))
        left.remove(best)
        ordered.append(best)
        covered |= set(best["destinations"])
    return ordered


def employers_in_order(seed: int) -> list[dict[str, Any]]:
    """The synthetic register of employers in the seed's order: shuffled (so more where more
    people live), then one ISIC section after the other, so that a dozen span every section."""
    register = generate_employers(0)
    random.Random(f"employers:{seed}").shuffle(register)
    by_section: dict[str, list[dict[str, Any]]] = {}
    for employer in register:
        by_section.setdefault(employer["isic_section"], []).append(employer)
    ranked = [(rank, s, e) for s, group in by_section.items() for rank, e in enumerate(group)]
    return [employer for _, _, employer in sorted(ranked, key=lambda r: (r[0], r[1]))]


def vacancy_rows(
    n: int, seed: int, today: date, employers: list[dict[str, Any]], agencies: list[dict[str, Any]]
) -> Iterator[Item]:
    """Up to `n` generated vacancies that the given employers and agencies can offer: jobs of an
    ISIC section none of the employers is in, or abroad where no agency may recruit, are left
    out. Employers and agencies are records as the API returns them."""
    by_section: dict[str, list[dict[str, Any]]] = {}
    for employer in employers:
        by_section.setdefault(employer["isic_section"], []).append(employer)
    # Where the generator finds no employer it takes one of the capital's: stand-ins fill that
    # gap, and their jobs go to an employer of the same section elsewhere.
    stand_ins = {
        f"stand-in-{section}": section
        for section in {e["isic_section"] for e in generate_employers(0)}
        if not any(e["province_code"] == "LA-VT" for e in by_section.get(section, []))
    }
    countries = {c for a in generate_agencies() for c in a["destinations"]}
    unlicensed = countries.difference(*(a["destinations"] for a in agencies))
    rows = generate_vacancies(
        DRAWS_PER_VACANCY * n,
        seed,
        today=today,
        employers=employers + [_stand_in(key, section) for key, section in stand_ins.items()],
        agencies=agencies + ([{"id": None, "destinations": unlicensed}] if unlicensed else []),
    )
    wanted = n
    for index, row in enumerate(rows):
        if not wanted:
            return
        if row["kind"] == "overseas" and row["agency_id"] is None:
            continue
        if row["employer_id"] in stand_ins:
            candidates = by_section.get(stand_ins[row["employer_id"]])
            if not candidates:
                continue
            employer = candidates[index % len(candidates)]
            row |= {k: employer[k] for k in ("province_code", "district")}
            row["employer_id"] = employer["id"]
        if row["kind"] == "domestic" and not row["district"]:
            row["district"] = _CAPITAL_DISTRICT[row["province_code"]]
        wanted -= 1
        yield index, row


def _stand_in(key: str, section: str) -> dict[str, Any]:
    """An employer that is none, standing where the generator looks last (the capital)."""
    return {
        "id": key,
        "isic_section": section,
        "province_code": "LA-VT",
        "district": None,
        "office_code": None,
    }
