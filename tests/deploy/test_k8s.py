"""deploy/k8s: every manifest valid for Kubernetes, and what running labourx there needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fastapi.routing import APIRoute

from labourx.catalog import ALL, SERVICES
from shared.app import create_app
from shared.http_limits import BODY_CLASS
from shared.settings import Settings
from tests.deploy.files import K8S, k8s_resources, workloads
from tests.production_secrets import (
    CERTIFICATE_KEY,
    CONSOLE_OIDC_CLIENT_SECRET,
    PARTNER_PSEUDONYM_KEY,
    PARTNER_WEBHOOK_KEY,
    SERVICE_TOKEN,
    SMS_GATEWAY_TOKEN,
    SMS_INBOUND_SECRET,
)

# The oldest Kubernetes the manifests are written for (autoscaling/v2, policy/v1 and the
# restricted Pod Security Standard are all stable there).
KUBERNETES_VERSION = "1.30.0"


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_resources() if doc["kind"] == kind}


def _partitions() -> int:
    config = _by_kind("ConfigMap")["labourx-config"]["data"]
    return int(config["LABOURX_TOPIC_PARTITIONS"])


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


@pytest.mark.parametrize(
    "resource",
    [doc for _, doc in k8s_resources()],
    ids=[f"{path.name}:{doc['kind']}/{doc['metadata']['name']}" for path, doc in k8s_resources()],
)
def test_every_manifest_validates_against_the_kubernetes_schema(resource: dict[str, Any]) -> None:
    # strict: an unknown (e.g. misspelt) field fails instead of being silently dropped.
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_everything_is_in_the_labourx_namespace_and_holds_no_secret() -> None:
    for path, doc in k8s_resources():
        assert doc["kind"] != "Secret", f"{path.name}: secrets are created outside the repo"
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "labourx", path.name
    assert set(_by_kind("Namespace")) == {"labourx"}


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    images = {image["name"] for image in kustomization["images"]}
    used = {_container(w)["image"].split(":")[0] for _, w in workloads(keycloak=True)}
    assert used == images, "kustomize sets the image of every workload"


def test_every_workload_has_probes_resources_and_runs_as_non_root() -> None:
    for name, workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        container = _container(workload)
        if workload["kind"] == "Deployment":
            assert container.get("livenessProbe"), f"{name}: no liveness probe"
            assert container.get("readinessProbe"), f"{name}: no readiness probe"
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), f"{name}: {kind}"
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] != 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        container_security = container["securityContext"]
        assert container_security["allowPrivilegeEscalation"] is False, name
        assert container_security["capabilities"]["drop"] == ["ALL"], name
        assert container_security["readOnlyRootFilesystem"] is True, name
        env_from = container["envFrom"]
        assert {"configMapRef": {"name": "labourx-config"}} in env_from, name
        assert {"secretRef": {"name": "labourx-secrets"}} in env_from, name


def _app_paths(settings: Settings) -> set[str]:
    return {
        route.path
        for route in create_app(SERVICES["registry"], settings).routes
        if isinstance(route, APIRoute)
    }


def test_apis_are_probed_on_the_paths_the_app_serves() -> None:
    paths = _app_paths(Settings.model_construct(env="production"))
    for name in ALL:
        container = _container(_by_kind("Deployment")[f"{name}-api"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        # Readiness reads /readyz through deploy/healthcheck.py (see test_image.py).
        assert container["readinessProbe"]["exec"]["command"][-2:] == [
            "/app/deploy/healthcheck.py",
            "--ready",
        ]
        assert {"/healthz", "/readyz"} <= paths
    # Production's metrics are on LABOURX_METRICS_PORT (next test), not the API's port.
    assert "/metrics" not in paths
    assert "/metrics" in _app_paths(Settings())


def test_every_process_of_every_service_is_deployed() -> None:
    deployments = _by_kind("Deployment")
    for name, spec in SERVICES.items():
        expected = {"api": ["api", name, "--host", "0.0.0.0", "--port", "8000"]}
        expected["relay"] = ["relay", name]
        if spec.consumers:
            expected["consumer"] = ["consume", name]
        if spec.jobs:
            expected["jobs"] = ["jobs", name]
        for role, args in expected.items():
            deployment = deployments[f"{name}-{role}"]
            assert _container(deployment)["args"] == args
        assert (f"{name}-jobs" in deployments) == bool(spec.jobs)
    migrate = _by_kind("Job")["labourx-migrate"]
    assert _container(migrate)["args"] == ["labourx migrate && labourx topics"]
    console = _by_kind("Deployment")
    assert _container(console["console-api"])["args"] == [
        "api",
        "console",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert _container(console["console-jobs"])["args"] == ["jobs", "console"]


def test_every_process_serves_metrics_where_prometheus_looks() -> None:
    """On LABOURX_METRICS_PORT, APIs too: production serves no /metrics on an API's port,
    which its Service exposes; the metrics port is in no Service."""
    services = _by_kind("Service")
    for name, deployment in _by_kind("Deployment").items():
        if name == "keycloak":
            continue
        container = _container(deployment)
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert env["LABOURX_METRICS_PORT"] == annotations["prometheus.io/port"], name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert str(ports["metrics"]) == env["LABOURX_METRICS_PORT"], name
        if name.endswith("-api"):
            service = services[name.removesuffix("-api")]
            assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"], name
        else:  # no API: alive while it serves metrics
            assert container["livenessProbe"]["httpGet"]["port"] == "metrics", name


def _size(value: str) -> int:
    """An nginx size (`1m`, `512k`) in bytes."""
    units = {"k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def _routes() -> list[tuple[str, str, bool]]:
    """(service, path, is an upload) of every route of every app (shared/http_limits.py marks
    uploads), path parameters filled in."""
    return [
        (
            name,
            re.sub(r"\{[^}]+\}", "x", route.path),
            bool((route.openapi_extra or {}).get(BODY_CLASS)),
        )
        for name, spec in ALL.items()
        for router in spec.routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


@dataclass(frozen=True)
class _IngressPath:
    ingress: str
    host: str
    service: str
    path: str
    path_type: str
    regex: bool

    def reaches(self, public: str) -> bool:
        """ingress-nginx: with use-regex, a case-insensitive expression anchored at the start."""
        if self.path_type == "Exact":
            return public == self.path
        if self.regex:
            return re.match(self.path, public, re.IGNORECASE) is not None
        return public.startswith(self.path)


def _ingress_paths() -> list[_IngressPath]:
    return [
        _IngressPath(
            name,
            rule["host"],
            path["backend"]["service"]["name"],
            path["path"],
            path["pathType"],
            ingress["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/use-regex")
            == "true",
        )
        for name, ingress in _by_kind("Ingress").items()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]


def _chosen(paths: list[_IngressPath], host: str, public: str) -> _IngressPath | None:
    """The path nginx sends a request through: an exact one first, else the longest that
    matches (ingress-nginx orders a host's paths longest first)."""
    matching = [p for p in paths if p.host == host and p.reaches(public)]
    exact = [p for p in matching if p.path_type == "Exact"]
    ordered = exact or sorted(matching, key=lambda p: len(p.path), reverse=True)
    return ordered[0] if ordered else None


def test_the_ingress_refuses_the_bodies_the_apps_refuse() -> None:
    """Every route of every app reaches its service through an Ingress whose body limit is
    the app's for that route: 1 MiB, the upload limit for the routes marked as uploads."""
    settings = Settings()
    ingresses = _by_kind("Ingress")
    services = _by_kind("Service")
    for name, ingress in ingresses.items():
        limit = settings.max_upload_bytes if name.endswith("-uploads") else settings.max_body_bytes
        body_size = ingress["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/proxy-body-size"
        ]
        assert _size(body_size) == limit, name
        assert ingress["spec"]["ingressClassName"] == "nginx", name
        tls_hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
        assert {rule["host"] for rule in ingress["spec"]["rules"]} <= tls_hosts, name
    paths = _ingress_paths()
    for path in paths:
        assert "http" in {p["name"] for p in services[path.service]["spec"]["ports"]}
    hosts = {path.service: path.host for path in paths}
    assert set(hosts) == set(ALL), "every API and the console are reached through an Ingress"
    routes = _routes()
    assert {(name, upload) for name, _, upload in routes if upload} == {
        ("registry", True),
        ("console", True),
    }
    # nginx tells paths apart, not methods: the upload form's page shares its path.
    upload_paths = {(name, route) for name, route, upload in routes if upload}
    for name, route, _ in routes:
        public = route if name == "console" else f"/{name}{route}"
        chosen = _chosen(paths, hosts[name], public)
        assert chosen is not None, (name, route)
        assert chosen.service == name, (name, route)
        uploads = chosen.ingress.endswith("-uploads")
        assert uploads == ((name, route) in upload_paths), (name, route, chosen.ingress)


def test_consumers_never_outnumber_the_partitions() -> None:
    partitions = _partitions()
    deployments = _by_kind("Deployment")
    autoscaled = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"]["maxReplicas"]
        for hpa in _by_kind("HorizontalPodAutoscaler").values()
    }
    for name in SERVICES:
        consumer = f"{name}-consumer"
        most = max(deployments[consumer]["spec"]["replicas"], autoscaled.get(consumer, 0))
        assert 1 <= most <= partitions, f"{consumer}: {most} replicas, {partitions} partitions"


