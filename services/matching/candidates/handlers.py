"""How matching's candidate read model follows registry and predeparture events (being built)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.consumer.runner import Handler

HANDLERS: Mapping[str, Handler] = {}
