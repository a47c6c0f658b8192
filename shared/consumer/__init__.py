"""The one consumer runner: inbox deduplication, retries, dead letters, stall restarts."""

from shared.consumer.models import InboxRecord
from shared.consumer.runner import (
    BatchHandler,
    ConsumerRunner,
    Handler,
    PoisonEvent,
    combine_handlers,
    expect,
)

__all__ = [
    "BatchHandler",
    "ConsumerRunner",
    "Handler",
    "InboxRecord",
    "PoisonEvent",
    "combine_handlers",
    "expect",
]
