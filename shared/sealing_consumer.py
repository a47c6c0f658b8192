"""Consumers of registry's sealed person events (PersonRegistered/PersonUpdated v2): the one place
they are opened, so that each service's handlers keep taking the v1 records they always took.

`opening_sealed_events(handlers)` wraps a consumer group's handler map:

- each v2 type is opened with the person's key into its v1 model and handed to the v1 handler
  (as a v1 event: type and dataschema of v1);
- the key is read from the service's own `person_keys`; the people a batch meets for the first
  time cost one call to registry's internal endpoint (`LABOURX_REGISTRY_URL`, with
  `LABOURX_SERVICE_TOKEN`; `keys_for_batch`, the runner's `BatchHandler` prepare step; an event
  applied on its own asks for its own), and the keys are kept, so registry need not be up for
  people already known. Registry
  unreachable (or answering anything but the keys) is retried as a database outage is, never
  dead-lettered;
- registry holding no key (the person was erased, or is unknown to it): nothing of the event is
  applied, so a person erased before the event is consumed (a late consumer, a replayed dead
  letter, a rebuild) does not come back; counted in `labourx_sealed_events_unopened_total`;
- a v1 record published as the twin of a v2 event (an upgrade's migration window) is skipped:
  the v2 event applies the same change;
- PersonErased also destroys the service's copy of the key.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from prometheus_client import Counter

from shared.consumer import BatchHandler, Handler, PoisonEvent, expect
from shared.events.registry import PersonErased, SealedPersonDetails
from shared.sealing import SealBroken
from shared.sealing_events import OPENS_INTO, TWIN, opened_event
from shared.sealing_keys import forget_keys, keep_keys, stored_keys

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Mapping

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.events import CloudEvent, Event
    from shared.events.registry import PersonDetails
    from shared.settings import Settings
    from shared.work import Work

log = logging.getLogger(__name__)

KEYS_PATH = "/internal/v1/person-keys"

UNOPENED = Counter(
    "labourx_sealed_events_unopened_total",
    "Registry's person events a consumer did not apply: `erased` (registry holds no key of the "
    "person: erased, or unknown to it) or `twin` (a v1 copy of a v2 event, in an upgrade)",
    ["type", "reason"],
)


class RegistryUnreachable(ConnectionError):
    """Registry did not give the keys asked (down, unreachable, timed out, or refusing the
    service token): the consumer retries the event as it retries a database outage
    (shared/dberrors.py counts a ConnectionError as one)."""


@dataclass(frozen=True)
class RegistryKeys:
    """Where the runner asks registry for keys: one HTTP transport (its connections kept alive
    from one batch to the next), the endpoint's URL, the service token and the timeout."""

    transport: httpx.AsyncBaseTransport
    url: httpx.URL
    headers: dict[str, str]
    timeout: dict[str, float | None]


@asynccontextmanager
async def registry_keys_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[RegistryKeys]:
    """The runner's client of registry's person-keys endpoint (a `Work` resource), opened once.
    httpx's transport, not its client: every call is the same POST, and the client's layers
    (URL merging, cookies, auth and redirect handling, event hooks) cost about 0.2 ms of CPU a
    call, a fifth of it, for nothing this call uses."""
    async with httpx.AsyncHTTPTransport() as transport:
        yield RegistryKeys(
            transport,
            # As the client's base_url would: the path is appended to the URL's own.
            httpx.URL(settings.registry_url.rstrip("/") + KEYS_PATH),
            {
                "Authorization": f"Bearer {settings.service_credential()}",
                "Content-Type": "application/json",
            },
            httpx.Timeout(settings.registry_key_timeout_s).as_dict(),
        )


