"""Request and response bodies of partners, keys, subscriptions, deliveries and feeds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from services.notify.partners.scopes import Scope

Category = Literal["un_agencies", "government", "ngos", "employers_associations"]
PartnerCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$", to_upper=True)]
Stream = Literal[
    "registry.people",
    "matching.vacancies",
    "matching.referrals",
    "matching.agencies",
    "predeparture.orientations",
]
# Most people one request for keys names (a partner's consumer batch of new people).
MAX_PERSON_KEYS = 500
DeliveryState = Literal["pending", "in_flight", "succeeded", "failed", "cancelled"]
# Who disabled a subscription: the webhook job after persistent failures, the partner, or an
# admin (whose hold only an admin lifts).
DisabledBy = Literal["webhook_failures", "partner", "admin"]


class PartnerCreate(BaseModel):
    code: PartnerCode = Field(examples=["IOM-LA"], description="Also names its Kafka topics")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    category: Category
    max_scope: Scope = Field(
        default=Scope.PSEUDONYMISED, description="The widest scope its subscriptions may ask for"
    )


class PartnerUpdate(BaseModel):
    name: (
        Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
        | None
    ) = None
    category: Category | None = None
    max_scope: Scope | None = None
    active: bool | None = Field(default=None, description="An inactive partner's keys stop working")


class PartnerRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    category: str
    max_scope: Scope
    active: bool
    created_at: datetime


class KeyRead(BaseModel):
    id: uuid.UUID
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    api_key: str = Field(description="Shown once: send it as the `X-API-Key` header")


class PartnerCreated(BaseModel):
    partner: PartnerRead
    key: KeyCreated


class SubscriptionCreate(BaseModel):
    stream: Stream
    event_types: list[str] = Field(
        default_factory=list, description="Event types of the stream; empty: all of them"
    )
    scope: Scope = Scope.PSEUDONYMISED
    webhook_url: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None,
        description="Where signed webhooks go (Standard Webhooks); none: feed only. An http(s) "
        "URL with a host name or a public address (https in production).",
    )
    kafka: bool = Field(
        default=False,
        description="Also publish to `partner.<code>.<stream>`; there, a `personal` record about"
        " a person carries their personal fields sealed (`partnersealing`, `sealedfor`), opened"
        " with the key `POST /v1/partners/me/person-keys` gives",
    )
    include_history: bool = Field(
        default=False,
        description="A subscription starts at its creation on every way out (the pull feed, "
        "the webhook and the Kafka topic alike). True: it starts at the beginning of the "
        "stream instead, on every way out: the feed reads from the first entry, and the past "
        "entries go to the webhook and the topic, in order, before new ones. Recorded on the "
        "subscription. Events about people are shown as their consent allows when sent.",
    )


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    stream: str
    event_types: list[str]
    scope: Scope
    webhook_url: str | None
    kafka: bool
    kafka_topic: str | None
    include_history: bool = Field(
        description="Asked for the stream's past entries; false: it starts at `created_at`"
    )
    catching_up: bool = Field(
        description="The past entries are still being sent to the webhook and Kafka topic; "
        "new ones follow them"
    )
    created_by: str | None
    status: Literal["active", "disabled", "deleted"]
    disabled_by: DisabledBy | None = Field(
        description="Who disabled it; `admin`: only an admin enables it again"
    )
    disabled_reason: str | None
    disabled_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    webhook_secret: str | None = Field(
        description="Shown once: verifies the `webhook-signature` header (Standard Webhooks)"
    )


class SubscriptionDisable(BaseModel):
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)
    ] = Field(description="Why: shown to the partner and to admins")


class SecretRotated(BaseModel):
    webhook_secret: str = Field(description="Shown once")
    previous_secret_valid_until: datetime = Field(
        description="Until then webhooks carry signatures by both the old and the new secret"
    )


class DeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Also the `webhook-id` header of every attempt")
    subscription_id: uuid.UUID
    item_id: str = Field(description="The `id` of the event it carries")
    event_type: str
    status: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    succeeded_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


class FeedPage(BaseModel):
    """Items in feed order, from the subscription's start (its creation, unless it asked for
    the history): the same entries its webhook and Kafka topic carry. Pass `next_cursor` as
    `after` to resume (it is also returned, and unchanged, when the page is empty)."""

    stream: str
    scope: Scope
    items: list[dict[str, Any]] = Field(
        description="CloudEvents documents; `partnerkind` is `event` or `removal`"
    )
    next_cursor: str | None
    has_more: bool


class PersonKeysAsked(BaseModel):
    person_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_PERSON_KEYS,
        description="The people whose records on the partner's Kafka topics are to be opened"
        " (`sealedfor`), at most 500",
    )


class PersonKeys(BaseModel):
    keys: dict[uuid.UUID, str] = Field(
        description="URL-safe base64 of the partner's own AES-256 key of each person, which"
        " opens `data.sealed` of their records on its topics; absent: the partner has no"
        " `personal` Kafka subscription, the person's consent does not cover it (any more), or"
        " the person was erased (the key is destroyed, for good)"
    )
