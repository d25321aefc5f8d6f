"""`teei generate`: deterministic, realistic exports of every source, laid out like the landing folder.

`generate_exports(out, scale=N, seed=S, messy=...)` writes, for N participants (newcomers), a few
companies and their volunteering employees, three months of Kintell sessions and ratings, Buddy
matches with their events, check-ins and feedback, course progress from eCornell and itslearning
(each in its own column names) with the credentials earned, and the company rosters; plus
`manifest.json`: the counts a correct first load into an empty database gives, file by file, in
the order `teei run` loads them.

Clean output loads completely. `messy=True` mixes in what real exports do (see `MESSY_STYLES`, `FAULTS`): a BOM,
Windows-1252, semicolons, CRLF, header spellings, extra and missing columns, blank lines, line
breaks and quotes inside fields, every timestamp reading, ratings on 0–1, scruffy emails, value
spellings; bad rows of every kind, exact repeats, a key repeated with other values, and later files
repeating records of earlier ones.

Same arguments, same bytes, forever: the only randomness is `random.Random(seed).random()`, the one
method whose sequence Python promises to keep for a seed (`randrange`, `choice`, `sample` have
changed between versions), and everything about a person comes from an integer hash of (seed,
person). Rows are written as they are made; what is kept for later (rows to repeat, sessions an
export will show again) is bounded, so memory stays flat however large N is.

Refresh the bundled sample (`sample_data/`, copied into the landing folder by `teei up`) with
`python -m teei.devtools.generate`.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import operator
import random
import typing
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel

from connectors.registry import ENTITIES, EntitySpec, get_entity
from contracts.fields import FieldKind, Kind
from teei.platform.packaged_files import package_dir

T = TypeVar("T")
Record = dict[str, Any]

MONTHS = ("2026-08", "2026-09", "2026-10")
"""The months of Kintell exports; the other exports are taken at the end of the last one."""
EXPORTED_AT = datetime(2026, 10, 31, 18, 0)
MANIFEST_NAME = "manifest.json"
BUNDLED_SAMPLE_DIR = package_dir("teei.devtools") / "sample_data"
BUNDLED_SAMPLE_SCALE, BUNDLED_SAMPLE_SEED = 60, 2026

# How often a messy file gets, after a row, a bad row, an exact repeat, or a later revision of a row.
BAD_ROW_RATE = 0.012
DUPLICATE_RATE = 0.006
REVISION_RATE = 0.005
BLANK_LINE_RATE = 0.05
SCRUFFY_EMAIL_RATE = 0.1
# Rows kept to be repeated or revised later, and open sessions a next month's export shows again.
RECENT_ROWS = 64
CARRIED_SESSIONS = 40

# --- randomness -----------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _scramble(value: int) -> int:
    """splitmix64's finaliser: a well-mixed 64-bit integer from any 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _mix(*parts: int) -> int:
    """A 64-bit hash of integers, the same on every platform and Python version."""
    mixed = 0
    for part in parts:
        mixed = _scramble(mixed ^ (part & _MASK64))
    return mixed


