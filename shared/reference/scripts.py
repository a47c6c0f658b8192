"""Writing-system checks for names."""

from __future__ import annotations

LAO_BLOCK = range(0x0E80, 0x0F00)


def is_lao_script(text: str) -> bool:
    """True when every letter of `text` is in the Lao Unicode block (spaces and marks allowed)."""
    letters = [c for c in text if c.isalpha() or 0x0EB0 <= ord(c) <= 0x0ECD]
    return bool(letters) and all(ord(c) in LAO_BLOCK for c in letters)


def is_latin_script(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters)
