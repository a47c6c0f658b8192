"""Kafka topics: one per aggregate stream (DESIGN.md section 3), and the class of each, which
sets how long the broker keeps its records (docs/operations.md, "Retention of events")."""

from __future__ import annotations

import enum
import functools

REGISTRY_PEOPLE = "registry.people"
MATCHING_VACANCIES = "matching.vacancies"
MATCHING_REFERRALS = "matching.referrals"
MATCHING_AGENCIES = "matching.agencies"
PREDEPARTURE_ORIENTATIONS = "predeparture.orientations"
NOTIFY_DELIVERIES = "notify.deliveries"
# The erasure ledger: one `ErasureRecorded` per id erased (ids and dates only), kept for ever,
# which `labourx erasures reapply` reads after a restore (docs/operations.md, "Back up and
# restore"). Non-personal, so kept as long as the non-personal class: never bound that class
# below the age of the oldest backup that may be restored.
REGISTRY_ERASURES = "registry.erasures"

AGGREGATE_TOPICS = (
    REGISTRY_PEOPLE,
    MATCHING_VACANCIES,
    MATCHING_REFERRALS,
    MATCHING_AGENCIES,
    PREDEPARTURE_ORIENTATIONS,
    NOTIFY_DELIVERIES,
    REGISTRY_ERASURES,
)

DEAD_LETTER_PREFIX = "dlq."
RETRY_PREFIX = "retry."
# notify's per-partner copies of the streams, `partner.<code>.<stream>`
# (services/notify/partners/streams.py `partner_topic`).
PARTNER_PREFIX = "partner."


def dead_letter_topic(group: str) -> str:
    return f"{DEAD_LETTER_PREFIX}{group}"


def retry_topic(group: str) -> str:
    """Where `labourx dlq replay <group>` sends that group's dead letters.

    Only this group subscribes to it, so a replay never reaches the other groups reading the
    original topic (they applied or dead-lettered those records already).
    """
    return f"{RETRY_PREFIX}{group}"


class TopicClass(enum.StrEnum):
    """What a topic holds, for how long the broker keeps it (a retention setting per class)."""

    # Some event on it has a field that identifies or describes a person by itself.
    PERSONAL = "personal"
    # No such field: ids (a person's only as the opaque `person_id`), codes, dates, statuses.
    NON_PERSONAL = "non_personal"
    # Copies of records a consumer group could not apply (`dlq.<group>`), and those copies
    # replayed to the group (`retry.<group>`): of any topic, so of personal ones too.
    DEAD_LETTER = "dead_letter"


def personal_fields() -> dict[str, frozenset[str]]:
    """The fields that make an aggregate topic personal, per topic: those its events mark
    `Personal` (shared/personal.py), where they are declared. A topic with none is non-personal:
    its events name a person only by `person_id`, which only registry (and the read models that
    purge on erasure) can link to anyone; the other facts about them (skills, statuses,
    destinations, costs) are then pseudonymous. Staff ids (`changed_by`, ...) are on every topic:
    the record of official acts, not data about the people served.
    tests/unit/test_topic_classes.py reads every field of every catalogued event and fails on one
    that is neither marked nor in its list of non-personal fields."""
    return _personal_fields()


@functools.cache
def _personal_fields() -> dict[str, frozenset[str]]:
    # Imported here: the event modules import this one for the topic names.
    from shared.events.catalogue import CATALOGUE
    from shared.personal import model_marks

    found: dict[str, set[str]] = {}
    for spec in CATALOGUE.values():
        marked = model_marks(spec.model)
        if marked:
            found.setdefault(spec.topic, set()).update(marked)
    return {topic: frozenset(fields) for topic, fields in found.items()}


def topic_class(topic: str) -> TopicClass | None:
    """The class of a labourx topic; None for a name labourx does not make."""
    if topic.startswith((DEAD_LETTER_PREFIX, RETRY_PREFIX)):
        return TopicClass.DEAD_LETTER
    if topic.startswith(PARTNER_PREFIX):
        # What a partner's copy carries depends on its subscription's scope, up to everything
        # of a personal stream: classed for the most it may hold.
        return TopicClass.PERSONAL
    if topic in personal_fields():
        return TopicClass.PERSONAL
    if topic in AGGREGATE_TOPICS:
        return TopicClass.NON_PERSONAL
    return None
