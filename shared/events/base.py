"""Event payload base class and the catalogue that maps a type string to its model and topic."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "lao.labourx"


class Event(BaseModel):
    """Base of every event payload. Subclasses are named in the past tense."""

    # Consumers must ignore fields they do not know, so that producers can add optional ones.
    model_config = ConfigDict(extra="ignore", frozen=True)

    service: ClassVar[str]
    entity: ClassVar[str]
    verb: ClassVar[str]
    version: ClassVar[int]
    topic: ClassVar[str]
    subject_field: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.service}.{cls.entity}.{cls.verb}.v{cls.version}"

    @classmethod
    def schema_path(cls) -> str:
        """Where the checked-in JSON Schema of this type lives, relative to the repository."""
        return f"shared/schemas/{cls.event_type()}.json"

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: builtins.type[Event]
    topic: str
    service: str


CATALOGUE: dict[str, EventSpec] = {}

E = TypeVar("E", bound=type[Event])


def catalogued(model: E) -> E:
    """Class decorator: adds an event model to the catalogue under its type string."""
    spec = EventSpec(model.event_type(), model, model.topic, model.service)
    if spec.type in CATALOGUE and CATALOGUE[spec.type].model is not model:
        raise ValueError(f"event type {spec.type} is catalogued twice")
    CATALOGUE[spec.type] = spec
    return model


def parse_data(event_type: str, data: dict[str, Any]) -> Event:
    """Validate an event's data against the catalogued model of its type."""
    return CATALOGUE[event_type].model.model_validate(data)
