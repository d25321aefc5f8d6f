"""Kintell: three months of sessions (Language Connect and mentorship) and the ratings both sides gave.

Sessions are scheduled over each month, most of them held (start, end, duration, often a rating and
feedback); sessions of a month's last days are often still open when the month is exported, and a
messy next month's export shows them again (most held since, some unchanged).
"""

from __future__ import annotations

import calendar
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta

from connectors.registry import KINTELL_RATINGS, KINTELL_SESSIONS
from teei.devtools.generate.faults import BAD_DATE, Fault, Record, empty, other
from teei.devtools.generate.people import RATING_DRAWS, Population
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.run import MONTHS, Run
from teei.devtools.generate.timestamps import DOTTED, ISO_OFFSET, MIXED, NAIVE_ISO
from teei.devtools.generate.writer import EntityExport, Style, camel_case, columns, record_fields

LANGUAGE_TOPICS = (
    "small talk", "pronunciation", "grammar", "job interview", "at the doctor", "shopping", "public transport",
    "housing", "school meetings", "phone calls",
)  # fmt: skip
MENTORSHIP_TOPICS = (
    "CV", "LinkedIn profile", "job search", "networking", "workplace culture", "salary negotiation",
    "starting a business", "recognition of qualifications", "career change", "tax card",
)  # fmt: skip
PARTICIPANT_FEEDBACK = (
    "Very helpful, thank you!",
    "We practised a job interview; I feel more confident now.",
    'My mentor explained the "fellesferie" holiday, very useful',
    "Good conversation about housing, and some new words.",
    "A bit short, but useful.",
    "Great session",
    "Дуже корисна розмова, дякую!",
    "Ми говорили про роботу та житло.",
    "Дякую за терпіння.",
    "Нарешті зрозуміла, як написати CV для Норвегії.",
    "Трохи складно, але цікаво.",
)
VOLUNTEER_FEEDBACK = (
    "Motivated learner, good progress.",
    "We covered the past tense; prepositions need more practice.",
    "Great energy, came well prepared.",
    'Asked about "NAV" and tax; we continue next time.',
    "Connection was poor, we will try again.",
)
# Line breaks (one with an empty line) and quotes inside a field: messy exports only.
MULTILINE_FEEDBACK = (
    "Good session.\nWe practised small talk, numbers and dates.",
    "Дуже корисно!\n\nНаступного разу: співбесіда.",
    'Topics:\n- CV\n- the "LinkedIn" profile',
)

SESSION_FIELDS = record_fields(KINTELL_SESSIONS)
RATING_FIELDS = record_fields(KINTELL_RATINGS)
SESSION_COLUMNS = columns(
    SESSION_FIELDS,
    "Session ID, Session Type, Participant Email, Volunteer Email, Scheduled At, Started At, Completed At,"
    " Duration Minutes, Rating, Feedback, Language Level, Topics",
)
"""The clean sessions export's columns (also `samples.write_kintell_sessions`')."""

SESSION_FAULTS = (
    empty("participant_email"),
    Fault("unparseable date", "completed_at", BAD_DATE),
    Fault("unknown value", "session_type", "Coffee chat"),
    Fault("duration out of range", "duration_minutes", "900"),
    Fault("not a CEFR level", "language_level", "D1"),
    Fault("rating off its scale", "rating", "7"),
    Fault("invalid email", "volunteer_email", "kari.hansen at acme.example"),
    Fault("ends before it starts", "completed_at", before="started_at"),
    Fault("duration out of range", "duration_minutes", "0"),
)
"""The ways a bad session row is broken, in the order a file uses them."""


def _revise_session(record: Record) -> Record:
    if record["rating"] is not None:
        return {**record, "rating": other(record["rating"], 1, 5), "feedback_text": "Rating changed after the call."}
    if record["completed_at"] is not None:
        return {**record, "rating": 4}
    return {**record, "scheduled_at": record["scheduled_at"] + timedelta(days=1)}  # rescheduled


