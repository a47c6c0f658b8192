"""How predeparture follows registry's and matching's events (built out by issue 5)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.consumer.runner import Handler

HANDLERS: Mapping[str, Handler] = {}
