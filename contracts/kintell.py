"""Kintell source records: what one row of a Kintell export means once mapped and validated."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from contracts.fields import CefrLevel, Email, Rating, TextList, UtcTimestamp

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class KintellSessionRecord(BaseModel):
    """One Kintell session (Language Connect or mentorship) between a participant and a volunteer.

    Validate with `context={"timezone": ..., "scales": {"rating": (low, high)}}`: naive timestamps are
    read in that timezone and the rating is stored in 0..1 from that scale (default 1 to 5).
    """

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    # The email fields that identify people; the loader stores a pseudonymous user id for each.
    identity_fields: ClassVar[tuple[str, ...]] = ("participant_email", "volunteer_email")

    session_id: NonEmptyText
    session_type: Literal["language", "mentorship"]
    participant_email: Email
    volunteer_email: Email
    scheduled_at: UtcTimestamp | None = None
    started_at: UtcTimestamp | None = None
    completed_at: UtcTimestamp | None = None
    duration_minutes: Annotated[int, Field(ge=1, le=480)] | None = None
    rating: Rating | None = None
    feedback_text: str | None = None
    language_level: CefrLevel | None = None
    topics: TextList = None

    @model_validator(mode="after")
    def _completed_not_before_started(self) -> KintellSessionRecord:
        if self.started_at and self.completed_at and self.completed_at < self.started_at:
            raise PydanticCustomError(
                "completed_before_started",
                "completed_at ({completed}) is before started_at ({started})",
                {"completed": self.completed_at.isoformat(), "started": self.started_at.isoformat()},
            )
        return self
