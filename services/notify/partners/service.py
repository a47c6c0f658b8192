"""Partners and their keys (admins), subscriptions, deliveries and feeds (each partner its own).

Every lookup on behalf of a partner is by (partner, id): another partner's subscription or
delivery is "not found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.partners import domain, feed
from services.notify.partners.domain import SCOPE_RANK, EntryKind, Scope
from services.notify.partners.models import (
    Delivery,
    FeedEntry,
    Partner,
    PartnerKey,
    Subscription,
)
from services.notify.partners.schemas import (
    DeliveryPage,
    DeliveryRead,
    DisabledBy,
    FeedPage,
    KeyCreated,
    KeyRead,
    PartnerCreate,
    PartnerRead,
    PartnerUpdate,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)
from shared import clock
from shared.db import clock_now
from shared.events.base import CATALOGUE
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import (
    Conflict,
    FieldError,
    InvalidField,
    InvalidFields,
    NotFound,
    Unauthorized,
)
from shared.secrets import key_bytes
from shared.settings import Settings

# --- partners and keys ----------------------------------------------------------------------


def partner_read(partner: Partner) -> PartnerRead:
    return PartnerRead(
        id=partner.id,
        code=partner.code,
        name=partner.name,
        category=partner.category,
        max_scope=Scope(partner.max_scope),
        active=partner.active,
        created_at=partner.created_at,
    )


def key_read(key: PartnerKey) -> KeyRead:
    return KeyRead(
        id=key.id, prefix=key.prefix, created_at=key.created_at, revoked_at=key.revoked_at
    )


async def create_partner(
    session: AsyncSession, data: PartnerCreate, created_by: str
) -> tuple[Partner, KeyCreated]:
    """A partner and its first API key (the key is in the answer only)."""
    if await session.scalar(select(Partner.id).where(Partner.code == data.code)) is not None:
        raise Conflict(f"a partner with code {data.code} exists")
    partner = Partner(
        code=data.code,
        name=data.name,
        category=data.category,
        max_scope=data.max_scope.value,
        active=True,
        created_by=created_by,
        created_at=await clock_now(session),
    )
    session.add(partner)
    await session.flush()
    return partner, await issue_key(session, partner, created_by)


async def list_partners(session: AsyncSession) -> list[Partner]:
    return list((await session.scalars(select(Partner).order_by(Partner.code))).all())


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


async def update_partner(
    session: AsyncSession, partner_id: uuid.UUID, data: PartnerUpdate
) -> Partner:
    partner = await get_partner(session, partner_id)
    if data.name is not None:
        partner.name = data.name
    if data.category is not None:
        partner.category = data.category
    if data.active is not None:
        partner.active = data.active
    if data.max_scope is not None:
        partner.max_scope = data.max_scope.value
        # Subscriptions wider than the new limit are narrowed to it.
        wider = [s for s in Scope if SCOPE_RANK[s] > SCOPE_RANK[data.max_scope]]
        await session.execute(
            update(Subscription)
            .where(Subscription.partner_id == partner.id, Subscription.scope.in_(wider))
            .values(scope=data.max_scope.value)
        )
    await session.flush()
    return partner


async def issue_key(session: AsyncSession, partner: Partner, created_by: str) -> KeyCreated:
    new = domain.new_api_key()
    key = PartnerKey(
        partner_id=partner.id,
        prefix=new.prefix,
        digest=new.digest,
        created_by=created_by,
        created_at=await clock_now(session),
    )
    session.add(key)
    await session.flush()
    return KeyCreated(**key_read(key).model_dump(), api_key=new.key)


async def rotate_keys(session: AsyncSession, partner: Partner, created_by: str) -> KeyCreated:
    """A new key; every other key of the partner stops working now."""
    await session.execute(
        update(PartnerKey)
        .where(PartnerKey.partner_id == partner.id, PartnerKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return await issue_key(session, partner, created_by)


async def list_keys(session: AsyncSession, partner_id: uuid.UUID) -> list[PartnerKey]:
    await get_partner(session, partner_id)
    found = await session.scalars(
        select(PartnerKey)
        .where(PartnerKey.partner_id == partner_id)
        .order_by(PartnerKey.created_at)
    )
    return list(found.all())


async def revoke_key(session: AsyncSession, partner_id: uuid.UUID, key_id: uuid.UUID) -> PartnerKey:
    key = await session.get(PartnerKey, key_id)
    if key is None or key.partner_id != partner_id:
        raise NotFound(f"no key {key_id} of partner {partner_id}")
    if key.revoked_at is None:
        key.revoked_at = await clock_now(session)
    return key


async def authenticate(session: AsyncSession, api_key: str) -> Partner:
    """The active partner a live key belongs to; 401 for anything else."""
    partner = await session.scalar(
        select(Partner)
        .join(PartnerKey, PartnerKey.partner_id == Partner.id)
        .where(
            PartnerKey.digest == domain.key_digest(api_key),
            PartnerKey.revoked_at.is_(None),
            Partner.active.is_(True),
        )
    )
    if partner is None:
        raise Unauthorized("unknown, revoked or inactive partner API key")
    return partner


# --- subscriptions --------------------------------------------------------------------------


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
            domain.partner_topic(partner.code, subscription.stream) if subscription.kafka else None
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


def current_secret(settings: Settings, subscription: Subscription) -> str:
    """The subscription's secret, derived from LABOURX_PARTNER_WEBHOOK_KEY (a key of its own)."""
    return domain.webhook_secret(
        settings.purpose_key("partner_webhook_key"), subscription.id, subscription.secret_version
    )


