"""Deterministic sample exports: realistic files for the demo, the tests and the benchmarks.

The same arguments always write the same bytes. Rows are written as they are made, so a file of a
million rows needs no more memory than one of ten. Run as a module to refresh the bundled sample:
`python -m teei.samples`.
"""

from __future__ import annotations

import csv
import random
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

KINTELL_SESSION_HEADERS = (
    "Session ID",
    "Session Type",
    "Participant Email",
    "Volunteer Email",
    "Scheduled At",
    "Started At",
    "Completed At",
    "Duration Minutes",
    "Rating",
    "Feedback",
    "Language Level",
    "Topics",
)
(
    SESSION_ID,
    SESSION_TYPE,
    PARTICIPANT,
    VOLUNTEER,
    SCHEDULED,
    STARTED,
    COMPLETED,
    DURATION,
    RATING,
    FEEDBACK,
    LEVEL,
    TOPICS,
) = range(len(KINTELL_SESSION_HEADERS))

BUNDLED_KINTELL_SESSIONS = Path(__file__).parents[1] / "sample_data" / "kintell" / "sessions_2026-10.csv"

_PARTICIPANT_FIRST = (
    "olena", "taras", "iryna", "oleksandr", "kateryna", "dmytro", "yulia", "andrii", "natalia", "serhii",
    "oksana", "mykola", "svitlana", "bohdan", "halyna", "vasyl", "mariia", "yurii", "tetiana", "ivan",
)  # fmt: skip
_PARTICIPANT_LAST = (
    "kovalenko", "shevchenko", "bondarenko", "tkachenko", "kravchenko", "melnyk", "boiko", "koval",
    "oliinyk", "lysenko", "marchenko", "savchenko", "rudenko", "moroz", "petrenko", "pavlenko",
)  # fmt: skip
_VOLUNTEER_FIRST = (
    "ingrid", "lars", "kari", "ola", "sofie", "henrik", "emma", "jonas", "nora", "magnus", "sarah", "james",
)  # fmt: skip
_VOLUNTEER_LAST = ("berg", "hansen", "johansen", "larsen", "nilsen", "olsen", "dahl", "smith", "haugen", "lie")
_COMPANY_DOMAINS = ("acme.example", "northwind.example", "fjordbank.example", "contoso.example")
_SESSION_TYPES = ("Language Connect", "Mentorship")
# Ratings lean positive, as they do in the real programme.
_RATINGS = "12333444445555555"
_LEVELS = ("A1", "A2", "A2", "B1", "B1", "B2", "C1")
_TOPICS = (
    "job interview", "housing", "CV", "small talk", "healthcare", "school", "networking",
    "public transport", "banking", "workplace culture", "grammar", "pronunciation",
)  # fmt: skip
_FEEDBACK = (
    "Very helpful, thank you!",
    "We practised a job interview; I feel more confident now.",
    'My mentor explained the "fellesferie" holiday, very useful',
    "Good conversation about housing.",
    "A bit short, but useful.",
    "Great session",
    "Дуже корисна розмова, дякую!",
    "Ми говорили про роботу та житло.",
    "Дякую за терпіння.",
)


def _person_email(index: int, first: tuple[str, ...], last: tuple[str, ...], domain: str) -> str:
    """The `index`-th distinct name-derived address; a number is added once the names run out."""
    name = f"{first[index % len(first)]}.{last[(index // len(first)) % len(last)]}"
    repeat = index // (len(first) * len(last))
    return f"{name}{repeat + 1 if repeat else ''}@{domain}"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _missing_participant(row: list[str]) -> None:
    row[PARTICIPANT] = ""


def _impossible_date(row: list[str]) -> None:
    row[COMPLETED] = "31.02.2026 10:00"


def _overlong_duration(row: list[str]) -> None:
    row[DURATION] = "900"


def _unknown_type(row: list[str]) -> None:
    row[SESSION_TYPE] = "Coffee chat"


def _rating_off_scale(row: list[str]) -> None:
    row[RATING] = "7"


def _malformed_volunteer_email(row: list[str]) -> None:
    row[VOLUNTEER] = row[VOLUNTEER].replace("@", " at ")


def _ends_before_start(row: list[str]) -> None:
    row[STARTED], row[COMPLETED] = row[COMPLETED], row[STARTED]


def _unknown_level(row: list[str]) -> None:
    row[LEVEL] = "D1"


