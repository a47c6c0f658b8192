"""Shared event contracts: payload models, the catalogue, the CloudEvents envelope."""

from shared.events.base import CATALOGUE, Event, EventSpec, catalogued, parse_data
from shared.events.catalogue import CATALOGUE as _FILLED  # noqa: F401  (fills the catalogue)
from shared.events.envelope import CONTENT_TYPE, CloudEvent, envelope_for

__all__ = [
    "CATALOGUE",
    "CONTENT_TYPE",
    "CloudEvent",
    "Event",
    "EventSpec",
    "catalogued",
    "envelope_for",
    "parse_data",
]
