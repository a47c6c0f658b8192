"""Webhook signing secrets (derived, never stored) and signatures (Standard Webhooks)."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from standardwebhooks.webhooks import Webhook

from shared.secrets import key_bytes

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from services.notify.partners.models import Subscription
    from shared.settings import Settings


def webhook_secret(master: bytes, subscription_id: uuid.UUID, version: int) -> str:
    """The subscription's signing secret (`whsec_...`), derived, so no copy of it is stored."""
    raw = hmac.digest(master, f"webhook:{subscription_id}:{version}".encode(), "sha256")
    return "whsec_" + base64.b64encode(raw).decode()


def signature_header(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> str:
    """`webhook-signature` (Standard Webhooks): one `v1,` signature per secret in use."""
    return " ".join(Webhook(s).sign(msg_id, at, body) for s in secrets_)


def current_secret(settings: Settings, subscription: Subscription) -> str:
    """The subscription's secret, derived from LABOURX_PARTNER_WEBHOOK_KEY (a key of its own)."""
    return webhook_secret(
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
    return [webhook_secret(key, subscription.id, v) for v in versions for key in keys]
