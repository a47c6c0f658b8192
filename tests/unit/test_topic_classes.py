"""Every topic labourx makes has a class, and a topic whose events carry personal data is classed
personal: derived from the `Personal` marks on the fields of every catalogued event
(shared/personal.py), and every unmarked field is listed here as not personal, so a new field
is a decision."""

from __future__ import annotations

import re
import types
import typing

import pytest
from pydantic import BaseModel, ValidationError

from labourx.catalog import SERVICES
from services.notify.partners.streams import STREAMS, partner_topic
from shared.events import CATALOGUE
from shared.events.topics import (
    AGGREGATE_TOPICS,
    TopicClass,
    dead_letter_topic,
    personal_fields,
    retry_topic,
    topic_class,
)
from shared.kafka import topic_configs
from shared.provision import all_topics
from shared.settings import Settings

if typing.TYPE_CHECKING:
    from collections.abc import Iterator

DAY_MS = 86_400_000

# Fields that say nothing about who a person is, wherever they appear: ids (a person's only as
# the opaque `person_id`), codes from reference lists, dates and times of acts, counts, statuses,
# and staff ids (the record of official acts, not data about the people served).
NOT_PERSONAL = {
    # ids and references to other records
    *("person_id", "survivor_id", "referral_id", "placement_id", "vacancy_id", "agency_id"),
    *("employer_id", "session_id", "enrolment_id", "migration_id", "consent_id", "cost_id"),
    *("message_id", "cause_event_id", "cause_event_type", "template_key", "record_version"),
    # codes
    *("province_code", "office_code", "office_province_code", "agency_code", "agency"),
    *("category", "destination_country", "destinations", "country", "isco08", "code"),
    *("standard", "language", "preferred_language", "channel", "currency", "item", "error_code"),
    # statuses, choices and counts
    *("status", "previous_status", "purpose", "method", "basis", "availability", "proficiency"),
    *("level", "years", "positions", "open_positions", "capacity", "attempts", "days_left"),
    *("overseas", "outreach", "automatic", "entered_late", "after_sent", "changed_fields"),
    *("willing_to_work_abroad", "contract_months", "amount"),
    # what a person can do and wants, pseudonymous behind person_id (like a referral's facts)
    *("sex", "isced_level", "skills", "skills_gained", "certificates", "languages"),
    *("experience", "jobseeker", "desired_occupations", "preferred_provinces"),
    *("abroad_countries", "consents"),
    # dates
    *("expires_on", "issued_on", "available_from", "departed_on", "returned_on"),
    *("passport_expires_on", "permit_expires_on", "return_due_on", "starts_on", "ended_on"),
    *("completed_on", "valid_until", "effective_on", "licence_expires_on", "starts_at"),
    *("ends_at", "at", "changed_at", "recorded_at", "registered_at", "updated_at", "merged_at"),
    *("erased_at", "placed_at", "ended_at", "entered_late_at"),
    # staff, by account id
    *("changed_by", "recorded_by", "registered_by", "updated_by", "merged_by", "erased_by"),
    *("placed_by", "ended_by", "entered_late_by"),
    # why a status moved: short texts officers pick or type about the case, not the person
    *("reason", "return_reason"),
}
# Fields personal on some topics and not on these: what they name is not a natural person.
NOT_PERSONAL_ON = {
    "matching.vacancies": {"reference", "title"},  # the vacancy's
    "matching.agencies": {"name", "licence_number"},  # a licensed recruitment company's
    "predeparture.orientations": {"venue"},  # where a session is held
}
# Names that suggest a person's identity: never waved through as not personal everywhere.
LOOKS_PERSONAL = re.compile(
    r"name|phone|email|birth|address|village|district|ethnic|disab|passport_number|number|"
    r"reference|national_id|document|venue"
)


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)
    if isinstance(annotation, types.UnionType):
        return


def _fields(model: type[BaseModel]) -> Iterator[str]:
    """Every field of an event, nested models' fields included."""
    for name, field in model.model_fields.items():
        yield name
        for nested in _models(field.annotation):
            yield from _fields(nested)


def _fields_by_topic() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for spec in CATALOGUE.values():
        found.setdefault(spec.topic, set()).update(_fields(spec.model))
    return found


def test_every_topic_the_provisioning_makes_has_a_class() -> None:
    topics = all_topics(SERVICES.values())
    assert set(AGGREGATE_TOPICS) <= set(topics)
    unclassed = [t for t in topics if topic_class(t) is None]
    assert not unclassed, f"add to shared/events/topics.py: {unclassed}"
    for spec in SERVICES.values():
        for consumer in spec.consumers:
            assert topic_class(dead_letter_topic(consumer.group)) is TopicClass.DEAD_LETTER
            assert topic_class(retry_topic(consumer.group)) is TopicClass.DEAD_LETTER
            assert retry_topic(consumer.group) in topics


