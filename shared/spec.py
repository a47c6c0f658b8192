"""What a service is made of: its routes, consumers and published topics, declared once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.consumer.runner import ConsumerRunner, Handler
from shared.events.topics import retry_topic
from shared.settings import Settings
from shared.work import Work


@dataclass(frozen=True)
class ConsumerSpec:
    """One consumer group: the topics it reads and a handler per event type."""

    group: str
    topics: list[str]
    handlers: Mapping[str, Handler]

    @property
    def subscribed(self) -> list[str]:
        """`topics` and the group's own retry topic, where its replayed dead letters arrive."""
        return [*self.topics, retry_topic(self.group)]

    def runner(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        handlers: Mapping[str, Handler] | None = None,
    ) -> ConsumerRunner:
        """The runner for this group; `handlers` replaces the declared ones (tests, probes)."""
        return ConsumerRunner(
            settings,
            group=self.group,
            topics=self.subscribed,
            handlers=self.handlers if handlers is None else handlers,
            sessions=sessions,
        )


@dataclass(frozen=True)
class PeriodicJob:
    """Work done on a schedule rather than on a request or an event (e.g. reminders).

    `run(work)` does one pass in the transaction `work.session` (see `shared.work.Work`) and
    returns how many items it handled. It must be safe to run in several processes at once
    (claim rows with `FOR UPDATE SKIP LOCKED` and mark them done in the same transaction).
    Each feature with scheduled work declares its jobs as `JOBS` in its `jobs.py`; the
    service's app.py lists them all in its spec.
    """

    name: str
    run: Callable[[Work], Awaitable[int]]
    # Seconds between passes; None means `jobs_interval_s`. Daily sweeps keep the slow default.
    interval_s: float | None = None
    # A PostgreSQL NOTIFY channel (a trigger on the job's queue table notifies it at commit)
    # that starts a pass at once: queues people wait on (messages, webhooks) are served within
    # moments of being written without polling every second, and `interval_s` is only the
    # fallback for a notification missed and for work that falls due later (retries).
    wake_on: str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package_dir: Path
    routers: list[APIRouter] = field(default_factory=list)
    consumers: list[ConsumerSpec] = field(default_factory=list)
    publishes: list[str] = field(default_factory=list)
    jobs: list[PeriodicJob] = field(default_factory=list)

    @property
    def migrations_dir(self) -> Path:
        return self.package_dir / "migrations"
