"""One settings class for every labourx process, read from `LABOURX_*` environment variables."""

from __future__ import annotations

import re
from datetime import time
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared import secrets
from shared.roles import ROLE_NAMES
from shared.secrets import DEV_JWT_SECRET

# The settings that are keys of one purpose each (never derived from one another), and the
# development key each falls back to outside production (where each is required).
PurposeKey = Literal["certificate_key", "partner_pseudonym_key", "partner_webhook_key"]
DEVELOPMENT_KEYS: dict[PurposeKey, str] = {
    "certificate_key": secrets.DEV_CERTIFICATE_KEY,
    "partner_pseudonym_key": secrets.DEV_PARTNER_PSEUDONYM_KEY,
    "partner_webhook_key": secrets.DEV_PARTNER_WEBHOOK_KEY,
}

# One limit as the `limits` library writes it: "30/minute", "300 per hour", "5/10 seconds".
_RATE_LIMIT = re.compile(
    r"\s*[0-9]+\s*(?:/|per)\s*[0-9]*\s*(?:year|month|day|hour|minute|second)s?\s*", re.I
)

# The services that own labourx's data and its events (a database with an outbox, topics,
# consumers): each is deployed as API, relay and consumer processes (tests/deploy).
DATA_SERVICES = ("registry", "matching", "predeparture", "notify")
# The staff console: the officers' web pages over those services' public APIs. Its database
# holds sign-in sessions only, and it publishes and consumes no events.
CONSOLE = "console"
# Every service the command line runs.
SERVICES = (CONSOLE, *DATA_SERVICES)


