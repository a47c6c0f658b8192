"""HTTP routes for partner organisations: keys, subscriptions, deliveries and feeds.

Two kinds of caller:
- admins (bearer JWT with the `admin` role) manage partners, their keys and, on a partner's
  behalf or over it, its subscriptions and deliveries: `/v1/partners/{partner_id}/...` (an
  admin may disable or delete any partner's subscription; a partner cannot lift that hold);
- partners authenticate with their API key in the `X-API-Key` header (not `Authorization`,
  which carries staff JWTs everywhere else, so the two can never be confused) and reach only
  their own objects: `/v1/partners/me/...` (the keys of their sealed Kafka records among them:
  `/v1/partners/me/person-keys`) and `/v1/feeds/{stream}`. Another partner's object is
  a 404, like one that does not exist.
"""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.notify.partners import (
    deliveries,
    partner_accounts,
    person_keys,
    pull_feed,
    subscriptions,
)
from services.notify.partners.deps import CurrentPartner
from services.notify.partners.schemas import (
    DeliveryPage,
    DeliveryRead,
    DeliveryState,
    FeedPage,
    KeyCreated,
    KeyRead,
    PartnerCreate,
    PartnerCreated,
    PartnerRead,
    PartnerUpdate,
    PersonKeys,
    PersonKeysAsked,
    SecretRotated,
    Stream,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionDisable,
    SubscriptionRead,
)
from shared.app import SettingsDep
from shared.auth import Admin
from shared.db import SessionDep

router = APIRouter(prefix="/v1", tags=["partners"])

Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=200)]

# --- a partner's own (X-API-Key) ----------------------------------------------------------------


@router.get("/partners/me", response_model=PartnerRead)
async def me(partner: CurrentPartner) -> PartnerRead:
    """The partner the key belongs to."""
    return partner_accounts.partner_read(partner)


@router.post("/partners/me/keys/rotate", status_code=201, response_model=KeyCreated)
async def rotate_own_key(session: SessionDep, partner: CurrentPartner) -> KeyCreated:
    """A new API key (shown once); every other key of the partner, this one too, stops working."""
    return await partner_accounts.rotate_keys(session, partner, f"partner:{partner.code}")


@router.get("/partners/me/subscriptions", response_model=list[SubscriptionRead])
async def own_subscriptions(session: SessionDep, partner: CurrentPartner) -> list[SubscriptionRead]:
    return [
        subscriptions.subscription_read(s, partner)
        for s in await subscriptions.list_subscriptions(session, partner.id)
    ]


@router.post("/partners/me/subscriptions", status_code=201, response_model=SubscriptionCreated)
async def subscribe(
    body: SubscriptionCreate, session: SessionDep, settings: SettingsDep, partner: CurrentPartner
) -> SubscriptionCreated:
    """Subscribe to a stream, up to the scope an admin allowed; the webhook secret (if any) is
    shown once. The subscription starts now on every way out (feed, webhook, Kafka topic) unless
    `include_history` asks for the stream from its beginning. Events about a person carry
    person-level data (pseudonymised or personal, as the scope says) only when the person's
    partner-sharing consent covers this partner or its category; otherwise their aggregate
    view."""
    return await subscriptions.create_subscription(
        session, settings, partner, body, by=subscriptions.partner_actor(partner)
    )


@router.get("/partners/me/subscriptions/{subscription_id}", response_model=SubscriptionRead)
async def own_subscription(
    subscription_id: uuid.UUID, session: SessionDep, partner: CurrentPartner
) -> SubscriptionRead:
    subscription = await subscriptions.get_subscription(session, partner.id, subscription_id)
    return subscriptions.subscription_read(subscription, partner)


@router.delete("/partners/me/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(
    subscription_id: uuid.UUID, session: SessionDep, partner: CurrentPartner
) -> Response:
    """End a subscription; its waiting deliveries are cancelled."""
    await subscriptions.delete_subscription(
        session, partner.id, subscription_id, by=subscriptions.partner_actor(partner)
    )
    return Response(status_code=204)