def signing_secrets(settings: Settings, subscription: Subscription, now: datetime) -> list[str]:
    """The secrets a webhook is signed with now: the current one, the previous one during the
    grace period after a rotation, and while LABOURX_PARTNER_WEBHOOK_PREVIOUS_KEY is set the
    same ones by that key, so a change of key does not break partners' checks before they
    rotate (docs/operations.md, "Changing keys")."""
    keys = [settings.purpose_key("partner_webhook_key")]
    if settings.partner_webhook_previous_key is not None:
        keys.append(key_bytes(settings.partner_webhook_previous_key.get_secret_value()))
    versions = [subscription.secret_version]
    rotated = subscription.secret_rotated_at
    grace = timedelta(seconds=settings.partner_webhook_secret_grace_s)
    if rotated is not None and subscription.secret_version > 1 and now < rotated + grace:
        versions.append(subscription.secret_version - 1)
    return [domain.webhook_secret(key, subscription.id, v) for v in versions for key in keys]


def private_addresses_allowed(settings: Settings) -> bool:
    """Whether webhooks may go into private networks: as set, else outside production only."""
    allowed = settings.partner_webhook_allow_private_addresses
    return settings.env != "production" if allowed is None else allowed


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
        problem := domain.webhook_url_problem(
            data.webhook_url,
            https_only=settings.env == "production",
            private_allowed=private_addresses_allowed(settings),
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
        webhook_secret=current_secret(settings, subscription) if data.webhook_url else None,
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
        webhook_secret=current_secret(settings, subscription),
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


# --- deliveries -----------------------------------------------------------------------------


async def _delivery_reads(
    session: AsyncSession, settings: Settings, rows: list[tuple[Delivery, FeedEntry]]
) -> list[DeliveryRead]:
    if not rows:
        return []
    key = domain.partner_key(feed.master_key(settings), rows[0][0].partner_id)
    return [
        DeliveryRead(
            id=d.id,
            subscription_id=d.subscription_id,
            item_id=domain.item_id(key, e.id),
            event_type=e.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status in ("pending", "in_flight") else None,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            succeeded_at=d.succeeded_at,
            created_at=d.created_at,
        )
        for d, e in rows
    ]


async def list_deliveries(
    session: AsyncSession,
    settings: Settings,
    partner_id: uuid.UUID,
    *,
    subscription_id: uuid.UUID | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """The partner's deliveries, newest first."""
    query = (
        select(Delivery, FeedEntry)
        .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
        .where(Delivery.partner_id == partner_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit + 1)
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if cursor:
        at, last = decode_cursor(cursor)
        query = query.where((Delivery.created_at, Delivery.id) < (at, last))  # type: ignore[operator]
    rows = [(d, e) for d, e in (await session.execute(query)).all()]
    page = rows[:limit]
    following = encode_cursor(page[-1][0].created_at, page[-1][0].id) if len(rows) > limit else None
    return DeliveryPage(items=await _delivery_reads(session, settings, page), next_cursor=following)


async def get_delivery(
    session: AsyncSession, settings: Settings, partner_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    row = (
        await session.execute(
            select(Delivery, FeedEntry)
            .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
            .where(Delivery.id == delivery_id, Delivery.partner_id == partner_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return (await _delivery_reads(session, settings, [(row[0], row[1])]))[0]


async def redeliver(
    session: AsyncSession, settings: Settings, partner_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    """Send a finished delivery again, with the same `webhook-id`, on a fresh retry schedule."""
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.partner_id != partner_id:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status in ("pending", "in_flight"):
        raise Conflict(f"delivery {delivery_id} is {delivery.status} already")
    if delivery.status == "cancelled":
        raise Conflict(f"delivery {delivery_id} was cancelled ({delivery.last_error})")
    subscription = await session.get(Subscription, delivery.subscription_id)
    if subscription is None or subscription.status != "active" or not subscription.webhook_url:
        raise Conflict("the subscription is not active: enable it first")
    now = await clock_now(session)
    delivery.status = "pending"
    delivery.round_attempts = 0
    delivery.round_started_at = now
    delivery.next_attempt_at = now
    await session.flush()
    return await get_delivery(session, settings, partner_id, delivery_id)


# --- the pull feed --------------------------------------------------------------------------


async def read_feed(
    session: AsyncSession,
    settings: Settings,
    partner: Partner,
    stream: str,
    *,
    after: str | None,
    limit: int,
) -> FeedPage:
    """Entries of a subscribed stream after a cursor (and after the subscription's start),
    each as the partner's scope and the person's consent allow."""
    subscription = await session.scalar(
        select(Subscription).where(
            Subscription.partner_id == partner.id,
            Subscription.stream == stream,
            Subscription.status != "deleted",
        )
    )
    if subscription is None:
        raise NotFound(f"no subscription to {stream}")
    ref = feed.PartnerRef.of(partner, feed.master_key(settings))
    position = subscription.starts_after
    if after:
        decoded = domain.decode_cursor(ref.key, after)
        if decoded is None:
            raise InvalidField("after", "is not a cursor this feed returned")
        # Never before the subscription's start (a cursor of an earlier subscription).
        position = max(position, decoded)
    scope = Scope(subscription.scope)
    query = (
        select(FeedEntry)
        .where(
            FeedEntry.stream == stream,
            FeedEntry.id > position,
            (FeedEntry.target_partner_id.is_(None)) | (FeedEntry.target_partner_id == partner.id),
        )
        .order_by(FeedEntry.id)
        .limit(limit + 1)
    )
    if scope is Scope.AGGREGATE:
        query = query.where(FeedEntry.kind == EntryKind.EVENT)
    if subscription.event_types:
        query = query.where(
            (FeedEntry.kind == EntryKind.REMOVAL)
            | FeedEntry.event_type.in_(subscription.event_types)
        )
    entries = list((await session.scalars(query)).all())
    page = entries[:limit]
    decisions = (
        await feed.decisions_of(session, [e.person_id for e in page if e.person_id])
        if scope is not Scope.AGGREGATE
        else {}
    )
    today = clock.today()
    items = [
        document
        for entry in page
        if (document := feed.present(entry, ref, scope, decisions, today)) is not None
    ]
    last = page[-1].id if page else position
    return FeedPage(
        stream=stream,
        scope=scope,
        items=items,
        next_cursor=domain.encode_cursor(ref.key, last) if last else after,
        has_more=len(entries) > limit,
    )