class Dice:
    """Random choices made from `random.Random(seed).random()` alone (see the module doc)."""

    __slots__ = ("random",)

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random

    def below(self, n: int) -> int:
        """0 to n - 1."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """low to high, both included."""
        return low + int(self.random() * (high - low + 1))

    def chance(self, probability: float) -> bool:
        return self.random() < probability

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def some(self, items: Sequence[T], count: int) -> list[T]:
        """`count` different items, in the order drawn."""
        pool = list(items)
        return [pool.pop(int(self.random() * len(pool))) for _ in range(min(count, len(pool)))]


# --- word pools -----------------------------------------------------------------------------------

# Ukrainian names in the official Latin transliteration (KMU 2010), as people type them in emails.
UKRAINIAN_FIRST = (
    "olena", "taras", "iryna", "oleksandr", "kateryna", "dmytro", "yuliia", "andrii", "nataliia", "serhii",
    "oksana", "mykola", "svitlana", "bohdan", "halyna", "vasyl", "mariia", "yurii", "tetiana", "ivan",
    "anastasiia", "viktoriia", "oleh", "liudmyla", "roman", "sofiia", "maksym", "daryna", "volodymyr", "khrystyna",
)  # fmt: skip
UKRAINIAN_LAST = (
    "kovalenko", "shevchenko", "bondarenko", "tkachenko", "kravchenko", "melnyk", "boiko", "koval", "oliinyk",
    "lysenko", "marchenko", "savchenko", "rudenko", "moroz", "petrenko", "pavlenko", "hnatiuk", "kovalchuk",
    "polishchuk", "tkachuk", "romaniuk", "honcharenko", "kuzmenko", "ponomarenko", "yaremchuk", "danylenko",
    "fedorenko", "symonenko", "hrytsenko", "bilous", "zhuk",
)  # fmt: skip
# Arabic, Farsi and Tigrinya names, written in Latin script: (first names, family names) per language.
OTHER_NAMES = (
    (
        ("ahmad", "fatima", "omar", "layla", "yousef", "mariam", "khaled", "noor", "samir", "rania", "hassan", "amira",
         "tariq"),
        ("haddad", "al-sayed", "khalil", "mansour", "nasser", "saleh", "darwish", "hamdan", "abbas", "suleiman"),
    ),
    (
        ("reza", "zahra", "dariush", "shirin", "hamid", "nasrin", "ali", "maryam", "mehdi", "parisa", "farhad"),
        ("hosseini", "karimi", "rahimi", "ahmadi", "mohammadi", "rezaei", "jafari", "moradi"),
    ),
    (
        ("dawit", "selam", "yonas", "mehret", "amanuel", "senait", "tesfay", "helen", "filmon", "saba", "yohannes"),
        ("tesfaye", "gebremedhin", "berhane", "habte", "kidane", "abraha", "tekle", "mebrahtu"),
    ),
)  # fmt: skip
PARTICIPANT_DOMAINS = ("example.org", "example.net", "example.com")
# Volunteers: (as written, in an email address).
VOLUNTEER_FIRST = (
    ("Ingrid", "ingrid"), ("Lars", "lars"), ("Kari", "kari"), ("Ola", "ola"), ("Sofie", "sofie"),
    ("Henrik", "henrik"), ("Emma", "emma"), ("Jonas", "jonas"), ("Nora", "nora"), ("Magnus", "magnus"),
    ("Bjørn", "bjorn"), ("Solveig", "solveig"), ("Åse", "aase"), ("Øystein", "oystein"), ("Kjærsti", "kjaersti"),
    ("Sarah", "sarah"), ("James", "james"), ("Tone", "tone"), ("Håkon", "haakon"), ("Sindre", "sindre"),
    ("Marte", "marte"),
)  # fmt: skip
VOLUNTEER_LAST = (
    ("Berg", "berg"), ("Hansen", "hansen"), ("Johansen", "johansen"), ("Larsen", "larsen"), ("Nilsen", "nilsen"),
    ("Olsen", "olsen"), ("Dahl", "dahl"), ("Haugen", "haugen"), ("Lie", "lie"), ("Sæther", "saether"),
    ("Strøm", "strom"), ("Løvås", "lovaas"), ("Ødegård", "odegaard"), ("Bråten", "braaten"), ("Smith", "smith"),
    ("Aas", "aas"),
)  # fmt: skip
# (code, name, email domain, industry, country); the names fit Windows-1252.
COMPANIES = (
    ("NLE", "Nordlys Energi AS", "nordlys-energi.example", "Energy", "NO"),
    ("FSB", "Fjellstrøm Sparebank", "fjellstrom.example", "Banking", "NO"),
    ("BLG", "Bølge Shipping ASA", "bolge-shipping.example", "Shipping", "NO"),
    ("AML", "Ærlig Mat AS", "aerligmat.example", "Food and beverage", "NO"),
    ("SKH", "Skogheim Helse AS", "skogheim.example", "Healthcare", "NO"),
    ("TRV", "Tårnvik Bygg AS", "tarnvik.example", "Construction", "NO"),
    ("ACM", "Acme Consulting AS", "acme.example", "Consulting", "NO"),
    ("NWD", "Northwind Logistics AB", "northwind.example", "Logistics", "SE"),
    ("CTS", "Contoso Software ApS", "contoso.example", "Software", "DK"),
    ("FAB", "Fabrikam Industri AS", "fabrikam.example", "Manufacturing", "NO"),
    ("MJR", "Mjøsa Reiseliv AS", "mjosa-reiseliv.example", "Tourism", "NO"),
    ("LYT", "Lysaker Telekom ASA", "lysaker-tele.example", "Telecom", "NO"),
)
DEPARTMENTS = ("Finance", "IT", "HR", "Kundeservice", "Drift", "Salg", "Økonomi")
CITIES = ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Kristiansand", "Bodø", "Ålesund")
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
LANGUAGE_TOPICS = (
    "small talk", "pronunciation", "grammar", "job interview", "at the doctor", "shopping", "public transport",
    "housing", "school meetings", "phone calls",
)  # fmt: skip
MENTORSHIP_TOPICS = (
    "CV", "LinkedIn profile", "job search", "networking", "workplace culture", "salary negotiation",
    "starting a business", "recognition of qualifications", "career change", "tax card",
)  # fmt: skip
# Ratings lean positive, as they do in the real programme.
RATING_DRAWS = (1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5)
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
MOODS = ("great", "good", "okay", "struggling", "difficult")
MOOD_DRAWS = (0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 4)
COORDINATORS = ("Tone R.", "Mohammed A.", "Ingrid H.", "Olha P.")
ECORNELL_COURSES = (
    ("CEHR501", "Human Resources Essentials"),
    ("CEPM210", "Project Leadership"),
    ("CEDA150", "Data Analytics Essentials"),
    ("CELD120", "Leading Teams"),
    ("CEMK130", "Digital Marketing Strategy"),
    ("CEFN140", "Financial Management"),
    ("CECS110", "Customer Experience"),
    ("CEWR105", "Business Writing"),
)
# Norwegian course names with æøå and an en dash: all in Windows-1252.
ITSLEARNING_COURSES = (
    ("NOR-A2", "Norsk A2 – muntlig"),
    ("NOR-B1", "Norsk B1 for arbeidslivet"),
    ("SAMF-101", "Samfunnskunnskap for nyankomne"),
    ("HMS-40", "HMS og arbeidsmiljø"),
    ("OKO-10", "Privatøkonomi og skatt i Norge"),
    ("DIGI-01", "Grunnleggende digitale ferdigheter"),
    ("HEL-110", "Helsefag – introduksjon"),
    ("TRK-T1", "Truckførerkurs T1–T4"),
    ("BHG-01", "Barnehageassistent – grunnkurs"),
)
COURSES = tuple(("ecornell", code, name) for code, name in ECORNELL_COURSES) + tuple(
    ("itslearning", code, name) for code, name in ITSLEARNING_COURSES
)
VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# How each export spells a canonical value: the natural spelling first, then what messy files also use.
SPELLINGS: dict[tuple[str, str], dict[str, dict[str, tuple[str, ...]]]] = {
    ("kintell", "sessions"): {
        "session_type": {
            "language": ("Language Connect", "Language", "language", "Language session"),
            "mentorship": ("Mentorship", "Mentor session", "Mentoring", "mentorship"),
        }
    },
    ("kintell", "ratings"): {
        "from_role": {
            "participant": ("participant", "Learner", "Newcomer", "Participant"),
            "volunteer": ("volunteer", "Mentor", "Volunteers"),
        }
    },
    ("buddy", "matches"): {
        "status": {
            "active": ("active", "Ongoing", "Open"),
            "inactive": ("inactive", "Paused", "On hold"),
            "ended": ("ended", "Closed", "Finished"),
        }
    },
    ("buddy", "events"): {
        "event_type": {
            "hangout": ("hangout", "Coffee", "Meet-up", "Hang out"),
            "activity": ("activity", "Outing", "Sports", "Excursion"),
            "workshop": ("workshop", "Seminar", "Class", "Training"),
        }
    },
    ("buddy", "checkins"): {
        "mood": {
            "great": ("great", "Very good", "Excellent", "5"),
            "good": ("good", "Fine", "4"),
            "okay": ("okay", "OK", "So so", "3"),
            "struggling": ("struggling", "Not great", "2"),
            "difficult": ("difficult", "Very bad", "Hard", "1"),
        }
    },
    ("buddy", "feedback"): {
        "from_role": {
            "participant": ("participant", "Newcomer", "Mentee"),
            "buddy": ("buddy", "Volunteer", "Mentor"),
        }
    },
    ("upskilling", "ecornell"): {
        "status": {
            "enrolled": ("Not Started", "Registered", "enrolled"),
            "in_progress": ("In Progress", "Started", "Active"),
            "completed": ("Completed", "Complete", "Passed"),
            "dropped": ("Withdrawn", "Cancelled", "Dropped out"),
        }
    },
    ("upskilling", "itslearning"): {
        "status": {
            "enrolled": ("Assigned", "Not started", "Invited"),
            "in_progress": ("Active", "Ongoing", "In progress"),
            "completed": ("Passed", "Finished", "Done"),
            "dropped": ("Unenrolled", "Removed", "Inactive"),
        }
    },
    ("upskilling", "credentials"): {
        "provider": {
            "ecornell": ("eCornell", "Cornell", "e-Cornell"),
            "itslearning": ("itslearning", "its learning", "itsLearning"),
        },
        "credential_type": {
            "certificate": ("Certificate", "Cert", "Certification"),
            "badge": ("Badge", "Digital badge", "Open Badge"),
            "diploma": ("Diploma",),
            "transcript": ("Transcript", "Record of achievement"),
        },
    },
}


# --- people ---------------------------------------------------------------------------------------

# Salts of the per-person traits.
_DOMAIN, _LEVEL, _LANGUAGE_PARTNER, _MENTOR, _BUDDY, _IN_BUDDY, _COURSES, _COMPANY, _JOINED = range(9)
_SALTS = 9


@dataclass(frozen=True, slots=True)
class _NamePool:
    """First and family names whose pool sizes are coprime, so `k mod len(first)` and `k mod
    len(last)` together tell every `k < len(first) * len(last)` apart: distinct people, distinct names."""

    first: tuple[Any, ...]
    last: tuple[Any, ...]
    unit: int  # a seeded multiplier coprime to the number of combinations, and a seeded offset:
    offset: int  # another seed gives other people

    @classmethod
    def seeded(cls, first: tuple[Any, ...], last: tuple[Any, ...], seed: int, salt: int) -> _NamePool:
        combinations = len(first) * len(last)
        if math.gcd(len(first), len(last)) != 1:
            raise ValueError("name pools need coprime sizes")
        unit = _mix(seed, 200 + salt) % combinations
        while math.gcd(unit, combinations) != 1:
            unit += 1
        return cls(first, last, unit, _mix(seed, 100 + salt) % combinations)

    def name(self, index: int) -> tuple[Any, Any, int]:
        """The `index`-th (first, last, repeat): a number is added to the address once names run out."""
        first, last = self.first, self.last
        repeat, place = divmod(index, len(first) * len(last))
        k = (place * self.unit + self.offset) % (len(first) * len(last))
        return first[k % len(first)], last[k % len(last)], repeat


class Population:
    """Who takes part: participants `0..participants-1`, volunteers `0..volunteers-1` working for
    companies `0..companies-1`. Everything about a person is derived from the seed and their number,
    so nothing is held in memory and every reference (a session's volunteer) stays consistent."""

    def __init__(self, seed: int, *, participants: int, volunteers: int, companies: int) -> None:
        if participants < 1 or volunteers < 1 or not 1 <= companies <= len(COMPANIES):
            raise ValueError("a population needs participants, volunteers and 1 to 12 companies")
        self.seed, self.participants, self.volunteers, self.companies = seed, participants, volunteers, companies
        # Which companies take part, in a seeded order: (code, name, email domain, industry, country).
        self.company_rows = sorted(COMPANIES, key=lambda row: _mix(seed, 300, COMPANIES.index(row)))[:companies]
        self._salted = [_mix(seed, salt) for salt in range(_SALTS)]
        # Mostly Ukrainian; one in twenty each with an Arabic, a Farsi and a Tigrinya name.
        self._others = [_NamePool.seeded(first, last, seed, n + 1) for n, (first, last) in enumerate(OTHER_NAMES)]
        self._ukrainian = _NamePool.seeded(UKRAINIAN_FIRST, UKRAINIAN_LAST, seed, 0)
        self._staff = _NamePool.seeded(VOLUNTEER_FIRST, VOLUNTEER_LAST, seed, 9)

    def trait(self, salt: int, index: int) -> int:
        """A 64-bit number fixed for (seed, salt, index)."""
        return _scramble(self._salted[salt] ^ index)

    def share(self, salt: int, index: int) -> float:
        """A number in [0, 1) fixed for (seed, salt, index)."""
        return (self.trait(salt, index) >> 11) / float(1 << 53)

    def _participant_name(self, p: int) -> tuple[str, str, int]:
        block, place = divmod(p, 20)
        if place < 3:
            return self._others[place].name(block)
        return self._ukrainian.name(block * 17 + place - 3)

    def participant_email(self, p: int) -> str:
        first, last, repeat = self._participant_name(p)
        domain = PARTICIPANT_DOMAINS[self.trait(_DOMAIN, p) % len(PARTICIPANT_DOMAINS)]
        return f"{first}.{last}{repeat + 1 if repeat else ''}@{domain}"

    def participant_name(self, p: int) -> str:
        first, last, _ = self._participant_name(p)
        return f"{first.title()} {last.title()}"

    def level(self, p: int, month: int) -> str:
        """The CEFR level a participant speaks at in month `month` (0-based); a third improve monthly."""
        trait = self.trait(_LEVEL, p)
        base, improving = (0, 0, 1, 1, 1, 2, 2, 3, 4)[trait % 9], (trait >> 8) % 3 == 0
        return LEVELS[min(len(LEVELS) - 1, base + (month if improving else 0))]

    def language_partner(self, p: int) -> int:
        return self.trait(_LANGUAGE_PARTNER, p) % self.volunteers

    def mentor(self, p: int) -> int:
        return self.trait(_MENTOR, p) % self.volunteers

    def buddy(self, p: int) -> int:
        return self.trait(_BUDDY, p) % self.volunteers

    def in_buddy_programme(self, p: int) -> bool:
        return self.share(_IN_BUDDY, p) < 0.55

    def takes_courses(self, p: int) -> bool:
        return self.share(_COURSES, p) < 0.5

    def company(self, v: int) -> int:
        """The company (an index of `company_rows`) volunteer `v` works for: each has one, the first most."""
        if v < self.companies:
            return v
        return int(self.companies * self.share(_COMPANY, v) ** 1.6)

    def volunteer_email(self, v: int) -> str:
        (_, first), (_, last), repeat = self._staff.name(v)
        return f"{first}.{last}{repeat + 1 if repeat else ''}@{self.company_rows[self.company(v)][2]}"

    def volunteer_name(self, v: int) -> str:
        (first, _), (last, _), _ = self._staff.name(v)
        return f"{first} {last}"

    def volunteer_joined(self, v: int) -> date:
        return date(2025, 1, 6) + timedelta(days=self.trait(_JOINED, v) % 570)


def population_for(scale: int, seed: int) -> Population:
    """The people of `scale` participants: a few companies, one volunteer for about four participants."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    companies = min(len(COMPANIES), 3 + math.isqrt(scale) // 8)
    return Population(seed, participants=scale, volunteers=max(companies, -(-scale // 4)), companies=companies)


# --- timestamps -----------------------------------------------------------------------------------

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


# --- what a file looks like -----------------------------------------------------------------------


class Raw(str):
    """A value written exactly as it is (a deliberately broken one), bypassing every rendering."""

    __slots__ = ()


@dataclass(frozen=True)
class Style:
    """How one export file is written."""

    columns: tuple[tuple[str, str], ...]
    """(canonical field, header) in column order; an optional field left out is a missing column."""
    encoding: str = "utf-8"  # or "utf-8-sig" (with BOM) or "cp1252"
    delimiter: str = ","
    line_end: str = "\n"
    reading: str = ISO_Z
    extras: tuple[str, ...] = ()
    """Headers of columns no mapping knows (their values land in `metadata`)."""
    blank_lines: bool = False
    unit_scale: bool = False
    """Ratings written on 0..1 rather than 1..5."""
    decimal_comma: bool = False


def _columns(fields: str, headers: str | Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`fields` (space-separated) paired with `headers` (a sequence, or comma-separated)."""
    names = fields.split()
    titles = [title.strip() for title in headers.split(",")] if isinstance(headers, str) else list(headers)
    if len(names) != len(titles):
        raise ValueError(f"{len(names)} fields but {len(titles)} headers")
    return tuple(zip(names, titles, strict=True))


def _camel_case(fields: str) -> list[str]:
    return [name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:]) for name in fields.split()]