@router.post(
    "/partners/me/subscriptions/{subscription_id}/secret/rotate", response_model=SecretRotated
)
async def rotate_own_secret(
    subscription_id: uuid.UUID, session: SessionDep, settings: SettingsDep, partner: CurrentPartner
) -> SecretRotated:
    """A new webhook secret (shown once); the old one keeps signing during the grace period."""
    return await subscriptions.rotate_secret(session, settings, partner.id, subscription_id)


@router.post(
    "/partners/me/subscriptions/{subscription_id}/disable", response_model=SubscriptionRead
)
async def disable_own_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionDisable,
    session: SessionDep,
    partner: CurrentPartner,
) -> SubscriptionRead:
    """Pause the webhook and Kafka topic (e.g. while the receiver is down for maintenance);
    the feed stays readable. Enable it to resume."""
    subscription = await subscriptions.disable_subscription(
        session,
        partner,
        subscription_id,
        by=subscriptions.partner_actor(partner),
        reason=body.reason,
    )
    return subscriptions.subscription_read(subscription, partner)


@router.post("/partners/me/subscriptions/{subscription_id}/enable", response_model=SubscriptionRead)
async def enable_own_subscription(
    subscription_id: uuid.UUID, session: SessionDep, partner: CurrentPartner
) -> SubscriptionRead:
    """Re-enable a subscription disabled after persistent webhook failures or by the partner
    (409 when an admin disabled it: only an admin enables it again)."""
    subscription = await subscriptions.enable_subscription(
        session, partner, subscription_id, by=subscriptions.partner_actor(partner)
    )
    return subscriptions.subscription_read(subscription, partner)


