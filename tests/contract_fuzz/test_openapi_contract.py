"""Contract fuzzing: schemathesis runs every operation of each data service's OpenAPI document
in-process (ASGI) against a real database, with a staff token, and keeps to its contract.

Every phase runs (the document's examples, the coverage of boundaries and missing or wrong
values, fuzzing, and stateful sequences over the links schemathesis infers from ids in answers
and paths) with every check on: no 5xx, documented status codes, content types and answer
bodies, negative data refused, authentication enforced, `Allow` on 405s, missing required
headers refused. A small number of examples per operation keeps the four services within a few
minutes on two cores (LABOURX_FUZZ_EXAMPLES raises it for a deeper run).

Operations that answered a staff token nothing but 403 run again with an admin token, so that
admin routes are tested beyond their refusal. Partner routes get a partner's API key.

Out of scope: the console (services/console), whose pages are HTML for people, with no OpenAPI
contract (tests/console and tests/browser test them).

What is deliberately left out is listed below with its reason, and matched narrowly (operation,
check, status) so that a new failure of the same operation still fails the suite.
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
import typing
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pydantic_core.core_schema import ErrorType
from schemathesis.engine import events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.auth import mint_token
from shared.settings import Settings

if typing.TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI

EXAMPLES = int(os.environ.get("LABOURX_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("LABOURX_FUZZ_SEED", "20261216"))

# Codes pydantic gives to a value whose type or shape the document states: a 422 with one of
# them for data the document allows means the document and the parser disagree. Validators'
# own rules (`value_error`) and the services' rules (`invalid`, named codes) are not of them.
PARSER_CODES = frozenset(typing.get_args(ErrorType)) - {"value_error", "assertion_error"} | {
    "control_character",  # shared/control_chars.py; the documents state it (shared/openapi.py)
    "unknown",  # a query parameter the route does not take
}


@dataclass
class Finding:
    phase: str
    operation: str
    check: str
    title: str
    message: str
    request: str
    sent: str
    status: int | None
    body: str
    codes: set[str]

    def __str__(self) -> str:
        return (
            f"[{self.phase}] {self.operation}: {self.check} ({self.title})\n"
            f"  {self.message.strip()}\n  {self.request} {self.sent[:300]}\n"
            f"  -> {self.status} {self.body[:400]}"
        )


@dataclass(frozen=True)
class Exclusion:
    """A failure left out on purpose: which operations (a glob), which check, which status, and
    why; for refused positive data, the error codes excused (all of a 422's codes must be)."""

    operations: str  # "POST /v1/inbound/sms", "PATCH *", "*"
    check: str
    status: int | None
    reason: str
    codes: frozenset[str] = frozenset()
    message: str = "*"  # a glob of schemathesis's message about the failure

    def matches(self, finding: Finding) -> bool:
        return (
            fnmatch.fnmatchcase(finding.operation, self.operations)
            and self.check == finding.check
            and self.status in (finding.status, None)
            and fnmatch.fnmatchcase(finding.message, self.message)
        )


def excluded(finding: Finding) -> bool:
    """Whether the exclusions that match a finding cover it (the codes of several may)."""
    matching = [e for e in EXCLUSIONS if e.matches(finding)]
    if not matching:
        return False
    excused = frozenset().union(*(e.codes for e in matching))
    return not excused or (bool(finding.codes) and finding.codes <= excused)


EXCLUSIONS = (
    *(
        Exclusion(
            webhook,
            "status_code_conformance",
            401,
            "The SMS gateway's webhooks answer 401 to a request it did not sign, which their"
            " documents do not list: their signature check (signed_by_gateway, notify's"
            " delivery/api.py) is to declare it with shared.openapi.answers(401, 503), in"
            " notify's own code.",
        )
        for webhook in ("POST /v1/inbound/sms", "POST /v1/receipts/sms")
    ),
    Exclusion(
        "*",
        "positive_data_rejected_by_the_parser",
        422,
        "A field required by a rule on another field or on the record (an email template's"
        " subject, a PATCH emptying a required field) is named with pydantic's `missing`; the"
        " document cannot state a requirement that depends on another value.",
        frozenset({"missing", "value_error", "invalid"}),
    ),
    Exclusion(
        "*",
        "negative_data_rejection",
        None,
        "pydantic's lax mode reads 0 and 1 as booleans and a number as a date (`to=0` is"
        " 1970-01-01): the parser takes more than the document states, and what it makes of it"
        " is checked like any value. Strict types are a change to each service's schemas.",
        message="*Incorrect type*",
    ),
    Exclusion(
        "POST /v1/templates/preview",
        "negative_data_rejection",
        None,
        "The same lax mode in a union: a value of a variable may be text of at most 1,000"
        " characters or a number, and 1,001 zeros are read as the number 0.",
        message="*String larger than maxLength*",
    ),
    Exclusion(
        "*",
        "positive_data_rejected_by_the_parser",
        422,
        "Text stripped before its length is checked (StringConstraints(strip_whitespace=True,"
        " min_length=2), a name of ', '): the document states the length of what is sent, the"
        " parser checks what is left; stating it needs a pattern in each service's schema.",
        frozenset({"string_too_short", "value_error", "invalid"}),
    ),
    Exclusion(
        "*",
        "positive_data_rejected_by_the_parser",
        422,
        "A Decimal's string form: pydantic documents a money amount or a number of years as "
        "`number` or a bare `string`, without the digits, places or bounds the number branch "
        "states; the fuzzer's '-0' or '1.234' for a wage is refused. Documenting the string form "
        "needs a shared decimal type in matching's and predeparture's schemas (their owners).",
        frozenset(
            {
                "decimal_parsing",
                "decimal_max_digits",
                "decimal_max_places",
                "decimal_whole_digits",
                "greater_than",
                "greater_than_equal",
                "less_than_equal",
            }
        ),
    ),
)


@schemathesis.check
def positive_data_rejected_by_the_parser(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis's positive_data_acceptance, where a 422 problem that names only rules a JSON
    schema cannot state (an office code that exists, one of two names given, a cursor this API
    made) passes: refusing those is right. A 422 naming a parser's code fails, as do a 400 and
    any other refusal of data the document allows."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422 and not (_error_codes(response) & PARSER_CODES):
            return None
        raise


def _error_codes(response: schemathesis.Response) -> set[str]:
    try:
        body = response.json()
    except ValueError:
        return set()
    errors = body.get("errors") if isinstance(body, dict) else None
    return {str(e.get("code")) for e in errors or [] if isinstance(e, dict)}


@dataclass
class Run:
    operations: set[str]
    cases: int
    seconds: float
    findings: list[Finding]
    forbidden_only: set[str]  # operations that answered every positive case 403


def _fuzz(app: FastAPI, headers: dict[str, str], only: set[str] | None = None) -> Run:
    """One schemathesis run over the app's document (or the operations named in `only`)."""
    config = schemathesis.Config.from_dict(
        {
            "headers": headers,
            "seed": SEED,
            "cache": {"enabled": False},
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
            "phases": {
                "stateful": {"max-steps": 6},
                # Off: a problem names a rule of the whole body `body` (pydantic's location of
                # a model's own check), which error feedback takes for a property and adds to
                # bodies whose schema forbids extra properties, calling them valid.
                "fuzzing": {"error-feedback": {"enabled": False}},
            },
            "suppress-health-check": ["all"],
        }
    )
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=config
    )
    if only is not None:
        schema = schema.include(name=sorted(only))
    started = time.perf_counter()
    run = Run(set(), 0, 0.0, [], set())
    answered: dict[str, set[int]] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            raise AssertionError(f"schemathesis could not run: {event}")
        recorder = getattr(event, "recorder", None)
        if recorder is None or not isinstance(event, events.ScenarioFinished):
            continue
        phase = event.phase.name
        for case_id, node in recorder.cases.items():
            run.cases += 1
            operation = node.value.operation.label
            run.operations.add(operation)
            interaction = recorder.interactions.get(case_id)
            meta = node.value.meta
            positive = meta is not None and meta.generation.mode.is_positive
            if interaction is not None and interaction.response is not None and positive:
                answered.setdefault(operation, set()).add(interaction.response.status_code)
        run.findings.extend(_findings(phase, recorder))
    run.seconds = time.perf_counter() - started
    run.forbidden_only = {op for op, statuses in answered.items() if statuses == {403}}
    return run


def _findings(phase: str, recorder: Any) -> Iterator[Finding]:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status.name == "SUCCESS":
                continue
            failure = check.failure_info.failure if check.failure_info else None
            interaction = recorder.interactions.get(case_id)
            request = response = None
            if interaction is not None:
                request, response = interaction.request, interaction.response
            node = recorder.cases.get(case_id)
            yield Finding(
                phase=phase,
                operation=node.value.operation.label if node else recorder.label,
                check=check.name,
                title=getattr(failure, "title", ""),
                message=getattr(failure, "message", ""),
                request=f"{request.method} {request.uri}" if request else "",
                sent=_text(request.body) if request else "",
                status=response.status_code if response else None,
                body=(response.content or b"").decode("utf-8", "replace") if response else "",
                codes=_codes_of(response.content if response else None),
            )


def _text(body: bytes | str | None) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body or ""


def _codes_of(content: bytes | None) -> set[str]:
    try:
        body = json.loads(content or b"")
    except ValueError:
        return set()
    errors = body.get("errors") if isinstance(body, dict) else None
    return {str(e.get("code")) for e in errors or [] if isinstance(e, dict)}


def _settings(settings: Settings) -> Settings:
    """The session's settings, with rate limits out of the way (tests/abuse/test_limits.py tests
    them; a fuzzer's wrong keys would otherwise spend them and see nothing but 429) and the SMS
    gateway's webhook secret set (unset, its webhooks answer 503 to everything)."""
    raised = {
        name: "1000000/minute"
        for name in Settings.model_fields
        if name.startswith("rate_limit_") and name != "rate_limit_strategy"
    }
    return settings.model_copy(
        update={
            **raised,
            "sms_inbound_secret": SecretStr("whsec_" + "Zm9yLXRoZS1jb250cmFjdC1mdXp6ZXI="),
        }
    )


def _staff_token(settings: Settings, service: str) -> str:
    if service == "predeparture":  # orientation is the MRC's work
        return mint_token(
            settings, subject="fuzz-mrc", roles=["mrc_staff"], office="MRC-VT", province="LA-VT"
        )
    return mint_token(
        settings, subject="fuzz-esc", roles=["esc_staff"], office="ESC-VT", province="LA-VT"
    )


def _partner_key(settings: Settings, admin: str) -> str:
    """A partner of notify's own, made through its API, for the `X-API-Key` routes."""
    with TestClient(create_app(SERVICES["notify"], settings)) as client:
        made = client.post(
            "/v1/partners",
            json={
                "code": f"FUZZ-{uuid.uuid4().hex[:6].upper()}",
                "name": "Fuzz",
                "category": "ngos",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]["api_key"]
    return key


@pytest.mark.parametrize("service", ["registry", "matching", "predeparture", "notify"])
def test_every_operation_keeps_to_its_openapi_contract(service: str, fuzzed: Settings) -> None:
    settings = _settings(fuzzed)
    admin = mint_token(settings, subject="fuzz-admin", roles=["admin"], national=True)
    headers = {"Authorization": f"Bearer {_staff_token(settings, service)}"}
    if service == "notify":
        headers["X-API-Key"] = _partner_key(settings, admin)
    try:
        staff = _fuzz(create_app(SERVICES[service], settings), headers)
        runs = [staff]
        if staff.forbidden_only:
            admin_headers = {**headers, "Authorization": f"Bearer {admin}"}
            runs.append(
                _fuzz(create_app(SERVICES[service], settings), admin_headers, staff.forbidden_only)
            )
    finally:
        asgi.shutdown_lifespans()  # each app's engine, disposed on the loop that made it

    findings = [f for run in runs for f in run.findings if not excluded(f)]
    print(
        f"\n{service}: {len(staff.operations)} operations, "
        + ", ".join(
            f"{run.cases} cases in {run.seconds:.0f} s" + (" (admin)" if i else " (staff)")
            for i, run in enumerate(runs)
        )
    )
    distinct = {(f.operation, f.check, f.status): f for f in findings}
    assert not distinct, f"{len(distinct)} contract failures:\n\n" + "\n\n".join(
        str(f) for f in list(distinct.values())[:40]
    )
    assert len(staff.operations) >= 20, staff.operations