# Each bad row is broken in exactly one of these ways, in this order (then again from the top).
_BREAKAGES: tuple[Callable[[list[str]], None], ...] = (
    _missing_participant,
    _impossible_date,
    _overlong_duration,
    _unknown_type,
    _rating_off_scale,
    _malformed_volunteer_email,
    _ends_before_start,
    _unknown_level,
)


def write_kintell_sessions(
    path: Path,
    *,
    rows: int,
    seed: int,
    bad_rows: int = 0,
    duplicate_rows: int = 0,
    start: date | None = None,
) -> None:
    """Write a Kintell sessions export: `rows` good sessions, plus `bad_rows` broken ones and
    `duplicate_rows` exact repeats of earlier good rows, scattered among them.

    So the file holds `rows + bad_rows + duplicate_rows` data rows, and loading it gives `rows`
    loaded, `bad_rows` quarantined (each broken in a different way) and `duplicate_rows` duplicates.
    Sessions are spread over the 30 days from `start` (default 2026-10-01), times in UTC.
    """
    if duplicate_rows and not rows:
        raise ValueError("duplicate_rows needs at least one good row to repeat")
    rng = random.Random(seed)
    first_day = datetime.combine(start or date(2026, 10, 1), datetime.min.time())
    participants = max(1, rows // 6)
    volunteers = max(1, rows // 15)
    total = rows + bad_rows + duplicate_rows
    # Specials never come first, so every duplicate has an earlier good row to repeat.
    specials = rng.sample(range(1, total), bad_rows + duplicate_rows) if total > 1 else []
    rng.shuffle(specials)
    bad_at = set(specials[:bad_rows])
    duplicate_at = set(specials[bad_rows:])
    recent: deque[list[str]] = deque(maxlen=200)  # the rows duplicates are drawn from: bounded memory
    sessions = 0

    def next_session(completed: bool) -> list[str]:
        nonlocal sessions
        sessions += 1
        return _kintell_session(rng, f"ks-{seed}-{sessions:07d}", first_day, participants, volunteers, completed)

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KINTELL_SESSION_HEADERS)
        breakages = 0
        for position in range(total):
            if position in duplicate_at:
                writer.writerow(rng.choice(recent))
            elif position in bad_at:
                row = next_session(completed=True)
                _BREAKAGES[breakages % len(_BREAKAGES)](row)
                breakages += 1
                writer.writerow(row)
            else:
                row = next_session(completed=rng.random() < 0.8)
                recent.append(row)
                writer.writerow(row)


def _kintell_session(
    rng: random.Random,
    session_id: str,
    first_day: datetime,
    participants: int,
    volunteers: int,
    completed: bool,
) -> list[str]:
    """One good session row; scheduled-only sessions have no start, end, duration or rating."""
    participant = _person_email(rng.randrange(participants), _PARTICIPANT_FIRST, _PARTICIPANT_LAST, "example.org")
    volunteer_index = rng.randrange(volunteers)
    volunteer = _person_email(
        volunteer_index,
        _VOLUNTEER_FIRST,
        _VOLUNTEER_LAST,
        _COMPANY_DOMAINS[volunteer_index % len(_COMPANY_DOMAINS)],
    )
    session_type = _SESSION_TYPES[rng.random() < 0.4]
    scheduled = first_day + timedelta(days=rng.randrange(30), hours=rng.randrange(6, 19), minutes=15 * rng.randrange(4))
    row = [session_id, session_type, participant, volunteer, _stamp(scheduled), "", "", "", "", "", "", ""]
    level = rng.choice(_LEVELS) if session_type == "Language Connect" or rng.random() < 0.3 else ""
    row[LEVEL] = level
    if completed:
        started = scheduled + timedelta(minutes=rng.randrange(0, 8))
        duration = rng.randrange(30, 91)
        row[STARTED] = _stamp(started)
        row[COMPLETED] = _stamp(started + timedelta(minutes=duration))
        row[DURATION] = str(duration)
        row[RATING] = rng.choice(_RATINGS) if rng.random() < 0.85 else ""
        row[FEEDBACK] = rng.choice(_FEEDBACK) if rng.random() < 0.6 else ""
        row[TOPICS] = "; ".join(rng.sample(_TOPICS, rng.randint(1, 3))) if rng.random() < 0.7 else ""
    return row


if __name__ == "__main__":
    write_kintell_sessions(BUNDLED_KINTELL_SESSIONS, rows=300, seed=2026, bad_rows=4, duplicate_rows=2)
