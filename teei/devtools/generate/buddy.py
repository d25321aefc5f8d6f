"""Buddy: newcomers matched with a buddy, what each pair did together, monthly check-ins and feedback."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.registry import BUDDY_CHECKINS, BUDDY_EVENTS, BUDDY_FEEDBACK, BUDDY_MATCHES
from teei.devtools.generate.faults import BAD_DATE, Fault, Record, empty, other
from teei.devtools.generate.names import CITIES
from teei.devtools.generate.people import RATING_DRAWS
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.run import EXPORTED_AT, Run
from teei.devtools.generate.timestamps import DOTTED, ISO_OFFSET, ISO_Z, NAIVE
from teei.devtools.generate.writer import EntityExport, Style, choices, cohort, columns, record_fields

EVENT_DESCRIPTIONS = {
    "hangout": (
        "Coffee at Deichman Bjørvika",
        "Walk around the lake, then waffles",
        "Кава та прогулянка містом",
        "Dinner at home; the kids played together",
    ),
    "activity": (
        "Football match, Vålerenga vs. Brann",
        "Museum visit; free entry on Sundays",
        "Hiking trip, 8 km; beautiful weather",
        "Cooking evening: varenyky and lapskaus",
    ),
    "workshop": (
        "Workshop: writing a Norwegian CV",
        "Seminar: rights at work, tax card, NAV",
        "Семінар про пошук роботи",
        "Bike repair class; bring your own bike",
    ),
}
MULTILINE_DESCRIPTIONS = (
    "Picnic in the park.\nBring: food; blankets, games",
    'Quiz night at the library\n\n"Team Fjord" won!',
)
CHECKIN_NOTES = (
    "We met for coffee and talked about the kids' school.",
    "Went to the library together; she got a library card.",
    "Busy month, we only texted.",
    "Все добре, дякую!",
    "Хочу більше практики норвезької.",
    "Found a dentist, finally",
)
MULTILINE_NOTES = (
    "Good month.\n\nWe want to try skiing in winter.",
    'Він сказав: "все добре".\nНаступна зустріч у листопаді.',
)
BUDDY_FEEDBACK_TEXT = {
    "participant": (
        "My buddy helped me find a kindergarten place.",
        "Ми стали друзями!",
        "Дуже вдячна за підтримку.",
        "We do not meet often, but it helps.",
    ),
    "buddy": (
        "Great to get to know the family.",
        "Hard to find time in autumn, but we keep in touch.",
        'She taught me to make "borshch"; I taught her to ski.',
    ),
}
MATCH_LANGUAGES = ("Ukrainian, English", "Ukrainian, Norwegian", "Arabic, English", "Farsi", "Tigrinya, English")
INTERESTS = (
    "hiking", "cooking", "football", "music", "reading", "cycling", "board games", "photography", "knitting",
    "fishing", "skiing", "volunteering",
)  # fmt: skip
MOODS = choices(BUDDY_CHECKINS, "mood")  # great, good, okay, struggling, difficult
MOOD_DRAWS = (0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 4)
COORDINATORS = ("Tone R.", "Mohammed A.", "Ingrid H.", "Olha P.")


MATCH_FIELDS = record_fields(BUDDY_MATCHES)
EVENT_FIELDS = record_fields(BUDDY_EVENTS)
CHECKIN_FIELDS = record_fields(BUDDY_CHECKINS)
FEEDBACK_FIELDS = record_fields(BUDDY_FEEDBACK)


def _revise_match(record: Record) -> Record:
    if record["status"] == "ended":
        return {**record, "interests": [*(record["interests"] or []), "chess"]}
    return {**record, "status": "inactive" if record["status"] == "active" else "active"}


MATCHES = EntityExport(
    BUDDY_MATCHES,
    clean=Style(
        columns(
            MATCH_FIELDS,
            "Match ID, Participant Email, Buddy Email, Matched At, Status, Ended At, Language, Interests, Location",
        ),
        reading=NAIVE,
    ),
    messy={
        "buddy/matches_2026-10.csv": Style(
            columns(
                MATCH_FIELDS,
                "Match ID, Newcomer Email, Buddy Email, Match Date, Match Status, End Date, Languages, Hobbies, City",
            ),
            reading=DOTTED,
            extras={
                "Coordinator": lambda record, dice: dice.pick(COORDINATORS),
                "Programme Cohort": cohort("matched_at"),
            },
        ),
    },
    faults=(
        Fault("invalid email", "buddy_email", "ingrid.berg(at)acme.example"),
        empty("matched_at"),
        Fault("ends before it starts", "ended_at", before="matched_at"),
        Fault("unknown value", "status", "Pending"),
    ),
    revise=_revise_match,
)
EVENTS = EntityExport(
    BUDDY_EVENTS,
    clean=Style(
        columns(EVENT_FIELDS, "Event ID, Match ID, Event Type, Event Date, Description, Location, Attendees"),
        reading=NAIVE,
    ),
    messy={
        # No location column: an optional column the export left out.
        "buddy/events_2026-10.csv": Style(
            columns(
                record_fields(BUDDY_EVENTS, without=["location"]),
                "Event ID, Pair ID, Activity Type, Held On, Details, Headcount",
            ),
            delimiter=";",
            reading=NAIVE,
        ),
    },
    faults=(
        empty("match_id"),
        Fault("unknown value", "event_type", "Picnic"),
        Fault("unparseable date", "event_date", BAD_DATE),
    ),
    revise=lambda r: {**r, "attendees": r["attendees"] + 1},
)
CHECKINS = EntityExport(
    BUDDY_CHECKINS,
    clean=Style(
        columns(CHECKIN_FIELDS, "Checkin ID, Match ID, Checkin Date, Mood, Notes, Question Responses"),
        reading=NAIVE,
    ),
    messy={
        "buddy/checkins_2026-10.csv": Style(
            columns(CHECKIN_FIELDS, "check-in id, match_id, Checked In At, How are you, Comments, Survey Answers"),
            line_end="\r\n",
            reading=ISO_OFFSET,
        ),
    },
    faults=(
        Fault("unparseable date", "checkin_date", "2026-13-01"),
        Fault("unknown value", "mood", "meh"),
        Fault("invalid JSON", "question_responses", '{"feels_supported": yes'),
    ),
    revise=lambda r: {**r, "mood": MOODS[other(MOODS.index(r["mood"]), 0, 4)]},
)
FEEDBACK = EntityExport(
    BUDDY_FEEDBACK,
    clean=Style(
        columns(
            FEEDBACK_FIELDS,
            "Feedback ID, Match ID, From Role, Rating, Feedback Text, Submitted At, Communication, Helpfulness,"
            " Engagement",
        ),
        reading=NAIVE,
    ),
    messy={
        "buddy/feedback_2026-10.csv": Style(
            columns(
                FEEDBACK_FIELDS,
                "feedbackId, matchId, fromRole, overallRating, comment, submittedAt, communicationRating,"
                " helpfulnessRating, engagementRating",
            ),
            reading=ISO_Z,
            blank_lines=True,
        ),
    },
    faults=(
        Fault("rating off its scale", "rating", "6"),
        Fault("unknown value", "from_role", "Coordinator"),
        empty("rating"),
    ),
    revise=lambda r: {**r, "rating": other(r["rating"], 1, 5)},
)
EXPORTS = (MATCHES, EVENTS, CHECKINS, FEEDBACK)


PROGRAMME_START = datetime(2026, 4, 1, 9, 0)
"""The first Buddy matches."""


def _match(run: Run, dice: Dice, participant: int) -> Record:
    matched = PROGRAMME_START + timedelta(
        days=dice.below((EXPORTED_AT - PROGRAMME_START).days - 10), hours=dice.between(0, 8)
    )
    status, ended = "active", None
    remaining = (EXPORTED_AT - matched).days
    if remaining > 45:
        draw = dice.random()
        if draw > 0.8:
            status, ended = "ended", matched + timedelta(days=dice.between(30, remaining - 1))
        elif draw > 0.68:
            status = "inactive"
    return {
        "match_id": f"BM-{run.ids.next('match'):06d}",
        "participant_email": run.people.participant_email(participant),
        "buddy_email": run.people.volunteer_email(run.people.buddy(participant)),
        "matched_at": matched,
        "status": status,
        "ended_at": ended,
        "language": dice.pick(MATCH_LANGUAGES) if dice.chance(0.9) else None,
        "interests": dice.some(INTERESTS, dice.between(1, 3)) if dice.chance(0.8) else None,
        "location": dice.pick(CITIES),
    }


def _daytime_between(dice: Dice, start: datetime, end: datetime) -> datetime:
    """A daytime moment (09:00 to 19:45, on the quarter hour) on a day strictly between two moments."""
    day = start.date() + timedelta(days=dice.between(1, max(1, (end - start).days - 1)))
    return datetime(day.year, day.month, day.day, dice.between(9, 19), 15 * dice.below(4))


def _event(run: Run, dice: Dice, match: Record) -> Record:
    kind = dice.pick(("hangout", "hangout", "hangout", "activity", "activity", "workshop"))
    descriptions = EVENT_DESCRIPTIONS[kind] + (MULTILINE_DESCRIPTIONS if run.messy else ())
    return {
        "event_id": f"BE-{run.ids.next('event'):06d}",
        "match_id": match["match_id"],
        "event_type": kind,
        "event_date": _daytime_between(dice, match["matched_at"], match["ended_at"] or EXPORTED_AT),
        "description": dice.pick(descriptions) if dice.chance(0.85) else None,
        "location": match["location"] if dice.chance(0.8) else dice.pick(CITIES),
        "attendees": 2 if kind == "hangout" else dice.between(2, 6) if kind == "activity" else dice.between(8, 40),
    }


def _checkin(run: Run, dice: Dice, match: Record, when: datetime) -> Record:
    notes = None
    if dice.chance(0.6):
        notes = dice.pick(CHECKIN_NOTES + MULTILINE_NOTES if run.messy else CHECKIN_NOTES)
    responses = None
    if dice.chance(0.8):
        responses = {
            "feels_supported": dice.chance(0.8),
            "meetings_last_month": dice.between(0, 4),
            "wants_more_language_practice": dice.pick(("yes", "no", "так")),
        }
    return {
        "checkin_id": f"BC-{run.ids.next('checkin'):06d}",
        "match_id": match["match_id"],
        "checkin_date": when,
        "mood": MOODS[dice.pick(MOOD_DRAWS)],
        "notes": notes,
        "question_responses": responses,
    }


def _feedback(run: Run, dice: Dice, match: Record, role: str) -> Record:
    def aspect() -> int | None:
        return dice.pick(RATING_DRAWS) if dice.chance(0.7) else None

    submitted = _daytime_between(dice, match["matched_at"] + timedelta(days=20), match["ended_at"] or EXPORTED_AT)
    return {
        "feedback_id": f"BF-{run.ids.next('feedback'):06d}",
        "match_id": match["match_id"],
        "from_role": role,
        "rating": dice.pick(RATING_DRAWS),
        "feedback_text": dice.pick(BUDDY_FEEDBACK_TEXT[role]) if dice.chance(0.6) else None,
        "submitted_at": submitted,
        "communication": aspect(),
        "helpfulness": aspect(),
        "engagement": aspect(),
    }


def write(run: Run) -> None:
    """Matches of the participants in the programme, with their events, check-ins and feedback."""
    people, dice = run.people, run.dice
    matches, events, checkins, feedback = (run.open(export) for export in EXPORTS)
    latest: list[Record] = []  # the last match written, for the broken rows of the other files

    def latest_match(bad: Dice) -> Record:
        return latest[0] if latest else _match(run, bad, 0)

    matches.fresh = lambda bad: _match(run, bad, bad.below(people.participants))
    events.fresh = lambda bad: _event(run, bad, latest_match(bad))
    checkins.fresh = lambda bad: _checkin(run, bad, latest_match(bad), latest_match(bad)["matched_at"])
    feedback.fresh = lambda bad: _feedback(run, bad, latest_match(bad), "participant")
    for participant in range(people.participants):
        if not people.in_buddy_programme(participant):
            continue
        match = _match(run, dice, participant)
        matches.add(match)
        latest[:] = [match]
        end: datetime = match["ended_at"] or EXPORTED_AT
        for _ in range(dice.pick((0, 1, 1, 2, 2, 3))):
            events.add(_event(run, dice, match))
        # About monthly check-ins, most of them answered.
        when = match["matched_at"] + timedelta(days=28)
        while when < end:
            if dice.chance(0.7):
                checkins.add(_checkin(run, dice, match, when.replace(hour=dice.between(9, 20), minute=dice.below(60))))
            when += timedelta(days=dice.between(25, 35))
        if (end - match["matched_at"]).days > 30:
            for role, share in (("participant", 0.55), ("buddy", 0.4)):
                if dice.chance(share):
                    feedback.add(_feedback(run, dice, match, role))
    for writer in (matches, events, checkins, feedback):
        writer.close()