SESSIONS = EntityExport(
    KINTELL_SESSIONS,
    clean=Style(SESSION_COLUMNS),
    messy={
        "kintell/sessions_2026-08.csv": Style(
            columns(
                SESSION_FIELDS,
                "Session ID, Session Type, Participant E-mail, Mentor Email, Scheduled For, Start Time, End Time,"
                " Duration (min), Rating (1-5), Feedback, CEFR Level, Topics",
            ),
            encoding="utf-8-sig",
            line_end="\r\n",
            reading=MIXED,
        ),
        "kintell/sessions_2026-09.csv": Style(
            columns(SESSION_FIELDS, [name.upper() for name in SESSION_FIELDS]),
            delimiter=";",
            reading=MIXED,
            blank_lines=True,
        ),
        "kintell/sessions_2026-10.csv": Style(columns(SESSION_FIELDS, camel_case(SESSION_FIELDS)), reading=MIXED),
    },
    faults=SESSION_FAULTS,
    revise=_revise_session,
)
RATINGS = EntityExport(
    KINTELL_RATINGS,
    clean=Style(columns(RATING_FIELDS, "Rating ID, Session ID, From Role, Rating, Feedback, Created At")),
    messy={
        "kintell/ratings_2026-08.csv": Style(
            columns(RATING_FIELDS, "Rating ID, Session, Rated By, Stars, Comment, Rated At"),
            line_end="\r\n",
            reading=ISO_OFFSET,
        ),
        # Ratings on 0..1 (0, 0.25 ... 1): the loader tells from the values.
        "kintell/ratings_2026-09.csv": Style(
            columns(RATING_FIELDS, "review id, session ref, rater role, score, review, submitted at"),
            delimiter=";",
            reading=DOTTED,
            unit_scale=True,
        ),
        "kintell/ratings_2026-10.csv": Style(
            columns(RATING_FIELDS, [name.replace("_", "-") for name in RATING_FIELDS]),
            encoding="utf-8-sig",
            reading=NAIVE_ISO,
        ),
    },
    faults=(
        empty("session_id"),
        Fault("unknown value", "from_role", "Coordinator"),
        Fault("rating off its scale", "rating", "7"),
        Fault("unparseable date", "created_at", "31.02.2026"),
    ),
    revise=lambda r: {**r, "rating": other(r["rating"], 1, 5)},
)
EXPORTS = (SESSIONS, RATINGS)

# Open sessions a next month's export shows again, at most.
CARRIED_SESSIONS = 40


def month_start(month: str) -> datetime:
    """Midnight of the first day of `month` (`yyyy-mm`)."""
    year, number = month.split("-")
    return datetime(int(year), int(number), 1)


def kintell_session(
    dice: Dice, people: Population, session_id: str, participant: int, scheduled: datetime, month: int
) -> Record:
    """A scheduled Kintell session, not yet held (see `hold_session`); `month` counts from 0."""
    random = dice.random  # called directly: this runs a million times for the benchmark's file
    language = random() < 0.6
    if random() < 0.15:
        volunteer = int(random() * people.volunteers)  # a stand-in
    else:
        volunteer = people.language_partner(participant) if language else people.mentor(participant)
    with_level = language or random() < 0.3
    topics = None
    if random() < 0.7:
        topics = dice.some(LANGUAGE_TOPICS if language else MENTORSHIP_TOPICS, 1 + int(random() * 3))
    return {
        "session_id": session_id,
        "session_type": "language" if language else "mentorship",
        "participant_email": people.participant_email(participant),
        "volunteer_email": people.volunteer_email(volunteer),
        "scheduled_at": scheduled,
        "started_at": None,
        "completed_at": None,
        "duration_minutes": None,
        "rating": None,
        "feedback_text": None,
        "language_level": people.level(participant, month) if with_level else None,
        "topics": topics,
    }


_LANGUAGE_LENGTHS, _MENTORSHIP_LENGTHS = (30, 45, 45, 60, 60, 60, 90), (30, 45, 60, 60)


def hold_session(dice: Dice, session: Record, *, messy: bool = False) -> Record:
    """The session once held: start, end, duration, and usually a rating and some feedback."""
    random = dice.random
    started = session["scheduled_at"] + timedelta(minutes=int(random() * 8))
    lengths = _LANGUAGE_LENGTHS if session["session_type"] == "language" else _MENTORSHIP_LENGTHS
    duration = lengths[int(random() * len(lengths))] + int(random() * 9) - 3
    feedback = None
    if random() < 0.5:
        feedback = dice.pick(PARTICIPANT_FEEDBACK + MULTILINE_FEEDBACK if messy else PARTICIPANT_FEEDBACK)
    return {
        **session,
        "started_at": started,
        "completed_at": started + timedelta(minutes=duration),
        "duration_minutes": duration,
        "rating": RATING_DRAWS[int(random() * len(RATING_DRAWS))] if random() < 0.85 else None,
        "feedback_text": feedback,
    }


