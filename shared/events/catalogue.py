"""Every event type labourx knows: importing this module fills the catalogue."""

from __future__ import annotations

from shared.events import (  # noqa: F401  (registers their events)
    matching,
    notify,
    predeparture,
    registry,
)
from shared.events.base import CATALOGUE, EventSpec

__all__ = ["CATALOGUE", "EventSpec"]
