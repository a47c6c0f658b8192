"""English as people read it in generated messages: "an overseas vacancy", "1 open position".

Messages are built from codes ("a {kind} vacancy"), so the article and the plural are chosen
here, once, instead of being right only for the values the author had in mind.
"""

from __future__ import annotations


def a(word: str) -> str:
    """`word` with its indefinite article: "a domestic", "an overseas", "an expired".

    By the first letter: matching's vocabulary (kinds, statuses) has no "hour" or "unit" whose
    sound differs from its spelling.
    """
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun agreeing with it: "1 open position", "0 open positions"."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
