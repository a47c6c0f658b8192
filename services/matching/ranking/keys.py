"""Retrieval keys: short strings in a GIN-indexed array, so that the database finds the few
candidates (or vacancies) worth scoring among a million without reading the rest.

- `o1:7`, `o2:71`, `o3:711`, `o4:7112`: an occupation the person worked in or wants, at every
  ISCO-08 level; a vacancy carries its own code's levels.
- `e4:7112`: an occupation the person has experience in (scored above a wished-for one).
- `p:LA-VT`: a province where the person lives or would work; a domestic vacancy's province.
- `w:abroad`: the person is willing to work abroad; `a:TH` a country they would go to, `a:*`
  anywhere; `d:TH` an overseas vacancy's destination, and `d:*` on every overseas vacancy (found
  for people willing to go anywhere).
- `l:ko`: a language the person speaks (not Lao, which everyone registered here speaks).
- `r:TH`: the person completed orientation for that destination (valid or not: ranking checks
  the date), so the few who are ready are searched first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ANYWHERE_ABROAD = "a:*"
ANY_DESTINATION = "d:*"
WILLING_ABROAD = "w:abroad"
# Everyone registered in Lao PDR is taken to speak Lao: a key for it would find everyone.
LOCAL_LANGUAGE = "lo"


def occupation(code: str, level: int) -> str:
    """The key of `code` (4 digits) at ISCO-08 `level` (1 major ... 4 unit group)."""
    return f"o{level}:{code[:level]}"


def occupation_keys(codes: Iterable[str]) -> set[str]:
    return {occupation(code, level) for code in codes for level in range(1, len(code) + 1)}


def province(code: str) -> str:
    return f"p:{code}"


def country(code: str) -> str:
    return f"a:{code}"


def destination(code: str) -> str:
    return f"d:{code}"


def oriented(code: str) -> str:
    return f"r:{code}"


def language(code: str) -> str:
    return f"l:{code}"


def candidate_keys(
    *,
    experience: Iterable[str],
    desired: Iterable[str],
    province_code: str,
    preferred_provinces: Iterable[str],
    willing_abroad: bool,
    abroad_countries: Iterable[str],
    oriented_countries: Iterable[str] = (),
    languages: Iterable[str] = (),
) -> list[str]:
    """Every key a person is found by, sorted (stable for comparisons and tests)."""
    experienced = list(experience)
    keys = occupation_keys([*experienced, *desired])
    keys |= {f"e{len(code)}:{code}" for code in experienced if len(code) == 4}
    keys |= {province(p) for p in {province_code, *preferred_provinces}}
    if willing_abroad:
        countries = list(abroad_countries)
        keys.add(WILLING_ABROAD)
        keys |= {country(c) for c in countries} if countries else {ANYWHERE_ABROAD}
    keys |= {oriented(c) for c in oriented_countries}
    keys |= {language(code) for code in languages if code != LOCAL_LANGUAGE}
    return sorted(keys)


def vacancy_keys(*, isco08: str, province_code: str, destination_country: str | None) -> list[str]:
    """Every key a vacancy is found by: its occupation levels and where the work is."""
    keys = occupation_keys([isco08])
    if destination_country:
        keys |= {destination(destination_country), ANY_DESTINATION}
    else:
        keys.add(province(province_code))
    return sorted(keys)
