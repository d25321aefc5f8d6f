"""Event contracts: the CloudEvents 1.0 envelope and the payload of every event the platform emits.

Payloads carry pseudonymous `user_id`s, never an email, and no free text (feedback and notes may name
people; consumers that need the text read it from `core` by the record id). Every event type has a
major version; the NATS subject is `<type>.v<major>` and lands in the stream of its domain
(`kintell.*` → `KINTELL`).

Event ids are deterministic: UUIDv5 of type, version and the event's natural key, which is the
record's subject plus a digest of the payload. The same record announced twice is one message for
JetStream's de-duplication and for consumers; a record whose announced fields changed is a new event.

When a payload changes incompatibly, its major version goes up: the old model stays here (old
producers and stored messages still use it) with an upcaster to the new one, and `current_payload`
turns either into the current model, so consumers handle one shape.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_SOURCE = "urn:teei:platform"
# Fixed namespace for event ids: changing it would re-announce every fact ever published.
EVENT_ID_NAMESPACE = uuid.UUID("4f1c7b2e-8a4d-5c3e-9b6f-2d8e1a7c5b40")

# One stream per domain, each capturing `<domain>.>`.
STREAMS: dict[str, str] = {
    "KINTELL": "kintell.>",
    "BUDDY": "buddy.>",
    "UPSKILLING": "upskilling.>",
    "ORCHESTRATION": "orchestration.>",
    "SAFETY": "safety.>",
}

UserId = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{64}$",
        description="Pseudonymous user id: keyed HMAC-SHA256 of the normalised email (64 hex characters).",
    ),
]


class EventPayload(BaseModel):
    """Base of every event payload: its type, major version, subject and natural key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int]
    # The CloudEvents `subject` (the record the event is about), formatted with the payload's fields.
    subject_template: ClassVar[str]
    # Does the current model replace this one? (set by `upcasts_to`)
    superseded_by: ClassVar[type[EventPayload] | None] = None

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

    def natural_key(self) -> str:
        """The record's subject plus a digest of what is announced: unchanged record, same key."""
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:20]
        return f"{self.event_subject()}@{digest}"


def _event(event_type: str, version: int, subject: str) -> Callable[[type[EventPayload]], type[EventPayload]]:
    def register(model: type[EventPayload]) -> type[EventPayload]:
        model.event_type = event_type
        model.version = version
        model.subject_template = subject
        EVENT_TYPES[(event_type, version)] = model
        return model

    return register


# (type, major version) → payload model, for every version still accepted.
EVENT_TYPES: dict[tuple[str, int], type[EventPayload]] = {}
_UPCASTERS: dict[type[EventPayload], Callable[[Any], EventPayload]] = {}


# --- Kintell ----------------------------------------------------------------------------------------


@_event("kintell.session.completed", 1, "kintell/sessions/{session_id}")
class KintellSessionCompletedV1(EventPayload):
    """A Kintell language or mentorship session was completed. Superseded by v2 (durations in seconds,
    the level named for its scale); still accepted from older producers and upcast on receipt."""

    session_id: str
    session_type: Literal["language", "mentorship"]
    participant_user_id: UserId
    volunteer_user_id: UserId
    completed_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=1, le=480)
    language_level: str | None = None


@_event("kintell.session.completed", 2, "kintell/sessions/{session_id}")
class KintellSessionCompletedV2(EventPayload):
    """A Kintell language or mentorship session was completed."""

    session_id: str
    session_type: Literal["language", "mentorship"]
    participant_user_id: UserId
    volunteer_user_id: UserId
    completed_at: AwareDatetime
    duration_seconds: int | None = Field(default=None, ge=60, le=480 * 60, description="Length of the session.")
    cefr_level: str | None = Field(default=None, description="CEFR level of a language session (A1–C2).")


@_event("kintell.session.scheduled", 1, "kintell/sessions/{session_id}")
class KintellSessionScheduledV1(EventPayload):
    """A Kintell session was scheduled (again, when rescheduled)."""

    session_id: str
    session_type: Literal["language", "mentorship"]
    participant_user_id: UserId
    volunteer_user_id: UserId
    scheduled_at: AwareDatetime


@_event("kintell.rating.created", 1, "kintell/ratings/{rating_id}")
class KintellRatingCreatedV1(EventPayload):
    """A participant or volunteer rated a Kintell session."""

    rating_id: str
    session_id: str
    from_role: Literal["participant", "volunteer"]
    rater_user_id: UserId | None = Field(default=None, description="Who rated; null while the session is unknown.")
    rating: float = Field(ge=0, le=1, description="Rating on a 0–1 scale.")
    has_feedback_text: bool
    created_at: AwareDatetime | None = Field(default=None, description="When it was rated, when the export says.")


# --- Buddy ------------------------------------------------------------------------------------------


