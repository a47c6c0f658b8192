"""Transactional outbox: events written with the state change, published by one relay.

The writer (`add_event`, `add_events`) and the table (`OutboxRecord`) are loaded on first use:
a relay process imports `shared.outbox.relay` only, and must not pay for SQLAlchemy's ORM and
FastAPI that the writer's side brings (issue 14: a relay under 80 MB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The channel the outbox trigger notifies at commit; the relay listens on it.
NOTIFY_CHANNEL = "labourx_outbox"

if TYPE_CHECKING:
    from shared.outbox.models import OutboxRecord
    from shared.outbox.writer import add_event, add_events

__all__ = ["NOTIFY_CHANNEL", "OutboxRecord", "add_event", "add_events"]


def __getattr__(name: str) -> Any:
    if name in ("add_event", "add_events"):
        from shared.outbox import writer

        return getattr(writer, name)
    if name == "OutboxRecord":
        from shared.outbox.models import OutboxRecord

        return OutboxRecord
    raise AttributeError(f"module 'shared.outbox' has no attribute {name!r}")
