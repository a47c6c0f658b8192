"""Pure rules of delivery: when a message may go, how long to wait after a failure, what an
inbound SMS asks for, and which gateway receipts change a message."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Sequence

VIENTIANE = ZoneInfo("Asia/Vientiane")
RATE_WINDOW = timedelta(hours=1)
# The error code of a message whose provider may or may not have taken it.
UNKNOWN_OUTCOME = "unknown_outcome"


@dataclass(frozen=True)
class DeliveryError(Exception):
    """A provider did not take a message. `code` is short and stable (it goes into events);
    `permanent` means trying again cannot help (an invalid number, a refused address);
    `unknown_outcome` means the request may have reached the provider (it timed out after it
    was sent), so sending again is safe only to a provider that deduplicates."""

    code: str
    detail: str
    permanent: bool = False
    unknown_outcome: bool = False

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


def quiet_hours_end(now: datetime, start: time, end: time) -> datetime | None:
    """The end of the quiet hours `now` falls in (Vientiane time), or None outside them.

    `start` > `end` spans midnight (21:00-07:00); `start` == `end` means no quiet hours.
    """
    if start == end:
        return None
    local = now.astimezone(VIENTIANE)
    at = local.time().replace(tzinfo=None)
    if start < end:
        quiet, day = start <= at < end, local.date()
    else:
        quiet = at >= start or at < end
        day = local.date() + timedelta(days=1) if at >= start else local.date()
    return datetime.combine(day, end, VIENTIANE) if quiet else None


def next_rate_slot(
    recent: Sequence[datetime], limit: int, now: datetime, window: timedelta = RATE_WINDOW
) -> datetime | None:
    """When one more SMS may go to a number that was sent `recent` messages, or None if now.

    At most `limit` in any `window`: with `limit` or more inside it, the next slot opens when
    enough of them have left it.
    """
    inside = sorted(t for t in recent if t > now - window)
    if len(inside) < limit:
        return None
    return inside[len(inside) - limit] + window


def backoff_s(attempt: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Seconds before trying again after the `attempt`th failure: exponential, capped, with
    "equal jitter" (`jitter` in [0, 1)) so that messages failed together do not return together
    and the wait never falls below half the exponential step."""
    step = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return step / 2 + step / 2 * jitter


def http_error(status: int, detail: str) -> DeliveryError:
    """A gateway's non-2xx answer: 5xx, 429 (slow down) and 408 are worth trying again; any
    other 4xx (an invalid number, a bad sender id) will be refused again."""
    transient = status >= 500 or status in (408, 429)
    return DeliveryError(f"http_{status}", detail[:500], permanent=not transient)


def smtp_error(code: int, detail: str) -> DeliveryError:
    """A mail server's refusal: 4yz is temporary (RFC 5321 4.2.1), 5yz permanent."""
    return DeliveryError(f"smtp_{code}", detail[:500], permanent=500 <= code < 600)


# Replies that stop SMS: the usual English keywords (as carriers honour them) and Lao "stop".
STOP_WORDS = frozenset({"STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
STOP_WORDS_LO = frozenset({"ຢຸດ"})
START_WORDS = frozenset({"START", "UNSTOP", "ເລີ່ມ"})

Keyword = Literal["stop", "start"]


def inbound_keyword(text: str) -> Keyword | None:
    """What an inbound SMS asks for: "stop", "start" or nothing we act on.

    The whole message must be the keyword (spacing, case and trailing punctuation aside):
    "please stop sending the wrong name" is a message for staff, not an opt-out.
    """
    normal = unicodedata.normalize("NFC", text).strip().upper()
    normal = re.sub(r"[\s.!,;:]+$", "", normal)
    normal = re.sub(r"\s+", " ", normal)
    if normal in STOP_WORDS or normal in STOP_WORDS_LO:
        return "stop"
    if normal in START_WORDS:
        return "start"
    return None


ReceiptStatus = Literal["delivered", "failed", "expired", "undelivered", "rejected"]


def receipt_outcome(
    current: str, last_error: str | None, receipt: ReceiptStatus
) -> Literal["delivered", "failed"] | None:
    """The status a gateway receipt moves a message to, or None when it changes nothing.

    Receipts apply to a message the gateway accepted (`sent`), and to one failed because its
    outcome was unknown (the receipt tells us what happened after all). A delivered message
    stays delivered; a repeated receipt changes nothing.
    """
    target: Literal["delivered", "failed"] = "delivered" if receipt == "delivered" else "failed"
    if current == "sent":
        return target
    if current == "failed" and (last_error or "").startswith(UNKNOWN_OUTCOME):
        return target
    return None
