"""Event contracts: the CloudEvents 1.0 envelope and the payloads of the events the platform emits.

Payloads carry pseudonymous `user_id`s, never an email. Every event type has a major version; the
NATS subject is `<type>.v<major>` and lands in the stream of its domain (`kintell.*` → `KINTELL`).
Event ids are deterministic (UUIDv5 of type, version and the record's natural key), so the same
fact published twice is one message for JetStream's de-duplication and for consumers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_SOURCE = "urn:teei:platform"
# Fixed namespace for event ids: changing it would re-announce every fact ever published.
EVENT_ID_NAMESPACE = uuid.UUID("4f1c7b2e-8a4d-5c3e-9b6f-2d8e1a7c5b40")

# One stream per domain, each capturing `<domain>.>` (SPEC §12).
STREAMS: dict[str, str] = {
    "KINTELL": "kintell.>",
    "BUDDY": "buddy.>",
    "UPSKILLING": "upskilling.>",
    "ORCHESTRATION": "orchestration.>",
    "SAFETY": "safety.>",
}


class EventPayload(BaseModel):
    """Base of every event payload: its type, major version and how its subject is formed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int]
    # The CloudEvents `subject` (the record the event is about), formatted with the payload's fields.
    subject_template: ClassVar[str]

    @classmethod
    def nats_subject(cls) -> str:
        return f"{cls.event_type}.v{cls.version}"

    @classmethod
    def stream(cls) -> str:
        return cls.event_type.split(".", 1)[0].upper()

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:teei:events:{cls.event_type}:v{cls.version}"

    def event_subject(self) -> str:
        return self.subject_template.format(**dict(self))


class KintellSessionCompletedV1(EventPayload):
    """A Kintell language or mentorship session was completed."""

    event_type: ClassVar[str] = "kintell.session.completed"
    version: ClassVar[int] = 1
    subject_template: ClassVar[str] = "kintell/sessions/{session_id}"

    session_id: str
    session_type: Literal["language", "mentorship"]
    participant_user_id: str = Field(description="pseudonymous id (keyed HMAC) of the participant")
    volunteer_user_id: str = Field(description="pseudonymous id (keyed HMAC) of the volunteer")
    completed_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=1, le=480)
    language_level: str | None = None


EVENT_TYPES: dict[tuple[str, int], type[EventPayload]] = {
    (model.event_type, model.version): model for model in (KintellSessionCompletedV1,)
}


def event_id(event_type: str, version: int, natural_key: str) -> uuid.UUID:
    """The deterministic id of the event announcing `natural_key` (UUIDv5)."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{event_type}/v{version}/{natural_key}")


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 structured-mode JSON envelope."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str = EVENT_SOURCE
    type: str
    subject: str
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        natural_key: str,
        time: datetime,
        correlation_id: str | None = None,
    ) -> CloudEvent:
        """The envelope of `payload`, with its deterministic id."""
        return cls(
            id=str(event_id(payload.event_type, payload.version, natural_key)),
            type=payload.event_type,
            subject=payload.event_subject(),
            time=time,
            dataschema=payload.dataschema(),
            correlationid=correlation_id,
            data=payload.model_dump(mode="json"),
        )
