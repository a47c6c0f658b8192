"""Every event type labourx knows: importing this module fills the catalogue."""

from __future__ import annotations

from shared.events import matching, predeparture, registry  # noqa: F401  (registers their events)
from shared.events.base import CATALOGUE, EventSpec

__all__ = ["CATALOGUE", "EventSpec"]
