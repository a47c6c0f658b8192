"""Channels behind one interface: an SMS gateway over HTTP, email over SMTP, and the development
provider that keeps every message in notify's own database.

The HTTP SMS gateway contract (what a gateway, or an adapter in front of one, implements):

- Send: `POST {LABOURX_SMS_GATEWAY_URL}` with `Authorization: Bearer {LABOURX_SMS_GATEWAY_TOKEN}`
  and the JSON body `{"to": "+8562055551234", "from": "<sender id>", "text": "<UTF-8 body>",
  "reference": "<message id>"}`. A 2xx answer means accepted, with the body
  `{"id": "<the gateway's message id>"}`. `reference` is an idempotency key: a request repeating
  a reference the gateway already accepted answers with the first id and sends nothing (set
  `LABOURX_SMS_GATEWAY_IDEMPOTENT=false` for a gateway that cannot; see below).
- 5xx, 408 and 429 are temporary (tried again with backoff); any other 4xx is a refusal of this
  message (e.g. an invalid number) and is not tried again.
- Receipts: `POST /v1/receipts/sms` on notify, `{"id": "<gateway id>", "reference": "<message
  id>", "status": "delivered" | "failed" | "expired" | "undelivered" | "rejected", "error":
  "<gateway code, optional>"}`; `id` or `reference` finds the message.
- Inbound SMS (replies such as STOP): `POST /v1/inbound/sms` on notify, `{"id": "<gateway id>",
  "from": "+856...", "text": "STOP"}`.
- Both webhooks are signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
  `webhook-signature`: HMAC-SHA256 with `LABOURX_SMS_INBOUND_SECRET`, five minutes' tolerance).

When the outcome of a send is unknown (the request left but no answer came back: a read
timeout, a dropped connection), an idempotent gateway is simply asked again with the same
reference. For a gateway that is not idempotent, the message is failed with `unknown_outcome`
instead, never sent twice; a later receipt carrying the reference still corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import aiosmtplib
import httpx
from sqlalchemy.dialects.postgresql import insert

from services.notify.delivery.domain import DeliveryError, http_error, smtp_error
from services.notify.delivery.models import DevOutboxMessage

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings


@dataclass(frozen=True)
class Outgoing:
    """What a provider needs to send one message, and nothing more."""

    message_id: uuid.UUID
    channel: str
    to: str
    subject: str | None
    body: str


class Provider(Protocol):
    """Hands messages of one channel to whatever carries them."""

    # Handing the same message over twice never reaches the person twice.
    idempotent: bool

    async def send(self, outgoing: Outgoing) -> str | None:
        """The provider's id of the accepted message; DeliveryError when not accepted."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchProvider(Provider, Protocol):
    """A provider that takes many messages in one go; all are accepted or none."""

    async def send_batch(self, batch: Sequence[Outgoing]) -> list[str | None]: ...


