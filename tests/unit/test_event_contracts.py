"""The event contracts: the catalog in docs/events.md, subjects and streams, deterministic ids, the v1 → v2
upcast, and the generated JSON Schema and catalog page kept current."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent

from contracts.events import (
    EVENT_TYPES,
    STREAMS,
    CloudEvent,
    EventPayload,
    KintellSessionCompletedV1,
    KintellSessionCompletedV2,
    current_models,
    current_payload,
    encode_structured,
)
from teei.devtools.docs.events import example_event, example_payload, rendered_files

CATALOG = {
    "kintell.session.completed",
    "kintell.session.scheduled",
    "kintell.rating.created",
    "buddy.match.created",
    "buddy.event.logged",
    "buddy.checkin.completed",
    "buddy.feedback.submitted",
    "upskilling.course.completed",
    "upskilling.credential.issued",
    "upskilling.progress.updated",
    "orchestration.journey.milestone.reached",
    "orchestration.profile.updated",
    "safety.flag.raised",
    "safety.review.completed",
}
USER = "a" * 64


def test_the_catalog_has_every_event_of_the_spec_once_in_its_current_version() -> None:
    assert sorted(m.event_type for m in current_models()) == sorted(CATALOG)
    for model in EVENT_TYPES.values():
        assert model.nats_subject() == f"{model.event_type}.v{model.version}"
        assert model.stream() in STREAMS
        assert model.nats_subject().startswith(STREAMS[model.stream()].removesuffix(">"))


@pytest.mark.parametrize("model", list(EVENT_TYPES.values()), ids=lambda m: m.nats_subject())
def test_every_event_parses_with_the_cloudevents_sdk_and_carries_no_email(model: type[EventPayload]) -> None:
    envelope = example_event(model)
    encoded = envelope.model_dump_json(exclude_none=True).encode()
    parsed = JSONFormat().read(SdkCloudEvent, encoded)
    assert parsed.get_id() == envelope.id
    assert parsed.get_type() == model.event_type
    assert parsed.get_subject() == envelope.subject
    assert parsed.get_extension("correlationid") == "req-5f2a9c"
    assert parsed.get_data() == json.loads(encoded)["data"]
    assert "@" not in json.dumps(envelope.data)
    free_text = [
        n for n in model.model_fields if n.endswith(("_text", "notes", "description")) and not n.startswith("has_")
    ]
    assert not free_text
    assert not [n for n in model.model_fields if "email" in n]


def test_event_ids_are_deterministic_and_follow_the_payload() -> None:
    completed = {
        "session_id": "s-1",
        "session_type": "language",
        "participant_user_id": USER,
        "volunteer_user_id": "b" * 64,
        "completed_at": "2026-03-01T10:00:00Z",
        "duration_seconds": 3600,
    }
    first = KintellSessionCompletedV2.model_validate(completed)
    again = KintellSessionCompletedV2.model_validate(completed)
    changed = KintellSessionCompletedV2.model_validate(completed | {"duration_seconds": 2700})
    at = datetime(2026, 3, 1, tzinfo=UTC)
    assert CloudEvent.wrap(first, time=at).id == CloudEvent.wrap(again, time=datetime.now(UTC)).id
    assert CloudEvent.wrap(first, time=at).id != CloudEvent.wrap(changed, time=at).id
    assert first.natural_key().startswith("kintell/sessions/s-1@")


def test_a_v1_session_completed_is_upcast_to_the_current_model() -> None:
    old = KintellSessionCompletedV1(
        session_id="s-1",
        session_type="mentorship",
        participant_user_id=USER,
        volunteer_user_id="b" * 64,
        completed_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        duration_minutes=45,
        language_level=None,
    )
    envelope = CloudEvent.wrap(old, time=old.completed_at)
    received = current_payload(CloudEvent.model_validate_json(envelope.model_dump_json()).payload())
    assert isinstance(received, KintellSessionCompletedV2)
    assert (received.duration_seconds, received.cefr_level, received.session_type) == (2700, None, "mentorship")
    assert envelope.subject == "kintell/sessions/s-1"
    assert KintellSessionCompletedV1.nats_subject() == "kintell.session.completed.v1"
    assert KintellSessionCompletedV2.nats_subject() == "kintell.session.completed.v2"


def test_an_envelope_of_an_unknown_version_is_refused() -> None:
    envelope = example_event(KintellSessionCompletedV2).model_copy(
        update={"dataschema": "urn:teei:events:kintell.session.completed:v9"}
    )
    with pytest.raises(ValueError, match="unknown event"):
        envelope.payload()


def test_a_payload_with_an_email_or_an_unknown_field_is_refused() -> None:
    values = example_payload(KintellSessionCompletedV2).model_dump()
    with pytest.raises(ValueError):
        KintellSessionCompletedV2.model_validate(values | {"participant_user_id": "someone@example.org"})
    with pytest.raises(ValueError):
        KintellSessionCompletedV2.model_validate(values | {"participant_email": "someone@example.org"})


def test_the_committed_event_docs_and_schemas_are_what_the_generator_writes() -> None:
    for path, text in rendered_files().items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run `python -m teei.devtools.docs.events`"
        )


@pytest.mark.parametrize("model", list(EVENT_TYPES.values()), ids=lambda m: m.nats_subject())
def test_the_fast_encoding_is_the_envelope_models_json(model: type[EventPayload]) -> None:
    payload = example_payload(model)
    at = datetime(2026, 3, 1, 8, 15, 30, 123456, tzinfo=UTC)
    for correlation in (None, "req-1"):
        envelope = CloudEvent.wrap(payload, time=at, correlation_id=correlation)
        identifier, data = encode_structured(payload, time=at, correlation_id=correlation)
        assert (identifier, data) == (envelope.id, envelope.model_dump_json(exclude_none=True).encode())