SESSION_FIELDS = (
    "session_id session_type participant_email volunteer_email scheduled_at started_at completed_at"
    " duration_minutes rating feedback_text language_level topics"
)
RATING_FIELDS = "rating_id session_id from_role rating feedback_text created_at"
MATCH_FIELDS = "match_id participant_email buddy_email matched_at status ended_at language interests location"
EVENT_FIELDS = "event_id match_id event_type event_date description location attendees"
CHECKIN_FIELDS = "checkin_id match_id checkin_date mood notes question_responses"
FEEDBACK_FIELDS = (
    "feedback_id match_id from_role rating feedback_text submitted_at communication helpfulness engagement"
)
PROGRESS_FIELDS = (
    "user_email course_id course_name status progress_percent started_at completed_at final_score credential_ref"
)
CREDENTIAL_FIELDS = (
    "credential_id user_email provider course_id credential_type issued_at expires_at url verification_code"
)
COMPANY_FIELDS = "company_code company_name industry country"
VOLUNTEER_FIELDS = "employee_email company_code joined_at"
# The two course providers' own column names (their files carry no provider column).
ECORNELL_HEADERS = (
    "Learner Email, Course Code, Course Title, Enrollment Status, Percent Complete, Start Date, Completion Date,"
    " Final Grade, Certificate ID"
)
ITSLEARNING_HEADERS = (
    "User e-mail, CourseCode, Course name, Status, Progress (%), Enrolled date, Completed date, Score, Credential"
)
KINTELL_SESSION_COLUMNS = _columns(
    SESSION_FIELDS,
    "Session ID, Session Type, Participant Email, Volunteer Email, Scheduled At, Started At, Completed At,"
    " Duration Minutes, Rating, Feedback, Language Level, Topics",
)