class Settings(BaseSettings):
    """Process settings; fails fast on values that are unsafe outside development."""

    model_config = SettingsConfigDict(env_prefix="LABOURX_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"

    # A server-level URL (any database name); each service derives its own database from it.
    database_url: str | None = None
    database_prefix: str = "labourx_"
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout_s: float = 10.0
    db_pool_pre_ping: bool = False

    kafka_bootstrap_servers: str | None = None
    # Tansu (the development broker) lacks InitProducerId, so idempotence is opt-in.
    kafka_enable_idempotence: bool = False
    topic_partitions: int = Field(default=3, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    # How long the broker keeps a topic's records (its retention.ms), per class of topic
    # (shared/events/topics.py `topic_class`); `labourx topics` sets it on new and existing
    # topics. Costed in docs/operations.md, "Retention of events". Personal data and dead
    # letters (copies of any topic's records) are always bounded; -1 keeps records for ever.
    topic_retention_personal_ms: int = Field(default=7 * 86_400_000, ge=1)
    topic_retention_non_personal_ms: int = Field(default=-1, ge=-1)
    topic_retention_dead_letter_ms: int = Field(default=7 * 86_400_000, ge=1)

    @field_validator("topic_retention_non_personal_ms")
    @classmethod
    def _for_ever_or_a_time(cls, value: int) -> int:
        if value == 0:  # the broker would delete every record as it came
            raise ValueError("a number of milliseconds, or -1 to keep records for ever")
        return value

    # A member that stops heartbeating (kill -9, a lost node) keeps its partitions this long; one
    # stopped with SIGTERM leaves the group at once. 6 s is the least Apache Kafka accepts by
    # default (group.min.session.timeout.ms); heartbeats at a sixth of it, so a member must miss
    # five in a row to be expelled. Measured and costed in docs/operations.md and figure 11.
    consumer_session_timeout_ms: int = Field(default=6_000, ge=1)
    consumer_heartbeat_interval_ms: int = Field(default=1_000, ge=1)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_base_s: float = 0.2
    consumer_stall_timeout_s: float = 30.0
    # How long the broker may hold a fetch that has nothing yet. Kafka answers as soon as a
    # record arrives; Tansu 0.6 holds an empty fetch for the whole wait (measured 2026-12-05,
    # end to end at 50 registrations/s: p50 243 / p99 514 ms with 1000 ms, 15 / 22 ms with
    # 20 ms), which sets the latency of a quiet development system. A short wait keeps an
    # idle system busy: at 20 ms, four consumers made the development broker spend 13% of a
    # core doing nothing (issue 14), so the default stays long.
    consumer_fetch_max_wait_ms: int = Field(default=1000, ge=0)

    relay_batch_size: int = Field(default=1000, ge=1)
    # The relay wakes on NOTIFY at each commit; this poll only catches a notification lost
    # with a connection, so it can be slow.
    relay_poll_interval_s: float = 2.0
    # Days an `Idempotency-Key`'s stored answer is kept (the relay deletes older ones with the
    # sent outbox rows): long enough for a retry after an outage of days, while an answer may
    # hold a person's record. A retry after it runs as a fresh request (a registration then
    # meets the duplicate check).
    idempotency_key_retention_days: int = Field(default=7, ge=1)

    # Registry rules: the youngest age at which a person may be registered as a jobseeker (the
    # Lao Labour Law's minimum working age) and given a migration record (MOU recruitment).
    registry_min_age_jobseeker: int = Field(default=15, ge=0)
    registry_min_age_migrant: int = Field(default=18, ge=0)
    # How far ahead of an MOU worker's return date (30 days before the permit ends) the
    # reminder event fires, so notify can tell them in time to arrange the journey home.
    registry_return_reminder_lead_days: int = Field(default=60, ge=1)
    # A person with no activity for this many days (no registration, change of their record,
    # consent, migration record, referral or visit; docs/operations.md, "Retention of records")
    # is anonymised as an erasure does it, by registry's scheduled job. Five years: an MOU
    # contract runs up to four, and a returnee's record serves them for a year after.
    record_retention_days: int = Field(default=1826, ge=1)

    # Predeparture reports hide every figure of fewer people than this (and the figures that
    # would give it away); 2 is the least that still keeps a single person from being singled out.
    predeparture_report_min_cell: int = Field(default=5, ge=2)
    # Sessions and outreach held on a day without a connection are entered afterwards, from
    # paper, up to this many days later; each is marked as entered late and audited.
    predeparture_late_entry_days: int = Field(default=30, ge=0)

    # Certificates: verification codes are derived with this key (never stored), and printed
    # as a link under this base URL (the predeparture API as the public reaches it).
    certificate_key: SecretStr | None = None
    # The key before a change of `certificate_key`: a certificate issued under it is reprinted
    # with the code it was issued with, which is the one its table row verifies
    # (docs/operations.md, "Changing keys"). Not checked for strength: it is being retired.
    certificate_previous_key: SecretStr | None = None
    public_base_url: str | None = None

    # Notify, message delivery (services/notify/delivery).
    # Providers: "dev" keeps messages in notify's own database (GET /v1/dev/outbox), so a
    # machine with no gateway and no mail server still runs everything; see delivery/providers.
    sms_provider: Literal["dev", "http"] = "dev"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_sender_id: str = "LABOURX"
    sms_gateway_timeout_s: float = Field(default=10.0, gt=0)
    # The gateway treats our `reference` as an idempotency key (the contract in
    # delivery/providers.py); false for one that does not: then an SMS whose outcome is unknown
    # (a timeout after the request left, a dispatcher that died mid-send) is failed, never resent.
    sms_gateway_idempotent: bool = True
    # Standard Webhooks secret ("whsec_" + base64) the gateway signs receipts and inbound SMS
    # with; unset, both webhooks refuse every call.
    sms_inbound_secret: SecretStr | None = None
    email_provider: Literal["dev", "smtp"] = "dev"
    email_from: str = "labourx <no-reply@labourx.la>"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    # No SMS between these local (Asia/Vientiane) times: one due then waits for the end; equal
    # times switch quiet hours off. Email is never held back.
    sms_quiet_start: time = time(21, 0)
    sms_quiet_end: time = time(7, 0)
    # At most this many SMS to one number in any hour; more wait for a free slot. Courtesy
    # messages (welcomes, thank-yous, reminders) count against everything sent that hour and
    # wait first; transactional ones (offers, placements, certificates, session changes) count
    # only against each other, so a greeting never holds back what a person is waiting for.
    sms_per_recipient_per_hour: int = Field(default=5, ge=1)
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_backoff_base_s: float = Field(default=30.0, gt=0)
    delivery_backoff_cap_s: float = Field(default=3600.0, gt=0)
    delivery_batch_size: int = Field(default=200, ge=1)
    delivery_concurrency: int = Field(default=16, ge=1)
    # A message left `sending` this long belongs to a dispatcher that died mid-send.
    delivery_sending_timeout_s: float = Field(default=300.0, gt=0)

    # Notify, partner feeds (services/notify/partners). Two keys, one per purpose (required in
    # production; a development key each elsewhere), neither stored with the data: every
    # partner's pseudonym key is derived from the first (changing it changes every pseudonym
    # partners hold), every subscription's webhook secret from the second. The single
    # LABOURX_PARTNER_SECRET_KEY of earlier releases is no longer read (docs/operations.md,
    # "Changing keys", says how to carry its pseudonyms and secrets over).
    partner_pseudonym_key: SecretStr | None = None
    partner_webhook_key: SecretStr | None = None
    # The webhook key before a change: while set, webhooks also carry signatures by the secrets
    # it derived, so partners keep verifying until they rotate to the new ones.
    partner_webhook_previous_key: SecretStr | None = None
    # Seconds before each retry of a failed webhook (the first attempt is immediate); when the
    # last one fails the delivery has failed (about 17.6 h in all by default, within a day).
    partner_webhook_retry_schedule_s: list[float] = Field(
        default=[5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0], min_length=1
    )
    partner_webhook_timeout_s: float = Field(default=10.0, gt=0)
    partner_webhook_batch_size: int = Field(default=200, ge=1)
    partner_webhook_concurrency: int = Field(default=32, ge=1)
    # After a secret rotation webhooks carry signatures by the old and the new secret this long.
    partner_webhook_secret_grace_s: float = Field(default=86400.0, ge=0)
    # Whether webhook URLs may point into private networks (10.x, 192.168.x, loopback,
    # link-local such as 169.254.169.254, ...): checked when subscribing and, resolved, before
    # every send. Unset: refused in production, allowed in development and test (whose
    # receivers are on localhost). Set it true in production only for a partner on a private
    # network you trust: it lets partners make labourx call anything it can reach.
    partner_webhook_allow_private_addresses: bool | None = None

    # Personal data on the event log (docs/architecture.md, "Erasure on the event log"):
    # registry's person events carry the personal fields sealed under a key of the person's own
    # (v2 types), which consumers fetch from registry's internal endpoint the first time they
    # meet the person, at this address, and keep.
    registry_url: str = "http://127.0.0.1:8101"
    registry_key_timeout_s: float = Field(default=5.0, gt=0)
    # The credential a service presents to another's internal endpoints (registry's person
    # keys), as a bearer token. Required in production; a development one elsewhere.
    service_token: SecretStr | None = None
    # The migration window of an upgrade (docs/operations.md, "Upgrading to sealed person
    # events"): registry also publishes PersonRegistered/PersonUpdated v1, personal fields in
    # clear, beside v2, until every consumer runs a release that reads v2. Off: v2 only.
    publish_person_events_v1: bool = False

    # Staff console (services/console). Where it reaches each service's public API.
    console_registry_url: str = "http://127.0.0.1:8101"
    console_matching_url: str = "http://127.0.0.1:8102"
    console_predeparture_url: str = "http://127.0.0.1:8103"
    console_notify_url: str = "http://127.0.0.1:8104"
    # Per call to a service: time to connect, and in all. A page whose call runs out says the
    # service is unavailable (and that nothing was saved) rather than hanging on a weak link.
    console_api_connect_timeout_s: float = Field(default=3.0, gt=0)
    console_api_timeout_s: float = Field(default=15.0, gt=0)
    # A signed-in session ends after this long without a request, and this long after sign-in
    # whatever happens (the officer then signs in again).
    console_session_idle_timeout_s: float = Field(default=1800.0, gt=0)
    console_session_absolute_timeout_s: float = Field(default=43200.0, gt=0)
    # The session cookie is Secure (and `__Host-` prefixed); unset: everywhere but development,
    # whose console is opened over plain http://127.0.0.1.
    console_cookie_secure: bool | None = None
    # The development sign-in page (pick a role and an office, no password). Unset: on in
    # development and test; production refuses to start with it on.
    console_dev_sign_in: bool | None = None
    # Tests: rendering a Lao page with a string missing from the Lao catalogue fails.
    console_strict_translations: bool = False

    # Scheduled jobs (`labourx jobs <service>`): seconds between passes.
    jobs_interval_s: float = Field(default=300.0, gt=0)

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_jwks_url: str | None = None
    # How long a fetch of the provider's keys may take before the request is answered 503 (the
    # token is not refused: a slow provider does not sign officers out).
    jwt_jwks_timeout_s: float = Field(default=5.0, gt=0)
    jwt_issuer: str = "labourx-dev"
    jwt_audience: str = "labourx"
    # The claims mapping (shared/auth.py): where a token says who the officer is, the same for
    # the four APIs and the console. Each is a claim name or a dotted path into nested claims
    # (`realm_access.roles`); a name holding dots itself (Auth0's `https://labourx.la/office`)
    # is matched whole first. Roles: the first of these claims present (comma-separated), a
    # list or a space-separated string; Keycloak puts realm roles in `realm_access.roles`.
    jwt_roles_claim: Annotated[list[str], NoDecode] = Field(
        default=["roles", "realm_access.roles"], min_length=1
    )
    # A provider's role or group names that differ from labourx's, as JSON: {"ESC officers":
    # "esc_staff"}. Names that are labourx's own need no entry; any other name is left out.
    jwt_role_map: dict[str, str] = Field(default_factory=dict)
    jwt_office_claim: str = "office"
    # An ISO 3166-2:LA code (LA-VT); a token whose province is none is refused.
    jwt_province_claim: str = "province"
    # National scope (every province): this claim true, or the word `national` in it.
    jwt_national_claim: str = "national"
    # The recruitment agency an `agency` caller acts for.
    jwt_agency_claim: str = "agency"

    # Staff console sign-in with OpenID Connect (services/console/auth/oidc.py; docs/operations.md,
    # "Signing staff in"). All four of issuer, client id, client secret and the console's public
    # URL, or none; a production console refuses to start without them. The issuer is the
    # provider's as its tokens name it; its discovery document is read from
    # {issuer}/.well-known/openid-configuration unless the discovery URL says where (a provider
    # the console reaches at another address than the browsers do).
    console_oidc_issuer: str | None = None
    console_oidc_discovery_url: str | None = None
    console_oidc_client_id: str | None = None
    console_oidc_client_secret: SecretStr | None = None
    console_oidc_scopes: str = "openid profile"
    # An RFC 8707 resource indicator (an absolute URI) sent with the authorization and token
    # requests, for providers that issue access tokens per resource; Keycloak needs none (its
    # audience mapper makes its tokens labourx's).
    console_oidc_resource: str | None = None
    # The console's address as officers' browsers open it, e.g. https://console.labourx.la (no
    # path): the provider sends them back to {it}/sign-in/oidc/callback after signing in (one of
    # the client's redirect URIs) and to {it}/sign-in after signing out.
    console_public_url: str | None = None
    # An access token this close to running out is refreshed before a service is called with it.
    console_oidc_refresh_margin_s: float = Field(default=30.0, ge=0)

    # Key URLs (the JWKS, the OpenID discovery document, the SMS gateway that is sent a token)
    # must be https:// in production, except on loopback and on these hosts, which the
    # deployment reaches over its own private network (docker-compose.yml's `keycloak`, a
    # Kubernetes service name); comma-separated host names as the URLs write them.
    internal_http_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Rate limits (shared/ratelimit.py, docs/security.md "Rate limits"): each is one or more
    # limits in the `limits` library's words ("30/minute", "30/minute;300/hour"), counted in
    # the service's database so that every replica shares them. Public certificate checks
    # per client address (each one, found or not: guesses come in parallel); failed X-API-Key
    # attempts per client address and per key prefix (its first 12 characters, what someone
    # aiming at one partner's key repeats); failed console sign-ins per client address.
    rate_limit_certificate_verify: str = "30/minute;300/hour"
    rate_limit_api_key_address: str = "20/minute;200/hour"
    rate_limit_api_key_prefix: str = "20/minute;100/hour"
    rate_limit_console_sign_in: str = "10/minute;50/hour"
    # The library's strategy: a sliding window counter allows no burst of twice the limit at a
    # window's edge, as a fixed window does.
    rate_limit_strategy: Literal["sliding-window-counter", "fixed-window"] = (
        "sliding-window-counter"
    )
    # The proxies in front of the services (addresses or CIDR networks, comma-separated) whose
    # X-Forwarded-For is believed: the client is the last address in it that is not one of
    # them. Unset: the connection's own address is the client's (a header anyone can write is
    # never believed).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    data_dir: Path = Path(".labourx")
    # `labourx dev` restarts a process that exits after this delay, doubled at each exit in a
    # row up to the second (tests shorten both to crash-loop a service in seconds).
    dev_restart_delay_s: float = Field(default=1.0, gt=0)
    dev_restart_delay_max_s: float = Field(default=60.0, gt=0)
    log_level: str = "INFO"
    # `json` for log collectors; `text` for a person at a terminal (`labourx dev` sets it
    # unless told otherwise).
    log_format: Literal["json", "text"] = "json"
    # Relay, consumer and jobs processes serve /metrics on this port on every interface, for a
    # Prometheus in another container (`--metrics-port`, the dev runner's, stays on loopback).
    # So do API processes in production, whose public port serves no /metrics; elsewhere an
    # API's /metrics is on its own port (the dev runner reads it there).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # HTTP limits and response hygiene of every API and the console (docs/security.md). A
    # request body over this many bytes is refused with 413 as it streams in, before anything
    # parses it; routes that take a file (shared/http_limits.py, UPLOAD) take up to the second.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=6 * 1024 * 1024, ge=1024)
    # The request line and headers together; more is refused with 431.
    max_header_bytes: int = Field(default=32 * 1024, ge=8 * 1024)
    # /docs and /openapi.json. Unset: served in development and test, not in production.
    api_docs: bool | None = None

    @field_validator(
        "database_url",
        "kafka_bootstrap_servers",
        "certificate_key",
        "certificate_previous_key",
        "public_base_url",
        "jwt_jwks_url",
        "sms_gateway_url",
        "sms_gateway_token",
        "sms_inbound_secret",
        "smtp_host",
        "smtp_user",
        "smtp_password",
        "partner_pseudonym_key",
        "partner_webhook_key",
        "partner_webhook_previous_key",
        "partner_webhook_allow_private_addresses",
        "service_token",
        "metrics_port",
        "api_docs",
        "console_oidc_issuer",
        "console_oidc_discovery_url",
        "console_oidc_client_id",
        "console_oidc_client_secret",
        "console_oidc_resource",
        "console_public_url",
        "console_cookie_secure",
        "console_dev_sign_in",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `LABOURX_JWT_JWKS_URL=` in an env file means "not set"; read as an empty string it
        # would slip past the production checks below and fall back to development secrets.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("jwt_roles_claim", "internal_http_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # `LABOURX_JWT_ROLES_CLAIM=roles,realm_access.roles`: several places, first found wins.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("jwt_role_map")
    @classmethod
    def _maps_to_labourx_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - ROLE_NAMES)
        if unknown:
            raise ValueError(
                f"LABOURX_JWT_ROLE_MAP maps to {', '.join(unknown)}, not labourx roles"
                f" ({', '.join(sorted(ROLE_NAMES))})"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"LABOURX_TRUSTED_PROXIES: {entry!r} is not an address or a network (CIDR)"
                ) from None
        return value

    @field_validator(
        "rate_limit_certificate_verify",
        "rate_limit_api_key_address",
        "rate_limit_api_key_prefix",
        "rate_limit_console_sign_in",
    )
    @classmethod
    def _rate_limits(cls, value: str, info: ValidationInfo) -> str:
        # The `limits` library's grammar, checked without importing it: it weighs 13 MB, which a
        # relay or consumer process (that never limits anything) would carry for nothing.
        if not all(_RATE_LIMIT.fullmatch(part) for part in re.split(r"[,;|]", value)):
            raise ValueError(
                f"LABOURX_{str(info.field_name).upper()}: {value!r} is not a rate limit such as"
                " 30/minute or 30/minute;300/hour"
            ) from None
        return value

    @field_validator("console_public_url")
    @classmethod
    def _an_address_without_a_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(
                "LABOURX_CONSOLE_PUBLIC_URL is the console's address with no path, such as"
                " https://console.labourx.la (its cookies and pages are at the root of it)"
            )
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _console_oidc_all_or_nothing(self) -> Settings:
        missing = self.console_oidc_missing()
        if 0 < len(missing) < 4:
            raise ValueError(
                f"OpenID Connect sign-in to the console also needs {', '.join(missing)}"
            )
        return self

    def console_oidc_missing(self) -> list[str]:
        """The settings OpenID Connect sign-in to the console lacks (none: it is on)."""
        return [
            f"LABOURX_{name.upper()}"
            for name in (
                "console_oidc_issuer",
                "console_oidc_client_id",
                "console_oidc_client_secret",
                "console_public_url",
            )
            if getattr(self, name) is None
        ]

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.env == "production":
            if self.jwt_jwks_url is None and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
                raise ValueError(
                    "LABOURX_JWT_SECRET or LABOURX_JWT_JWKS_URL must be set in production"
                )
            if self.certificate_key is None or not self.public_base_url:
                raise ValueError(
                    "LABOURX_CERTIFICATE_KEY and LABOURX_PUBLIC_BASE_URL are required in"
                    " production: certificates printed with a development key or link could"
                    " not be verified later"
                )
            if self.sms_provider == "http" and not (
                self.sms_gateway_url and self.sms_gateway_token and self.sms_inbound_secret
            ):
                raise ValueError(
                    "LABOURX_SMS_GATEWAY_URL, LABOURX_SMS_GATEWAY_TOKEN and"
                    " LABOURX_SMS_INBOUND_SECRET are required with the http SMS provider in"
                    " production: without the secret, anyone could opt people out"
                )
            if self.email_provider == "smtp" and not self.smtp_host:
                raise ValueError("LABOURX_SMTP_HOST is required with the smtp email provider")
            if self.console_dev_sign_in:
                raise ValueError(
                    "LABOURX_CONSOLE_DEV_SIGN_IN must be off in production: it lets anyone sign"
                    " in to the staff console as any officer, without a password"
                )
            if not self.database_url or not self.kafka_bootstrap_servers:
                raise ValueError(
                    "LABOURX_DATABASE_URL and LABOURX_KAFKA_BOOTSTRAP_SERVERS"
                    " are required in production"
                )
        return self

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        # After the check above: what is missing altogether is said first, on its own.
        if self.env == "production" and (problems := self.secret_problems()):
            raise ValueError(
                'production refuses these settings (docs/security.md, "Secrets"): '
                + "; ".join(problems)
            )
        return self

    def secret_problems(self) -> list[str]:
        """Every reason the secrets and key URLs are not fit for production, each naming its
        setting (empty: they are)."""
        problems = [
            f"LABOURX_{name.upper()} is required in production: a key of its own for {purpose}"
            for name, purpose in (
                ("partner_pseudonym_key", "partners' pseudonyms"),
                ("partner_webhook_key", "partners' webhook secrets"),
            )
            if getattr(self, name) is None
        ]
        if problems:
            problems[-1] += (
                " (the one LABOURX_PARTNER_SECRET_KEY of earlier releases is no longer read:"
                ' docs/operations.md, "Changing keys", says how to keep its pseudonyms)'
            )
        problems += self._service_token_missing()
        checked: dict[str, tuple[SecretStr | None, secrets.Kind]] = {
            "certificate_key": (self.certificate_key, "key"),
            "partner_pseudonym_key": (self.partner_pseudonym_key, "key"),
            "partner_webhook_key": (self.partner_webhook_key, "key"),
            "sms_inbound_secret": (self.sms_inbound_secret, "webhook"),
            "sms_gateway_token": (self.sms_gateway_token, "credential"),
            "smtp_password": (self.smtp_password, "credential"),
            "service_token": (self.service_token, "credential"),
            "console_oidc_client_secret": (self.console_oidc_client_secret, "credential"),
        }
        if self.jwt_jwks_url is None:  # tokens are verified with the shared secret
            checked["jwt_secret"] = (self.jwt_secret, "key")
        seen: dict[bytes, str] = {}
        for name, (value, kind) in checked.items():
            if value is None:
                continue
            text = value.get_secret_value()
            if (reason := secrets.weakness(text, kind)) is not None:
                problems.append(f"LABOURX_{name.upper()} {reason}")
                continue
            material = secrets.key_bytes(text) if kind == "key" else text.encode()
            if (other := seen.setdefault(material, name)) != name:
                problems.append(
                    f"LABOURX_{name.upper()} is the same as LABOURX_{other.upper()}: each purpose"
                    " needs a key of its own, so that one leaking does not give away the other"
                )
        plain_http = secrets.PlainHttp(frozenset(h.lower() for h in self.internal_http_hosts))
        urls = {
            "jwt_jwks_url": self.jwt_jwks_url,
            # The issuer is where the discovery document is read unless its URL is given.
            "console_oidc_discovery_url": self.console_oidc_discovery_url,
            "console_oidc_issuer": (
                self.console_oidc_issuer if self.console_oidc_discovery_url is None else None
            ),
            "sms_gateway_url": self.sms_gateway_url if self.sms_gateway_token else None,
            # The service token travels to it.
            "registry_url": self.registry_url,
        }
        problems += [
            f"LABOURX_{name.upper()} must be an https:// URL in production ({url}): keys and"
            " tokens over plain http can be read or replaced on the way (a host on your own"
            " private network may be listed in LABOURX_INTERNAL_HTTP_HOSTS)"
            for name, url in urls.items()
            if url is not None and plain_http.refuses(url)
        ]
        return problems

    def purpose_key(self, name: PurposeKey) -> bytes:
        """The key of one purpose: its setting (required in production), else its development
        key. A `base64:` value stands for the bytes it encodes (shared/secrets.py)."""
        value = getattr(self, name)
        if value is None:
            return DEVELOPMENT_KEYS[name].encode()
        return secrets.key_bytes(value.get_secret_value())

    def _service_token_missing(self) -> list[str]:
        if self.service_token is not None:
            return []
        return [
            "LABOURX_SERVICE_TOKEN is required in production: the credential services present"
            " to registry's person-keys endpoint"
        ]

    def service_credential(self) -> str:
        """The service token (required in production), else the development one."""
        if self.service_token is None:
            return secrets.DEV_SERVICE_TOKEN
        return self.service_token.get_secret_value()

    @model_validator(mode="after")
    def _console_timeouts_agree(self) -> Settings:
        if self.console_session_idle_timeout_s > self.console_session_absolute_timeout_s:
            raise ValueError(
                "LABOURX_CONSOLE_SESSION_IDLE_TIMEOUT_S cannot exceed"
                " LABOURX_CONSOLE_SESSION_ABSOLUTE_TIMEOUT_S"
            )
        return self

    @property
    def console_dev_sign_in_enabled(self) -> bool:
        """The development sign-in page is offered (never in production: see above)."""
        if self.console_dev_sign_in is None:
            return self.env != "production"
        return self.console_dev_sign_in

    @property
    def console_cookies_secure(self) -> bool:
        if self.console_cookie_secure is None:
            return self.env != "development"
        return self.console_cookie_secure

    @model_validator(mode="after")
    def _upload_limit_covers_body_limit(self) -> Settings:
        if self.max_upload_bytes < self.max_body_bytes:
            raise ValueError("LABOURX_MAX_UPLOAD_BYTES cannot be less than LABOURX_MAX_BODY_BYTES")
        return self

    @property
    def api_docs_enabled(self) -> bool:
        """/docs and /openapi.json are served (by default not in production)."""
        return self.env != "production" if self.api_docs is None else self.api_docs

    @property
    def metrics_on_api_port(self) -> bool:
        """An API serves /metrics on its public port: not in production, where it is served on
        LABOURX_METRICS_PORT only (reachable by Prometheus, not by the API's clients)."""
        return self.env != "production"

    def database_name(self, service: str) -> str:
        """The database a service owns, e.g. `labourx_registry`."""
        return f"{self.database_prefix}{service}"

    def service_database_url(self, service: str, *, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL of a service's own database."""
        if not self.database_url:
            raise RuntimeError("LABOURX_DATABASE_URL is not set (the dev runner sets it)")
        return with_database(self.database_url, f"postgresql+{driver}", self.database_name(service))

    def admin_database_url(self) -> str:
        """URL of the server's maintenance database, used to create service databases."""
        if not self.database_url:
            raise RuntimeError("LABOURX_DATABASE_URL is not set")
        return with_database(self.database_url, "postgresql+asyncpg", "postgres")

    @property
    def bootstrap_servers(self) -> str:
        if not self.kafka_bootstrap_servers:
            raise RuntimeError(
                "LABOURX_KAFKA_BOOTSTRAP_SERVERS is not set (the dev runner sets it)"
            )
        return self.kafka_bootstrap_servers


def with_database(url: str, scheme: str, database: str | None = None) -> str:
    """`url` with another scheme (driver) and, when given, another database name; user,
    password, host and query stay as written. Plain string work, not SQLAlchemy's URL: a relay
    process needs this and nothing else of SQLAlchemy."""
    parts = urlsplit(url)
    path = f"/{database}" if database is not None else parts.path
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{parts.netloc}{path}{query}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
