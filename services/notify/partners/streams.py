"""The streams partners subscribe to, the kinds of entry on them, and the CloudEvents
document (feed item, webhook body, Kafka value) each entry reaches a partner as."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from shared.events.base import CATALOGUE
from shared.events.topics import (
    MATCHING_AGENCIES,
    MATCHING_REFERRALS,
    MATCHING_VACANCIES,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_PEOPLE,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from services.notify.partners.scopes import Scope

# The aggregate streams partners may subscribe to: the ones notify's consumer reads.
STREAMS = (
    REGISTRY_PEOPLE,
    MATCHING_VACANCIES,
    MATCHING_REFERRALS,
    MATCHING_AGENCIES,
    PREDEPARTURE_ORIENTATIONS,
)

# Streams whose events name a person: where an erasure or a withdrawal appends its removal.
PERSON_STREAMS = tuple(
    stream
    for stream in STREAMS
    if any(
        "person_id" in spec.model.model_fields
        for spec in CATALOGUE.values()
        if spec.topic == stream
    )
)

SOURCE = "/labourx/notify/partners"
REMOVAL_TYPE = "lao.labourx.notify.partner_data.removed.v1"


class EntryKind(enum.StrEnum):
    EVENT = "event"
    REMOVAL = "removal"


class RemovalReason(enum.StrEnum):
    ERASED = "erased"  # the person was erased: delete everything about them
    CONSENT_WITHDRAWN = "consent_withdrawn"  # delete their personal data; the pseudonym stays
    MERGED = "merged"  # a duplicate record: delete its personal data, follow the survivor


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
