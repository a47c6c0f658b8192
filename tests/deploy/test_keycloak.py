"""Keycloak as shipped (deploy/keycloak, docker-compose.yml, deploy/k8s): a realm with
labourx's roles and a console client whose tokens carry what the claims mapping reads, wired
to the console and the APIs the way their settings expect."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from services.console.auth.oidc_provider import CALLBACK_PATH, SIGNED_OUT_PATH
from shared.reference.offices import SEED_OFFICES
from shared.reference.places import PROVINCE_NAMES
from shared.roles import ROLE_NAMES
from shared.settings import Settings
from tests.deploy.files import DEPLOY, k8s_resources
from tests.deploy.test_compose import resolved

REALM_FILE = DEPLOY / "keycloak" / "labourx-realm.json"
# Where Keycloak fills the realm file's ${...} at import.
PUBLIC_URL = "${LABOURX_CONSOLE_PUBLIC_URL}"
IMPORT_DIR = "/opt/keycloak/data/import"


@cache
def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM_FILE.read_text())
    return loaded


def console_client() -> dict[str, Any]:
    (client,) = [c for c in realm()["clients"] if c["clientId"] == "labourx-console"]
    return client


def mappers() -> dict[str, dict[str, str]]:
    """The console client's protocol mappers, by kind (attribute mappers by attribute)."""
    found = {}
    for mapper in console_client()["protocolMappers"]:
        config = mapper["config"]
        key = config.get("user.attribute") or mapper["protocolMapper"]
        found[key] = config | {"kind": mapper["protocolMapper"]}
    return found