CLEAN_STYLES: dict[tuple[str, str], Style] = {
    ("kintell", "sessions"): Style(KINTELL_SESSION_COLUMNS),
    ("kintell", "ratings"): Style(
        _columns(RATING_FIELDS, "Rating ID, Session ID, From Role, Rating, Feedback, Created At")
    ),
    ("buddy", "matches"): Style(
        _columns(
            MATCH_FIELDS,
            "Match ID, Participant Email, Buddy Email, Matched At, Status, Ended At, Language, Interests, Location",
        ),
        reading=NAIVE,
    ),
    ("buddy", "events"): Style(
        _columns(EVENT_FIELDS, "Event ID, Match ID, Event Type, Event Date, Description, Location, Attendees"),
        reading=NAIVE,
    ),
    ("buddy", "checkins"): Style(
        _columns(CHECKIN_FIELDS, "Checkin ID, Match ID, Checkin Date, Mood, Notes, Question Responses"),
        reading=NAIVE,
    ),
    ("buddy", "feedback"): Style(
        _columns(
            FEEDBACK_FIELDS,
            "Feedback ID, Match ID, From Role, Rating, Feedback Text, Submitted At, Communication, Helpfulness,"
            " Engagement",
        ),
        reading=NAIVE,
    ),
    ("upskilling", "ecornell"): Style(_columns(PROGRESS_FIELDS, ECORNELL_HEADERS), reading=ISO_DATE),
    ("upskilling", "itslearning"): Style(_columns(PROGRESS_FIELDS, ITSLEARNING_HEADERS), reading=DOTTED),
    ("upskilling", "credentials"): Style(
        _columns(
            CREDENTIAL_FIELDS,
            "Credential ID, User Email, Provider, Course ID, Credential Type, Issued At, Expires At, URL,"
            " Verification Code",
        ),
        reading=ISO_DATE,
    ),
    ("roster", "companies"): Style(_columns(COMPANY_FIELDS, "Company Code, Company Name, Industry, Country")),
    ("roster", "volunteers"): Style(
        _columns(VOLUNTEER_FIELDS, "Employee Email, Company Code, Joined At"), reading=ISO_DATE
    ),
}
"""Clean files: UTF-8, commas, LF, each source's usual headers and timestamp reading."""

