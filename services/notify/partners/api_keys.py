"""Partner API keys: random, shown once, kept as a prefix and a digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

API_KEY_PREFIX = "lxp_"


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once
    prefix: str  # kept, to tell keys apart
    digest: str  # kept, to recognise the key


def new_api_key() -> NewKey:
    """A random partner API key. 256 random bits need no slow hash: SHA-256 is kept."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(key, key[:12], key_digest(key))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
