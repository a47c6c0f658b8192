"""Registry's person events between their versions: a v1 record (`PersonRegistered`,
`PersonUpdated`, personal fields in clear) sealed into its v2 type, and a v2 event opened back
into the v1 model every handler already takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.events.registry import (
    PersonDetails,
    PersonRegistered,
    PersonRegisteredV2,
    PersonUpdated,
    PersonUpdatedV2,
    SealedPersonDetails,
)
from shared.personal import model_marks
from shared.sealing import open_sealed, seal

if TYPE_CHECKING:
    from shared.events.base import Event

# The fields of the person's record that travel only sealed: those `PersonDetails` marks personal.
SEALED_FIELDS: tuple[str, ...] = tuple(model_marks(PersonDetails))

# The CloudEvents extension of a v1 record published beside its v2 event in an upgrade's
# migration window (`LABOURX_PUBLISH_PERSON_EVENTS_V1`): the v2 event's id. Consumers that read
# v2 skip such a twin; older ones know no v2 and apply it.
TWIN = "sealedtwin"

# Each sealed type and the plain type it opens into.
OPENS_INTO: dict[type[SealedPersonDetails], type[PersonDetails]] = {
    PersonRegisteredV2: PersonRegistered,
    PersonUpdatedV2: PersonUpdated,
}
SEALS_INTO: dict[type[PersonDetails], type[SealedPersonDetails]] = {
    plain: sealed for sealed, plain in OPENS_INTO.items()
}


def sealed_event(event: PersonRegistered | PersonUpdated, key: bytes) -> SealedPersonDetails:
    """The v2 event of a v1 record: its personal fields sealed under the person's `key`."""
    sealed_type = SEALS_INTO[type(event)]
    data = event.model_dump(mode="json")
    personal = {name: data.pop(name) for name in SEALED_FIELDS}
    data["sealed"] = seal(key, event.person_id, sealed_type.event_type(), personal)
    return sealed_type.model_validate(data)


def opened_event(event: Event, key: bytes) -> PersonDetails:
    """The v1 record a v2 event seals, opened with the person's `key` (SealBroken when it does
    not open: another key, or a sealed part moved from another person's or type's event)."""
    if not isinstance(event, SealedPersonDetails):
        raise TypeError(f"{type(event).__name__} is not a sealed person event")
    plain_type = OPENS_INTO[type(event)]
    data = event.model_dump(mode="json", exclude={"sealed"})
    opened = open_sealed(key, event.person_id, event.event_type(), event.sealed)
    return plain_type.model_validate({**data, **{name: opened.get(name) for name in SEALED_FIELDS}})