@router.get("/partners/me/deliveries", response_model=DeliveryPage)
async def own_deliveries(
    session: SessionDep,
    settings: SettingsDep,
    partner: CurrentPartner,
    subscription_id: uuid.UUID | None = None,
    status: DeliveryState | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    """Webhook deliveries, newest first."""
    return await deliveries.list_deliveries(
        session,
        settings,
        partner.id,
        subscription_id=subscription_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.get("/partners/me/deliveries/{delivery_id}", response_model=DeliveryRead)
async def own_delivery(
    delivery_id: uuid.UUID, session: SessionDep, settings: SettingsDep, partner: CurrentPartner
) -> DeliveryRead:
    return await deliveries.get_delivery(session, settings, partner.id, delivery_id)


@router.post("/partners/me/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead)
async def redeliver_own(
    delivery_id: uuid.UUID, session: SessionDep, settings: SettingsDep, partner: CurrentPartner
) -> DeliveryRead:
    """Send a delivered or failed webhook again (same `webhook-id`, fresh retry schedule)."""
    return await deliveries.redeliver(session, settings, partner.id, delivery_id)


@router.post("/partners/me/person-keys", response_model=PersonKeys)
async def own_person_keys(
    body: PersonKeysAsked, session: SessionDep, partner: CurrentPartner
) -> PersonKeys:
    """The partner's keys of these people, to open `data.sealed` of their records on its Kafka
    topics (`partnersealing`, `sealedfor`): only of people whose records it may read in
    `personal` scope (a `personal` Kafka subscription, the person's consent covering it) and
    who were not erased; anyone else is absent. Ask again rather than keep them: a withdrawn
    consent or an erasure ends the answer."""
    found = await person_keys.partner_keys(session, partner, body.person_ids)
    return PersonKeys(keys={p: base64.urlsafe_b64encode(k).decode() for p, k in found.items()})


@router.get("/feeds/{stream}", response_model=FeedPage)
async def read_feed(
    stream: Annotated[Stream, Path()],
    session: SessionDep,
    settings: SettingsDep,
    partner: CurrentPartner,
    after: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the last page")
    ] = None,
    limit: Limit = 100,
) -> FeedPage:
    """A subscribed stream in a stable order, events and removals, from the subscription's
    start (its creation, or the stream's beginning when it asked for the history): the entries
    its webhook and Kafka topic carry. Events about a person who did not consent to sharing with
    this partner read in their aggregate view."""
    return await pull_feed.read_feed(session, settings, partner, stream, after=after, limit=limit)


# --- admins -----------------------------------------------------------------------------------


@router.post("/partners", status_code=201, response_model=PartnerCreated)
async def create_partner(body: PartnerCreate, session: SessionDep, admin: Admin) -> PartnerCreated:
    """Register a partner organisation; its first API key is shown once."""
    partner, key = await partner_accounts.create_partner(session, body, admin.subject)
    return PartnerCreated(partner=partner_accounts.partner_read(partner), key=key)


@router.get("/partners", response_model=list[PartnerRead])
async def list_partners(session: SessionDep, _: Admin) -> list[PartnerRead]:
    return [partner_accounts.partner_read(p) for p in await partner_accounts.list_partners(session)]


@router.get("/partners/{partner_id}", response_model=PartnerRead)
async def get_partner(partner_id: uuid.UUID, session: SessionDep, _: Admin) -> PartnerRead:
    return partner_accounts.partner_read(await partner_accounts.get_partner(session, partner_id))


@router.patch("/partners/{partner_id}", response_model=PartnerRead)
async def update_partner(
    partner_id: uuid.UUID, body: PartnerUpdate, session: SessionDep, _: Admin
) -> PartnerRead:
    """Rename, recategorise, (de)activate, or change the widest scope (narrowing subscriptions)."""
    return partner_accounts.partner_read(
        await partner_accounts.update_partner(session, partner_id, body)
    )


@router.get("/partners/{partner_id}/keys", response_model=list[KeyRead])
async def list_keys(partner_id: uuid.UUID, session: SessionDep, _: Admin) -> list[KeyRead]:
    return [
        partner_accounts.key_read(k) for k in await partner_accounts.list_keys(session, partner_id)
    ]


@router.post("/partners/{partner_id}/keys", status_code=201, response_model=KeyCreated)
async def add_key(partner_id: uuid.UUID, session: SessionDep, admin: Admin) -> KeyCreated:
    """Another key (shown once), e.g. to replace one without a gap: revoke the old one after."""
    partner = await partner_accounts.get_partner(session, partner_id)
    return await partner_accounts.issue_key(session, partner, admin.subject)


@router.post("/partners/{partner_id}/keys/rotate", status_code=201, response_model=KeyCreated)
async def rotate_keys(partner_id: uuid.UUID, session: SessionDep, admin: Admin) -> KeyCreated:
    """A new key (shown once); all the others stop working now."""
    partner = await partner_accounts.get_partner(session, partner_id)
    return await partner_accounts.rotate_keys(session, partner, admin.subject)


@router.post("/partners/{partner_id}/keys/{key_id}/revoke", response_model=KeyRead)
async def revoke_key(
    partner_id: uuid.UUID, key_id: uuid.UUID, session: SessionDep, _: Admin
) -> KeyRead:
    return partner_accounts.key_read(await partner_accounts.revoke_key(session, partner_id, key_id))


@router.get("/partners/{partner_id}/subscriptions", response_model=list[SubscriptionRead])
async def partner_subscriptions(
    partner_id: uuid.UUID, session: SessionDep, _: Admin
) -> list[SubscriptionRead]:
    partner = await partner_accounts.get_partner(session, partner_id)
    return [
        subscriptions.subscription_read(s, partner)
        for s in await subscriptions.list_subscriptions(session, partner.id)
    ]


@router.post(
    "/partners/{partner_id}/subscriptions", status_code=201, response_model=SubscriptionCreated
)
async def subscribe_partner(
    partner_id: uuid.UUID,
    body: SubscriptionCreate,
    session: SessionDep,
    settings: SettingsDep,
    admin: Admin,
) -> SubscriptionCreated:
    """Subscribe a partner on its behalf (the webhook secret is shown once, to pass on); the
    same rules as the partner's own subscribing."""
    partner = await partner_accounts.get_partner(session, partner_id)
    return await subscriptions.create_subscription(
        session, settings, partner, body, by=admin.subject
    )


@router.get(
    "/partners/{partner_id}/subscriptions/{subscription_id}", response_model=SubscriptionRead
)
async def partner_subscription(
    partner_id: uuid.UUID, subscription_id: uuid.UUID, session: SessionDep, _: Admin
) -> SubscriptionRead:
    partner = await partner_accounts.get_partner(session, partner_id)
    subscription = await subscriptions.get_subscription(session, partner.id, subscription_id)
    return subscriptions.subscription_read(subscription, partner)


@router.post(
    "/partners/{partner_id}/subscriptions/{subscription_id}/disable",
    response_model=SubscriptionRead,
)
async def disable_subscription(
    partner_id: uuid.UUID,
    subscription_id: uuid.UUID,
    body: SubscriptionDisable,
    session: SessionDep,
    admin: Admin,
) -> SubscriptionRead:
    """Stop any partner's webhook and Kafka topic (e.g. one that misbehaves); its feed stays
    readable. A hold only an admin lifts: the partner cannot enable it again."""
    partner = await partner_accounts.get_partner(session, partner_id)
    subscription = await subscriptions.disable_subscription(
        session, partner, subscription_id, by=admin.subject, reason=body.reason
    )
    return subscriptions.subscription_read(subscription, partner)


@router.post(
    "/partners/{partner_id}/subscriptions/{subscription_id}/enable",
    response_model=SubscriptionRead,
)
async def enable_subscription(
    partner_id: uuid.UUID, subscription_id: uuid.UUID, session: SessionDep, admin: Admin
) -> SubscriptionRead:
    """Re-enable a partner's subscription, whoever disabled it."""
    partner = await partner_accounts.get_partner(session, partner_id)
    subscription = await subscriptions.enable_subscription(
        session, partner, subscription_id, by=admin.subject
    )
    return subscriptions.subscription_read(subscription, partner)


@router.delete("/partners/{partner_id}/subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(
    partner_id: uuid.UUID, subscription_id: uuid.UUID, session: SessionDep, admin: Admin
) -> Response:
    """End any partner's subscription; its waiting deliveries are cancelled."""
    partner = await partner_accounts.get_partner(session, partner_id)
    await subscriptions.delete_subscription(session, partner.id, subscription_id, by=admin.subject)
    return Response(status_code=204)


@router.post(
    "/partners/{partner_id}/subscriptions/{subscription_id}/secret/rotate",
    response_model=SecretRotated,
)
async def rotate_secret(
    partner_id: uuid.UUID,
    subscription_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
) -> SecretRotated:
    """A new webhook secret for a partner's subscription (shown once, to pass on), e.g. when
    the partner's copy leaked; the old one keeps signing during the grace period."""
    partner = await partner_accounts.get_partner(session, partner_id)
    return await subscriptions.rotate_secret(session, settings, partner.id, subscription_id)


@router.get("/partners/{partner_id}/deliveries", response_model=DeliveryPage)
async def partner_deliveries(
    partner_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
    subscription_id: uuid.UUID | None = None,
    status: DeliveryState | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    await partner_accounts.get_partner(session, partner_id)
    return await deliveries.list_deliveries(
        session,
        settings,
        partner_id,
        subscription_id=subscription_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/partners/{partner_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead
)
async def redeliver(
    partner_id: uuid.UUID,
    delivery_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
) -> DeliveryRead:
    return await deliveries.redeliver(session, settings, partner_id, delivery_id)
