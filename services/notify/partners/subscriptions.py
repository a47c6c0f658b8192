"""A partner's subscriptions to streams: made, read, disabled and enabled, deleted, and their
webhook secrets rotated. Every lookup on behalf of a partner is by (partner, id): another
partner's subscription is "not found", never "forbidden", so ids reveal nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.notify.partners import addresses, feed, signatures, streams
from services.notify.partners.models import Delivery, Partner, Subscription
from services.notify.partners.schemas import (
    DisabledBy,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)
from services.notify.partners.scopes import SCOPE_RANK, Scope
from shared.db import clock_now
from shared.events.base import CATALOGUE
from shared.problems import Conflict, FieldError, InvalidFields, NotFound

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings


def subscription_read(subscription: Subscription, partner: Partner) -> SubscriptionRead:
    return SubscriptionRead(
        id=subscription.id,
        partner_id=subscription.partner_id,
        stream=subscription.stream,
        event_types=list(subscription.event_types),
        scope=Scope(subscription.scope),
        webhook_url=subscription.webhook_url,
        kafka=subscription.kafka,
        kafka_topic=(
            streams.partner_topic(partner.code, subscription.stream) if subscription.kafka else None
        ),
        include_history=subscription.include_history,
        catching_up=subscription.catching_up_after is not None,
        created_by=subscription.created_by,
        status=subscription.status,
        disabled_by=disabled_by_kind(subscription, partner),
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        last_success_at=subscription.last_success_at,
        created_at=subscription.created_at,
    )


def subscription_problems(
    settings: Settings, partner: Partner, data: SubscriptionCreate
) -> list[FieldError]:
    """Everything wrong with a subscription request, every field at once."""
    errors: list[FieldError] = []
    if SCOPE_RANK[data.scope] > SCOPE_RANK[Scope(partner.max_scope)]:
        errors.append(
            FieldError("scope", f"{partner.code} may subscribe up to {partner.max_scope}")
        )
    known = {t for t, spec in CATALOGUE.items() if spec.topic == data.stream}
    if unknown := sorted(set(data.event_types) - known):
        errors.append(FieldError("event_types", f"not event types of {data.stream}: {unknown}"))
    if data.webhook_url is not None and (
        problem := addresses.webhook_url_problem(
            data.webhook_url,
            https_only=settings.env == "production",
            private_allowed=addresses.private_addresses_allowed(settings),
        )
    ):
        errors.append(FieldError("webhook_url", problem))
    return errors


async def create_subscription(
    session: AsyncSession,
    settings: Settings,
    partner: Partner,
    data: SubscriptionCreate,
    *,
    by: str | None = None,
) -> SubscriptionCreated:
    """Subscribe the partner to a stream from now on (or from the beginning, when the history
    is asked for); the webhook secret is in the answer only."""
    if errors := subscription_problems(settings, partner, data):
        raise InvalidFields(errors)
    if (existing := await _live_subscription_to(session, partner.id, data.stream)) is not None:
        raise _already_subscribed(partner.code, data.stream, existing)
    code = partner.code  # read now: a failed savepoint below may expire the partner
    starts_after = await feed.start_position(session, data.include_history)
    catches_up = data.include_history and (data.kafka or data.webhook_url is not None)
    subscription = Subscription(
        partner_id=partner.id,
        stream=data.stream,
        event_types=sorted(set(data.event_types)),
        scope=data.scope.value,
        webhook_url=data.webhook_url,
        kafka=data.kafka,
        secret_version=1,
        status="active",
        starts_after=starts_after,
        include_history=data.include_history,
        catching_up_after=0 if catches_up else None,
        created_by=by,
        created_at=await clock_now(session),
    )
    try:
        # Added inside the savepoint: `begin_nested` flushes what is pending before it starts,
        # and a conflict met there would abort the whole transaction instead of the savepoint.
        async with session.begin_nested():
            session.add(subscription)
            await session.flush()
    except IntegrityError as exc:
        # Another request subscribed the partner to this stream since the check above.
        existing = await _live_subscription_to(session, partner.id, data.stream)
        raise _already_subscribed(code, data.stream, existing) from exc
    return SubscriptionCreated(
        **subscription_read(subscription, partner).model_dump(),
        webhook_secret=signatures.current_secret(settings, subscription)
        if data.webhook_url
        else None,
    )


async def _live_subscription_to(
    session: AsyncSession, partner_id: uuid.UUID, stream: str
) -> uuid.UUID | None:
    """The partner's subscription to `stream` that is not deleted (one at most)."""
    return await session.scalar(
        select(Subscription.id).where(
            Subscription.partner_id == partner_id,
            Subscription.stream == stream,
            Subscription.status != "deleted",
        )
    )


