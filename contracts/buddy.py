"""Buddy programme source records: matches, the meet-ups of a match, check-ins and feedback."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from contracts.fields import (
    Email,
    JsonDocument,
    NonEmptyText,
    Rating,
    SourceRecord,
    Text,
    TextList,
    UtcTimestamp,
    WholeNumber,
)


class BuddyMatchRecord(SourceRecord):
    """A newcomer matched with a buddy (an employee volunteer)."""

    identity_fields: ClassVar[tuple[str, ...]] = ("participant_email", "buddy_email")
    chronology: ClassVar[tuple[tuple[str, str], ...]] = (("matched_at", "ended_at"),)

    match_id: NonEmptyText
    participant_email: Email
    buddy_email: Email
    matched_at: UtcTimestamp
    status: Literal["active", "inactive", "ended"] | None = None
    ended_at: UtcTimestamp | None = None
    language: Text | None = None
    interests: TextList = None
    location: Text | None = None


class BuddyEventRecord(SourceRecord):
    """Something a matched pair did together: a hangout, an activity or a workshop."""

    event_id: NonEmptyText
    match_id: NonEmptyText
    event_type: Literal["hangout", "activity", "workshop"]
    event_date: UtcTimestamp
    description: Text | None = None
    location: Text | None = None
    attendees: Annotated[WholeNumber, Field(ge=0, le=10_000)] | None = None


class BuddyCheckinRecord(SourceRecord):
    """A check-in on how a match is going, with the answers to the check-in questions as JSON."""

    checkin_id: NonEmptyText
    match_id: NonEmptyText
    checkin_date: UtcTimestamp
    mood: Literal["great", "good", "okay", "struggling", "difficult"] | None = None
    notes: Text | None = None
    question_responses: JsonDocument | None = None


class BuddyFeedbackRecord(SourceRecord):
    """Feedback from one side of a match: an overall rating and optional ratings per aspect."""

    feedback_id: NonEmptyText
    match_id: NonEmptyText
    from_role: Literal["participant", "buddy"]
    rating: Rating
    feedback_text: Text | None = None
    submitted_at: UtcTimestamp | None = None
    communication: Rating | None = None
    helpfulness: Rating | None = None
    engagement: Rating | None = None
