"""The outbox writer encodes an event's JSON once: the row's value must still be byte for byte
the envelope `CloudEvent.to_bytes` gives, and the envelope it answers the one `envelope_for`
makes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

import pytest

from shared.context import causation_id_var, correlation_id_var
from shared.events.base import Event
from shared.events.envelope import CloudEvent
from shared.events.registry import PersonErased
from shared.outbox.writer import _staged


class _Probe(Event):
    """What the catalogue's events hold between them: nesting, numbers, dates, None, text to
    escape."""

    service: ClassVar[str] = "registry"
    entity: ClassVar[str] = "probe"
    verb: ClassVar[str] = "written"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "registry.people"
    subject_field: ClassVar[str] = "probe_id"

    probe_id: uuid.UUID
    score: float
    amount: Decimal
    on: date
    at: datetime
    tags: list[str]
    nested: dict[str, list[int | None]]
    note: str | None = None


EVENTS: list[Event] = [
    PersonErased(
        person_id=uuid.uuid4(),
        erased_by='officer \u0e9a\u0eb1\u0e99 "quoted" \\ \x01 \u2028',
        office_code=None,
        erased_at=datetime(2026, 12, 5, 17, 0, 0, tzinfo=UTC),
    ),
    PersonErased(
        person_id=uuid.uuid4(),
        erased_by="x",
        office_code="VTE-01",
        erased_at=datetime(2026, 12, 5, 17, 0, 0, 123456, tzinfo=UTC),
    ),
    _Probe(
        probe_id=uuid.uuid4(),
        score=0.1 + 0.2,
        amount=Decimal("1.50"),
        on=date(2026, 1, 2),
        at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        tags=["a", "\u0ea5\u0eb2\u0ea7", ""],
        nested={"x": [1, None, 2**60], "": []},
        note=None,
    ),
    _Probe(
        probe_id=uuid.uuid4(),
        score=1e300,
        amount=Decimal("-0"),
        on=date(1, 1, 1),
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        tags=[],
        nested={},
        note="\U0001f600 {}}",
    ),
]


@pytest.mark.parametrize("causation", [None, "cause-1"])
@pytest.mark.parametrize("correlation", [None, "flow-1"])
@pytest.mark.parametrize("event", EVENTS)
def test_the_outbox_row_is_the_envelope_to_bytes_gives(
    event: Event, correlation: str | None, causation: str | None
) -> None:
    tokens = (correlation_id_var.set(correlation), causation_id_var.set(causation))
    try:
        envelope, row = _staged(event)
    finally:
        correlation_id_var.reset(tokens[0])
        causation_id_var.reset(tokens[1])
    # The envelope as envelope_for builds it, validated, with the same id and time.
    expected = CloudEvent(
        id=envelope.id,
        source=f"/labourx/{event.service}",
        type=event.event_type(),
        subject=event.subject(),
        time=envelope.time,
        dataschema=f"/{event.schema_path()}",
        correlationid=correlation or str(envelope.id),
        causationid=causation,
        data=json.loads(event.model_dump_json()),
    )
    assert envelope == expected
    assert row == (
        envelope.id,
        event.topic,
        expected.subject,
        expected.type,
        expected.to_bytes(),
    )
    assert CloudEvent.from_bytes(row[4]) == expected
