"""What partner feeds do when events arrive."""

from __future__ import annotations

from shared.consumer import Handler

HANDLERS: dict[str, Handler] = {}