@_event("buddy.match.created", 1, "buddy/matches/{match_id}")
class BuddyMatchCreatedV1(EventPayload):
    """A participant was matched with a buddy."""

    match_id: str
    participant_user_id: UserId
    buddy_user_id: UserId
    matched_at: AwareDatetime
    language: str | None = None


@_event("buddy.event.logged", 1, "buddy/events/{buddy_event_id}")
class BuddyEventLoggedV1(EventPayload):
    """A Buddy meet-up (hangout, activity, workshop) was logged."""

    buddy_event_id: str
    match_id: str
    participant_user_id: UserId | None = None
    buddy_user_id: UserId | None = None
    buddy_event_type: Literal["hangout", "activity", "workshop"]
    event_date: AwareDatetime
    attendees: int | None = Field(default=None, ge=0)
    volunteer_hours: float = Field(ge=0, description="Hours credited to the buddy.")


@_event("buddy.checkin.completed", 1, "buddy/checkins/{checkin_id}")
class BuddyCheckinCompletedV1(EventPayload):
    """A Buddy pair completed a check-in."""

    checkin_id: str
    match_id: str
    participant_user_id: UserId | None = None
    buddy_user_id: UserId | None = None
    checkin_date: AwareDatetime
    mood: Literal["great", "good", "okay", "struggling", "difficult"] | None = None
    mood_score: int | None = Field(default=None, ge=1, le=5)


@_event("buddy.feedback.submitted", 1, "buddy/feedback/{feedback_id}")
class BuddyFeedbackSubmittedV1(EventPayload):
    """A participant or buddy gave feedback on their match."""

    feedback_id: str
    match_id: str
    from_role: Literal["participant", "buddy"]
    author_user_id: UserId | None = None
    rating: float = Field(ge=0, le=1, description="Rating on a 0–1 scale.")
    has_feedback_text: bool
    submitted_at: AwareDatetime | None = Field(default=None, description="When it was given, when the export says.")


# --- Upskilling ------------------------------------------------------------------------------------

Provider = Literal["ecornell", "itslearning"]


@_event("upskilling.course.completed", 1, "upskilling/progress/{progress_id}")
class UpskillingCourseCompletedV1(EventPayload):
    """A participant completed a course."""

    progress_id: str
    user_id: UserId
    provider: Provider
    course_id: str
    course_name: str | None = None
    completed_at: AwareDatetime | None = None
    final_score: float | None = Field(default=None, ge=0, le=100)


@_event("upskilling.credential.issued", 1, "upskilling/credentials/{credential_id}")
class UpskillingCredentialIssuedV1(EventPayload):
    """A participant was issued a credential."""

    credential_id: str
    user_id: UserId
    provider: Provider
    course_id: str | None = None
    credential_type: Literal["certificate", "badge", "diploma", "transcript"]
    issued_at: AwareDatetime
    expires_at: AwareDatetime | None = None


@_event("upskilling.progress.updated", 1, "upskilling/progress/{progress_id}")
class UpskillingProgressUpdatedV1(EventPayload):
    """A participant's progress in a course changed."""

    progress_id: str
    user_id: UserId
    provider: Provider
    course_id: str
    status: Literal["enrolled", "in_progress", "completed", "dropped"]
    progress_percent: float | None = Field(default=None, ge=0, le=100)
    started_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None


# --- Orchestration ---------------------------------------------------------------------------------


@_event("orchestration.journey.milestone.reached", 1, "journeys/{user_id}/milestones/{milestone}")
class JourneyMilestoneReachedV1(EventPayload):
    """A participant reached a journey milestone (from core.journey_milestones)."""

    milestone_id: str
    user_id: UserId
    milestone: str = Field(description="e.g. first_language_session, buddy_matched, credential_earned")
    reached_at: AwareDatetime
    record_id: str = Field(description="The record that reached it (session, match, check-in, …).")
    outcome_dimension: str | None = None


@_event("orchestration.profile.updated", 1, "profiles/{user_id}")
class ProfileUpdatedV1(EventPayload):
    """A participant's journey flags changed outside a dbt build (the event consumer or an admin)."""

    user_id: UserId
    changed_flags: dict[str, bool] = Field(description="The flags this update changed, with their new value.")
    journey_flags: dict[str, bool] = Field(description="All journey flags after the update.")
    cause: Literal["event", "admin"]
    cause_event_id: str | None = Field(default=None, description="The event that caused it (cause = event).")
    set_by: str = Field(description="The consumer's name, or the admin's token subject.")
    updated_at: AwareDatetime


# --- Safety (contracts only: the screening that raises them arrives with the safety feature) -------


