"""Pure rules of contact: may this person be messaged on this channel today?

Messages about a person's own case (registration, referrals, orientation, certificates,
placement, the return reminder) are service messages: sent to the number or address they gave
unless they refused or withdrew consent for that channel, their consent expired, or they
replied STOP. A consent only `requested` does not block them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")

# Registry's consent statuses that close a channel (ISO/IEC TS 27560 names).
CLOSING = frozenset({"refused", "withdrawn", "invalidated"})
IN_FORCE = frozenset({"given", "renewed"})


@dataclass(frozen=True)
class ChannelStanding:
    """What the read model knows about one channel of one person."""

    address: str | None
    consent: str | None
    consent_expires_on: date | None
    opted_out_at: datetime | None = None


def channel_open(standing: ChannelStanding, today: date) -> bool:
    """Whether a message may go out on this channel today."""
    if not standing.address or standing.opted_out_at is not None:
        return False
    if standing.consent in CLOSING:
        return False
    expired = standing.consent_expires_on is not None and standing.consent_expires_on < today
    return not (standing.consent in IN_FORCE and expired)


def closes_channel(status: str, expires_on: date | None, today: date) -> bool:
    """Whether a consent decision just received stops messages on its channel at once."""
    return not channel_open(ChannelStanding("-", status, expires_on), today)
