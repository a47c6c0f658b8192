"""ISCO-08 occupations by title, in Lao or English: what an officer types to choose one.

English titles are the ILO's, every group (`isco08.py`); Lao titles cover every major, sub-major
and minor group and the unit groups most recorded (`data/isco08_lo.csv`, sources named there).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.reference.isco08 import isco08_groups

LAO_DATA_FILE = Path(__file__).parent / "data" / "isco08_lo.csv"


@dataclass(frozen=True, slots=True)
class Occupation:
    code: str
    title_en: str
    title_lo: str | None  # None where no Lao title is written yet (some unit groups)

    def title(self, language: str = "lo") -> str:
        """The title in Lao, or in English where there is none in Lao (or for English)."""
        return (self.title_lo if language == "lo" else None) or self.title_en


@cache
def lao_titles() -> dict[str, str]:
    """Code → Lao title."""
    with LAO_DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {row["code"]: row["title_lo"] for row in rows}


@cache
def occupations() -> dict[str, Occupation]:
    """Every ISCO-08 group with its titles, in the classification's order."""
    lao = lao_titles()
    return {code: Occupation(code, title, lao.get(code)) for code, title in isco08_groups().items()}


def occupation(code: str | None) -> Occupation | None:
    return occupations().get((code or "").strip())


def _fold(text: str) -> str:
    # Lao is written without spaces between words, and people type it with or without them.
    return re.sub(r"[\s\-(),./]+", "", text.casefold())


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]


@cache
def _index() -> list[tuple[Occupation, str, list[str]]]:
    return [(o, _fold(o.title_lo or ""), _words(o.title_en)) for o in occupations().values()]


def search_occupations(text: str, limit: int = 10) -> list[Occupation]:
    """Groups whose title matches what was typed: a code (and the groups under it), Lao words
    anywhere in the Lao title, or English words each starting a word of the English title.

    Best first: the most precise groups (a unit group before its minor group), among them titles
    that start with what was typed; a group whose title repeats its parent's shows once.
    """
    typed = text.strip()
    if not typed:
        return []
    if typed.isdigit():
        found = [o for code, o in occupations().items() if code.startswith(typed)]
        return sorted(found, key=lambda o: (o.code != typed, len(o.code), o.code))[:limit]
    lao = _fold(typed)
    words = _words(typed)
    scored: list[tuple[tuple[int, int, str], Occupation]] = []
    for o, title_lo, title_words in _index():
        if title_lo and lao in title_lo:
            starts = title_lo.startswith(lao)
        elif words and all(any(w.startswith(q) for w in title_words) for q in words):
            starts = bool(title_words) and title_words[0].startswith(words[0])
        else:
            continue
        scored.append(((-len(o.code), 0 if starts else 1, o.code), o))
    scored.sort(key=lambda pair: pair[0])
    shown: list[Occupation] = []
    titles: set[str] = set()
    for _, o in scored:
        # A unit group that is its minor group's only one reads the same in Lao: keep the
        # most precise (it sorts first) and skip its parents of the same title.
        key = o.title_lo or o.title_en
        if key in titles:
            continue
        titles.add(key)
        shown.append(o)
        if len(shown) == limit:
            break
    return shown
