"""How strong a secret is, and what a key setting stands for.

Production refuses weak secrets (shared/settings.py): a key labourx signs or derives with must
be long and hard to guess, not the development value however it is spelt, and not another
purpose's key. The guess count is zxcvbn's estimate (Dropbox's model of how passwords are
cracked: dictionary words, names, repeats, sequences, keyboard walks, dates, l33t), which is
what makes "passwordpassword..." or a sentence of common words weak however long it is. A
random string of n characters scores about 10^n under it, so the bars below are met by
`openssl rand -hex 32` with a wide margin and by nothing a person makes up.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

# Keys labourx signs or derives with. HS256 and HMAC-SHA256 want a key at least as long as the
# hash (RFC 7518 3.2: 256 bits).
MIN_KEY_BYTES = 32
# About 100 bits: a random 32-character hex string scores 10^32, the development secret 10^27,
# six common words about 10^30 and a long repeat of anything 10^2 to 10^12.
MIN_KEY_GUESSES_LOG10 = 30.0
# Credentials another system issues us (the SMS gateway's token, the OpenID client secret, the
# SMTP password): their length is that system's choice, so the bar is lower but still refuses a
# word, a repeat or a short string: 16 characters, about 10^14 guesses (46 bits).
MIN_CREDENTIAL_CHARS = 16
MIN_CREDENTIAL_GUESSES_LOG10 = 14.0
# Standard Webhooks secrets are "whsec_" + base64 of 24 to 64 random bytes (its specification).
MIN_WEBHOOK_SECRET_BYTES = 24
WEBHOOK_SECRET_PREFIX = "whsec_"
# A key given as `base64:...` stands for the bytes it encodes (a key derived by an older
# release, docs/operations.md "Changing keys"); any other value for its UTF-8 bytes.
BASE64_PREFIX = "base64:"

# Development keys: used outside production when the setting is unset, refused in production
# however they are spelt (case, spaces, punctuation), alone or inside a longer value.
DEV_JWT_SECRET = "labourx-development-secret-not-for-production"
DEV_CERTIFICATE_KEY = "labourx-development-certificate-key-not-for-production"
# The partner pseudonym key keeps the value the single development partner key had, so a
# development database's pseudonyms do not change.
DEV_PARTNER_PSEUDONYM_KEY = "labourx-development-partner-key-not-for-production"
DEV_PARTNER_WEBHOOK_KEY = "labourx-development-webhook-key-not-for-production"
DEV_SERVICE_TOKEN = "labourx-development-service-token-not-for-production"
DEVELOPMENT_SECRETS = (
    DEV_JWT_SECRET,
    DEV_CERTIFICATE_KEY,
    DEV_PARTNER_PSEUDONYM_KEY,
    DEV_PARTNER_WEBHOOK_KEY,
    DEV_SERVICE_TOKEN,
)
# zxcvbn's user inputs: words an attacker would try first against this system.
_SYSTEM_WORDS = [*DEVELOPMENT_SECRETS, "labourx", "lao", "laos", "vientiane", "molsw"]
# zxcvbn's own bound (its matching is slow past it); the first 72 characters of a secret are
# enough to tell a random one from a made-up one.
_JUDGED_CHARS = 72

Kind = Literal["key", "credential", "webhook"]


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def key_bytes(value: str) -> bytes:
    """The bytes a key setting stands for: `base64:...` decoded, anything else as UTF-8."""
    if value.startswith(BASE64_PREFIX):
        return base64.b64decode(value.removeprefix(BASE64_PREFIX), validate=True)
    return value.encode()


def guesses_log10(text: str) -> float:
    """zxcvbn's estimate of the guesses needed to find `text`, as a power of ten."""
    # Imported here: its word lists take memory every process would otherwise pay for, and
    # only a production process's settings are ever judged.
    from zxcvbn import zxcvbn

    return float(zxcvbn(text[:_JUDGED_CHARS], user_inputs=_SYSTEM_WORDS)["guesses_log10"])


def weakness(value: str, kind: Kind = "key") -> str | None:
    """Why `value` is too weak for a production secret of this kind, or None when it is not."""
    folded = _folded(value)
    for development in DEVELOPMENT_SECRETS:
        if _folded(development) in folded:
            return (
                "is a development secret (whatever its case or spacing): never use it in production"
            )
    if value != value.strip():
        # Nearly always a copy-and-paste slip; the space would be part of the key.
        return "starts or ends with white space"
    judged, why = _judged_part(value, kind)
    if why is not None:
        return why
    needed = MIN_CREDENTIAL_GUESSES_LOG10 if kind == "credential" else MIN_KEY_GUESSES_LOG10
    guesses = guesses_log10(judged)
    if guesses < needed:
        return (
            f"is too easy to guess (repeats, sequences or dictionary words: about 10^{guesses:.0f}"
            f" guesses, at least 10^{needed:.0f} needed); generate one: openssl rand -hex 32"
        )
    return None


def _judged_part(value: str, kind: Kind) -> tuple[str, str | None]:
    """The part of `value` whose guessability is judged (a prefixed base64 secret is judged
    without its prefix), and why its shape or length is already too weak, if it is."""
    if kind == "webhook":
        if not value.startswith(WEBHOOK_SECRET_PREFIX):
            return value, f"is not a Standard Webhooks secret ({WEBHOOK_SECRET_PREFIX} + base64)"
        return _prefixed_base64(value, WEBHOOK_SECRET_PREFIX, MIN_WEBHOOK_SECRET_BYTES)
    if kind == "key" and value.startswith(BASE64_PREFIX):
        return _prefixed_base64(value, BASE64_PREFIX, MIN_KEY_BYTES)
    if kind == "key" and len(value.encode()) < MIN_KEY_BYTES:
        return value, (f"is {len(value.encode())} bytes long; at least {MIN_KEY_BYTES} are needed")
    if kind == "credential" and len(value) < MIN_CREDENTIAL_CHARS:
        return value, (
            f"is {len(value)} characters long; at least {MIN_CREDENTIAL_CHARS} are needed"
        )
    return value, None


def _prefixed_base64(value: str, prefix: str, min_bytes: int) -> tuple[str, str | None]:
    """The base64 text after `prefix`, and why it is not base64 or decodes too few bytes."""
    judged = value.removeprefix(prefix)
    try:
        raw = base64.b64decode(judged, validate=True)
    except binascii.Error:
        return judged, f"is not {prefix} followed by base64"
    if len(raw) < min_bytes:
        return judged, f"encodes {len(raw)} bytes; at least {min_bytes} are needed"
    return judged, None


@dataclass(frozen=True)
class PlainHttp:
    """Where a URL that carries or fetches keys may be plain http://: loopback (the same
    machine), and hosts the deployment names as reached over its own private network."""

    hosts: frozenset[str]

    def refuses(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https":
            return False
        host = (parts.hostname or "").lower()
        if parts.scheme != "http" or not host:
            return True
        if host == "localhost" or host in self.hosts:
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True
