"""Every labourx service, for the CLI, the dev runner and the tests."""

from __future__ import annotations

from services.matching.app import SPEC as MATCHING
from services.notify.app import SPEC as NOTIFY
from services.predeparture.app import SPEC as PREDEPARTURE
from services.registry.app import SPEC as REGISTRY
from shared.service import ServiceSpec

SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec for spec in (REGISTRY, MATCHING, PREDEPARTURE, NOTIFY)
}
