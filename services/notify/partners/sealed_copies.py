"""Partners' Kafka copies of a person's records in `personal` scope, sealed: an erasure reaches
them the moment it commits (issue 20, point 1; docs/architecture.md, "Erasure on the event log").

A record on `partner.<code>.<stream>` that is about a person and in `personal` scope carries
that person's personal fields only in `data.sealed`, AES-256-GCM under the partner's own key of
the person (`shared.sealing.partner_person_key`: HKDF-SHA256 of the person's key, which notify
holds from registry, with the partner's code). The partner asks notify for that key
(`POST /v1/partners/me/person-keys`) while the person's consent covers it; the erasure deletes
the person's key, and with it every partner's, so every copy on every partner's topic is
ciphertext no one can open. The record says so in two CloudEvents extension attributes:

- `partnersealing`: the version of this format ("1");
- `sealedfor`: the person whose key opens `data.sealed` (also `data.person_id`).

`data.sealed` has registry's shape (shared/sealing.py): URL-safe base64 of a version byte (1),
a 96-bit nonce and the ciphertext with its tag; the associated data is the record's `type`, a
line feed and the `sealedfor` id; the plaintext a JSON object of the sealed fields, to merge
back into `data`. Sealed are every field a partner sees only in `personal` scope (names,
contacts, the date of birth, address below the province, the person's reference, free text,
staff, and anything unclassified: services/notify/partners/redaction.py) and every field the
event's model marks personal (shared/personal.py: ethnicity, disability, a certificate
number), which beside the person's id in clear identify them. Ids and the fields
`pseudonymised` scope shares stay in clear. The feed and webhooks, served from notify's
database over TLS to the authenticated partner and deleted on erasure, are not sealed.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from services.notify.partners import redaction
from services.notify.partners.scopes import Scope
from services.notify.partners.streams import EntryKind
from shared.events.base import CATALOGUE
from shared.events.registry import SealedPersonDetails
from shared.personal import model_marks
from shared.sealing import partner_person_key, seal
from shared.sealing_events import OPENS_INTO

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping

    from pydantic import BaseModel

SEALING = "partnersealing"  # CloudEvents extension: the version of the sealed format
SEALED_FOR = "sealedfor"  # CloudEvents extension: whose key opens `data.sealed`
VERSION = "1"


@cache
def _marked(event_type: str) -> frozenset[str]:
    """Top-level fields the event's model marks personal (a sealed v2 type: those of the v1
    record notify opened it into, which is what the feed entry holds)."""
    spec = CATALOGUE.get(event_type)
    if spec is None:
        return frozenset()
    model: type[BaseModel] = spec.model
    if issubclass(model, SealedPersonDetails):
        model = OPENS_INTO[model]
    return frozenset(path.split(".", 1)[0] for path in model_marks(model))


def _clear(field: str) -> bool:
    """Whether a field stays in clear: an id, or what `pseudonymised` scope shares as is."""
    return (
        field in redaction.PERSON_IDS
        or field in redaction.LINKED_IDS
        or (field in redaction.SHAREABLE)
    )


def sealed_fields(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """The fields of a `personal` record about a person that travel only sealed."""
    marked = _marked(event_type)
    return [field for field in data if field in marked or not _clear(field)]


def needs_sealing(document: Mapping[str, Any], person_id: uuid.UUID | None) -> bool:
    """Whether a partner's document is a `personal` event about a person (removals name whom
    to delete, by ids only, and stay in clear)."""
    return (
        person_id is not None
        and document.get("partnerscope") == Scope.PERSONAL.value
        and document.get("partnerkind") == EntryKind.EVENT.value
    )


def sealed_document(
    document: Mapping[str, Any], person_id: uuid.UUID, partner_code: str, person_key: bytes
) -> dict[str, Any]:
    """The document with its personal fields sealed under the partner's key of the person."""
    data = dict(document["data"])
    personal = {field: data.pop(field) for field in sealed_fields(document["type"], data)}
    key = partner_person_key(person_key, partner_code)
    data["sealed"] = seal(key, person_id, document["type"], personal)
    return {**document, SEALING: VERSION, SEALED_FOR: str(person_id), "data": data}