async def fetched_keys(
    registry: RegistryKeys, person_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, bytes]:
    """Registry's keys of `person_ids` (one call); an erased or unknown person is left out."""
    if not person_ids:
        return {}
    # Written as sent (UUIDs need no escaping).
    body = '{"person_ids":["' + '","'.join(map(str, person_ids)) + '"]}'
    request = httpx.Request(
        "POST",
        registry.url,
        headers=registry.headers,
        content=body.encode(),
        extensions={"timeout": registry.timeout},
    )
    try:
        answer = await registry.transport.handle_async_request(request)
        try:
            content = await answer.aread()
        finally:
            await answer.aclose()
    except httpx.HTTPError as exc:
        raise RegistryUnreachable(f"registry's person keys: {exc!r}") from exc
    if answer.status_code != 200:
        raise RegistryUnreachable(f"registry's person keys answered {answer.status_code}")
    try:
        keys = json.loads(content)["keys"]
        return {uuid.UUID(p): base64.urlsafe_b64decode(k) for p, k in keys.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not the keys: retried
        raise RegistryUnreachable(f"registry's person keys answered no keys: {exc!r}") from exc


# The keys a batch's `prepare` found (None: registry holds none), for the handlers of the batch's
# events in the same transaction (`session.info`): one SELECT and one call to registry a batch.
_BATCH_KEYS = "sealed_event_keys"


async def keys_for_batch(work: Work, events: list[tuple[CloudEvent, Event]]) -> None:
    """The keys of the people of a batch's sealed events, as `key_for` finds them one by one,
    with one SELECT, at most one call to registry and one INSERT for the whole batch."""
    person_ids = {expect(payload, SealedPersonDetails).person_id for _, payload in events}
    found: dict[uuid.UUID, bytes | None] = dict(await stored_keys(work.session, person_ids))
    missing = person_ids - found.keys()
    if missing:
        registry = await work.resource(registry_keys_client)
        fetched = await fetched_keys(registry, missing)
        await keep_keys(work.session, fetched)
        found |= {person_id: fetched.get(person_id) for person_id in missing}
    work.session.info.setdefault(_BATCH_KEYS, {}).update(found)


async def key_for(work: Work, person_id: uuid.UUID) -> bytes | None:
    """The person's key: the one this service keeps, else registry's (then kept); None when
    registry holds none (erased or unknown)."""
    batch: dict[uuid.UUID, bytes | None] = work.session.info.get(_BATCH_KEYS, {})
    if person_id in batch:
        return batch[person_id]
    held = await stored_keys(work.session, [person_id])
    if person_id in held:
        return held[person_id]
    registry = await work.resource(registry_keys_client)
    key = (await fetched_keys(registry, [person_id])).get(person_id)
    if key is not None:
        await keep_keys(work.session, {person_id: key})
    return key


def _opening(handler: Handler, plain_type: type[PersonDetails]) -> Handler:
    plain_event_type = plain_type.event_type()
    plain_schema = f"/{plain_type.schema_path()}"

    async def open_then_apply(work: Work, event: CloudEvent, payload: Event) -> None:
        key = await key_for(work, expect(payload, SealedPersonDetails).person_id)
        if key is None:
            UNOPENED.labels(event.type, "erased").inc()
            log.info("sealed event %s of a person registry holds no key of: not applied", event.id)
            return
        try:
            plain = opened_event(payload, key)
        except SealBroken as exc:
            raise PoisonEvent(f"sealed part does not open: {exc}") from exc
        as_plain = event.model_copy(update={"type": plain_event_type, "dataschema": plain_schema})
        await handler(work, as_plain, plain)

    return BatchHandler(open_then_apply, keys_for_batch)


def _skipping_twins(handler: Handler) -> Handler:
    async def unless_twin(work: Work, event: CloudEvent, payload: Event) -> None:
        if (event.model_extra or {}).get(TWIN):
            UNOPENED.labels(event.type, "twin").inc()
            return
        await handler(work, event, payload)

    return unless_twin


def _forgetting(handler: Handler | None) -> Handler:
    async def erase_then_forget(work: Work, event: CloudEvent, payload: Event) -> None:
        if handler is not None:
            await handler(work, event, payload)
        erased = expect(payload, PersonErased).person_id
        await forget_keys(work.session, [erased])
        # A later event of the batch finds no key of the person, as it would in the table.
        work.session.info.get(_BATCH_KEYS, {}).pop(erased, None)

    return erase_then_forget


def opening_sealed_events(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """A consumer group's handlers, reading registry's sealed person events (see above): the v2
    types through the group's v1 handlers (whatever it registered for v2 itself is replaced),
    and PersonErased forgetting the key."""
    wrapped = dict(handlers)
    for sealed_type, plain_type in OPENS_INTO.items():
        plain = handlers.get(plain_type.event_type())
        wrapped.pop(sealed_type.event_type(), None)
        if plain is None:
            continue
        wrapped[plain_type.event_type()] = _skipping_twins(plain)
        wrapped[sealed_type.event_type()] = _opening(plain, plain_type)
    erased = PersonErased.event_type()
    wrapped[erased] = _forgetting(handlers.get(erased))
    return wrapped
