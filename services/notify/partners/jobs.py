"""Scheduled work of partner feeds: webhook deliveries, the partners' Kafka topics, the history
subscriptions asked for, and the removals owed for partner-sharing consents that lapsed."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.notify.partners import feed, sharing_changes, streams
from services.notify.partners.models import Partner, Subscription
from services.notify.partners.webhook_sender import deliver_webhooks
from shared.kafka import ensure_topics
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings
    from shared.work import Work


@asynccontextmanager
async def ensured_topics(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[set[str]]:
    """The partner topics the jobs runner has made sure of: a partner's topics are created once
    while the jobs run, not every pass."""
    yield set()


async def ensure_partner_topics(work: Work) -> int:
    """Create the `partner.<code>.<stream>` topics of Kafka subscriptions that lack them.

    Topics are per partner, so they cannot be listed in the service's `publishes` for the relay
    and provisioning to create; this pass does it within seconds of a subscription. Records the
    relay meets before that wait in the outbox (the relay retries) unless the broker creates
    topics on first use.
    """
    rows = await work.session.execute(
        select(Partner.code, Subscription.stream)
        .join(Subscription, Subscription.partner_id == Partner.id)
        .where(Subscription.kafka.is_(True), Subscription.status != "deleted")
    )
    ensured = await work.resource(ensured_topics)
    wanted = {streams.partner_topic(code, stream) for code, stream in rows.all()} - ensured
    if wanted:
        await ensure_topics(work.settings, sorted(wanted))
        ensured.update(wanted)
    return len(wanted)


# Consents one sweep pass handles (a larger backlog, e.g. after an outage, takes more passes).
LAPSE_SWEEP_BATCH = 500


async def sweep_lapsed_consents(work: Work) -> int:
    """Send the removals a withdrawal would for partner-sharing consents past their expiry date.

    Consents lapse once a day (at midnight, Lao time); the pass runs every `jobs_interval_s`
    so that removals follow within minutes, and finds nothing to do in between.
    """
    return await sharing_changes.sweep_lapsed_consents(
        work.session, work.settings, work.today, LAPSE_SWEEP_BATCH
    )


# Past entries one catch-up pass writes per subscription (it holds the feed's lock meanwhile).
HISTORY_BATCH = 500


async def send_history(work: Work) -> int:
    """Write the history subscriptions asked for to their webhooks and Kafka topics, a batch
    per pass, until each has caught up with the feed (see `feed.catch_up`)."""
    return await feed.catch_up(work.session, work.settings, work.today, HISTORY_BATCH)


JOBS: list[PeriodicJob] = [
    # Each starts a pass as soon as its table notifies (migration 0007): a delivery queued, a
    # subscription made or changed. The intervals catch retries falling due and a missed note.
    PeriodicJob(
        "partner-webhooks", deliver_webhooks, interval_s=5.0, wake_on="labourx_notify_webhooks"
    ),
    PeriodicJob(
        "partner-history", send_history, interval_s=10.0, wake_on="labourx_notify_partners"
    ),
    PeriodicJob(
        "partner-topics", ensure_partner_topics, interval_s=10.0, wake_on="labourx_notify_partners"
    ),
    PeriodicJob("partner-consent-lapses", sweep_lapsed_consents),
]