def test_apis_autoscale_and_every_deployment_has_a_disruption_budget() -> None:
    deployments = _by_kind("Deployment")
    budgets = list(_by_kind("PodDisruptionBudget").values())
    autoscalers = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa
        for hpa in _by_kind("HorizontalPodAutoscaler").values()
    }
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, f"{name}: {len(covering)} PodDisruptionBudgets"
        if name.endswith("-api"):
            hpa = autoscalers[name]["spec"]
            assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
            assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns replicas"
    assert set(autoscalers) == {f"{name}-api" for name in ALL}


def test_the_config_map_holds_only_real_settings_and_production_replication() -> None:
    config = _by_kind("ConfigMap")["labourx-config"]["data"]
    fields = {f"LABOURX_{name.upper()}" for name in Settings.model_fields}
    assert set(config) <= fields, set(config) - fields
    assert config["LABOURX_ENV"] == "production"
    assert config["LABOURX_KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert int(config["LABOURX_TOPIC_REPLICATION_FACTOR"]) >= 3
    secret_fields = {
        f"LABOURX_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    } | {"LABOURX_DATABASE_URL"}
    assert not set(config) & secret_fields, "secrets belong in the Secret labourx-secrets"
    # What production refuses to start without comes from the ConfigMap or the Secret.
    settings = Settings(
        **{k.removeprefix("LABOURX_").lower(): v for k, v in config.items()},
        database_url="postgresql://labourx@db/postgres",
        console_oidc_client_secret=CONSOLE_OIDC_CLIENT_SECRET,
        sms_gateway_token=SMS_GATEWAY_TOKEN,
        sms_inbound_secret=SMS_INBOUND_SECRET,
        certificate_key=CERTIFICATE_KEY,
        partner_pseudonym_key=PARTNER_PSEUDONYM_KEY,
        partner_webhook_key=PARTNER_WEBHOOK_KEY,
        service_token=SERVICE_TOKEN,
    )
    assert settings.sms_provider == "http"
    assert settings.email_provider == "smtp"
    assert settings.console_oidc_missing() == [], "the console could not sign anyone in"


# -- network policies -----------------------------------------------------------------------------

INGRESS_CONTROLLER = {"namespace": "ingress-nginx"}
PROMETHEUS_PODS = {"namespace": "monitoring"}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is read here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_admits(peer: dict[str, Any], source: dict[str, Any]) -> bool:
    """Whether a policy's `from` entry admits a source: {"namespace": name} for a pod of
    another namespace, {"labels": {...}} for a pod of labourx's."""
    if "namespaceSelector" in peer:
        assert set(peer) == {"namespaceSelector"}, peer
        namespace = {"kubernetes.io/metadata.name": source.get("namespace", "labourx")}
        return _selects(peer["namespaceSelector"], namespace)
    return "namespace" not in source and _selects(peer["podSelector"], source["labels"])


def _admitted(pod_labels: dict[str, str], port: str, source: dict[str, Any]) -> bool:
    """Whether the namespace's policies let `source` open a connection to `port` (a named
    container port) of a pod with these labels (Kubernetes' rule: the union of the ingress
    rules of every policy that selects the pod; selected by none, everything is admitted)."""
    selecting = [
        policy["spec"]
        for policy in _by_kind("NetworkPolicy").values()
        if "Ingress" in policy["spec"]["policyTypes"]
        and _selects(policy["spec"]["podSelector"], pod_labels)
    ]
    assert selecting, f"no policy selects pods {pod_labels}: everything reaches them"
    return any(
        any(p["port"] == port for p in rule["ports"])
        and any(_peer_admits(peer, source) for peer in rule["from"])
        for spec in selecting
        for rule in spec.get("ingress", [])
    )


def _pods() -> dict[str, tuple[dict[str, str], set[str]]]:
    """Every workload's pod labels and named container ports."""
    return {
        name: (
            workload["spec"]["template"]["metadata"]["labels"],
            {p["name"] for p in _container(workload).get("ports", [])},
        )
        for name, workload in workloads(keycloak=True)
    }


def test_pods_take_connections_only_from_those_that_need_them() -> None:
    """Default deny; the console and the APIs from the ingress controller, the APIs from the
    console; Keycloak from the controller and labourx's pods; metrics from Prometheus; relays,
    consumers, jobs and the migration nothing else. A new workload or port is checked too."""
    default = [p for p in _by_kind("NetworkPolicy").values() if p["spec"]["podSelector"] == {}]
    assert default, "no default deny"
    assert not default[0]["spec"].get("ingress"), "the default deny lets traffic in"
    console = {"labels": _pods()["Deployment/console-api"][0]}
    relay = {"labels": _pods()["Deployment/registry-relay"][0]}
    stranger = {"namespace": "default"}
    for name, (labels, ports) in _pods().items():
        component = labels["app.kubernetes.io/component"]
        for port in ports:
            may = {
                "ingress controller": _admitted(labels, port, INGRESS_CONTROLLER),
                "console": _admitted(labels, port, console),
                "a relay": _admitted(labels, port, relay),
                "Prometheus": _admitted(labels, port, PROMETHEUS_PODS),
                "another namespace": _admitted(labels, port, stranger),
            }
            if component == "api" and port == "http":
                expected = {"ingress controller", "console"}
            elif component == "identity" and port == "http":
                expected = {"ingress controller", "console", "a relay"}
            elif port == "metrics":
                expected = {"Prometheus"}
            else:
                expected = set()  # keycloak's management port: probes come from the node
            assert {who for who, ok in may.items() if ok} == expected, (name, port)


def test_every_service_port_is_reachable_by_someone() -> None:
    """A Service whose pods no policy admits on its port would be a silent outage."""
    pods = _pods()
    for name, service in _by_kind("Service").items():
        selector = {"matchLabels": service["spec"]["selector"]}
        chosen = [(labels, ports) for labels, ports in pods.values() if _selects(selector, labels)]
        assert chosen, name
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            for labels, ports in chosen:
                assert target in ports, (name, target)
                assert _admitted(labels, target, INGRESS_CONTROLLER), (name, target)