@_event("safety.flag.raised", 1, "safety/flags/{flag_id}")
class SafetyFlagRaisedV1(EventPayload):
    """Screening flagged a text for review."""

    flag_id: str
    source_table: str = Field(description="The core table of the screened text, e.g. buddy_feedback.")
    record_id: str
    user_id: UserId | None = None
    category: str = Field(description="e.g. self_harm, harassment, personal_data")
    severity: Literal["low", "medium", "high"]
    raised_at: AwareDatetime


@_event("safety.review.completed", 1, "safety/flags/{flag_id}")
class SafetyReviewCompletedV1(EventPayload):
    """A reviewer decided on a safety flag."""

    flag_id: str
    decision: Literal["dismissed", "confirmed", "escalated"]
    reviewed_by: str = Field(description="The reviewer's token subject.")
    reviewed_at: AwareDatetime


# --- Versions --------------------------------------------------------------------------------------


def _session_completed_v1_to_v2(old: KintellSessionCompletedV1) -> KintellSessionCompletedV2:
    return KintellSessionCompletedV2(
        session_id=old.session_id,
        session_type=old.session_type,
        participant_user_id=old.participant_user_id,
        volunteer_user_id=old.volunteer_user_id,
        completed_at=old.completed_at,
        duration_seconds=old.duration_minutes * 60 if old.duration_minutes is not None else None,
        cefr_level=old.language_level,
    )


_UPCASTERS[KintellSessionCompletedV1] = _session_completed_v1_to_v2
KintellSessionCompletedV1.superseded_by = KintellSessionCompletedV2


def current_payload(payload: EventPayload) -> EventPayload:
    """`payload` as the current version of its type (upcast step by step from older versions)."""
    while (upcast := _UPCASTERS.get(type(payload))) is not None:
        payload = upcast(payload)
    return payload


def current_models() -> list[type[EventPayload]]:
    """The payload model of each event type's current version (what the platform emits)."""
    return [model for model in EVENT_TYPES.values() if model.superseded_by is None]


def event_id(event_type: str, version: int, natural_key: str) -> uuid.UUID:
    """The deterministic id of the event announcing `natural_key` (UUIDv5)."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{event_type}/v{version}/{natural_key}")


def encode_structured(
    payload: EventPayload,
    *,
    time: datetime,
    natural_key: str | None = None,
    correlation_id: str | None = None,
) -> tuple[str, bytes]:
    """The event id and the structured-mode JSON of `payload`'s envelope, byte for byte what
    `CloudEvent.wrap(...).model_dump_json(exclude_none=True)` gives, without building the envelope
    model: the publishing hot path (a test keeps the two equal)."""
    key = natural_key or payload.natural_key()
    identifier = str(event_id(payload.event_type, payload.version, key))
    return identifier, structured_json(
        identifier=identifier,
        payload_type=type(payload),
        subject=payload.event_subject(),
        time=time,
        correlation_id=correlation_id,
        data_json=payload.model_dump_json(),
    )


def structured_json(
    *,
    identifier: str,
    payload_type: type[EventPayload],
    subject: str,
    time: datetime,
    correlation_id: str | None,
    data_json: str,
) -> bytes:
    """The envelope's JSON from its parts (`data_json`: the payload model's own JSON)."""
    # Spelled out rather than json.dumps of a dict: this runs once per published event. Only the
    # subject and the correlation id can hold characters that need escaping.
    correlation = "" if correlation_id is None else f',"correlationid":{json.dumps(correlation_id, ensure_ascii=False)}'
    return (
        f'{{"specversion":"1.0","id":"{identifier}","source":"{EVENT_SOURCE}","type":"{payload_type.event_type}",'
        f'"subject":{json.dumps(subject, ensure_ascii=False)},"time":"{_json_time(time)}",'
        f'"datacontenttype":"application/json","dataschema":"{payload_type.dataschema()}"{correlation},'
        f'"data":{data_json}}}'
    ).encode()


def _json_time(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
    correlationid: str | None = Field(
        default=None, description="Extension attribute: the request or run that caused the event."
    )
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        time: datetime,
        natural_key: str | None = None,
        correlation_id: str | None = None,
    ) -> CloudEvent:
        """The envelope of `payload`, with its deterministic id."""
        key = natural_key or payload.natural_key()
        return cls(
            id=str(event_id(payload.event_type, payload.version, key)),
            type=payload.event_type,
            subject=payload.event_subject(),
            time=time,
            dataschema=payload.dataschema(),
            correlationid=correlation_id,
            data=payload.model_dump(mode="json"),
        )

    def version(self) -> int:
        return int(self.dataschema.rsplit(":v", 1)[1])

    def payload(self) -> EventPayload:
        """The typed payload of this envelope, validated against its contract (any accepted version)."""
        model = EVENT_TYPES.get((self.type, self.version()))
        if model is None:
            raise ValueError(f"unknown event {self.type} v{self.version()}")
        return model.model_validate(self.data)
