"""Upskilling source records: course progress (eCornell, itslearning) and the credentials earned."""

from __future__ import annotations

from typing import ClassVar, Literal

from contracts.fields import Email, NonEmptyText, Percent, SourceRecord, Text, UtcTimestamp

Provider = Literal["ecornell", "itslearning"]


class UpskillingProgressRecord(SourceRecord):
    """A learner's progress in one course of one provider; each provider's export is mapped to this."""

    identity_fields: ClassVar[tuple[str, ...]] = ("user_email",)
    chronology: ClassVar[tuple[tuple[str, str], ...]] = (("started_at", "completed_at"),)

    provider: Provider
    user_email: Email
    course_id: NonEmptyText
    course_name: Text | None = None
    status: Literal["enrolled", "in_progress", "completed", "dropped"]
    progress_percent: Percent | None = None
    started_at: UtcTimestamp | None = None
    completed_at: UtcTimestamp | None = None
    final_score: Percent | None = None
    credential_ref: Text | None = None


class UpskillingCredentialRecord(SourceRecord):
    """A certificate, badge, diploma or transcript a learner was issued."""

    identity_fields: ClassVar[tuple[str, ...]] = ("user_email",)
    chronology: ClassVar[tuple[tuple[str, str], ...]] = (("issued_at", "expires_at"),)

    credential_id: NonEmptyText
    user_email: Email
    provider: Provider
    course_id: Text | None = None
    credential_type: Literal["certificate", "badge", "diploma", "transcript"]
    issued_at: UtcTimestamp
    expires_at: UtcTimestamp | None = None
    url: Text | None = None
    verification_code: Text | None = None
