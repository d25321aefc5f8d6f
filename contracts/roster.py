"""Roster source records: the companies that lend volunteers, and which employee belongs to which."""

from __future__ import annotations

from typing import ClassVar

from contracts.fields import Email, NonEmptyText, SourceRecord, Text, UtcTimestamp


class RosterCompanyRecord(SourceRecord):
    """A company taking part, known by its short code."""

    company_code: NonEmptyText
    company_name: NonEmptyText
    industry: Text | None = None
    country: Text | None = None


class RosterVolunteerRecord(SourceRecord):
    """An employee of a company who volunteers, known by their work email."""

    identity_fields: ClassVar[tuple[str, ...]] = ("employee_email",)

    employee_email: Email
    company_code: NonEmptyText
    joined_at: UtcTimestamp | None = None
