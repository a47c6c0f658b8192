"""Crypto-shredding of personal data on the event log: a field `sealed` holds the personal part of
an event, encrypted under a key of the person's own that registry destroys on erasure.

AES-256-GCM (the `cryptography` package): `sealed` is URL-safe base64 of a version byte, a
random 96-bit nonce and the ciphertext with its tag. The associated data binds a blob to the
event type and the person it was sealed for, so a sealed part copied into another person's
event, or into another type of event, does not open. Once the key is gone (registry's erasure,
each consumer's PersonErased) no copy of the event anywhere (topics, dead letters, backups of
the broker) can be read: docs/architecture.md, "Erasure on the event log".
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    import uuid

KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12
_VERSION = b"\x01"
# HKDF's `info` for a partner's key of a person: this prefix, then the partner's code.
PARTNER_KEY_INFO = b"labourx partner "


class SealBroken(Exception):
    """A sealed part that does not open with the key given: another person's key, a blob moved
    from another person's or another type's event, or altered on the way."""


def new_key() -> bytes:
    """A random 256-bit key for one person."""
    return os.urandom(KEY_BYTES)


def _associated(person_id: uuid.UUID, event_type: str) -> bytes:
    return f"{event_type}\n{person_id}".encode()


def seal(key: bytes, person_id: uuid.UUID, event_type: str, fields: dict[str, Any]) -> str:
    """`fields` (JSON-ready values) sealed for the person's event of `event_type`."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, _associated(person_id, event_type))
    return base64.urlsafe_b64encode(_VERSION + nonce + sealed).decode()


def open_sealed(key: bytes, person_id: uuid.UUID, event_type: str, sealed: str) -> dict[str, Any]:
    """The fields `seal` sealed; SealBroken when they do not open (wrong key, person or type,
    or an altered blob)."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except (binascii.Error, ValueError) as exc:
        raise SealBroken("not base64") from exc
    if len(raw) < 1 + _NONCE_BYTES + 16 or raw[:1] != _VERSION:
        raise SealBroken("not a sealed part of a known version")
    nonce, body = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    try:
        plain = AESGCM(key).decrypt(nonce, body, _associated(person_id, event_type))
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("does not open with this key for this person and event") from exc
    fields = json.loads(plain)
    if not isinstance(fields, dict):
        raise SealBroken("the sealed part is not an object")
    return fields


def partner_person_key(person_key: bytes, partner_code: str) -> bytes:
    """One partner's key of a person: HKDF-SHA256 of the person's key (no salt), `info` the
    prefix `labourx partner ` and the partner's code (immutable, it names the partner's topics).

    What notify seals the person's records on that partner's topics with, and what it serves
    that partner: one partner's key opens none of another's records, and none of registry's
    events (the person's key cannot be worked back from it). Derived, never stored: destroying
    the person's key (erasure) destroys every partner's key of them.
    """
    info = PARTNER_KEY_INFO + partner_code.encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
        person_key
    )
