"""Producer, consumer and admin clients configured one way for every process."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.protocol.admin import DescribeConfigsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

from shared.events.topics import TopicClass, topic_class

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from shared.settings import Settings

log = logging.getLogger(__name__)


def make_producer(settings: Settings, *, linger_ms: int = 5) -> AIOKafkaProducer:
    """A producer that only counts a record sent once every in-sync replica has it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


def make_consumer(settings: Settings, group: str, topics: Iterable[str]) -> AIOKafkaConsumer:
    """A group consumer whose offsets move only when the runner commits them."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        max_poll_records=500,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        metadata_max_age_ms=30_000,
    )


# The broker deletes a partition's records a segment at a time, once the segment's newest record
# is past retention, and a segment takes records for segment.ms (7 days by default): a record
# could outlive its retention by that much. A bounded topic starts a segment daily, or more often
# when its retention is shorter, so a record outlives its retention by a day at most.
SEGMENT_MS_MAX = 86_400_000


def topic_configs(settings: Settings, topic: str) -> dict[str, str]:
    """The configs labourx sets on a topic: the retention of its class, records deleted past it.

    Never compacted: a key (an entity's id) carries several types of event, of which compaction
    would keep only the last, and keep it for ever. A name of no class (a test's or a tool's
    topic) is kept as briefly as personal data: nothing says it holds none.
    """
    retention = {
        TopicClass.PERSONAL: settings.topic_retention_personal_ms,
        TopicClass.NON_PERSONAL: settings.topic_retention_non_personal_ms,
        TopicClass.DEAD_LETTER: settings.topic_retention_dead_letter_ms,
    }[topic_class(topic) or TopicClass.PERSONAL]
    configs = {"cleanup.policy": "delete", "retention.ms": str(retention)}
    if retention > 0:
        configs["segment.ms"] = str(min(retention, SEGMENT_MS_MAX))
    return configs


async def ensure_topics(settings: Settings, topics: Iterable[str]) -> list[str]:
    """Create missing topics with the configured partitions, replication and retention of their
    class (`topic_configs`); returns those made."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=settings.topic_partitions,
                    replication_factor=settings.topic_replication_factor,
                    topic_configs=topic_configs(settings, t),
                )
                for t in missing
            ]
        )
        created = []
        for result in response.to_object()["topic_errors"]:
            code = result["error_code"]
            if code == TopicAlreadyExistsError.errno:
                continue  # another process raced us to it
            if code:
                raise for_code(code)(
                    f"creating topic {result['topic']}: {result.get('error_message')}"
                )
            created.append(result["topic"])
        return created
    finally:
        await admin.close()


async def existing_topics(settings: Settings) -> list[str]:
    """The names of every topic on the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def align_topic_configs(settings: Settings, topics: Iterable[str]) -> list[str]:
    """Give existing topics the configs of their class (`topic_configs`): after a retention
    setting changed, or to topics made before labourx set any; returns those whose configs
    changed.

    Sets only those configs (IncrementalAlterConfigs), leaving any other a topic has, e.g. one
    an operator set with kafka-configs.sh. A value the topic holds only by the broker's default
    is set on the topic too, so that a change of the broker's defaults does not move it.
    """
    wanted = {t: topic_configs(settings, t) for t in dict.fromkeys(topics)}
    if not wanted:
        return []
    client = AIOKafkaClient(bootstrap_servers=settings.bootstrap_servers)
    await client.bootstrap()
    try:
        node = client.get_random_node()
        # Every config of each (None): Tansu cannot read a request that names some.
        resources = [(_TOPIC, t, None) for t in wanted]
        described = await client.send(node, DescribeConfigsRequest(resources))
        changed: list[str] = []
        alter: list[tuple[int, str, list[tuple[str, int, str]]]] = []
        for resource in described.to_object()["resources"]:
            topic = resource["resource_name"]
            _raise_for(resource, f"reading the configs of topic {topic}")
            held = {e["config_names"]: e for e in resource["config_entries"]}
            sets = [
                (name, _SET, value)
                for name, value in wanted[topic].items()
                if name not in held
                or held[name]["config_value"] != value
                or held[name].get("config_source", _TOPIC_SOURCE) != _TOPIC_SOURCE
            ]
            if any(name not in held or held[name]["config_value"] != v for name, _, v in sets):
                changed.append(topic)
            if sets:
                alter.append((_TOPIC, topic, sets))
        if alter:
            altered = await client.send(node, IncrementalAlterConfigsRequest(alter))
            for resource in altered.to_object()["responses"]:
                _raise_for(resource, f"setting the configs of topic {resource['resource_name']}")
        return changed
    finally:
        await client.close()


def _raise_for(resource: Mapping[str, Any], doing: str) -> None:
    if code := resource["error_code"]:
        raise for_code(code)(f"{doing}: {resource['error_message']}")


# The protocol's numbers: a topic as a config resource, the SET operation of
# IncrementalAlterConfigs, and DescribeConfigs' source of a value set on the topic itself.
_TOPIC = 2
_SET = 0
_TOPIC_SOURCE = 1


# IncrementalAlterConfigs (Kafka protocol API 44, version 0), which aiokafka lacks: its
# AlterConfigs replaces every config of a topic (resetting the others to the broker's
# defaults), and Tansu, the development broker, answers only the incremental one.
class _IncrementalAlterConfigsResponseV0(Response):  # type: ignore[misc]
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "responses",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
            ),
        ),
    )


class _IncrementalAlterConfigsRequestV0(RequestStruct):  # type: ignore[misc]
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = _IncrementalAlterConfigsResponseV0
    SCHEMA = Schema(
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                (
                    "configs",
                    Array(
                        ("name", String("utf-8")),
                        ("config_operation", Int8),
                        ("value", String("utf-8")),
                    ),
                ),
            ),
        ),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigsRequest(Request[_IncrementalAlterConfigsRequestV0]):  # type: ignore[misc]
    API_KEY = 44

    def __init__(self, resources: list[tuple[int, str, list[tuple[str, int, str]]]]) -> None:
        self._resources = resources

    def build(
        self, request_struct_class: type[_IncrementalAlterConfigsRequestV0]
    ) -> _IncrementalAlterConfigsRequestV0:
        return request_struct_class(self._resources, False)
