"""KintellSessionRecord: what a Kintell session row becomes, and which rows it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from contracts.kintell import KintellSessionRecord

OSLO = ZoneInfo("Europe/Oslo")
CONTEXT = {"timezone": OSLO, "scales": {"rating": (1.0, 5.0)}}
REQUIRED = {
    "session_id": "KS-1",
    "session_type": "language",
    "participant_email": "olena.kovalenko@example.org",
    "volunteer_email": "ingrid.berg@acme.example",
}


def session(context: dict[str, Any] | None = None, **fields: Any) -> KintellSessionRecord:
    return KintellSessionRecord.model_validate({**REQUIRED, **fields}, context=CONTEXT if context is None else context)


def errors(**fields: Any) -> dict[str, str]:
    """The validation messages by field ('' for a rule across fields)."""
    with pytest.raises(ValidationError) as caught:
        session(**fields)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors(include_url=False)}


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_minimal_session_has_only_its_required_fields() -> None:
    record = session()

    assert record.model_dump() == {
        **REQUIRED,
        "scheduled_at": None,
        "started_at": None,
        "completed_at": None,
        "duration_minutes": None,
        "rating": None,
        "feedback_text": None,
        "language_level": None,
        "topics": None,
    }


def test_session_id_and_feedback_are_trimmed() -> None:
    record = session(session_id="  KS-9 ", feedback_text="  Дякую, було корисно \n")

    assert (record.session_id, record.feedback_text) == ("KS-9", "Дякую, було корисно")


def test_a_blank_session_id_is_refused() -> None:
    assert "session_id" in errors(session_id="   ")


def test_unknown_session_types_are_refused_naming_the_allowed_ones() -> None:
    assert errors(session_type="Coffee chat") == {"session_type": "Input should be 'language' or 'mentorship'"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05T08:00:00Z", utc(2026, 10, 5, 8, 0)),
        ("2026-10-05T10:00:00+02:00", utc(2026, 10, 5, 8, 0)),
        ("2026-10-05T10:00:00.250+02:00", datetime(2026, 10, 5, 8, 0, 0, 250000, tzinfo=UTC)),
        ("2026-10-05 10:00", utc(2026, 10, 5, 8, 0)),
        ("2026-10-05T10:00:00", utc(2026, 10, 5, 8, 0)),
        ("05.10.2026 10:00", utc(2026, 10, 5, 8, 0)),
        ("05.10.2026 10:00:30", utc(2026, 10, 5, 8, 0, 30)),
        ("5.1.2026 10:00", utc(2026, 1, 5, 9, 0)),
        ("2026-10-05", utc(2026, 10, 4, 22, 0)),
        ("05.10.2026", utc(2026, 10, 4, 22, 0)),
        ("  2026-10-05 10:00 ", utc(2026, 10, 5, 8, 0)),
    ],
)
def test_every_timestamp_format_becomes_utc(text: str, expected: datetime) -> None:
    assert session(scheduled_at=text).scheduled_at == expected


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # spring forward, 2026-03-29 02:00 -> 03:00: CET (+01) before, CEST (+02) after
        ("2026-03-29 01:30", utc(2026, 3, 29, 0, 30)),
        ("2026-03-29 03:30", utc(2026, 3, 29, 1, 30)),
        ("29.03.2026 03:30", utc(2026, 3, 29, 1, 30)),
        # 02:30 never happens that night; read in standard time (the offset before the switch)
        ("2026-03-29 02:30", utc(2026, 3, 29, 1, 30)),
        # fall back, 2026-10-25 03:00 -> 02:00: CEST (+02) before, CET (+01) after
        ("2026-10-25 01:30", utc(2026, 10, 24, 23, 30)),
        ("2026-10-25 03:30", utc(2026, 10, 25, 2, 30)),
        ("25.10.2026 03:30", utc(2026, 10, 25, 2, 30)),
        # 02:30 happens twice that night; standard time (the second) is taken, as PostgreSQL does
        ("2026-10-25 02:30", utc(2026, 10, 25, 1, 30)),
    ],
)
def test_naive_times_are_read_in_the_context_timezone_across_dst_switches(local: str, expected: datetime) -> None:
    assert session(started_at=local).started_at == expected


def test_naive_times_without_a_timezone_in_the_context_are_utc() -> None:
    assert session(context={}, started_at="2026-10-05 10:00").started_at == utc(2026, 10, 5, 10, 0)


@pytest.mark.parametrize("text", ["31.02.2026 10:00", "2026-02-30", "yesterday", "10:00", "2026-13-01 10:00"])
def test_unreadable_timestamps_are_refused_quoting_the_value(text: str) -> None:
    assert errors(completed_at=text) == {"completed_at": f"{text!r} is not a valid date/time"}


def test_completed_before_started_is_refused() -> None:
    assert errors(started_at="2026-10-05 10:00", completed_at="2026-10-05 09:59") == {
        "": "completed_at (2026-10-05T07:59:00+00:00) is before started_at (2026-10-05T08:00:00+00:00)"
    }


def test_completed_at_the_same_moment_as_started_is_fine() -> None:
    record = session(started_at="2026-10-05T10:00:00+02:00", completed_at="2026-10-05 08:00Z")

    assert record.completed_at == record.started_at


@pytest.mark.parametrize(("text", "minutes"), [("1", 1), ("45", 45), ("480", 480), ("90.0", 90), (" 60 ", 60)])
def test_durations_within_one_to_480_minutes_are_kept(text: str, minutes: int) -> None:
    assert session(duration_minutes=text).duration_minutes == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "Input should be greater than or equal to 1"),
        ("900", "Input should be less than or equal to 480"),
        ("abc", "'abc' is not a whole number"),
        ("45.5", "'45.5' is not a whole number"),
        ("1234567890", "'1234567890' is not a whole number"),  # more digits than the raw table's integer holds
    ],
)
def test_durations_outside_the_bounds_or_not_whole_numbers_are_refused(text: str, message: str) -> None:
    assert errors(duration_minutes=text) == {"duration_minutes": message}


@pytest.mark.parametrize(("text", "stored"), [("1", 0.0), ("3", 0.5), ("4", 0.75), ("5", 1.0), ("4,5", 0.875)])
def test_ratings_are_stored_on_zero_to_one(text: str, stored: float) -> None:
    assert session(rating=text).rating == stored


def test_the_rating_scale_comes_from_the_context() -> None:
    unit_scale = {"timezone": OSLO, "scales": {"rating": (0.0, 1.0)}}
    ten_scale = {"timezone": OSLO, "scales": {"rating": (0.0, 10.0)}}

    assert session(context=unit_scale, rating="0.8").rating == 0.8
    assert session(context=ten_scale, rating="7").rating == 0.7
    assert session(context={}, rating="2").rating == 0.25
    assert session(context={"scales": {"rating": (1.0, 7.0)}}, rating="2").rating == 0.1667


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7", "'7' is outside the scale 1 to 5"),
        ("0", "'0' is outside the scale 1 to 5"),
        ("nan", "'nan' is not a number"),
        ("good", "'good' is not a number"),
    ],
)
def test_ratings_off_the_scale_are_refused(text: str, message: str) -> None:
    assert errors(rating=text) == {"rating": message}


@pytest.mark.parametrize(("text", "level"), [("B1", "B1"), ("b2", "B2"), (" c1 ", "C1"), ("a1", "A1")])
def test_cefr_levels_are_stored_upper_case(text: str, level: str) -> None:
    assert session(language_level=text).language_level == level


@pytest.mark.parametrize("text", ["D1", "B3", "intermediate", "B 1"])
def test_other_language_levels_are_refused(text: str) -> None:
    assert errors(language_level=text) == {"language_level": f"{text!r} is not a CEFR level (A1, A2, B1, B2, C1 or C2)"}


def test_emails_are_trimmed_and_lower_cased() -> None:
    record = session(participant_email="  Taras.Shevchenko@Example.ORG ", volunteer_email="LARS@northwind.example")

    assert (record.participant_email, record.volunteer_email) == (
        "taras.shevchenko@example.org",
        "lars@northwind.example",
    )


@pytest.mark.parametrize(
    "email", ["olena", "olena@example", "olena@@example.org", "olena kovalenko@example.org", "@example.org",
              "olena@example.", "olena@.org", "olena@example.org@acme.example"],
)  # fmt: skip
def test_things_that_do_not_look_like_an_email_are_refused(email: str) -> None:
    assert errors(volunteer_email=email) == {"volunteer_email": f"{email!r} is not a valid email address"}


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("job interview; housing", ["job interview", "housing"]),
        ("CV|networking", ["CV", "networking"]),
        ("school, healthcare ,", ["school", "healthcare"]),
        ("housing", ["housing"]),
        (" ; | ", None),
    ],
)
def test_topics_are_split_on_semicolons_pipes_and_commas(text: str, topics: list[str] | None) -> None:
    assert session(topics=text).topics == topics


def test_every_broken_field_is_reported_at_once() -> None:
    assert set(
        errors(
            session_type="Coffee chat",
            participant_email="nobody",
            completed_at="31.02.2026 10:00",
            duration_minutes="900",
            rating="7",
            language_level="D1",
        )
    ) == {"session_type", "participant_email", "completed_at", "duration_minutes", "rating", "language_level"}


def test_the_identity_fields_are_the_two_emails() -> None:
    assert KintellSessionRecord.identity_fields == ("participant_email", "volunteer_email")
