"""Prometheus rules and scrape configs, Grafana dashboards: valid, and reading only metrics the
services really export (asked of running services' /metrics)."""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from labourx.catalog import SERVICES
from tests.deploy.files import (
    GRAFANA,
    PROMETHEUS,
    PROMETHEUS_SERIES,
    TARGET_LABELS,
    WorkerProcess,
    grafana_to_promql,
    label_names,
    series_names,
    tool,
    workloads,
    yaml_documents,
)

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

RULES = PROMETHEUS / "rules" / "labourx.yml"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in yaml_documents(RULES)[0]["groups"] for rule in group["rules"]]


def _dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, PromQL) for every query of every dashboard."""
    queries = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                queries.append((path.name, panel["title"], grafana_to_promql(target["expr"])))
    return queries


def test_alert_rules_pass_promtool() -> None:
    done = _promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_fire_on_the_failures_they_name_and_only_then() -> None:
    done = _promtool("test", "rules", "tests/labourx-alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    tested = set(
        re.findall(r"alertname: (\w+)", (PROMETHEUS / "tests/labourx-alerts.test.yml").read_text())
    )
    assert tested == {alert["alert"] for alert in _alerts()}, "every alert has a unit test"


def test_the_alerts_the_operations_team_asked_for_exist() -> None:
    reads = {metric for alert in _alerts() for metric in series_names(alert["expr"])}
    for metric in (
        "labourx_consumer_lag",  # consumer lag
        "labourx_dead_letters_total",  # dead letters growing
        "labourx_outbox_oldest_unsent_age_seconds",  # outbox backlog age
        "labourx_http_requests_total",  # 5xx rate
        "labourx_http_request_duration_seconds_bucket",  # p99 latency
        "labourx_relay_leader",  # relay not leading
    ):
        assert metric in reads, metric
    not_leading = next(a for a in _alerts() if a["alert"] == "LabourxRelayNotLeading")
    for name in SERVICES:
        assert f'service="{name}"' in not_leading["expr"], f"{name}'s relay is not watched"


def test_the_compose_scrape_config_passes_promtool() -> None:
    done = _promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_kubernetes_scrape_config_keeps_the_labels_the_rules_use() -> None:
    # Debian's promtool is built without Kubernetes discovery, so this one is read here: it
    # must turn the pod labels of deploy/k8s into the same service/role labels.
    config = yaml.safe_load((PROMETHEUS / "prometheus-k8s.yml").read_text())
    assert (
        config["rule_files"]
        == yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["rule_files"]
    )
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "labourx"
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["labourx"]}}]
    targets = {
        relabel["target_label"]: relabel["source_labels"]
        for relabel in job["relabel_configs"]
        if "target_label" in relabel
    }
    label_of = {
        "service": "app.kubernetes.io/name",
        "role": "app.kubernetes.io/component",
    }
    for target, pod_label in label_of.items():
        source = "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", pod_label)
        assert targets[target] == [source]
    for name, workload in workloads():
        if workload["kind"] == "Deployment":
            pod = workload["spec"]["template"]["metadata"]
            assert pod["annotations"]["prometheus.io/scrape"] == "true", name
            assert {label_of["service"], label_of["role"]} <= set(pod["labels"]), name


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboards_parse_and_use_the_provisioned_data_source(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    assert dashboard["panels"]
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())[
        "datasources"
    ][0]
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
            assert panel["targets"], panel["title"]


def test_there_is_a_dashboard_per_service_and_one_for_the_event_flow() -> None:
    names = {p.stem for p in DASHBOARDS}
    assert names == {*SERVICES, "event-flow"}
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses recording rules with Prometheus' own parser.
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": expr}
                    for i, (_, _, expr) in enumerate(_dashboard_queries())
                ],
            }
        ]
    }
    file = tmp_path / "dashboards.yml"
    file.write_text(yaml.safe_dump(rules))
    done = _promtool("check", "rules", str(file))
    assert done.returncode == 0, done.stdout + done.stderr


def _series(exposition: str) -> set[str]:
    """Series names a /metrics page declares (with each metric type's suffixes)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            base = re.sub(r"_total$", "", name) if kind == "counter" else name
            names |= {base + suffix for suffix in SUFFIXES.get(kind, ("",))}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def _label_names_of_metrics() -> dict[str, set[str]]:
    """Each labourx metric's series names mapped to the labels it is declared with."""
    labels: dict[str, set[str]] = {}
    for collector in list(REGISTRY._collector_to_names):
        if isinstance(collector, MetricWrapperBase):
            for name in REGISTRY._collector_to_names[collector]:
                extra = {"le"} if name.endswith("_bucket") else set()
                labels[name] = set(collector._labelnames) | extra
    return labels


async def test_dashboards_and_alerts_read_only_metrics_the_services_export(
    registry_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    predeparture_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
    jobs_process: WorkerProcess,
) -> None:
    # Every API's /metrics, and a jobs process's (what only the processes without an API
    # import, e.g. the scheduled jobs' counters, shows there).
    exported = _series(jobs_process.metrics)
    for client in (registry_client, matching_client, predeparture_client, notify_client):
        response = await client.get("/metrics")
        assert response.status_code == 200
        exported |= _series(response.text)
    assert {"labourx_http_requests_total", "labourx_job_items_total"} <= exported
    declared_labels = _label_names_of_metrics()
    queries = [(f"{f}: {title}", expr) for f, title, expr in _dashboard_queries()]
    queries += [(f"alert {a['alert']}", a["expr"]) for a in _alerts()]
    for where, expr in queries:
        metrics = series_names(expr)
        assert metrics, f"{where} reads no metric"
        unknown = metrics - exported - PROMETHEUS_SERIES
        assert not unknown, f"{where} reads {unknown}, which no service exports"
        known_labels = TARGET_LABELS | {
            label for metric in metrics for label in declared_labels.get(metric, set())
        }
        assert label_names(expr) <= known_labels, (
            f"{where} uses labels {label_names(expr) - known_labels} that {metrics} lack"
        )
