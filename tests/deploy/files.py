"""Reading the deployment files, finding the validators, and reading names out of PromQL."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from tests.support import REPO

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"

# The variables docker compose itself needs that .env.example leaves for the operator to fill.
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "compose-check",
    "GRAFANA_ADMIN_PASSWORD": "compose-check",
    "KEYCLOAK_ADMIN_PASSWORD": "compose-check",
    "LABOURX_CONSOLE_OIDC_CLIENT_SECRET": "compose-check",
}

# Labels Prometheus puts on every series it scrapes (deploy/prometheus/*.yml), plus those it
# renames when a metric carries a label of the same name (`job` on labourx_job_*).
TARGET_LABELS = {
    "job",
    "instance",
    "service",
    "role",
    "namespace",
    "pod",
    "exported_job",
    "exported_service",
}
# Series Prometheus records itself for every target (not exported by a service).
PROMETHEUS_SERIES = {"up"}


@dataclass(frozen=True)
class WorkerProcess:
    """A labourx process without an HTTP API, and what its metrics port served."""

    process: subprocess.Popen[bytes]
    port: int
    metrics: str


def tool(name: str) -> str:
    """The path of a validator; a missing one fails the test (CI installs them, never skip)."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: run `make .venv/.debian-tools` (see the Makefile)"
    return path


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_resources() -> list[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes resource under deploy/k8s, with its file (kustomization excluded)."""
    return [
        (path, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml_documents(path)
    ]


def env_example() -> dict[str, str]:
    """The assignments .env.example makes (commented-out lines excluded)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


# PromQL words that look like names but are not series.
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}
_NAME = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"(?:[^\"\\]|\\.)*\"")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"")


def grafana_to_promql(expr: str) -> str:
    """A dashboard query as Prometheus receives it (Grafana's interval variables filled in)."""
    return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")


def series_names(expr: str) -> set[str]:
    """The series (metric) names a PromQL expression reads."""
    text = _SELECTOR.sub(lambda m: m.group(1) or "", expr)
    text = _STRING.sub('""', text)
    text = _GROUPING.sub("", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    return {name for name in _NAME.findall(text) if name.lower() not in _KEYWORDS}


def label_names(expr: str) -> set[str]:
    """The label names a PromQL expression matches on or groups by."""
    labels: set[str] = set()
    for selector in _SELECTOR.finditer(expr):
        labels |= {m.group(1) for m in _MATCHER.finditer(selector.group(2))}
    for grouping in _GROUPING.finditer(_STRING.sub('""', expr)):
        labels |= {name.strip() for name in grouping.group(2).split(",") if name.strip()}
    return labels


def workloads(*, keycloak: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Every Deployment and Job of labourx's image under deploy/k8s as (kind/name, resource);
    with `keycloak`, Keycloak's too (its own image and settings: tests/deploy/test_keycloak.py)."""
    return [
        (f"{doc['kind']}/{doc['metadata']['name']}", doc)
        for _, doc in k8s_resources()
        if doc["kind"] in {"Deployment", "Job"}
        and (keycloak or doc["metadata"]["labels"]["app.kubernetes.io/name"] != "keycloak")
    ]
