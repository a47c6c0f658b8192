"""Event contracts: checked-in JSON Schemas are current and never break an older consumer."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from shared.events import CATALOGUE, CloudEvent, envelope_for
from shared.events.schemas import (
    breaking_changes,
    generate,
    history_files,
    render,
    schema_file,
    stale_types,
)

TYPES = sorted(CATALOGUE)


def test_every_checked_in_schema_matches_its_model() -> None:
    assert stale_types() == [], "run `make schemas` (labourx schemas generate)"


@pytest.mark.parametrize("event_type", TYPES)
def test_the_current_schema_is_compatible_with_every_published_version(event_type: str) -> None:
    current = generate(event_type)
    for old in history_files(event_type):
        assert breaking_changes(json.loads(old.read_text()), current) == [], old.name


@pytest.mark.parametrize("event_type", TYPES)
def test_type_names_follow_the_convention(event_type: str) -> None:
    spec = CATALOGUE[event_type]
    parts = event_type.split(".")
    assert parts[:3] == ["lao", "labourx", spec.service]
    assert parts[-1] == f"v{spec.model.version}"
    assert spec.topic.split(".")[0] == spec.service


BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "string"},
        "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    },
    "required": ["a"],
}


def _with(**changes: Any) -> dict[str, Any]:
    schema = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        if value is None:
            del schema["properties"][key]
        else:
            schema["properties"][key] = value
    return schema


def test_adding_an_optional_field_is_compatible() -> None:
    assert breaking_changes(BASE, _with(c={"type": "string"})) == []


def test_removing_a_field_breaks() -> None:
    assert [str(p) for p in breaking_changes(BASE, _with(b=None))] == ["data.b: property removed"]


def test_changing_a_type_breaks() -> None:
    problems = breaking_changes(BASE, _with(a={"type": "integer"}))
    assert problems
    assert "type changed" in problems[0].reason


def test_a_new_required_field_breaks() -> None:
    new = _with(c={"type": "string"})
    new["required"] = ["a", "c"]
    assert [p.reason for p in breaking_changes(BASE, new)] == ["new required field"]


def test_narrowing_a_nullable_field_is_compatible_for_readers() -> None:
    assert breaking_changes(BASE, _with(b={"type": "integer"})) == []


@pytest.mark.parametrize("event_type", TYPES)
def test_published_data_validates_against_its_checked_in_schema(event_type: str) -> None:
    schema = json.loads(schema_file(event_type).read_text())
    assert render(schema) == schema_file(event_type).read_text()
    jsonschema.Draft202012Validator.check_schema(schema)
    example = _example(event_type)
    envelope = envelope_for(example)
    jsonschema.validate(envelope.data, schema)
    round_trip = CloudEvent.from_bytes(envelope.to_bytes())
    assert round_trip == envelope
    assert round_trip.dataschema == f"/shared/schemas/{event_type}.json"


def _example(event_type: str) -> Any:
    from datetime import UTC, date, datetime
    from decimal import Decimal
    from uuid import uuid4

    from shared.events.matching import (
        AgencyStatusChanged,
        PlacementEnded,
        PlacementMade,
        ReferralStatusChanged,
        VacancyStatusChanged,
        WorkerPaidCostRecorded,
    )
    from shared.events.notify import MessageDelivered, MessageFailed, MessageSent
    from shared.events.predeparture import (
        EnrolmentChanged,
        OrientationCompleted,
        OrientationCompletionWithdrawn,
        OrientationRequired,
        SessionStatusChanged,
    )
    from shared.events.registry import (
        ConsentChanged,
        ErasureRecorded,
        JobseekerProfile,
        JobseekerStatusChanged,
        LanguageSkill,
        MigrationReturnDue,
        MigrationStatusChanged,
        PersonErased,
        PersonMerged,
        PersonRegistered,
        PersonServedAt,
        PersonUpdated,
        RegistrationConsent,
        WorkExperience,
    )

    now = datetime.now(UTC)
    examples = {
        PersonRegistered.event_type(): PersonRegistered(
            person_id=uuid4(),
            reference="P-ABCDEFGH",
            given_name_lo="ນ້ອຍ",
            sex="female",
            date_of_birth=date(2001, 5, 6),
            phone="+8562055551234",
            province_code="LA-CH",
            registered_by="officer",
            registered_at=datetime.now(UTC),
            consents=[
                RegistrationConsent(purpose="contact_sms", status="given"),
                RegistrationConsent(purpose="partner_sharing", status="refused", category="ngo"),
            ],
        ),
        PersonServedAt.event_type(): PersonServedAt(
            person_id=uuid4(),
            office_code="MRC-SV",
            office_province_code="LA-SV",
            basis="enrolment",
            recorded_by="mrc-sv-1",
            recorded_at=now,
        ),
        ConsentChanged.event_type(): ConsentChanged(
            person_id=uuid4(),
            consent_id=uuid4(),
            purpose="partner_sharing",
            category="un_agencies",
            status="given",
            expires_on=date(2027, 12, 31),
            method="thumbprint",
            recorded_by="officer",
            office_code="MRC-SV",
            recorded_at=datetime.now(UTC),
        ),
        MigrationStatusChanged.event_type(): MigrationStatusChanged(
            person_id=uuid4(),
            migration_id=uuid4(),
            status="abroad",
            previous_status="departed",
            destination_country="TH",
            channel="mou",
            agency_code="AG-017",
            departed_on=date(2026, 3, 1),
            permit_expires_on=date(2028, 2, 29),
            return_due_on=date(2028, 1, 30),
            changed_by="officer",
            changed_at=datetime.now(UTC),
        ),
        PersonUpdated.event_type(): PersonUpdated(
            person_id=uuid4(),
            reference="P-ABCDEFGH",
            given_name_en="Noy",
            sex="female",
            date_of_birth=date(2001, 5, 6),
            province_code="LA-CH",
            ethnicity="khmu",
            has_disability=False,
            isced_level=3,
            skills=["sewing"],
            languages=[LanguageSkill(code="th", proficiency="conversational")],
            experience=[WorkExperience(isco08="7533", years=2, country="TH")],
            jobseeker=JobseekerProfile(desired_occupations=["7533"], willing_to_work_abroad=True),
            changed_fields=["skills"],
            record_version=2,
            updated_by="officer",
            updated_at=now,
        ),
        PersonMerged.event_type(): PersonMerged(
            person_id=uuid4(), survivor_id=uuid4(), merged_by="officer", merged_at=now
        ),
        PersonErased.event_type(): PersonErased(
            person_id=uuid4(), erased_by="admin", erased_at=now
        ),
        ErasureRecorded.event_type(): ErasureRecorded(
            person_id=uuid4(),
            erased_at=now,
            basis="retention",
            survivor_id=uuid4(),
            cause_event_id=uuid4(),
        ),
        JobseekerStatusChanged.event_type(): JobseekerStatusChanged(
            person_id=uuid4(),
            status="referred",
            previous_status="active",
            referral_id=uuid4(),
            changed_by="matching",
            changed_at=now,
        ),
        MigrationReturnDue.event_type(): MigrationReturnDue(
            person_id=uuid4(),
            migration_id=uuid4(),
            destination_country="TH",
            permit_expires_on=date(2028, 2, 29),
            return_due_on=date(2028, 1, 30),
            days_left=60,
        ),
        ReferralStatusChanged.event_type(): ReferralStatusChanged(
            referral_id=uuid4(),
            person_id=uuid4(),
            vacancy_id=uuid4(),
            status="interviewed",
            previous_status="referred",
            changed_by="officer",
            changed_at=now,
        ),
        PlacementMade.event_type(): PlacementMade(
            placement_id=uuid4(),
            referral_id=uuid4(),
            person_id=uuid4(),
            vacancy_id=uuid4(),
            isco08="7112",
            overseas=True,
            destination_country="TH",
            channel="mou",
            agency_code="AG-001",
            province_code="LA-SV",
            starts_on=date(2027, 2, 1),
            contract_months=24,
            placed_by="officer",
            placed_at=now,
        ),
        PlacementEnded.event_type(): PlacementEnded(
            placement_id=uuid4(),
            referral_id=uuid4(),
            person_id=uuid4(),
            vacancy_id=uuid4(),
            overseas=False,
            ended_on=date(2027, 8, 1),
            reason="contract finished",
            ended_by="officer",
            ended_at=now,
        ),
        SessionStatusChanged.event_type(): SessionStatusChanged(
            session_id=uuid4(),
            office_code="MRC-SV",
            province_code="LA-SV",
            status="scheduled",
            starts_at=now,
            ends_at=now,
            venue="MRC Savannakhet, training room",
            language="lo",
            capacity=40,
            changed_by="mrc-sv-1",
            changed_at=now,
        ),
        EnrolmentChanged.event_type(): EnrolmentChanged(
            enrolment_id=uuid4(),
            session_id=uuid4(),
            person_id=uuid4(),
            status="enrolled",
            automatic=True,
            office_code="MRC-SV",
            starts_at=now,
            venue="MRC Savannakhet, training room",
            language="lo",
            changed_by="system",
            changed_at=now,
        ),
        OrientationRequired.event_type(): OrientationRequired(
            person_id=uuid4(),
            destination_country="TH",
            referral_id=uuid4(),
            vacancy_id=uuid4(),
            reason="offered work in TH",
            recorded_at=now,
        ),
        VacancyStatusChanged.event_type(): VacancyStatusChanged(
            vacancy_id=uuid4(),
            reference="V-ABCDEFGH",
            status="published",
            previous_status="draft",
            title="Bricklayer",
            isco08="7112",
            overseas=False,
            province_code="LA-VT",
            employer_id=uuid4(),
            positions=5,
            open_positions=5,
            changed_by="officer",
            changed_at=now,
        ),
        AgencyStatusChanged.event_type(): AgencyStatusChanged(
            agency_id=uuid4(),
            agency_code="AG-001",
            name="Lao Manpower Co.",
            licence_number="MOLSW-2025-001",
            licence_expires_on=date(2028, 1, 1),
            destinations=["TH"],
            status="suspended",
            previous_status="active",
            reason="fees charged to workers",
            effective_on=date(2026, 11, 1),
            changed_by="admin",
            changed_at=now,
        ),
        WorkerPaidCostRecorded.event_type(): WorkerPaidCostRecorded(
            agency_id=uuid4(),
            agency_code="AG-001",
            vacancy_id=uuid4(),
            person_id=uuid4(),
            cost_id=uuid4(),
            item="medical_check",
            amount=Decimal("350000.00"),
            currency="LAK",
            recorded_by="officer",
            recorded_at=now,
        ),
        OrientationCompleted.event_type(): OrientationCompleted(
            person_id=uuid4(),
            certificate_number="PDO-2026-000123",
            destination_country="TH",
            completed_on=date(2026, 11, 1),
            valid_until=date(2027, 11, 1),
            office_code="MRC-SV",
            recorded_at=now,
        ),
        OrientationCompletionWithdrawn.event_type(): OrientationCompletionWithdrawn(
            person_id=uuid4(),
            certificate_number="PDO-2026-000123",
            destination_country="TH",
            reason="attendance corrected after closing",
            recorded_at=now,
        ),
    }
    delivery = {
        "message_id": uuid4(),
        "person_id": uuid4(),
        "channel": "sms",
        "template_key": "welcome",
        "province_code": "LA-VT",
        "cause_event_id": uuid4(),
        "cause_event_type": PersonRegistered.event_type(),
        "attempts": 2,
        "at": now,
    }
    # The v2 person events: the v1 examples sealed under a key (shared/sealing_events.py).
    from shared.sealing import new_key
    from shared.sealing_events import SEALS_INTO, sealed_event

    for plain_type, sealed_type in SEALS_INTO.items():
        plain = examples[plain_type.event_type()]
        assert isinstance(plain, PersonRegistered | PersonUpdated)
        examples[sealed_type.event_type()] = sealed_event(plain, new_key())
    examples |= {
        MessageSent.event_type(): MessageSent(**delivery),
        MessageDelivered.event_type(): MessageDelivered(**delivery),
        MessageFailed.event_type(): MessageFailed(
            **delivery, error_code="receipt_expired", after_sent=True
        ),
    }
    return examples[event_type]
