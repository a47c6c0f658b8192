"""Pseudonyms and per-partner ids: keyed hashes under a key derived per partner, so that two
partners cannot join their feeds on the ids they are given."""

from __future__ import annotations

import hmac
import uuid


def partner_key(master: bytes, partner_id: uuid.UUID) -> bytes:
    """The partner's own pseudonym key, derived (never stored) from the settings key."""
    return hmac.digest(master, b"pseudonym:" + partner_id.bytes, "sha256")


def pseudonym(key: bytes, person_id: uuid.UUID | str) -> str:
    """The partner's stable pseudonym of a person: a keyed hash, not reversible without the key."""
    digest = hmac.digest(key, b"person:" + uuid.UUID(str(person_id)).bytes, "sha256")
    return "ps_" + digest[:16].hex()


def linked_id(key: bytes, field: str, value: object) -> str:
    """A per-partner id for a record of one person (same shape as a UUID)."""
    digest = hmac.digest(key, f"{field}:{value}".encode(), "sha256")
    return str(uuid.UUID(bytes=digest[:16], version=4))


def item_id(key: bytes, entry_id: int) -> str:
    """The id a partner sees for a feed entry: its own, so ids do not link two partners' feeds."""
    return linked_id(key, "entry", entry_id)
