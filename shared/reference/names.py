"""Name matching across Lao script and Latin romanisations, for duplicate detection and search.

Lao names are romanised inconsistently (Phommavong, Phomavong, Pommavong), so names are compared
through a phonetic key: Lao script is romanised first, then every spelling is folded to one form.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidfuzz.distance import Indel

if TYPE_CHECKING:
    from collections.abc import Callable

# Scores at or above this are shown to the officer as a probable duplicate of the registration.
PROBABLE_DUPLICATE = 0.85
# Below this two names are taken to belong to different people.
POSSIBLE_DUPLICATE = 0.70

# --- Lao script --------------------------------------------------------------------------------

_CONSONANT = "\u0e81-\u0eae\u0edc-\u0edf"
_LEADING_VOWEL = "ເແໂໄໃ"
_VOWEL_SIGN = "ະັາຳິີຶືຸູົຽ"
_TONE_MARKS = re.compile("[\u0ec8-\u0ecc]")  # ່ ້ ໊ ໋ and the cancellation mark ໌
# A leading vowel is written before the initial consonant (cluster) it is pronounced after:
# ແສງ is s-e-ng. The clusters are a silent ຫ before a sonorant (ຫວ, ຫລ) and C + ຣ/ລ (ປຣ, ກລ).
_LEADING = re.compile(
    f"([{_LEADING_VOWEL}])"
    f"(ຫ[ງຍນມລວຣ]|[{_CONSONANT}][ຣລ\u0ebc](?=[{_VOWEL_SIGN}])|[{_CONSONANT}]\u0ebc?)"
)
# Vowels written around the consonant, as (reordered) sequences; longest first.
_COMPOUND_VOWELS = (
    ("ເືອ", "eua"),  # ເມືອງ meuang
    ("ເຶອ", "eua"),
    ("ເົາ", "ao"),  # ເຈົ້າ chao
    ("ເັຍ", "ia"),
    ("ເິ", "eu"),  # ເງິນ ngeun
    ("ເີ", "eu"),  # ເຊີນ xeun
    ("ເັ", "e"),  # ເພັດ phet
    ("ແັ", "ae"),
    ("ົວ", "oua"),  # ບົວ boua
    ("ຽ", "ia"),  # ວຽງ viang
)


@lru_cache(maxsize=1)
def _transliterate() -> Callable[[str], str]:
    # laonlp loads its whole dictionary (about 38 MB) when imported: a process pays for it when
    # it first romanises a Lao name, not when it starts. Its 100,000-node trie then lives as
    # long as the process, so it joins what the app factory kept out of the garbage
    # collector's full passes at start (walking it stalled requests by 150-200 ms).
    from laonlp.transliterate import transliterate

    gc.collect()
    gc.freeze()
    return transliterate  # type: ignore[no-any-return]  # laonlp has no type hints


def _romanise_word(word: str) -> str:
    lao = unicodedata.normalize("NFC", word).replace("\u0ecd\u0eb2", "ຳ")
    # Tone marks do not change the romanisation, and between consonant and vowel they would
    # split the vowel sequences matched below.
    lao = _TONE_MARKS.sub("", lao)
    lao = _LEADING.sub(r"\2\1", lao)
    for written, spoken in _COMPOUND_VOWELS:
        lao = lao.replace(written, spoken)
    # ຫ before a sonorant that starts a syllable only marks the tone (ສະຫວັນ savan, ໄຫລ lai); in
    # ຫ້ວຍ houay it is the initial h.
    lao = re.sub(f"ຫ(?=\u0ebc|[ງຍນມລວຣ][{_VOWEL_SIGN}{_LEADING_VOWEL}aeiou])", "", lao)
    # ອ carries a vowel at the start of a syllable (ອຸດົມ oudom, ອ່ອນ on) and is the vowel o
    # after a consonant (ພອນ phon). ວ is v before a vowel (ວົງ vong), the vowel oua between
    # consonants (ດວງ douang), and o after a vowel (ແກ້ວ keo).
    lao = re.sub(f"ອ(?=[{_VOWEL_SIGN}{_LEADING_VOWEL}ອaeiou])", "", lao)
    lao = re.sub(f"(?<=[{_CONSONANT}\u0ebc])ວ(?=[{_CONSONANT}])", "oua", lao)
    lao = re.sub(f"ວ(?![{_VOWEL_SIGN}{_LEADING_VOWEL}aeiou])", "o", lao)
    lao = lao.replace("ຍ", "y")  # laonlp's French "gn"; Lao names are mostly spelt with y/ny
    latin = _transliterate()(lao).replace("ອ", "o")
    return re.sub("[^a-z]", "", latin.lower())


def romanise_lao(text: str) -> str:
    """A plain a-z romanisation of Lao script, word by word, for matching rather than display.

    laonlp maps letters one by one; this moves the leading vowels ເ ແ ໂ ໄ ໃ after the initial
    consonant or cluster, reads the vowels written around it (ເ-ືອ eua, ເ-ົາ ao, ົວ oua, ຽ ia),
    drops tone marks and a tone-marking ຫ, and reads ອ and ວ by position. Not handled: a ວ
    cluster under a leading vowel (ແຂວງ reads kheong, not khwaeng), vowels left unwritten in old
    or Pali spellings (ສນ for ສົນ), the inherent a of Pali-Sanskrit clusters, vowel length and
    tone; those differences are left to the fuzzy comparison.
    """
    words = (_romanise_word(w) for w in text.split())
    return " ".join(w for w in words if w)


def _is_lao(word: str) -> bool:
    return any("\u0e80" <= c <= "\u0eff" for c in word)


# --- Phonetic keys -----------------------------------------------------------------------------

# Applied in order to a lower-case a-z word. Each folds spellings that Lao names are actually
# written with into one; two different names can share a key, which is acceptable for finding
# candidates that an officer then confirms.
_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # Consonants: aspiration is written inconsistently (Phommavong, Pommavong), ຊ/ສ/ຈ are
        # written x, s, ch or j (Xaysana, Saysana, Chaisana), and Lao does not distinguish r/l.
        ("ck", "k"),
        ("ch", "s"),
        ("[xzj]", "s"),
        ("c", "k"),
        ("q", "k"),
        ("ph", "p"),
        ("th", "t"),
        ("kh", "k"),
        ("w", "v"),
        ("r", "l"),
        # Initial ຍ is written ny, gn or y (Nyouan, Gnouan, Youan).
        ("^(ny|gn)", "y"),
        # Vowels: French ou and Thai-style oo/ee for u and i (Bounmy, Bunmi, Boonmee), ae or e for
        # ແ (Saengsavang, Sengsavang), ie or ia for ຽ.
        ("oo", "u"),
        ("ou", "u"),
        ("ee", "i"),
        ("ae", "e"),
        ("ie", "ia"),
        # y after a vowel or at the end is the vowel i (Bounmy, Xaysana, Noy).
        ("(?<=.)y", "i"),
        # French-style "one" is the syllable on (Khamphone, Phonesavanh).
        ("(?<=[aeiou])ne(?![aeiou])", "n"),
        # v not followed by a vowel is the final ວ, written o or w (Keomany, Kaewmany).
        ("v(?![aeiou])", "o"),
        # Silent final h (Vongsavanh, Souphanh) and final stops written either way (Phet, Phed).
        ("h$", ""),
        ("d$", "t"),
        ("b$", "p"),
        # Doubled letters carry no sound of their own (Phommavong, Phomavong).
        (r"(.)\1+", r"\1"),
    )
)


@lru_cache(maxsize=65536)
def phonetic_key(latin: str) -> str:
    """The folded form of one romanised word or name: `Phommavong` and `Pommavong` → `pomavong`."""
    # Apostrophes join (D'Souza is one word); other non-letters separate words.
    decomposed = re.sub("['\u2019]", "", unicodedata.normalize("NFKD", latin.casefold()))
    words = re.sub("[^a-z]+", " ", decomposed.encode("ascii", "ignore").decode()).split()
    keys = []
    for word in words:
        for pattern, replacement in _FOLDS:
            word = pattern.sub(replacement, word)
        keys.append(word)
    return " ".join(k for k in keys if k)


@lru_cache(maxsize=65536)
def _word_keys(text: str) -> tuple[str, ...]:
    keys: list[str] = []
    for word in re.split("[\\s\\-\u2010\u2011\u2013]+", text.strip()):
        latin = romanise_lao(word) if _is_lao(word) else word
        keys.extend(phonetic_key(latin).split())
    return tuple(keys)


def name_tokens(*names: str | None) -> list[str]:
    """Sorted distinct phonetic keys of every word of every name, in Lao script or Latin."""
    return sorted({key for name in names if name for key in _word_keys(name)})


def full_name_key(given: str | None, family: str | None) -> str:
    """The phonetic keys of the given name(s) then the family name, space-separated."""
    return " ".join(key for part in (given, family) if part for key in _word_keys(part))


# --- Similarity --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonName:
    given_lo: str | None = None
    family_lo: str | None = None
    given_en: str | None = None
    family_en: str | None = None


@lru_cache(maxsize=65536)
def _parts(given: str | None, family: str | None) -> tuple[str, str]:
    # Without spaces: "Kham Phone" and "Khamphone" are one name.
    return "".join(_word_keys(given or "")), "".join(_word_keys(family or ""))


def _scripts(name: PersonName) -> list[tuple[str, str]]:
    parts = (_parts(name.given_lo, name.family_lo), _parts(name.given_en, name.family_en))
    return [p for p in parts if any(p)]


def _score(a: tuple[str, str], b: tuple[str, str]) -> float:
    similarity = Indel.normalized_similarity
    (a_given, a_family), (b_given, b_family) = a, b
    if a_given and a_family and b_given and b_family:
        # Given and family names compared separately, so that siblings sharing a long family name
        # (Khamla and Vanh Phommavong) do not look alike; in either order, as forms get swapped.
        return max(
            (similarity(a_given, b_given) + similarity(a_family, b_family)) / 2,
            (similarity(a_given, b_family) + similarity(a_family, b_given)) / 2,
        )
    # A part is missing on one side, so where the other side splits its name is unknown: compare
    # whole names, in both orders.
    return max(
        similarity(x, y)
        for x in {a_given + a_family, a_family + a_given}
        for y in {b_given + b_family, b_family + b_given}
    )


def name_similarity(a: PersonName, b: PersonName) -> float:
    """The best similarity in [0, 1] over the scripts both names are in (Lao, Latin, or across)."""
    # Indel (the normalised longest-common-subsequence score behind fuzz.ratio) rather than
    # Jaro-Winkler, which rewards a shared beginning: many different Lao names share one
    # (Khamla and Khamphone score 0.79 with Jaro-Winkler, 0.55 here).
    return max((_score(x, y) for x in _scripts(a) for y in _scripts(b)), default=0.0)
