"""Pure rules of partner feeds: scopes, redaction, pseudonyms, consent, cursors, retries, keys.

What a partner sees of an event depends on its subscription's scope and, for an event about a
person, on that person's consent:

- `aggregate`: no person-level identifier at all. Events about a person keep only fields fit for
  counting (status, sex, age band, province, destination, ...); events about vacancies, agencies
  and sessions keep what `pseudonymised` keeps.
- `pseudonymised`: person ids become a pseudonym of the partner's own (HMAC-SHA256 under a key
  derived per partner), and every other id that belongs to one person (referral, placement,
  migration, enrolment, consent, cost, certificate) a per-partner id too, so that two partners
  cannot join their feeds on them. Names, phone, email, address below the province, free text,
  the person's reference and the staff who acted are dropped; the date of birth becomes an age
  band.
- `personal`: the whole payload.

Person-level data (`pseudonymised` or `personal`) about someone goes only to a partner their
partner-sharing consent in force covers (by the partner's code, or its category). Anyone else's
events reach every partner in the `aggregate` view, whatever its scope: a stable pseudonym with
an age band, sex, office, occupation and permit dates is enough to single out a person in a
small district, and they never agreed to that.

Fields are classified one by one; a field no rule names is dropped from every scope but
`personal`, so that a field added to an event later is never shared by accident.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from shared.events.topics import (
    MATCHING_AGENCIES,
    MATCHING_REFERRALS,
    MATCHING_VACANCIES,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_PEOPLE,
)

# The aggregate streams partners may subscribe to: the ones notify's consumer reads.
STREAMS = (
    REGISTRY_PEOPLE,
    MATCHING_VACANCIES,
    MATCHING_REFERRALS,
    MATCHING_AGENCIES,
    PREDEPARTURE_ORIENTATIONS,
)

# The same categories registry records sharing consent for (registry's consent/domain.py).
PARTNER_CATEGORIES = frozenset({"un_agencies", "government", "ngos", "employers_associations"})

SOURCE = "/labourx/notify/partners"
REMOVAL_TYPE = "lao.labourx.notify.partner_data.removed.v1"


class Scope(enum.StrEnum):
    AGGREGATE = "aggregate"
    PSEUDONYMISED = "pseudonymised"
    PERSONAL = "personal"


SCOPE_RANK = {Scope.AGGREGATE: 0, Scope.PSEUDONYMISED: 1, Scope.PERSONAL: 2}


class EntryKind(enum.StrEnum):
    EVENT = "event"
    REMOVAL = "removal"


class RemovalReason(enum.StrEnum):
    ERASED = "erased"  # the person was erased: delete everything about them
    CONSENT_WITHDRAWN = "consent_withdrawn"  # delete their personal data; the pseudonym stays
    MERGED = "merged"  # a duplicate record: delete its personal data, follow the survivor


# --- field classes -------------------------------------------------------------------------

# Person ids: replaced by the partner's pseudonym under a name that says so.
PERSON_IDS = {"person_id": "person_pseudonym", "survivor_id": "survivor_pseudonym"}
# Ids of records that belong to one person: a per-partner id of the same shape.
LINKED_IDS = frozenset(
    {
        "referral_id",
        "placement_id",
        "migration_id",
        "enrolment_id",
        "consent_id",
        "cost_id",
        "certificate_number",
    }
)
# Who the person is, how to reach them, where they live below the province, free text (which may
# hold any of that) and the staff who acted: shared in `personal` scope only.
IDENTIFYING = frozenset(
    {
        "given_name_lo",
        "family_name_lo",
        "given_name_en",
        "family_name_en",
        "phone",
        "email",
        "district",
        "village",
        "passport_expires_on",
        "reason",
        "return_reason",
        "registered_by",
        "updated_by",
        "entered_late_by",
        "changed_by",
        "recorded_by",
        "merged_by",
        "erased_by",
        "placed_by",
        "ended_by",
    }
)
BIRTH_DATE = "date_of_birth"
# A person's reference identifies them; a vacancy's reference is the job's own.
REFERENCE = "reference"
# Shared as they are in `pseudonymised` scope.
SHAREABLE = frozenset(
    {
        # people
        "sex",
        "province_code",
        "office_code",
        "preferred_language",
        "ethnicity",
        "has_disability",
        "isced_level",
        "skills",
        "certificates",
        "languages",
        "experience",
        "jobseeker",
        "consents",
        "changed_fields",
        "record_version",
        "registered_at",
        "updated_at",
        "merged_at",
        "erased_at",
        "status",
        "previous_status",
        "purpose",
        "agency",
        "category",
        "expires_on",
        "method",
        "destination_country",
        "channel",
        "agency_code",
        "departed_on",
        "returned_on",
        "permit_expires_on",
        "return_due_on",
        "days_left",
        "skills_gained",
        "changed_at",
        # referrals, placements
        "vacancy_id",
        "overseas",
        "isco08",
        "starts_on",
        "contract_months",
        "placed_at",
        "ended_on",
        "ended_at",
        # vacancies
        "title",
        "employer_id",
        "positions",
        "open_positions",
        # agencies
        "agency_id",
        "name",
        "licence_number",
        "licence_expires_on",
        "destinations",
        "effective_on",
        "item",
        "amount",
        "currency",
        "recorded_at",
        # orientation
        "session_id",
        "automatic",
        "starts_at",
        "ends_at",
        "venue",
        "language",
        "outreach",
        "capacity",
        "completed_on",
        "valid_until",
        "entered_late",
        "entered_late_at",
        # serving offices
        "office_province_code",
        "basis",
    }
)
# What an `aggregate` view of an event about a person keeps: fields to count by, nothing more.
AGGREGATE_FIELDS = frozenset(
    {
        "status",
        "previous_status",
        "sex",
        "age_band",
        "province_code",
        "office_code",
        "destination_country",
        "channel",
        "overseas",
        "isco08",
        "ethnicity",
        "has_disability",
        "isced_level",
        "preferred_language",
        "purpose",
        "agency",
        "category",
        "agency_code",
        "item",
        "currency",
        "automatic",
        "language",
    }
)


def classified(field: str) -> bool:
    """Whether a rule names `field` (every field of every partner stream's events must be)."""
    return (
        field in PERSON_IDS
        or field in LINKED_IDS
        or field in IDENTIFYING
        or field in SHAREABLE
        or field in (BIRTH_DATE, REFERENCE)
    )


# --- pseudonyms --------------------------------------------------------------------------


def partner_key(master: bytes, partner_id: uuid.UUID) -> bytes:
    """The partner's own pseudonym key, derived (never stored) from the settings key."""
    return hmac.digest(master, b"pseudonym:" + partner_id.bytes, "sha256")


def pseudonym(key: bytes, person_id: uuid.UUID | str) -> str:
    """The partner's stable pseudonym of a person: a keyed hash, not reversible without the key."""
    digest = hmac.digest(key, b"person:" + uuid.UUID(str(person_id)).bytes, "sha256")
    return "ps_" + digest[:16].hex()


def linked_id(key: bytes, field: str, value: object) -> str:
    """A per-partner id for a record of one person (same shape as a UUID)."""
    digest = hmac.digest(key, f"{field}:{value}".encode(), "sha256")
    return str(uuid.UUID(bytes=digest[:16], version=4))


def item_id(key: bytes, entry_id: int) -> str:
    """The id a partner sees for a feed entry: its own, so ids do not link two partners' feeds."""
    return linked_id(key, "entry", entry_id)


def age_band(born: date, on: date) -> str:
    """Five-year age bands (ILO), 15 to 64, and the open ends."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 15:
        return "0-14"
    if age >= 65:
        return "65+"
    low = age - age % 5
    return f"{low}-{low + 4}"


# --- consent -----------------------------------------------------------------------------

IN_FORCE = frozenset({"given", "renewed"})


@dataclass(frozen=True)
class SharingDecision:
    """A person's latest partner-sharing decision for one agency or one category."""

    status: str
    expires_on: date | None = None
    # Removals were sent for its lapse (the sweep after `expires_on`); until then partners may
    # still hold personal data shared under it.
    swept: bool = False

    def in_force(self, today: date) -> bool:
        return self.status in IN_FORCE and (self.expires_on is None or self.expires_on >= today)

    def lapsed_unswept(self, today: date) -> bool:
        """Given or renewed, past its expiry date, and no removal sent for that yet."""
        return (
            self.status in IN_FORCE
            and self.expires_on is not None
            and self.expires_on < today
            and not self.swept
        )


def held(decisions: Mapping[str, SharingDecision], today: date) -> dict[str, SharingDecision]:
    """The decisions as partners may still hold personal data under them: one that lapsed with
    no removal sent yet counts as in force, so that the removal is sent once, by whichever comes
    first (the sweep, a withdrawal, a merge or an erasure)."""
    return {
        key: SharingDecision(d.status) if d.lapsed_unswept(today) else d
        for key, d in decisions.items()
    }


def scope_key(agency: str | None, category: str | None) -> str | None:
    """The key a sharing decision is kept under (as registry keys it), None if it names neither."""
    if agency:
        return f"agency:{agency}"
    if category:
        return f"category:{category}"
    return None


def may_share(
    decisions: Mapping[str, SharingDecision], code: str, category: str, today: date
) -> bool:
    """Whether the person's data may reach the partner at person level (pseudonymised or
    personal). Registry's rule: a decision about the partner itself wins over one about its
    category."""
    own = decisions.get(f"agency:{code}")
    if own is not None:
        return own.in_force(today)
    by_category = decisions.get(f"category:{category}")
    return by_category is not None and by_category.in_force(today)


# --- redaction ---------------------------------------------------------------------------


def _is_about_a_person(data: Mapping[str, Any]) -> bool:
    return any(field in data for field in PERSON_IDS)


def redact(data: Mapping[str, Any], scope: Scope, key: bytes, on: date) -> dict[str, Any]:
    """The event data as `scope` allows (`personal` means the person consented: unchanged)."""
    if scope is Scope.PERSONAL:
        return dict(data)
    about_person = _is_about_a_person(data)
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field in PERSON_IDS:
            if value is not None:
                out[PERSON_IDS[field]] = pseudonym(key, value)
        elif field in LINKED_IDS:
            out[field] = None if value is None else linked_id(key, field, value)
        elif field == BIRTH_DATE:
            if value is not None:
                out["age_band"] = age_band(date.fromisoformat(str(value)), on)
        elif field == REFERENCE:
            if not about_person:
                out[field] = value
        elif field in SHAREABLE:
            out[field] = value
    if scope is Scope.AGGREGATE and about_person:
        out = {field: value for field, value in out.items() if field in AGGREGATE_FIELDS}
    return out


def redact_subject(
    subject_field: str | None, subject: str | None, scope: Scope, key: bytes
) -> str | None:
    """The event's subject (its aggregate id) as `scope` allows."""
    if subject is None or scope is Scope.PERSONAL:
        return subject
    if subject_field in PERSON_IDS:
        return None if scope is Scope.AGGREGATE else pseudonym(key, subject)
    if subject_field in LINKED_IDS:
        return None if scope is Scope.AGGREGATE else linked_id(key, subject_field, subject)
    return subject


def removal_data(data: Mapping[str, Any], key: bytes, personal: bool) -> dict[str, Any]:
    """What a removal tells a partner: whom to delete, by the identifiers it holds."""
    out: dict[str, Any] = {
        "reason": data["reason"],
        "person_pseudonym": pseudonym(key, data["person_id"]),
    }
    if data.get("survivor_id"):
        out["survivor_pseudonym"] = pseudonym(key, data["survivor_id"])
    if personal:
        # Only a partner that was given the person's id (with their consent) is told it again.
        out["person_id"] = str(data["person_id"])
    return out


def partner_event(
    *,
    item: str,
    stream: str,
    kind: EntryKind,
    event_type: str,
    subject: str | None,
    time: datetime,
    scope: Scope,
    data: Mapping[str, Any],
    dataschema: str | None = None,
) -> dict[str, Any]:
    """A CloudEvents 1.0 document as partners receive it (feed item, webhook body, Kafka value).

    `partnerstream`, `partnerscope` and `partnerkind` are extension attributes.
    """
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": item,
        "source": SOURCE,
        "type": event_type,
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "partnerstream": stream,
        "partnerscope": scope.value,
        "partnerkind": kind.value,
        "data": dict(data),
    }
    if subject is not None:
        body["subject"] = subject
    if dataschema is not None:
        body["dataschema"] = dataschema
    return body


