"""CloudEvents 1.0 envelope in structured JSON mode, carried in the Kafka record value."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.context import current_causation_id, current_correlation_id
from shared.events.base import Event

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope with the labourx tracing extensions."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = "1.0"
    id: uuid.UUID
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str
    correlationid: str
    causationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


def envelope_for(event: Event) -> CloudEvent:
    """Wrap a payload, tying it to the flow it belongs to through the ambient context."""
    event_id = uuid.uuid4()
    return CloudEvent(
        id=event_id,
        source=f"/labourx/{event.service}",
        type=event.event_type(),
        subject=event.subject(),
        time=datetime.now(UTC),
        dataschema=f"/{event.schema_path()}",
        correlationid=current_correlation_id() or str(event_id),
        causationid=current_causation_id(),
        data=json.loads(event.model_dump_json()),
    )


def record_headers() -> list[tuple[str, bytes]]:
    return [("content-type", CONTENT_TYPE.encode())]