class HttpSmsGateway:
    """SMS through the HTTP gateway of the contract above."""

    def __init__(
        self,
        url: str,
        token: str,
        sender: str,
        *,
        timeout_s: float = 10.0,
        idempotent: bool = True,
        max_connections: int = 32,
    ) -> None:
        self.url = url
        self.sender = sender
        self.idempotent = idempotent
        self.client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def send(self, outgoing: Outgoing) -> str | None:
        body = {
            "to": outgoing.to,
            "from": self.sender,
            "text": outgoing.body,
            "reference": str(outgoing.message_id),
        }
        try:
            response = await self.client.post(self.url, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: trying again cannot send a second copy.
            raise DeliveryError("connection", f"{type(exc).__name__}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                "timeout", f"{type(exc).__name__}: {exc}", unknown_outcome=True
            ) from exc
        except httpx.TransportError as exc:
            raise DeliveryError(
                "connection", f"{type(exc).__name__}: {exc}", unknown_outcome=True
            ) from exc
        if not response.is_success:
            raise http_error(response.status_code, response.text)
        try:
            provider_id = response.json().get("id")
        except (ValueError, AttributeError):
            provider_id = None
        # Accepted without an id: receipts can still find the message by its reference.
        return str(provider_id)[:200] if provider_id else None

    async def aclose(self) -> None:
        await self.client.aclose()


class SmtpEmail:
    """Email through an SMTP server, one connection per message (the volumes are small).

    The Message-ID is derived from the message id, so a message handed over again after a
    dispatcher died mid-send is recognisably the same mail.
    """

    idempotent = True

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("LABOURX_SMTP_HOST is not set")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None
        )
        self.starttls = settings.smtp_starttls
        self.timeout_s = settings.smtp_timeout_s
        self.sender = settings.email_from
        self.domain = parseaddr(settings.email_from)[1].rpartition("@")[2] or "labourx.la"

    def compose(self, outgoing: Outgoing) -> EmailMessage:
        """The mail of a message: plain text in UTF-8 (Lao script needs it)."""
        mail = EmailMessage()
        name, address = parseaddr(self.sender)
        mail["From"] = Address(display_name=name, addr_spec=address) if name else address
        mail["To"] = outgoing.to
        mail["Subject"] = outgoing.subject or ""
        mail["Message-ID"] = f"<{outgoing.message_id}@{self.domain}>"
        mail.set_content(outgoing.body, charset="utf-8")
        return mail

    async def send(self, outgoing: Outgoing) -> str | None:
        mail = self.compose(outgoing)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.user,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            raise smtp_error(refused.code, refused.message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise smtp_error(exc.code, exc.message) from exc
        except aiosmtplib.SMTPTimeoutError as exc:
            raise DeliveryError("timeout", str(exc), unknown_outcome=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError("connection", f"{type(exc).__name__}: {exc}") from exc
        return str(mail["Message-ID"])

    async def aclose(self) -> None:
        return None


class DevProvider:
    """Keeps messages in the `dev_outbox` table (`GET /v1/dev/outbox`) instead of sending them:
    `make run` needs no gateway and no mail server, and nobody is messaged by accident."""

    idempotent = True

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sender: str) -> None:
        self.sessions = sessions
        self.sender = sender

    async def send(self, outgoing: Outgoing) -> str | None:
        [provider_id] = await self.send_batch([outgoing])
        return provider_id

    async def send_batch(self, batch: Sequence[Outgoing]) -> list[str | None]:
        """Keep a whole batch in one statement (a table has no reason to take them one by one)."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(DevOutboxMessage)
                .values(
                    [
                        {
                            "message_id": o.message_id,
                            "channel": o.channel,
                            "recipient": o.to,
                            "sender": self.sender,
                            "subject": o.subject,
                            "body": o.body,
                        }
                        for o in batch
                    ]
                )
                .on_conflict_do_nothing(index_elements=["message_id"])
            )
        return [f"dev-{o.message_id}" for o in batch]

    async def aclose(self) -> None:
        return None


@dataclass
class Providers:
    """The provider of each channel."""

    sms: Provider
    email: Provider

    def of(self, channel: str) -> Provider:
        if channel == "sms":
            return self.sms
        if channel == "email":
            return self.email
        raise ValueError(f"no provider for channel {channel!r}")

    async def aclose(self) -> None:
        await self.sms.aclose()
        if self.email is not self.sms:
            await self.email.aclose()


def providers_for(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Providers:
    """The providers the settings choose (development ones unless told otherwise)."""
    sms: Provider
    if settings.sms_provider == "http":
        if not settings.sms_gateway_url or settings.sms_gateway_token is None:
            raise ValueError("LABOURX_SMS_GATEWAY_URL and LABOURX_SMS_GATEWAY_TOKEN are not set")
        sms = HttpSmsGateway(
            settings.sms_gateway_url,
            settings.sms_gateway_token.get_secret_value(),
            settings.sms_sender_id,
            timeout_s=settings.sms_gateway_timeout_s,
            idempotent=settings.sms_gateway_idempotent,
            max_connections=settings.delivery_concurrency,
        )
    else:
        sms = DevProvider(sessions, settings.sms_sender_id)
    email: Provider = (
        SmtpEmail(settings)
        if settings.email_provider == "smtp"
        else DevProvider(sessions, settings.email_from)
    )
    return Providers(sms=sms, email=email)