def partner_topic(code: str, stream: str) -> str:
    """Kafka topic of one partner's copy of a stream: `partner.<code>.<stream>`.

    One topic per partner and stream (not one `partner.<stream>` shared by all): pseudonyms and
    consent differ per partner, and Kafka authorises reads per topic (by prefix), not per key, so
    an ACL on `partner.<code>.` is what keeps partners from reading each other's records.
    """
    return f"partner.{code}.{stream}"


# --- cursors -----------------------------------------------------------------------------


def encode_cursor(key: bytes, position: int) -> str:
    """An opaque cursor after feed position `position`, valid only for the partner of `key`.

    The position is masked with a per-partner value so that two partners cannot compare their
    cursors, and tagged so that a cursor made up or taken from another partner is refused.
    """
    mask = int.from_bytes(hmac.digest(key, b"cursor-mask", "sha256")[:8])
    masked = (position ^ mask).to_bytes(8)
    tag = hmac.digest(key, b"cursor:" + masked, "sha256")[:8]
    return base64.urlsafe_b64encode(masked + tag).decode().rstrip("=")


def decode_cursor(key: bytes, cursor: str) -> int | None:
    """The position a cursor of this partner holds, None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16:
        return None
    masked, tag = raw[:8], raw[8:]
    if not hmac.compare_digest(tag, hmac.digest(key, b"cursor:" + masked, "sha256")[:8]):
        return None
    mask = int.from_bytes(hmac.digest(key, b"cursor-mask", "sha256")[:8])
    return int.from_bytes(masked) ^ mask


# --- API keys and webhook secrets --------------------------------------------------------

API_KEY_PREFIX = "lxp_"


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once
    prefix: str  # kept, to tell keys apart
    digest: str  # kept, to recognise the key


def new_api_key() -> NewKey:
    """A random partner API key. 256 random bits need no slow hash: SHA-256 is kept."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(key, key[:12], key_digest(key))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def webhook_secret(master: bytes, subscription_id: uuid.UUID, version: int) -> str:
    """The subscription's signing secret (`whsec_...`), derived, so no copy of it is stored."""
    raw = hmac.digest(master, f"webhook:{subscription_id}:{version}".encode(), "sha256")
    return "whsec_" + base64.b64encode(raw).decode()


