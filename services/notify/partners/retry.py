"""When a failed webhook is tried again, and how an attempt's outcome is kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def retry_delay(schedule: Sequence[float], failed_attempts: int) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures; None: give up."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    return schedule[failed_attempts - 1]


# Characters PostgreSQL text refuses (NUL) or a log reader should not be handed raw.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def attempt_error(text: str) -> str:
    """An attempt's error as it is kept: what a partner's server answered (or what failed) is
    any text at all, and a NUL in it would make the whole pass fail to record its outcomes."""
    return _UNPRINTABLE.sub("\ufffd", text)[:500]


def succeeded(status_code: int) -> bool:
    """Standard Webhooks: any 2xx is a success; everything else (and no answer) is retried."""
    return 200 <= status_code < 300