MESSY_STYLES: dict[str, Style] = {
    "kintell/sessions_2026-08.csv": Style(
        _columns(
            SESSION_FIELDS,
            "Session ID, Session Type, Participant E-mail, Mentor Email, Scheduled For, Start Time, End Time,"
            " Duration (min), Rating (1-5), Feedback, CEFR Level, Topics",
        ),
        encoding="utf-8-sig",
        line_end="\r\n",
        reading=MIXED,
    ),
    "kintell/sessions_2026-09.csv": Style(
        _columns(SESSION_FIELDS, SESSION_FIELDS.upper().split()),
        delimiter=";",
        reading=MIXED,
        blank_lines=True,
    ),
    "kintell/sessions_2026-10.csv": Style(_columns(SESSION_FIELDS, _camel_case(SESSION_FIELDS)), reading=MIXED),
    "kintell/ratings_2026-08.csv": Style(
        _columns(RATING_FIELDS, "Rating ID, Session, Rated By, Stars, Comment, Rated At"),
        line_end="\r\n",
        reading=ISO_OFFSET,
    ),
    # Ratings on 0..1 (0, 0.25 ... 1): the loader tells from the values.
    "kintell/ratings_2026-09.csv": Style(
        _columns(RATING_FIELDS, "review id, session ref, rater role, score, review, submitted at"),
        delimiter=";",
        reading=DOTTED,
        unit_scale=True,
    ),
    "kintell/ratings_2026-10.csv": Style(
        _columns(RATING_FIELDS, RATING_FIELDS.replace("_", "-").split()),
        encoding="utf-8-sig",
        reading=NAIVE_ISO,
    ),
    "buddy/matches_2026-10.csv": Style(
        _columns(
            MATCH_FIELDS,
            "Match ID, Newcomer Email, Buddy Email, Match Date, Match Status, End Date, Languages, Hobbies, City",
        ),
        reading=DOTTED,
        extras=("Coordinator", "Programme Cohort"),
    ),
    # No location column: an optional column the export left out.
    "buddy/events_2026-10.csv": Style(
        _columns(
            "event_id match_id event_type event_date description attendees",
            "Event ID, Pair ID, Activity Type, Held On, Details, Headcount",
        ),
        delimiter=";",
        reading=NAIVE,
    ),
    "buddy/checkins_2026-10.csv": Style(
        _columns(CHECKIN_FIELDS, "check-in id, match_id, Checked In At, How are you, Comments, Survey Answers"),
        line_end="\r\n",
        reading=ISO_OFFSET,
    ),
    "buddy/feedback_2026-10.csv": Style(
        _columns(
            FEEDBACK_FIELDS,
            "feedbackId, matchId, fromRole, overallRating, comment, submittedAt, communicationRating,"
            " helpfulnessRating, engagementRating",
        ),
        reading=ISO_Z,
        blank_lines=True,
    ),
    "upskilling/ecornell_2026-10.csv": Style(
        _columns(PROGRESS_FIELDS, ECORNELL_HEADERS),
        encoding="utf-8-sig",
        line_end="\r\n",
        reading=MIXED,
        extras=("Learner Name", "Cohort"),
    ),
    # A Norwegian spreadsheet's export: Windows-1252, semicolons, CRLF, decimal commas.
    "upskilling/itslearning_2026-10.csv": Style(
        _columns(PROGRESS_FIELDS, ITSLEARNING_HEADERS),
        encoding="cp1252",
        delimiter=";",
        line_end="\r\n",
        reading=DOTTED,
        decimal_comma=True,
    ),
    "upskilling/credentials_2026-10.csv": Style(
        _columns(
            CREDENTIAL_FIELDS,
            "Credential ID, Holder Email, Issuer, Course, Type, Date Issued, Valid Until, Verification URL,"
            " Verify Code",
        ),
        reading=MIXED,
    ),
    "roster/companies_2026-10.csv": Style(
        _columns(COMPANY_FIELDS, "Org Code, Legal Name, Sector, HQ Country"), encoding="cp1252", line_end="\r\n"
    ),
    "roster/volunteers_2026-10.csv": Style(
        _columns(VOLUNTEER_FIELDS, "Work Email, Employer, Since"),
        encoding="utf-8-sig",
        delimiter=";",
        reading=DOTTED_DATE,
        extras=("Full Name", "Department"),
    ),
}
"""Messy files, one style each: what is unusual about each file is visible here."""


def export_files() -> list[tuple[str, EntitySpec]]:
    """Every file `generate_exports` writes, as (landing-relative path, entity), in load order."""
    files: list[tuple[str, EntitySpec]] = []
    for (source, entity), spec in ENTITIES.items():
        months = MONTHS if source == "kintell" else MONTHS[-1:]
        files.extend((f"{source}/{entity}_{month}.csv", spec) for month in months)
    return files


# --- faults and revisions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One way a bad row is broken: exactly one fault per bad row."""

    kind: str
    field: str
    value: str | None = None  # the raw value written in `field`
    before: str | None = None  # or: `field` set three days before this timestamp field

    def apply(self, record: Record) -> Record:
        broken = dict(record)
        if self.before is not None:
            broken[self.field] = broken[self.before] - timedelta(days=3)
        else:
            broken[self.field] = Raw(self.value or "")
        return broken


def _empty(field: str) -> Fault:
    return Fault("required field empty", field, "")


BAD_DATE = "31.02.2026 10:00"
FAULTS: dict[tuple[str, str], tuple[Fault, ...]] = {
    ("kintell", "sessions"): (
        _empty("participant_email"),
        Fault("unparseable date", "completed_at", BAD_DATE),
        Fault("unknown value", "session_type", "Coffee chat"),
        Fault("duration out of range", "duration_minutes", "900"),
        Fault("not a CEFR level", "language_level", "D1"),
        Fault("rating off its scale", "rating", "7"),
        Fault("invalid email", "volunteer_email", "kari.hansen at acme.example"),
        Fault("ends before it starts", "completed_at", before="started_at"),
        Fault("duration out of range", "duration_minutes", "0"),
    ),
    ("kintell", "ratings"): (
        _empty("session_id"),
        Fault("unknown value", "from_role", "Coordinator"),
        Fault("rating off its scale", "rating", "7"),
        Fault("unparseable date", "created_at", "31.02.2026"),
    ),
    ("buddy", "matches"): (
        Fault("invalid email", "buddy_email", "ingrid.berg(at)acme.example"),
        _empty("matched_at"),
        Fault("ends before it starts", "ended_at", before="matched_at"),
        Fault("unknown value", "status", "Pending"),
    ),
    ("buddy", "events"): (
        _empty("match_id"),
        Fault("unknown value", "event_type", "Picnic"),
        Fault("unparseable date", "event_date", BAD_DATE),
    ),
    ("buddy", "checkins"): (
        Fault("unparseable date", "checkin_date", "2026-13-01"),
        Fault("unknown value", "mood", "meh"),
        Fault("invalid JSON", "question_responses", '{"feels_supported": yes'),
    ),
    ("buddy", "feedback"): (
        Fault("rating off its scale", "rating", "6"),
        Fault("unknown value", "from_role", "Coordinator"),
        _empty("rating"),
    ),
    ("upskilling", "ecornell"): (
        Fault("score out of range", "final_score", "104"),
        Fault("ends before it starts", "completed_at", before="started_at"),
        Fault("unknown value", "status", "Audit"),
        Fault("invalid email", "user_email", "olena.kovalenko@example"),
    ),
    ("upskilling", "itslearning"): (
        Fault("score out of range", "final_score", "112,5"),
        _empty("course_id"),
        Fault("unknown value", "status", "Venteliste"),
        Fault("unparseable date", "completed_at", BAD_DATE),
    ),
    ("upskilling", "credentials"): (
        Fault("ends before it starts", "expires_at", before="issued_at"),
        Fault("unknown value", "credential_type", "Sticker"),
        _empty("issued_at"),
    ),
    ("roster", "companies"): (_empty("company_name"), _empty("company_code")),
    ("roster", "volunteers"): (
        Fault("invalid email", "employee_email", "ola.nordmann@"),
        _empty("company_code"),
    ),
}
"""The bad rows of each entity; a messy file has each of its entity's at least once."""


def _other(value: int, low: int, high: int) -> int:
    """A different value in low..high, next to `value`."""
    return value - 1 if value > low else value + 1 if value < high else low


def _revise_session(record: Record) -> Record:
    if record["rating"] is not None:
        return {**record, "rating": _other(record["rating"], 1, 5), "feedback_text": "Rating changed after the call."}
    if record["completed_at"] is not None:
        return {**record, "rating": 4}
    return {**record, "scheduled_at": record["scheduled_at"] + timedelta(days=1)}  # rescheduled