def user_profile() -> dict[str, Any]:
    (component,) = realm()["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile: dict[str, Any] = json.loads(component["config"]["kc.user.profile.config"][0])
    return profile


def test_the_realm_has_exactly_labourx_s_roles() -> None:
    assert realm()["realm"] == "labourx"
    assert realm()["enabled"]
    assert {role["name"] for role in realm()["roles"]["realm"]} == ROLE_NAMES


def test_the_console_client_is_confidential_with_pkce_and_the_code_flow_only() -> None:
    client = console_client()
    assert client["publicClient"] is False
    assert client["clientAuthenticatorType"] == "client-secret"
    assert client["secret"] == "${LABOURX_CONSOLE_OIDC_CLIENT_SECRET}"
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["standardFlowEnabled"] is True
    assert not client["implicitFlowEnabled"]
    assert not client["directAccessGrantsEnabled"]
    assert not client["serviceAccountsEnabled"]


def test_the_console_client_sends_officers_back_only_to_the_console_s_own_addresses() -> None:
    client = console_client()
    assert client["redirectUris"] == [f"{PUBLIC_URL}{CALLBACK_PATH}"]
    assert client["attributes"]["post.logout.redirect.uris"] == f"{PUBLIC_URL}{SIGNED_OUT_PATH}"
    assert "*" not in json.dumps(client["redirectUris"])
    assert client["webOrigins"] == []


def test_access_tokens_carry_what_the_claims_mapping_reads_for_labourx() -> None:
    """The settings' defaults read these tokens as they are: no mapping setting to change."""
    settings = Settings()
    found = mappers()
    audience = found["oidc-audience-mapper"]
    assert audience["included.custom.audience"] == settings.jwt_audience
    roles = found["oidc-usermodel-realm-role-mapper"]
    assert roles["claim.name"] in settings.jwt_roles_claim
    assert roles["multivalued"] == "true"
    for attribute, claim in (
        ("office", settings.jwt_office_claim),
        ("province", settings.jwt_province_claim),
        ("national", settings.jwt_national_claim),
        ("agency", settings.jwt_agency_claim),
    ):
        assert found[attribute]["claim.name"] == claim, attribute
        assert found[attribute]["multivalued"] == "false", attribute
    assert found["national"]["jsonType.label"] == "boolean"
    for config in found.values():
        assert config["access.token.claim"] == "true", config["kind"]


def test_the_user_profile_declares_the_officers_attributes_and_checks_them() -> None:
    """Keycloak keeps only declared attributes; only administrators set them, and they are
    checked as labourx reads them (a province labourx would refuse is refused here first)."""
    attributes = {a["name"]: a for a in user_profile()["attributes"]}
    for name in ("office", "province", "national", "agency"):
        assert attributes[name]["permissions"]["edit"] == ["admin"], name
        assert attributes[name]["multivalued"] is False, name
    province = re.compile(attributes["province"]["validations"]["pattern"]["pattern"])
    assert all(province.match(code) for code in PROVINCE_NAMES)
    assert not province.match("Champasak")
    office = re.compile(attributes["office"]["validations"]["pattern"]["pattern"])
    assert all(office.match(code) for code in SEED_OFFICES)
    assert attributes["national"]["validations"]["options"]["options"] == ["true", "false"]


def test_compose_runs_a_pinned_keycloak_that_imports_the_realm_and_is_health_checked() -> None:
    keycloak = resolved()["services"]["keycloak"]
    assert re.search(r":\d+\.\d+\.\d+$", keycloak["image"]), keycloak["image"]
    assert keycloak["command"] == ["start", "--import-realm"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in keycloak["volumes"]}
    assert mounts[f"{IMPORT_DIR}/labourx-realm.json"] == str(REALM_FILE)
    assert "/health/ready" in " ".join(keycloak["healthcheck"]["test"])
    env = keycloak["environment"]
    assert env["KC_HEALTH_ENABLED"] == "true"
    assert env["KC_DB"] == "postgres"
    assert keycloak["depends_on"] == {
        "keycloak-db": {"condition": "service_completed_successfully"}
    }


def test_compose_wires_the_console_and_the_apis_to_that_keycloak() -> None:
    services = resolved()["services"]
    keycloak = services["keycloak"]["environment"]
    console = services["console-api"]["environment"]
    issuer = f"{keycloak['KC_HOSTNAME']}/realms/{realm()['realm']}"
    # The realm's ${...} are filled with what the console itself is configured with.
    assert keycloak["LABOURX_CONSOLE_PUBLIC_URL"] == console["LABOURX_CONSOLE_PUBLIC_URL"]
    assert keycloak["LABOURX_CONSOLE_OIDC_CLIENT_SECRET"] == "compose-check"
    assert console["LABOURX_CONSOLE_OIDC_ISSUER"] == issuer
    assert console["LABOURX_CONSOLE_OIDC_CLIENT_ID"] == console_client()["clientId"]
    assert console["LABOURX_CONSOLE_OIDC_DISCOVERY_URL"] == (
        "http://keycloak:8080/realms/labourx/.well-known/openid-configuration"
    )
    assert console["LABOURX_CONSOLE_REGISTRY_URL"] == "http://registry-api:8000"
    for name, service in services.items():
        if name.split("-")[-1] in ("api", "relay", "consumer", "jobs"):
            env = service["environment"]
            assert env["LABOURX_JWT_ISSUER"] == issuer, name
            assert env["LABOURX_JWT_JWKS_URL"] == (
                "http://keycloak:8080/realms/labourx/protocol/openid-connect/certs"
            ), name
    # The whole console section of a production process is there: it starts.
    assert services["console-api"]["command"] == [
        "api",
        "console",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert services["console-jobs"]["command"] == ["jobs", "console"]


def _k8s(kind: str, name: str) -> dict[str, Any]:
    (found,) = [
        d for _, d in k8s_resources() if d["kind"] == kind and d["metadata"]["name"] == name
    ]
    return found


def test_kubernetes_imports_the_same_realm_from_a_config_map() -> None:
    config = _k8s("ConfigMap", "keycloak-realm")
    assert json.loads(config["data"]["labourx-realm.json"]) == realm(), (
        "deploy/k8s/keycloak.yaml's realm differs from deploy/keycloak/labourx-realm.json"
    )
    deployment = _k8s("Deployment", "keycloak")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == resolved()["services"]["keycloak"]["image"]
    assert "--import-realm" in container["args"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (realm_volume,) = [n for n, v in volumes.items() if "configMap" in v]
    assert volumes[realm_volume]["configMap"]["name"] == "keycloak-realm"
    assert mounts[realm_volume] == IMPORT_DIR
    env = {e["name"]: e for e in container["env"]}
    # Secrets by reference only; the console's address and secret as the console's own.
    assert env["LABOURX_CONSOLE_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == (
        "labourx-secrets"
    )
    assert env["LABOURX_CONSOLE_PUBLIC_URL"]["valueFrom"]["configMapKeyRef"]["name"] == (
        "labourx-config"
    )
    for name in ("KC_DB_URL", "KC_DB_USERNAME", "KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"):
        assert "secretKeyRef" in env[name]["valueFrom"], name
    # Probed where Keycloak reports its health; limited; not root, no privileges.
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] == "management", probe
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_kubernetes_settings_point_the_console_and_the_apis_at_keycloak() -> None:
    config = _k8s("ConfigMap", "labourx-config")["data"]
    keycloak = {
        e["name"]: e.get("value")
        for e in _k8s("Deployment", "keycloak")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    issuer = f"{keycloak['KC_HOSTNAME']}/realms/{realm()['realm']}"
    assert config["LABOURX_JWT_ISSUER"] == config["LABOURX_CONSOLE_OIDC_ISSUER"] == issuer
    service = _k8s("Service", "keycloak")
    port = service["spec"]["ports"][0]["port"]
    inside = f"http://keycloak.labourx.svc:{port}/realms/labourx"
    assert config["LABOURX_JWT_JWKS_URL"] == f"{inside}/protocol/openid-connect/certs"
    assert config["LABOURX_CONSOLE_OIDC_DISCOVERY_URL"] == (
        f"{inside}/.well-known/openid-configuration"
    )
    assert config["LABOURX_CONSOLE_OIDC_CLIENT_ID"] == console_client()["clientId"]
    assert config["LABOURX_CONSOLE_PUBLIC_URL"].startswith("https://")
