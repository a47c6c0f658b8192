"""`labourx topics` against a real broker: every topic gets its class's retention when made, and
a changed setting reaches topics that exist, partners' topics included, and nothing else of
theirs. The broker reports what it holds through DescribeConfigs, read here with aiokafka's own
admin client. Tansu (the development broker) stores and reports topic configs; it deletes no
record by them (docs/operations.md, "Retention of events")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.client import AIOKafkaClient

from labourx.catalog import SERVICES
from shared.events.topics import REGISTRY_PEOPLE, TopicClass, topic_class
from shared.kafka import IncrementalAlterConfigsRequest, ensure_topics, topic_configs
from shared.provision import all_topics, prepare_topics
from shared.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from shared.infra import TansuBroker

DAY_MS = 86_400_000


def _settings(broker: TansuBroker | str, **retention: int) -> Settings:
    servers = broker if isinstance(broker, str) else broker.bootstrap_servers
    return Settings(kafka_bootstrap_servers=servers, **retention)  # type: ignore[arg-type]


async def _held(settings: Settings, topics: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each topic's configs as the broker reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        )
    finally:
        await admin.close()
    held: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            assert resource["error_code"] == 0, resource
            held[resource["resource_name"]] = {
                e["config_names"]: e["config_value"] for e in resource["config_entries"]
            }
    return held


async def _operator_sets(settings: Settings, topic: str, name: str, value: str) -> None:
    """What `kafka-configs.sh --alter --add-config` does."""
    client = AIOKafkaClient(bootstrap_servers=settings.bootstrap_servers)
    await client.bootstrap()
    try:
        request = IncrementalAlterConfigsRequest([(2, topic, [(name, 0, value)])])
        response = await client.send(client.get_random_node(), request)
        assert [r["error_code"] for r in response.to_object()["responses"]] == [0]
    finally:
        await client.close()


async def test_every_provisioned_topic_holds_the_retention_of_its_class(
    broker: TansuBroker | str,
) -> None:
    settings = _settings(broker)
    await prepare_topics(settings, SERVICES.values())
    topics = all_topics(SERVICES.values())
    held = await _held(settings, topics)
    for topic in topics:
        wanted = topic_configs(settings, topic)
        assert {k: held[topic].get(k) for k in wanted} == wanted, topic
    assert held[REGISTRY_PEOPLE]["retention.ms"] == str(7 * DAY_MS)
    assert held["matching.vacancies"]["retention.ms"] == "-1"
    assert held["dlq.notify"]["retention.ms"] == str(7 * DAY_MS)
    assert held["retry.notify"]["retention.ms"] == str(7 * DAY_MS)
    assert {held[t]["cleanup.policy"] for t in topics} == {"delete"}


async def test_a_topic_made_by_a_process_gets_its_class_s_retention_too(
    broker: TansuBroker | str,
) -> None:
    # Relays, consumers, dead-letter replays and notify's partner jobs make topics on first use.
    settings = _settings(broker, topic_retention_personal_ms=2 * DAY_MS)
    partner = f"partner.t{uuid.uuid4().hex[:8]}.{REGISTRY_PEOPLE}"
    group = f"retention-{uuid.uuid4().hex[:8]}"
    made = await ensure_topics(settings, [partner, f"dlq.{group}"])
    assert sorted(made) == sorted([partner, f"dlq.{group}"])
    assert await ensure_topics(settings, [partner]) == []
    held = await _held(settings, made)
    assert held[partner]["retention.ms"] == str(2 * DAY_MS)
    assert held[f"dlq.{group}"]["retention.ms"] == str(7 * DAY_MS)


async def test_a_changed_setting_reaches_existing_topics_and_nothing_else_of_theirs(
    broker: TansuBroker | str,
) -> None:
    before = _settings(broker)
    partner = f"partner.t{uuid.uuid4().hex[:8]}.{REGISTRY_PEOPLE}"
    await prepare_topics(before, SERVICES.values())
    await ensure_topics(before, [partner])
    await _operator_sets(before, "matching.vacancies", "max.message.bytes", "2000000")
    # Long values: were the broker one that deletes (LABOURX_KAFKA_BOOTSTRAP_SERVERS), these
    # tests would still lose no other test's records.
    after = _settings(
        broker,
        topic_retention_personal_ms=30 * DAY_MS,
        topic_retention_non_personal_ms=3650 * DAY_MS,
        topic_retention_dead_letter_ms=14 * DAY_MS,
    )
    topics = [*all_topics(SERVICES.values()), partner]
    try:
        prepared = await prepare_topics(after, SERVICES.values())
        assert prepared.created == []
        assert set(topics) <= set(prepared.reconfigured)
        held = await _held(after, topics)
        expected = {
            TopicClass.PERSONAL: str(30 * DAY_MS),
            TopicClass.NON_PERSONAL: str(3650 * DAY_MS),
            TopicClass.DEAD_LETTER: str(14 * DAY_MS),
        }
        for topic in topics:
            cls = topic_class(topic)
            assert cls is not None
            assert held[topic]["retention.ms"] == expected[cls], topic
            assert held[topic]["cleanup.policy"] == "delete"
        # Kept for ever before, now bounded: its segments roll daily.
        assert held["matching.vacancies"]["segment.ms"] == str(DAY_MS)
        assert held["matching.vacancies"]["max.message.bytes"] == "2000000"
        # Run again with nothing changed: nothing to report.
        assert (await prepare_topics(after, SERVICES.values())).reconfigured == []
    finally:
        restored = await prepare_topics(before, SERVICES.values())
    assert set(topics) <= set(restored.reconfigured)
    assert (await _held(before, [REGISTRY_PEOPLE]))[REGISTRY_PEOPLE]["retention.ms"] == str(
        7 * DAY_MS
    )