def _revise_match(record: Record) -> Record:
    if record["status"] == "ended":
        return {**record, "interests": [*(record["interests"] or []), "chess"]}
    return {**record, "status": "inactive" if record["status"] == "active" else "active"}


def _revise_progress(record: Record) -> Record:
    if record["status"] == "completed":
        score = record["final_score"]
        return {**record, "final_score": score - 2 if score > 90 else score + 2}
    progress = record["progress_percent"]
    return {**record, "status": "in_progress", "progress_percent": min(99, progress + 5)}


REVISIONS: dict[tuple[str, str], Callable[[Record], Record]] = {
    ("kintell", "sessions"): _revise_session,
    ("kintell", "ratings"): lambda r: {**r, "rating": _other(r["rating"], 1, 5)},
    ("buddy", "matches"): _revise_match,
    ("buddy", "events"): lambda r: {**r, "attendees": r["attendees"] + 1},
    ("buddy", "checkins"): lambda r: {**r, "mood": MOODS[_other(MOODS.index(r["mood"]), 0, 4)]},
    ("buddy", "feedback"): lambda r: {**r, "rating": _other(r["rating"], 1, 5)},
    ("upskilling", "ecornell"): _revise_progress,
    ("upskilling", "itslearning"): _revise_progress,
    ("upskilling", "credentials"): lambda r: {**r, "verification_code": r["verification_code"][::-1] + "X"},
    ("roster", "companies"): lambda r: {**r, "industry": f"{r['industry']} and services"},
    ("roster", "volunteers"): lambda r: {**r, "joined_at": r["joined_at"] - timedelta(days=7)},
}
"""How a later row of the same key differs (an export listing a record twice, updated in between)."""


# --- the writer -----------------------------------------------------------------------------------


class FileCounts(BaseModel):
    """What loading one generated file into an empty database (after the files before it) gives."""

    source: str
    entity: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0


class Manifest(BaseModel):
    """`manifest.json`: the arguments and, per file in load order, the counts a first load gives."""

    scale: int
    seed: int
    messy: bool
    files: dict[str, FileCounts]

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


class ExportWriter:
    """One export file being written row by row, counting what a correct load of it gives.

    With `mess` (the messy mode's dice) it also, at random and at least once per file, writes bad
    rows (one `Fault` each), exact repeats of recent rows and later revisions of recent rows (the
    earlier row is then quarantined, the later loaded), and blank lines if the style has them.
    """

    def __init__(self, out: Path, relative: str, spec: EntitySpec, style: Style, *, mess: Dice | None = None) -> None:
        self.relative, self.spec, self.style, self.mess = relative, spec, style, mess
        kind = (spec.source, spec.entity)
        self.counts = FileCounts(source=spec.source, entity=spec.entity)
        self.fresh: Callable[[Dice], Record] | None = None
        """Makes a new valid record to break into a bad row (set by the entity's generator)."""
        self._fields = [name for name, _ in style.columns]
        self._renderers = [self._renderer(name) for name in self._fields]
        # One C call per row for all the values (itemgetter of one field would return it bare).
        self._values = operator.itemgetter(*self._fields, *self._fields[:1])
        self._write_time = None if style.reading == MIXED else TIMESTAMP_WRITERS[style.reading]
        self._scaled = set(spec.mapping.scales)
        self._faults = [
            fault
            for fault in FAULTS[kind]
            if fault.field in self._fields and not (style.unit_scale and fault.field in self._scaled)
        ]
        self._revise = REVISIONS[kind]
        self._next_fault = 0
        self._recent: deque[tuple[Record, list[str]]] = deque(maxlen=RECENT_ROWS)
        self._repeats = self._revisions = self._blank_lines = 0
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", encoding=style.encoding, newline="")
        self._csv = csv.writer(self._file, delimiter=style.delimiter, lineterminator=style.line_end)
        self._csv.writerow([header for _, header in style.columns] + list(style.extras))

    # Rows.

    def add(self, record: Record, *, repeatable: bool = True) -> list[str]:
        """A valid record, loaded; returns its cells. `repeatable=False` keeps it out of the repeats
        and revisions a messy file makes."""
        if self.mess is not None:
            self._interject(self.mess)
        cells = self.render(record)
        self._write(cells)
        self.counts.rows_loaded += 1
        if repeatable and self.mess is not None:
            self._recent.append((record, cells))
        return cells

    def add_again(self, record: Record, *, changed: bool) -> None:
        """A record an earlier file of this entity held: loaded if `changed`, else a duplicate."""
        self._write(self.render(record))
        if changed:
            self.counts.rows_loaded += 1
        else:
            self.counts.rows_duplicate += 1

    def add_bad(self, record: Record, fault: Fault) -> None:
        self._write(self.render(fault.apply(record)))
        self.counts.rows_quarantined += 1

    def add_copy(self, cells: list[str]) -> None:
        """An exact repeat of a row already written: a duplicate."""
        self._write(cells)
        self.counts.rows_duplicate += 1

    def close(self) -> FileCounts:
        """Finish the file (a messy one gets what it has not had yet) and return its counts."""
        if self.mess is not None:
            while self._next_fault < len(self._faults):
                self._bad_row(self.mess)
            if not self._repeats:
                self._repeat(self.mess)
            if not self._revisions:
                self._revision(self.mess)
        self._file.close()
        return self.counts

    def _write(self, cells: list[str]) -> None:
        self._csv.writerow(cells)
        self.counts.rows_in += 1

    def _interject(self, dice: Dice) -> None:
        if self.style.blank_lines and self.counts.rows_in and (not self._blank_lines or dice.chance(BLANK_LINE_RATE)):
            self._file.write(self.style.line_end)
            self._blank_lines += 1
        draw = dice.random()
        if draw < BAD_ROW_RATE:
            self._bad_row(dice)
        elif draw < BAD_ROW_RATE + DUPLICATE_RATE:
            self._repeat(dice)
        elif draw < BAD_ROW_RATE + DUPLICATE_RATE + REVISION_RATE:
            self._revision(dice)

    def _bad_row(self, dice: Dice) -> None:
        if self.fresh is None or not self._faults:
            self._next_fault = len(self._faults)
            return
        fault = self._faults[self._next_fault % len(self._faults)]
        self._next_fault += 1
        self.add_bad(self.fresh(dice), fault)

    def _take_recent(self, dice: Dice) -> tuple[Record, list[str]] | None:
        if not self._recent:
            return None
        index = dice.below(len(self._recent))
        taken = self._recent[index]
        del self._recent[index]  # repeated or revised once at most: each row's fate stays simple
        return taken

    def _repeat(self, dice: Dice) -> None:
        taken = self._take_recent(dice)
        if taken is not None:
            self._repeats += 1
            self.add_copy(taken[1])

    def _revision(self, dice: Dice) -> None:
        taken = self._take_recent(dice)
        if taken is None:
            return
        record = taken[0]
        revised = self._revise(record)
        if all(revised[name] == record[name] for name in self._fields):
            raise AssertionError(f"{self.relative}: a revision of {record} changes no column of the file")
        self._revisions += 1
        self._write(self.render(revised))
        # The earlier row is now superseded: quarantined; the later one takes its place as loaded.
        self.counts.rows_quarantined += 1

    # Cells.

    def render(self, record: Record) -> list[str]:
        """The record's cells in this file's style (the messy mode varies spellings and emails)."""
        write_time = self._write_time
        if write_time is None:  # one reading per row, by its key
            key = "|".join(str(record[name]) for name in self.spec.natural_key)
            write_time = TIMESTAMP_WRITERS[READINGS[zlib.crc32(key.encode()) % len(READINGS)]]
        cells = [
            ""
            if value is None
            else value
            if value.__class__ is Raw
            else write_time(value)
            if render is None
            else render(value)
            for value, render in zip(self._values(record), self._renderers, strict=False)
        ]
        if self.style.extras and self.mess is not None:  # extra columns are in messy files only
            cells.extend(_extra_value(header, record, self.mess) for header in self.style.extras)
        return cells

    def _renderer(self, name: str) -> Callable[[Any], str] | None:
        """How `name`'s values are written in this file; None for timestamps (in the row's reading)."""
        mess, style = self.mess, self.style
        spellings = SPELLINGS.get((self.spec.source, self.spec.entity), {}).get(name)
        kind = field_kind(self.spec.record, name)
        if spellings is not None:
            if mess is None:
                return lambda value: spellings[value][0]
            return lambda value: mess.pick(spellings[value]) if mess.chance(0.5) else spellings[value][0]
        if kind == Kind.TIMESTAMP:
            return None
        if kind == Kind.EMAIL and mess is not None:
            return lambda value: _scruffy_email(value, mess) if mess.chance(SCRUFFY_EMAIL_RATE) else value
        if kind == Kind.SCORE:
            # Generated on 1..5; a file on 0..1 writes 0, 0.25, 0.5, 0.75 and 1.
            return (lambda value: f"{(value - 1) / 4:g}") if style.unit_scale else str
        if kind == Kind.NUMBER:
            return (lambda value: f"{value:g}".replace(".", ",")) if style.decimal_comma else lambda value: f"{value:g}"
        if kind == Kind.TEXT_LIST:
            if mess is None:
                return "; ".join
            return lambda value: mess.pick(("; ", ", ", "|", ";")).join(value)
        if kind == Kind.JSON:
            return lambda value: json.dumps(value, ensure_ascii=False)
        return str


