"""Transactional outbox: events written with the state change, published by one relay."""

from shared.outbox.models import OutboxRecord
from shared.outbox.writer import add_event, add_events

__all__ = ["OutboxRecord", "add_event", "add_events"]