def test_partner_topics_are_personal_whatever_their_stream() -> None:
    # What a partner's copy holds depends on its subscription's scope, up to personal data.
    for stream in STREAMS:
        assert topic_class(partner_topic("lao-agency", stream)) is TopicClass.PERSONAL


def test_a_name_labourx_does_not_make_has_no_class() -> None:
    assert topic_class("test.rebalance.1234") is None
    assert topic_class("registry.people.v2") is None


def test_every_event_field_is_decided_and_personal_fields_make_a_topic_personal() -> None:
    by_topic = _fields_by_topic()
    marked = personal_fields()
    assert set(by_topic) <= set(AGGREGATE_TOPICS), "an event on a topic with no class"
    assert not NOT_PERSONAL & set().union(*marked.values()), "decided both ways"
    assert not {f for f in NOT_PERSONAL if LOOKS_PERSONAL.search(f)}, "not personal anywhere?"
    for topic, fields in by_topic.items():
        personal = marked.get(topic, frozenset())
        assert not personal & NOT_PERSONAL_ON.get(topic, set()), f"{topic}: decided both ways"
        assert personal <= fields, f"{topic}: not a field of its events: {personal - fields}"
        undecided = fields - personal - NOT_PERSONAL - NOT_PERSONAL_ON.get(topic, set())
        assert not undecided, (
            f"{topic}: is each of {sorted(undecided)} personal? Mark it Personal(...) where "
            "the event declares it (shared/personal.py; the topic becomes personal) or add it "
            "to NOT_PERSONAL here"
        )
        expected = TopicClass.PERSONAL if personal else TopicClass.NON_PERSONAL
        assert topic_class(topic) is expected, topic


def test_the_people_and_the_certificates_are_personal_the_rest_is_not() -> None:
    # What the derivation above gives today, spelled out for a reader of the classes.
    personal = {t for t in AGGREGATE_TOPICS if topic_class(t) is TopicClass.PERSONAL}
    assert personal == {"registry.people", "predeparture.orientations"}
    assert {"given_name_lo", "date_of_birth", "phone", "email", "ethnicity"} <= personal_fields()[
        "registry.people"
    ]
    assert personal_fields()["predeparture.orientations"] == {"certificate_number"}


def test_each_class_gets_its_retention_and_records_are_only_ever_deleted() -> None:
    settings = Settings(
        topic_retention_personal_ms=3 * DAY_MS,
        topic_retention_non_personal_ms=-1,
        topic_retention_dead_letter_ms=2 * 60 * 60 * 1000,
    )
    assert topic_configs(settings, "registry.people") == {
        "cleanup.policy": "delete",
        "retention.ms": str(3 * DAY_MS),
        "segment.ms": str(DAY_MS),  # deleted a day after retention at the latest
    }
    # Kept for ever: no segment rolling to bound.
    assert topic_configs(settings, "matching.vacancies") == {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
    }
    assert topic_configs(settings, "dlq.notify")["retention.ms"] == str(2 * 60 * 60 * 1000)
    assert topic_configs(settings, "retry.notify")["segment.ms"] == str(2 * 60 * 60 * 1000)
    assert topic_configs(settings, partner_topic("x", "matching.vacancies"))["retention.ms"] == (
        str(3 * DAY_MS)
    )
    # A topic of no class (a test's, a tool's) is kept no longer than personal data.
    assert topic_configs(settings, "test.rebalance.1234") == topic_configs(
        settings, "registry.people"
    )


def test_default_retention_is_a_week_for_personal_data_and_dead_letters_for_ever_else() -> None:
    settings = Settings()
    assert settings.topic_retention_personal_ms == 7 * DAY_MS
    assert settings.topic_retention_dead_letter_ms == 7 * DAY_MS
    assert settings.topic_retention_non_personal_ms == -1


@pytest.mark.parametrize(
    "setting",
    ["topic_retention_personal_ms", "topic_retention_dead_letter_ms"],
)
@pytest.mark.parametrize("value", [-1, 0, -5])
def test_personal_data_and_dead_letters_are_never_kept_for_ever(setting: str, value: int) -> None:
    with pytest.raises(ValidationError, match=setting):
        Settings(**{setting: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -2])
def test_other_topics_keep_records_for_a_time_or_for_ever(value: int) -> None:
    with pytest.raises(ValidationError, match="topic_retention_non_personal_ms"):
        Settings(topic_retention_non_personal_ms=value)
    assert Settings(topic_retention_non_personal_ms=365 * DAY_MS).topic_retention_non_personal_ms


def test_retention_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABOURX_TOPIC_RETENTION_PERSONAL_MS", "86400000")
    assert Settings().topic_retention_personal_ms == DAY_MS