def field_kind(record: type[BaseModel], name: str) -> Kind | None:
    """The `Kind` a record's field is marked with (see `contracts.fields`), or None (a Literal)."""
    info = record.model_fields[name]
    markers = list(info.metadata)
    for argument in typing.get_args(info.annotation):  # `X | None`: the marker is on X
        markers.extend(getattr(argument, "__metadata__", ()))
    return next((marker.kind for marker in markers if isinstance(marker, FieldKind)), None)


def _scruffy_email(email: str, dice: Dice) -> str:
    """The address as people type it: capitals and stray spaces (valid once trimmed and lower-cased)."""
    local, domain = email.split("@")
    shapes = (
        f"{'.'.join(part.title() for part in local.split('.'))}@{domain.title()}",
        f" {email} ",
        email.upper(),
        f"{local.title()}@{domain} ",
    )
    return dice.pick(shapes)


def _extra_value(header: str, record: Record, dice: Dice) -> str:
    if header == "Coordinator":
        return dice.pick(COORDINATORS)
    if header == "Department":
        return dice.pick(DEPARTMENTS)
    if header in ("Programme Cohort", "Cohort"):
        moment = record["matched_at" if header == "Programme Cohort" else "started_at"]
        if not isinstance(moment, datetime):
            return ""
        return f"{moment.year} {'spring' if moment.month < 7 else 'autumn'}"
    # "Learner Name", "Full Name": carried by the record, not a field of it.
    return str(record.get("_name", ""))


# --- the sources ----------------------------------------------------------------------------------


@dataclass
class _Counters:
    """Running numbers of the ids, so ids stay unique across files and entities."""

    session: int = 0
    rating: int = 0
    match: int = 0
    event: int = 0
    checkin: int = 0
    feedback: int = 0
    credential: int = 0
    company: int = 0
    volunteer: int = 0

    def next(self, name: str) -> int:
        value: int = getattr(self, name) + 1
        setattr(self, name, value)
        return value


@dataclass
class _Run:
    """One generation: where it writes, who takes part, its dice, ids, and the files it writes."""

    out: Path
    people: Population
    dice: Dice
    mess: Dice | None
    ids: _Counters = field(default_factory=_Counters)
    files: dict[str, ExportWriter] = field(default_factory=dict)

    @property
    def messy(self) -> bool:
        return self.mess is not None

    def open(self, source: str, entity: str, month: str = MONTHS[-1]) -> ExportWriter:
        """A writer for `<source>/<entity>_<month>.csv` in the clean or this file's messy style."""
        relative = f"{source}/{entity}_{month}.csv"
        style = MESSY_STYLES[relative] if self.mess is not None else CLEAN_STYLES[(source, entity)]
        writer = ExportWriter(self.out, relative, get_entity(source, entity), style, mess=self.mess)
        self.files[relative] = writer
        return writer


def _month_start(month: str) -> datetime:
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


def _session_ratings(run: _Run, session: Record) -> Iterator[Record]:
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


def _write_kintell(run: _Run) -> None:
    carried: deque[Record] = deque(maxlen=CARRIED_SESSIONS)
    for month_index in range(len(MONTHS)):
        _write_kintell_month(run, month_index, carried)


def _write_kintell_month(run: _Run, month_index: int, carried: deque[Record]) -> None:
    """One month's sessions and ratings; `carried` holds the open sessions the next month shows again."""
    people, dice, mess, month = run.people, run.dice, run.mess, MONTHS[month_index]
    first_day = _month_start(month)
    sessions = run.open("kintell", "sessions", month)
    ratings = run.open("kintell", "ratings", month)
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


PROGRAMME_START = datetime(2026, 4, 1, 9, 0)
"""The first Buddy matches."""


def _match(run: _Run, dice: Dice, participant: int) -> Record:
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


def _event(run: _Run, dice: Dice, match: Record) -> Record:
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


def _checkin(run: _Run, dice: Dice, match: Record, when: datetime) -> Record:
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


def _feedback(run: _Run, dice: Dice, match: Record, role: str) -> Record:
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


def _write_buddy(run: _Run) -> None:
    people, dice = run.people, run.dice
    matches, events, checkins, feedback = (
        run.open("buddy", entity) for entity in ("matches", "events", "checkins", "feedback")
    )
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