def signature_header(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> str:
    """`webhook-signature` (Standard Webhooks): one `v1,` signature per secret in use."""
    return " ".join(Webhook(s).sign(msg_id, at, body) for s in secrets_)


# --- retries -----------------------------------------------------------------------------


def retry_delay(schedule: Sequence[float], failed_attempts: int) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures; None: give up."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    return schedule[failed_attempts - 1]


# Characters PostgreSQL text refuses (NUL) or a log reader should not be handed raw.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def attempt_error(text: str) -> str:
    """An attempt's error as it is kept: what a partner's server answered (or what failed) is
    any text at all, and a NUL in it would make the whole pass fail to record its outcomes."""
    return _UNPRINTABLE.sub("\ufffd", text)[:500]


def succeeded(status_code: int) -> bool:
    """Standard Webhooks: any 2xx is a success; everything else (and no answer) is retried."""
    return 200 <= status_code < 300


# --- webhook addresses -------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64's well-known prefix: the last 32 bits are an IPv4 address a NAT64 gateway reaches.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def blocked_address(address: IPAddress) -> bool:
    """Whether webhooks may not go to `address`: anything but a public unicast address, so not
    private networks, loopback, link-local (cloud metadata at 169.254.169.254), shared (CGNAT),
    multicast, reserved or unspecified ones, nor an IPv4 one of those inside an IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return blocked_address(address.ipv4_mapped)
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and blocked_address(embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def address_literal(host: str) -> IPAddress | None:
    """The address a host names by itself, in any form a resolver takes: `10.0.0.1`, `::1`, and
    the IPv4 shorthands `127.1`, `2130706433` or `0x7f.1`; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def host_refusal(host: str) -> str | None:
    """Why webhooks may not go to `host` as written, None if nothing is known against it (a
    name is checked again, resolved, each time a webhook is sent)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is the sending machine itself"
    address = address_literal(name)
    if address is not None and blocked_address(address):
        return f"{host} is a private, loopback, link-local or reserved address"
    return None


# A host name as resolvers take it once the HTTP client has IDNA-encoded it: dot-separated
# labels of letters, digits, hyphens (and underscores, which some DNS names carry).
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL as the sending client (httpx) reads it."""

    url: httpx.URL
    scheme: str
    host: str  # IDNA-encoded, lower case, an IPv6 address without brackets
    port: int


def webhook_target(url: str) -> WebhookTarget:
    """The URL parsed by the parser the webhook client sends with, so that what is accepted
    when subscribing is what can be sent; `ValueError` saying why it cannot be."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors too
        raise ValueError(f"is not a URL the webhook client can send to ({exc})") from exc
    if parsed.scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    if not host:
        raise ValueError("has no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"has no valid IPv6 address ({exc})") from exc
    elif len(host) > 253 or not _HOST_NAME.match(host):
        raise ValueError(f"has a host name no resolver takes: {host[:100]}")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("has a port outside 1-65535")
    default = 443 if parsed.scheme == "https" else 80
    return WebhookTarget(parsed, parsed.scheme, host, port or default)


def webhook_url_problem(url: str, *, https_only: bool, private_allowed: bool) -> str | None:
    """Why a partner may not subscribe this webhook URL, or None: one the client cannot parse
    or send to, plain http where `https_only`, or (unless `private_allowed`) a host that is
    itself a private, loopback or link-local address."""
    try:
        target = webhook_target(url)
    except ValueError as exc:
        return str(exc)
    if https_only and target.scheme != "https":
        return "must be https"
    if not private_allowed and (refusal := host_refusal(target.host)):
        return f"must reach a public address: {refusal}"
    return None