def _already_subscribed(code: str, stream: str, existing: uuid.UUID | None) -> Conflict:
    return Conflict(
        f"{code} already subscribes to {stream}"
        + (f" (subscription {existing}): change it by deleting it first" if existing else ""),
        existing_subscription_id=str(existing) if existing else None,
    )


async def list_subscriptions(session: AsyncSession, partner_id: uuid.UUID) -> list[Subscription]:
    found = await session.scalars(
        select(Subscription)
        .where(Subscription.partner_id == partner_id, Subscription.status != "deleted")
        .order_by(Subscription.created_at, Subscription.id)
    )
    return list(found.all())


async def get_subscription(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID
) -> Subscription:
    subscription = await session.get(Subscription, subscription_id)
    if (
        subscription is None
        or subscription.partner_id != partner_id
        or subscription.status == "deleted"
    ):
        raise NotFound(f"no subscription {subscription_id}")
    return subscription


def partner_actor(partner: Partner) -> str:
    """How a partner's own actions are recorded (`created_by`, `disabled_by`, ...)."""
    return f"partner:{partner.code}"


def disabled_by_kind(subscription: Subscription, partner: Partner) -> DisabledBy | None:
    """Who disabled the subscription, as the partner may be told it (never a staff name)."""
    if subscription.status != "disabled":
        return None
    if subscription.disabled_by is None:
        return "webhook_failures"
    return "partner" if subscription.disabled_by == partner_actor(partner) else "admin"


async def delete_subscription(
    session: AsyncSession, partner_id: uuid.UUID, subscription_id: uuid.UUID, *, by: str
) -> None:
    """End a subscription (the partner's own, or any partner's by an admin); its waiting
    deliveries are cancelled and nothing more is sent or read through it."""
    subscription = await get_subscription(session, partner_id, subscription_id)
    subscription.status = "deleted"
    subscription.deleted_by = by
    subscription.deleted_at = await clock_now(session)
    await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription.id, Delivery.status == "pending")
        .values(status="cancelled", last_error="the subscription was deleted")
    )


async def disable_subscription(
    session: AsyncSession,
    partner: Partner,
    subscription_id: uuid.UUID,
    *,
    by: str,
    reason: str,
) -> Subscription:
    """Stop a subscription's webhook and Kafka topic (its feed stays readable) until it is
    enabled again. By an admin (`by` not the partner's own): a hold only an admin lifts, also
    over a subscription disabled already, whose reason it replaces."""
    subscription = await get_subscription(session, partner.id, subscription_id)
    by_admin = by != partner_actor(partner)
    if subscription.status == "active" or by_admin:
        subscription.status = "disabled"
        subscription.disabled_at = await clock_now(session)
        subscription.disabled_reason = reason
        subscription.disabled_by = by
    await session.flush()
    return subscription


async def rotate_secret(
    session: AsyncSession, settings: Settings, partner_id: uuid.UUID, subscription_id: uuid.UUID
) -> SecretRotated:
    subscription = await get_subscription(session, partner_id, subscription_id)
    if not subscription.webhook_url:
        raise Conflict("this subscription has no webhook")
    now = await clock_now(session)
    subscription.secret_version += 1
    subscription.secret_rotated_at = now
    return SecretRotated(
        webhook_secret=signatures.current_secret(settings, subscription),
        previous_secret_valid_until=now
        + timedelta(seconds=settings.partner_webhook_secret_grace_s),
    )


async def enable_subscription(
    session: AsyncSession, partner: Partner, subscription_id: uuid.UUID, *, by: str
) -> Subscription:
    """Re-enable a disabled subscription; its waiting deliveries are due at once. A partner
    cannot lift an admin's hold."""
    subscription = await get_subscription(session, partner.id, subscription_id)
    if subscription.status == "disabled":
        if by == partner_actor(partner) and disabled_by_kind(subscription, partner) == "admin":
            raise Conflict(
                "an administrator disabled this subscription"
                f" ({subscription.disabled_reason}); only an administrator enables it again"
            )
        subscription.status = "active"
        subscription.disabled_at = None
        subscription.disabled_reason = None
        subscription.disabled_by = None
        await session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == subscription.id, Delivery.status == "pending")
            .values(next_attempt_at=func.now(), round_attempts=0, round_started_at=func.now())
        )
    await session.flush()
    return subscription