COURSES_FROM = datetime(2026, 2, 2, 9, 0)
"""The first course enrolments."""


def _enrolment(dice: Dice, people: Population, participant: int, course: tuple[str, str, str]) -> Record:
    provider, code, name = course
    started = COURSES_FROM + timedelta(days=dice.below(260), hours=dice.between(0, 9), minutes=dice.below(60))
    draw = dice.random()
    status = "completed" if draw < 0.4 else "in_progress" if draw < 0.75 else "enrolled" if draw < 0.9 else "dropped"
    completed = None
    if status == "completed":
        completed = started + timedelta(days=dice.between(14, 120), hours=dice.between(0, 5))
        if completed > EXPORTED_AT:
            status, completed = "in_progress", None
    if status in ("completed", "enrolled"):
        progress = 100 if status == "completed" else 0
    else:
        progress = dice.between(5, 95 if status == "in_progress" else 60)
    score: float | None = None
    if status == "completed":
        # eCornell grades in whole points; itslearning scores in half points (a decimal comma in Norway).
        score = dice.between(60, 100) if provider == "ecornell" else dice.between(120, 200) / 2
    return {
        "provider": provider,
        "user_email": people.participant_email(participant),
        "course_id": code,
        "course_name": name,
        "status": status,
        "progress_percent": progress,
        # eCornell has no start date for a course not started; itslearning gives the enrolment date.
        "started_at": None if status == "enrolled" and provider == "ecornell" else started,
        "completed_at": completed,
        "final_score": score,
        "credential_ref": None,
        "_name": people.participant_name(participant),  # not a field: the "Learner Name" extra column
    }


def _credential(run: _Run, dice: Dice, enrolment: Record) -> Record:
    number = run.ids.next("credential")
    if enrolment["provider"] == "ecornell":
        credential_id = f"ECC-{number:07d}"
        kind = "certificate" if dice.chance(0.9) else "transcript"
        url = f"https://certificates.ecornell.example/verify/{credential_id}"
    else:
        credential_id = f"ITS-{number:07d}"
        kind = "badge" if dice.chance(0.7) else "diploma"
        url = f"https://badges.itslearning.example/b/{credential_id}"
    issued: datetime = enrolment["completed_at"] + timedelta(days=dice.between(0, 2))
    return {
        "credential_id": credential_id,
        "user_email": enrolment["user_email"],
        "provider": enrolment["provider"],
        "course_id": enrolment["course_id"],
        "credential_type": kind,
        "issued_at": issued,
        "expires_at": issued + timedelta(days=3 * 365) if kind == "badge" else None,
        "url": url,
        "verification_code": "".join(dice.pick(VERIFICATION_ALPHABET) for _ in range(8)),
    }


def _write_upskilling(run: _Run) -> None:
    people, dice = run.people, run.dice
    writers = {entity: run.open("upskilling", entity) for entity in ("ecornell", "itslearning", "credentials")}

    def completed_enrolment(bad: Dice, provider: str) -> Record:
        course = bad.pick([course for course in COURSES if course[0] == provider])
        enrolment = _enrolment(bad, people, bad.below(people.participants), course)
        started = enrolment["started_at"] or COURSES_FROM
        completed = started + timedelta(days=30)
        return {**enrolment, "status": "completed", "progress_percent": 100, "started_at": started,
                "completed_at": completed, "final_score": 80}  # fmt: skip

    writers["ecornell"].fresh = lambda bad: completed_enrolment(bad, "ecornell")
    writers["itslearning"].fresh = lambda bad: completed_enrolment(bad, "itslearning")
    writers["credentials"].fresh = lambda bad: _credential(
        run, bad, completed_enrolment(bad, bad.pick(("ecornell", "itslearning")))
    )
    for participant in range(people.participants):
        if not people.takes_courses(participant):
            continue
        for course in dice.some(COURSES, dice.pick((1, 1, 1, 2, 2, 3))):
            enrolment = _enrolment(dice, people, participant, course)
            credential = None
            if enrolment["status"] == "completed" and dice.chance(0.9):
                credential = _credential(run, dice, enrolment)
                enrolment["credential_ref"] = credential["credential_id"]
            writers[enrolment["provider"]].add(enrolment)
            if credential is not None:
                writers["credentials"].add(credential)
    for writer in writers.values():
        writer.close()


def _write_roster(run: _Run) -> None:
    people = run.people
    companies = run.open("roster", "companies")
    companies.fresh = lambda bad: {
        "company_code": f"NEW{run.ids.next('company'):02d}",
        "company_name": "Sørlandet Renhold AS",
        "industry": "Cleaning",
        "country": "NO",
    }
    for code, name, _, industry, country in people.company_rows:
        companies.add({"company_code": code, "company_name": name, "industry": industry, "country": country})
    companies.close()

    def volunteer(v: int) -> Record:
        return {
            "employee_email": people.volunteer_email(v),
            "company_code": people.company_rows[people.company(v)][0],
            "joined_at": people.volunteer_joined(v),
            "_name": people.volunteer_name(v),  # not a field: the "Full Name" extra column
        }

    volunteers = run.open("roster", "volunteers")
    # Broken rows are of new joiners, numbered after the volunteers (so their addresses are new).
    volunteers.fresh = lambda bad: volunteer(people.volunteers + run.ids.next("volunteer"))
    for v in range(people.volunteers):
        volunteers.add(volunteer(v))
    volunteers.close()


# --- the whole set --------------------------------------------------------------------------------


def generate_exports(out: Path, *, scale: int, seed: int, messy: bool = False) -> Manifest:
    """Write the exports of every source for `scale` participants under `out`, and `manifest.json`.

    Files of the same names in `out` are overwritten, others left alone. Returns the manifest.
    """
    run = _Run(out, population_for(scale, seed), Dice(_mix(seed, 1)), Dice(_mix(seed, 2)) if messy else None)
    out.mkdir(parents=True, exist_ok=True)
    for write in (_write_kintell, _write_buddy, _write_upskilling, _write_roster):
        write(run)
    files = {relative: run.files[relative].counts for relative, _ in export_files()}
    manifest = Manifest(scale=scale, seed=seed, messy=messy, files=files)
    (out / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest


def refresh_bundled_sample(sample_dir: Path = BUNDLED_SAMPLE_DIR) -> Manifest:
    """Rewrite the bundled sample that `teei up` copies into the landing folder."""
    return generate_exports(sample_dir, scale=BUNDLED_SAMPLE_SCALE, seed=BUNDLED_SAMPLE_SEED, messy=True)


if __name__ == "__main__":
    bundled = refresh_bundled_sample()
    rows = sum(counts.rows_in for counts in bundled.files.values())
    print(f"{BUNDLED_SAMPLE_DIR}: {len(bundled.files)} files, {rows} rows; expected counts in {MANIFEST_NAME}")
