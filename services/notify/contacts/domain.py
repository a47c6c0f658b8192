"""Pure rules of contact: may this person be messaged on this channel today?

Opt-in: a channel is open only with a consent for it in force (`given` or `renewed`, not past
its expiry date), an address to send to, and no STOP from the number. No consent on record, a
consent only `requested`, refused, withdrawn, invalidated or expired: nothing is sent on it.
The consents answered at the counter travel with the registration (`PersonRegistered.consents`),
so the welcome is decided with the answer known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from datetime import date, datetime

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")

# Registry's consent purposes for each channel, and the statuses that open one (ISO/IEC TS
# 27560 names).
CONSENT_CHANNELS: dict[str, Channel] = {"contact_sms": "sms", "contact_email": "email"}
IN_FORCE = frozenset({"given", "renewed"})


@dataclass(frozen=True)
class ChannelStanding:
    """What the read model knows about one channel of one person."""

    address: str | None
    consent: str | None
    consent_expires_on: date | None
    opted_out_at: datetime | None = None


def consent_in_force(status: str | None, expires_on: date | None, today: date) -> bool:
    """Whether a consent decision lets messages go today."""
    return status in IN_FORCE and (expires_on is None or expires_on >= today)


def channel_open(standing: ChannelStanding, today: date) -> bool:
    """Whether a message may go out on this channel today."""
    if not standing.address or standing.opted_out_at is not None:
        return False
    return consent_in_force(standing.consent, standing.consent_expires_on, today)


def closes_channel(status: str, expires_on: date | None, today: date) -> bool:
    """Whether a consent decision just received stops messages on its channel at once."""
    return not consent_in_force(status, expires_on, today)
