"""docker-compose.yml: valid for docker-compose, and the stack an operator needs."""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from typing import Any

import yaml

from labourx.catalog import ALL, SERVICES
from tests.deploy.files import COMPOSE, COMPOSE_SECRETS, ENV_EXAMPLE, PROMETHEUS, tool
from tests.support import REPO

# Long-running processes with no HTTP API; scaled with `docker compose up --scale`.
WORKER_ROLES = ("relay", "consumer", "jobs")
# Run once at start, then exit: labourx's databases, migrations and topics; Keycloak's database.
ONE_SHOT = {"migrate", "keycloak-db"}
# Every service's database (the console's too: its sign-in sessions), then the topics.
MIGRATE = ["labourx migrate && labourx topics"]


def _compose(args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS}
    # The file compose reads for ${...} and the one it hands to every labourx process.
    env.update(LABOURX_ENV_FILE=str(ENV_EXAMPLE), **extra_env)
    return subprocess.run(
        [tool("docker-compose"), "--env-file", str(ENV_EXAMPLE), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@cache
def resolved() -> dict[str, Any]:
    """The compose file as docker-compose resolves it with .env.example and the secrets."""
    done = _compose(["config"], COMPOSE_SECRETS)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_file_validates_with_the_example_settings() -> None:
    done = _compose(["config", "-q"], COMPOSE_SECRETS)
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_until_the_secrets_are_set() -> None:
    done = _compose(["config", "-q"], {})
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr


def test_every_process_of_every_service_runs_with_production_settings() -> None:
    services = resolved()["services"]
    for name, spec in SERVICES.items():
        expected = {"api": ["api", name, "--host", "0.0.0.0", "--port", "8000"]}
        expected["relay"] = ["relay", name]
        if spec.consumers:
            expected["consumer"] = ["consume", name]
        if spec.jobs:
            expected["jobs"] = ["jobs", name]
        for role, command in expected.items():
            process = services.get(f"{name}-{role}")
            assert process is not None, f"{name}-{role} is missing"
            assert process["command"] == command
            env = process["environment"]
            assert env["LABOURX_ENV"] == "production"
            assert env["LABOURX_KAFKA_ENABLE_IDEMPOTENCE"] == "true"
            assert env["LABOURX_DATABASE_URL"].startswith("postgresql://labourx:compose-check@")
            assert env["LABOURX_KAFKA_BOOTSTRAP_SERVERS"].split(",") == [
                "kafka-1:9092",
                "kafka-2:9092",
                "kafka-3:9092",
            ]
        if not spec.jobs:
            assert f"{name}-jobs" not in services, f"`labourx jobs {name}` would exit at once"


def test_replication_suits_the_three_brokers_and_acks_all_needs_two_of_them() -> None:
    services = resolved()["services"]
    brokers = [svc for name, svc in services.items() if name.startswith("kafka-")]
    assert len(brokers) == 3
    for broker in brokers:
        env = broker["environment"]
        assert broker["image"].startswith("apache/kafka:3.")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, no ZooKeeper"
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    labourx_env = services["registry-api"]["environment"]
    replication = int(labourx_env["LABOURX_TOPIC_REPLICATION_FACTOR"])
    assert replication == len(brokers)
    assert int(brokers[0]["environment"]["KAFKA_MIN_INSYNC_REPLICAS"]) < replication


def test_scalable_processes_have_no_fixed_name_or_host_port() -> None:
    for name, service in resolved()["services"].items():
        assert "container_name" not in service, name
        if name.rsplit("-", 1)[-1] in WORKER_ROLES:
            assert "ports" not in service, f"{name} could not be scaled past one"


def test_everything_starts_in_order_of_health_and_is_health_checked() -> None:
    services = resolved()["services"]
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["entrypoint"] == ["sh", "-c"]
    assert migrate["command"] == MIGRATE
    assert set(migrate["depends_on"]) == {"postgres", "kafka-1", "kafka-2", "kafka-3"}
    assert all(dep["condition"] == "service_healthy" for dep in migrate["depends_on"].values())
    for name, service in services.items():
        if name.split("-")[0] in ALL:
            assert service["depends_on"] == {
                "migrate": {"condition": "service_completed_successfully"}
            }, name
        if name not in ONE_SHOT:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
            assert service["restart"] == "unless-stopped", name
        else:
            assert service["restart"] == "no", name


def test_state_lives_in_named_volumes_and_images_are_pinned() -> None:
    config = resolved()
    named = set(config["volumes"])
    for name in ("postgres", "kafka-1", "kafka-2", "kafka-3", "prometheus", "grafana"):
        service = config["services"][name]
        # A release, never a moving tag (PostgreSQL numbers its releases major.minor).
        assert re.search(r":v?\d+(\.\d+)+(-[\w.]+)?$", service["image"]), service["image"]
        sources = {v.split(":")[0] for v in service["volumes"] if isinstance(v, str)}
        sources |= {v["source"] for v in service["volumes"] if isinstance(v, dict)}
        assert sources & named, f"{name} keeps no named volume"


def test_prometheus_scrapes_every_labourx_process_of_the_compose_file() -> None:
    prometheus = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    names = {
        name
        for job in prometheus["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    processes = {
        name
        for name in resolved()["services"]
        if name.split("-")[0] in ALL and name not in ONE_SHOT
    }
    assert names == processes
    # Every process serves metrics on the port the scrape config expects, APIs too: production
    # serves none on an API's HTTP port (the one published).
    ports = {sd["port"] for job in prometheus["scrape_configs"] for sd in job["dns_sd_configs"]}
    for name in processes:
        service = resolved()["services"][name]
        assert {int(service["environment"]["LABOURX_METRICS_PORT"])} == ports, name
        assert all(p["target"] != int(*ports) for p in service.get("ports", [])), name
        if name.endswith("-api"):  # alive when the API answers, not just its metrics
            assert service["healthcheck"]["test"][-1] == "--api", name


def test_grafana_gets_the_provisioned_dashboards() -> None:
    grafana = resolved()["services"]["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"] if "/" in v}
    provider_file = REPO / "deploy/grafana/provisioning/dashboards/labourx.yml"
    provider = yaml.safe_load(provider_file.read_text())["providers"][0]
    mounted_from = mounts[provider["options"]["path"]]
    assert mounted_from == str(REPO / "deploy/grafana/dashboards")
    assert mounts["/etc/grafana/provisioning"] == str(REPO / "deploy/grafana/provisioning")


def test_the_compose_file_names_only_files_that_exist() -> None:
    text = COMPOSE.read_text()
    for path in ("deploy/Dockerfile", "deploy/prometheus", "deploy/grafana/provisioning"):
        assert path in text
        assert (REPO / path).exists()
