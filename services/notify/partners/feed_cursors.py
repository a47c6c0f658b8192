"""Feed cursors: opaque to the partner, valid for that partner only."""

from __future__ import annotations

import base64
import binascii
import hmac


def encode_cursor(key: bytes, position: int) -> str:
    """An opaque cursor after feed position `position`, valid only for the partner of `key`.

    The position is masked with a per-partner value so that two partners cannot compare their
    cursors, and tagged so that a cursor made up or taken from another partner is refused.
    """
    mask = int.from_bytes(hmac.digest(key, b"cursor-mask", "sha256")[:8])
    masked = (position ^ mask).to_bytes(8)
    tag = hmac.digest(key, b"cursor:" + masked, "sha256")[:8]
    return base64.urlsafe_b64encode(masked + tag).decode().rstrip("=")


def decode_cursor(key: bytes, cursor: str) -> int | None:
    """The position a cursor of this partner holds, None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16:
        return None
    masked, tag = raw[:8], raw[8:]
    if not hmac.compare_digest(tag, hmac.digest(key, b"cursor:" + masked, "sha256")[:8]):
        return None
    mask = int.from_bytes(hmac.digest(key, b"cursor-mask", "sha256")[:8])
    return int.from_bytes(masked) ^ mask
