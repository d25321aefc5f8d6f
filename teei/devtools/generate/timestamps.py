"""How a generated timestamp is written: the readings exports use, from an Oslo wall-clock time."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

# The readings a timestamp is written in. Times are generated as Oslo wall-clock times.
ISO_Z, ISO_OFFSET, NAIVE, NAIVE_ISO, DOTTED, ISO_DATE, DOTTED_DATE = READINGS = (
    "iso_z",
    "iso_offset",
    "naive",
    "naive_iso",
    "dotted",
    "iso_date",
    "dotted_date",
)
MIXED = "mixed"
"""A file whose rows each use one reading, chosen by the row's key (so a later file writes it alike)."""


def _summer_time(year: int) -> tuple[datetime, datetime]:
    """Oslo's summer time in wall-clock time: last Sunday of March 02:00 to last Sunday of October 03:00."""

    def last_sunday(month: int) -> int:
        last = calendar.monthrange(year, month)[1]
        return last - (date(year, month, last).weekday() + 1) % 7

    return datetime(year, 3, last_sunday(3), 2), datetime(year, 10, last_sunday(10), 3)


_SUMMER, _WINTER = timedelta(hours=2), timedelta(hours=1)
_SUMMER_TIMES: dict[int, tuple[datetime, datetime]] = {}


def _utc_offset(moment: datetime) -> timedelta:
    start, end = _SUMMER_TIMES.get(moment.year) or _SUMMER_TIMES.setdefault(moment.year, _summer_time(moment.year))
    return _SUMMER if start <= moment < end else _WINTER


def _dotted_date(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def _iso_date(day: date) -> str:
    return day.isoformat()[:10]  # a datetime's day too


def _timestamp_writer(
    write_moment: Callable[[datetime], str], write_day: Callable[[date], str]
) -> Callable[[Any], str]:
    """A writer of timestamps (datetimes) and of plain days (dates, written as days in any reading)."""
    return lambda value: write_day(value) if value.__class__ is date else write_moment(value)


TIMESTAMP_WRITERS: dict[str, Callable[[Any], str]] = {
    ISO_Z: _timestamp_writer(lambda m: (m - _utc_offset(m)).isoformat() + "Z", _iso_date),
    ISO_OFFSET: _timestamp_writer(lambda m: f"{m.isoformat()}+0{_utc_offset(m).seconds // 3600}:00", _iso_date),
    NAIVE: _timestamp_writer(lambda m: f"{m.year}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}", _iso_date),
    NAIVE_ISO: _timestamp_writer(datetime.isoformat, _iso_date),
    DOTTED: _timestamp_writer(lambda m: f"{_dotted_date(m)} {m.hour:02d}:{m.minute:02d}", _dotted_date),
    ISO_DATE: _iso_date,
    DOTTED_DATE: _dotted_date,
}
"""How each reading writes an Oslo wall-clock time (a `datetime`) or a day (a `date`)."""


def render_timestamp(moment: datetime | date, reading: str) -> str:
    """An Oslo wall-clock time (or a day) written in `reading` (one of `READINGS`)."""
    return TIMESTAMP_WRITERS[reading](moment)
