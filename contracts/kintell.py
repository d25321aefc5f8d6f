"""Kintell source records: what one row of a Kintell export (or webhook) means once mapped and validated."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from contracts.fields import (
    CefrLevel,
    Email,
    NonEmptyText,
    Rating,
    SourceRecord,
    Text,
    TextList,
    UtcTimestamp,
    WholeNumber,
)


class KintellSessionRecord(SourceRecord):
    """One Kintell session (Language Connect or mentorship) between a participant and a volunteer.

    Validate with `context={"timezone": ..., "scales": {"rating": (low, high)}}`: naive timestamps are
    read in that timezone and the rating is stored in 0..1 from that scale (default 1 to 5).
    """

    identity_fields: ClassVar[tuple[str, ...]] = ("participant_email", "volunteer_email")
    chronology: ClassVar[tuple[tuple[str, str], ...]] = (("started_at", "completed_at"),)

    session_id: NonEmptyText
    session_type: Literal["language", "mentorship"]
    participant_email: Email
    volunteer_email: Email
    scheduled_at: UtcTimestamp | None = None
    started_at: UtcTimestamp | None = None
    completed_at: UtcTimestamp | None = None
    duration_minutes: Annotated[WholeNumber, Field(ge=1, le=480)] | None = None
    rating: Rating | None = None
    feedback_text: Text | None = None
    language_level: CefrLevel | None = None
    topics: TextList = None


class KintellRatingRecord(SourceRecord):
    """A rating one side of a Kintell session gave the other, with optional feedback text."""

    rating_id: NonEmptyText
    session_id: NonEmptyText
    from_role: Literal["participant", "volunteer"]
    rating: Rating
    feedback_text: Text | None = None
    created_at: UtcTimestamp | None = None