def _session_ratings(run: Run, session: Record) -> Iterator[Record]:
    """The ratings the two sides gave a held session."""
    dice, completed = run.dice, session["completed_at"]
    if session["rating"] is not None or dice.chance(0.3):
        yield {
            "rating_id": f"kr-{run.ids.next('rating'):07d}",
            "session_id": session["session_id"],
            "from_role": "participant",
            "rating": session["rating"] or dice.pick(RATING_DRAWS),
            "feedback_text": session["feedback_text"] if dice.chance(0.8) else None,
            "created_at": completed + timedelta(minutes=dice.between(5, 2880)),
        }
    if dice.chance(0.35):
        pool = VOLUNTEER_FEEDBACK + MULTILINE_FEEDBACK[:1] if run.messy else VOLUNTEER_FEEDBACK
        yield {
            "rating_id": f"kr-{run.ids.next('rating'):07d}",
            "session_id": session["session_id"],
            "from_role": "volunteer",
            "rating": dice.pick(RATING_DRAWS[2:]),
            "feedback_text": dice.pick(pool) if dice.chance(0.6) else None,
            "created_at": completed + timedelta(minutes=dice.between(5, 4320)),
        }


# Sessions per participant per month: the programme grows.
SESSIONS_PER_PARTICIPANT = (1.3, 1.6, 1.7)
# Sessions of a month's last days are often still open (scheduled, not held) when it is exported.
OPEN_DAYS = 3


def write(run: Run) -> None:
    """Every month's sessions and ratings."""
    carried: deque[Record] = deque(maxlen=CARRIED_SESSIONS)
    for month_index in range(len(MONTHS)):
        _write_kintell_month(run, month_index, carried)


def _write_kintell_month(run: Run, month_index: int, carried: deque[Record]) -> None:
    """One month's sessions and ratings; `carried` holds the open sessions the next month shows again."""
    people, dice, mess, month = run.people, run.dice, run.mess, MONTHS[month_index]
    first_day = month_start(month)
    sessions = run.open(SESSIONS, month)
    ratings = run.open(RATINGS, month)
    rated = "ks-0000000"  # the last session rated, for the broken ratings

    def fresh_session(bad: Dice) -> Record:
        scheduled = first_day + timedelta(days=bad.below(28), hours=bad.between(8, 20))
        session_id = f"ks-{run.ids.next('session'):07d}"
        participant = bad.below(people.participants)
        return hold_session(bad, kintell_session(bad, people, session_id, participant, scheduled, month_index))

    def fresh_rating(bad: Dice) -> Record:
        return {
            "rating_id": f"kr-{run.ids.next('rating'):07d}",
            "session_id": rated,
            "from_role": "participant",
            "rating": bad.pick(RATING_DRAWS),
            "feedback_text": None,
            "created_at": first_day + timedelta(days=bad.below(28), hours=12),
        }

    def add_held(session: Record, *, again: bool = False) -> None:
        nonlocal rated
        if again:
            sessions.add_again(session, changed=True)
        else:
            sessions.add(session)
        rated = session["session_id"]
        for rating in _session_ratings(run, session):
            ratings.add(rating)

    sessions.fresh, ratings.fresh = fresh_session, fresh_rating
    # Last month's still open sessions are in this export again: most held since (changed: loaded),
    # the others as they were (duplicates of the earlier file's records).
    if mess is not None:
        for session in carried:
            if mess.chance(0.7):
                add_held(hold_session(mess, session, messy=True), again=True)
            else:
                sessions.add_again(session, changed=False)
        carried.clear()
    days = calendar.monthrange(first_day.year, first_day.month)[1]
    total = max(1, round(people.participants * SESSIONS_PER_PARTICIPANT[month_index]))
    for day in range(days):
        late = day >= days - OPEN_DAYS
        for _ in range(total * (day + 1) // days - total * day // days):
            scheduled = first_day + timedelta(days=day, hours=dice.between(8, 20), minutes=15 * dice.below(4))
            session_id = f"ks-{run.ids.next('session'):07d}"
            participant = dice.below(people.participants)
            session = kintell_session(dice, people, session_id, participant, scheduled, month_index)
            if dice.chance(0.4 if late else 0.88):
                add_held(hold_session(dice, session, messy=run.messy))
            elif late and mess is not None and month_index < len(MONTHS) - 1:
                # Not repeated or revised here: the next export compares with it as it is.
                sessions.add(session, repeatable=False)
                carried.append(session)
            else:
                sessions.add(session)
    sessions.close()
    ratings.close()
