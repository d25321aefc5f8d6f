"""Property tests (hypothesis) holding the loader's SQL to the records' Python rules on a real PostgreSQL.

The SQL is the very statement the loader runs (`teei.ingest.record_checks.checked_select`), evaluated over
a staged batch of random values per round trip; the reference is the pydantic record validated with
the same values (blank cells left out, enum spellings normalised by the mapping, the file's score
scales), as `contracts` defines them. Last, random Kintell exports go through `load_csv_file` whole.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import BeforeValidator, TypeAdapter, ValidationError

from connectors.csv_reader import ColumnPlan, plan_columns
from connectors.registry import EntitySpec, get_entity
from contracts import field_kinds
from contracts.field_kinds import (
    EMAIL,
    INTEGER,
    NUMBER,
    NUMBER_PATTERN,
    TIMESTAMP_PATTERN,
    TRIMMED_SQL,
    WHITESPACE,
    FieldKind,
    Kind,
    parse_timestamp,
)
from contracts.fields import CefrLevel, Email, WholeNumber, field_rules
from contracts.kintell import KintellSessionRecord
from teei.ingest.identity import hmac_pads, user_id_for_email
from teei.ingest.loader import load_csv_file
from teei.ingest.record_checks import checked_select, field_inputs, kind_expression, scale_query, session_settings

pytestmark = pytest.mark.integration

SESSIONS = get_entity("kintell", "sessions")
ECORNELL = get_entity("upskilling", "ecornell")
OSLO = ZoneInfo("Europe/Oslo")
ZONES = [
    "Europe/Oslo",
    "UTC",
    "America/New_York",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Europe/Dublin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]
# Each example is one database round trip for a whole batch of rows; the fixtures' database is shared
# by the examples of a test, which leave nothing behind (a rolled-back transaction, or truncation).
BATCHES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


# ---------------------------------------------------------------------------------------------
# The loader's SQL over a batch, and the pydantic record for each row
# ---------------------------------------------------------------------------------------------


def sql_checked(
    db: psycopg.Connection[Any], spec: EntitySpec, header: list[str], rows: list[list[str | None]], zone: str, key: str
) -> list[dict[str, Any]]:
    """Each row as the loader's checking statement gives it (stored values, user ids, `reasons`),
    staged as the loader stages it (an empty cell is NULL), in a transaction rolled back after."""
    plan = plan_columns(header, spec, "properties.csv")
    columns = [f"c{n}" for n in range(1, len(plan.headers) + 1)]
    stage, converted = sql.Identifier("stage"), sql.Identifier("converted")
    with db.transaction(force_rollback=True):
        db.execute(session_settings(zone))
        definitions = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
        db.execute(
            sql.SQL("CREATE TEMP TABLE stage (source_row_number int GENERATED ALWAYS AS IDENTITY, {}, surplus text)")
            .format(definitions)
        )  # fmt: skip
        copy_rows = sql.SQL("COPY stage ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
        with db.cursor().copy(copy_rows) as copy:
            for row in rows:
                copy.write_row([value or None for value in row])
        select = checked_select(
            spec,
            plan,
            stage,
            converted,
            zero_to_one=sql_unit_scaled(db, spec, plan, stage),
            hmac_keys=hmac_pads(key),
            load_id=1,
            file_name="properties.csv",
        )
        db.execute(sql.SQL("CREATE TEMP TABLE converted AS {}").format(select.converting))
        db.execute("SELECT set_config('TimeZone', 'UTC', true)")  # timestamps come back in UTC
        with db.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(
                sql.SQL("SELECT * FROM ({}) c ORDER BY source_row_number").format(select.checking)
            ).fetchall()


def sql_unit_scaled(db: psycopg.Connection[Any], spec: EntitySpec, plan: ColumnPlan, stage: sql.Composable) -> set[str]:
    """The score fields the loader reads on 0..1 in this file (the loader's own query)."""
    inputs = field_inputs(spec, plan)
    scored = [rule.name for rule in field_rules(spec.record) if rule.kind == Kind.SCORE and rule.name in plan.fields]
    if not scored:
        return set()
    decided = db.execute(scale_query({name: inputs[name] for name in scored}, stage)).fetchone()
    assert decided is not None
    return {name for name, unit in zip(scored, decided, strict=True) if unit}


def unit_scaled(spec: EntitySpec, header: list[str], rows: list[list[str | None]]) -> set[str]:
    """The per-file rule in Python: a score column whose numbers all lie in 0..1, one of them
    fractional or 0, is on 0..1 (values that are no number do not count)."""
    found = set()
    for index, name in enumerate(header):
        field = spec.mapping.canonical_field(name)
        if field not in spec.mapping.scales:
            continue
        texts = [(row[index] or "").strip().replace(",", ".") for row in rows]
        numbers = [Decimal(text) for text in texts if re.fullmatch(NUMBER_PATTERN, text)]
        if numbers and all(0 <= n <= 1 for n in numbers) and any(n == 0 or n % 1 for n in numbers):
            found.add(field)
    return found


def python_record(
    spec: EntitySpec, header: list[str], row: list[str | None], zone: str, unit: set[str]
) -> tuple[dict[str, Any] | None, set[str]]:
    """The row validated as the record (blank cells are absent): its values, or the fields it breaks
    ('' for a rule across fields)."""
    data = dict(spec.mapping.constants)
    for name, value in zip(header, row, strict=True):
        field = spec.mapping.canonical_field(name)
        if field is not None and value is not None and value.strip():
            data[field] = spec.mapping.normalise_value(field, value)
    scales = {field: (0.0, 1.0) if field in unit else scale for field, scale in spec.mapping.scales.items()}
    try:
        record = spec.record.model_validate(data, context={"timezone": ZoneInfo(zone), "scales": scales})
    except ValidationError as error:
        return None, {str(e["loc"][0]) if e["loc"] else "" for e in error.errors()}
    return record.model_dump(), set()


def broken_fields(reasons: list[str]) -> set[str]:
    """The fields the SQL's reasons name (`field: ...`; '' for the chronology rule)."""
    return {match.group(1) if (match := re.match(r"(\w+): ", reason)) else "" for reason in reasons}


def same_value(stored: Any, expected: Any, kind: Kind | str = Kind.TEXT) -> bool:
    if isinstance(stored, Decimal) and kind == Kind.NUMBER:  # stored as its numeric(7, 2) column holds it
        return stored == Decimal(str(expected)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if isinstance(stored, Decimal):
        return float(stored) == expected
    if isinstance(stored, datetime):
        return bool(stored.astimezone(UTC) == expected)
    return bool(stored == expected)


def assert_agree(
    spec: EntitySpec,
    header: list[str],
    rows: list[list[str | None]],
    checked: list[dict[str, Any]],
    zone: str,
    key: str,
) -> None:
    unit = unit_scaled(spec, header, rows)
    kinds = {rule.name: rule.kind for rule in field_rules(spec.record)}
    assert len(checked) == len(rows)
    for row, result in zip(rows, checked, strict=True):
        expected, broken = python_record(spec, header, row, zone, unit)
        shown = dict(zip(header, row, strict=True))
        found = broken_fields(result["reasons"])
        if broken - {""}:  # pydantic checks the order of timestamps once every field is valid; the SQL always
            found.discard("")
        assert found == broken, (shown, result["reasons"], broken)
        if expected is None:
            continue
        for field, value in expected.items():
            assert same_value(result[field], value, kinds[field]), (field, shown, result[field], value)
        for email_field, user_id_column in spec.identities.items():
            assert result[user_id_column] == user_id_for_email(expected[email_field], key.encode("utf-8")), shown


# ---------------------------------------------------------------------------------------------
# Values: what exports hold, near misses, and junk
# ---------------------------------------------------------------------------------------------

SPACES = st.text(WHITESPACE, max_size=2)
# Any text PostgreSQL can hold (no NUL); U+001C-U+001F are left out of free text only, see `TEXT`.
JUNK = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
# Free text without U+001C-U+001F: str.strip() (the loader's trim) removes them, pydantic's
# `str_strip_whitespace` (Rust's trim) does not, so text ending in one differs by design.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00\x1c\x1d\x1e\x1f"), max_size=12)


def blank_or(values: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    """Mostly `values`; sometimes an empty cell, a blank one or a missing one (a short row)."""
    return st.one_of(values, values, values, st.sampled_from(["", " ", "\t ", None]))


def padded(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(SPACES, values, SPACES).map("".join)


WALL_CLOCK = st.one_of(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31)),
    st.datetimes(min_value=datetime(2026, 3, 28, 23), max_value=datetime(2026, 3, 29, 5)),
    st.datetimes(min_value=datetime(2026, 10, 24, 23), max_value=datetime(2026, 10, 25, 5)),
    st.datetimes(min_value=datetime(2026, 3, 7, 23), max_value=datetime(2026, 4, 6, 5)),
    st.datetimes(min_value=datetime(2026, 9, 26, 23), max_value=datetime(2026, 11, 2, 5)),
)
READINGS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fz",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%YT%H:%M",
    "%d.%m.%Y",
    "%-d.%-m.%Y %-H:%M",
]
OFFSETS = st.sampled_from(["+01:00", "+0200", "-05", "+05:30", "-03:30", "+13:45", "+15:59", "-00:00", "+16:00"])


@st.composite
def readings(draw: st.DrawFn) -> str:
    wall = draw(WALL_CLOCK)
    text = wall.strftime(draw(st.sampled_from(READINGS)))
    if text[4] == "-" and len(text) > 10 and not text.endswith(("Z", "z")) and draw(st.booleans()):
        text += draw(OFFSETS)
    return text


def since_1970(rows: list[list[str | None]], columns: list[int], zone: str) -> list[list[str | None]]:
    """`rows` with the years before 1970 in timestamp `columns` moved to 1970 or later, unless `zone`
    is UTC: before 1970, PostgreSQL's time zone data (built without `backzone`, where Europe/Oslo is
    a link to Europe/Berlin) and the system's that Python reads (with it) disagree."""
    if zone == "UTC":
        return rows

    def later(match: re.Match[str]) -> str:
        year = int(match.group(2))
        return match.group(1) + (str(1970 + year % 100) if 0 < year < 1970 else match.group(2)) + match.group(3)

    moved = [list(row) for row in rows]
    for row in moved:
        for column in columns:
            if value := row[column]:
                row[column] = re.sub(r"(^\s*|\.)([0-9]{4})(-|\s|T|$)", later, value)
    return moved


TIMESTAMPS = blank_or(
    padded(st.one_of(readings(), readings(), st.from_regex(TIMESTAMP_PATTERN, fullmatch=True), JUNK))
)  # fmt: skip

# Local parts and domains with letters whose lower case is special: İ (two characters in lower case),
# Σ (final sigma), ẞ, the Kelvin and Ångström signs, the titlecase ǅ, Cherokee and Georgian capitals.
EMAIL_LETTERS = (
    string.ascii_letters + string.digits + "_%+-'!#"
    + "ÆØÅæøåÄÖÜäöüßÉéÈèÇçÑñ" + "ІЇЄҐіїєґАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгдежзийклмнопрстуфхцчшщьюя"
    + "İıΣσςΑΒΓΔαβγδẞKÅǅǄǆŉΐᏸᎠᲐ"
)  # fmt: skip
EMAIL_PART = st.text(EMAIL_LETTERS, min_size=1, max_size=8)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.lists(EMAIL_PART, min_size=1, max_size=2).map(".".join))
    domain = draw(st.lists(EMAIL_PART, min_size=2, max_size=3).map(".".join))
    text = f"{local}@{domain}"
    spellings: list[Callable[[str], str]] = [str, str.upper, str.lower, str.swapcase, str.title]
    return draw(st.sampled_from(spellings))(text)


EMAIL_NEAR_MISSES = st.sampled_from(
    [
        "olena",
        "olena@example",
        "a@@b.no",
        "a b@c.no",
        "@x.no",
        "a@x.",
        "a@.no",
        "a@b.no@c.no",
        "a@b..no",
        "a@b\u3000.no",
    ]
)
EMAILS = blank_or(padded(st.one_of(emails(), emails(), emails(), EMAIL_NEAR_MISSES, JUNK)))


@st.composite
def decimals(draw: st.DrawFn, low: int, high: int) -> str:
    places = draw(st.integers(0, 6))
    value = draw(st.decimals(min_value=low, max_value=high, places=places))
    text = format(value, "f")
    if draw(st.booleans()):
        text = text.replace(".", ",")
    if text.startswith(("0.", "0,")) and draw(st.booleans()):
        text = text[1:]
    if "." not in text and "," not in text and draw(st.booleans()):
        text += "."
    return "+" + text if value >= 0 and draw(st.integers(0, 4)) == 0 else text


NUMBER_NEAR_MISSES = st.sampled_from(
    ["1e0", "2E+00", "inf", "-Infinity", "nan", "NaN", "1_0", "٣", "４", "1,5,0", "1.5.0", ".", "-", "+", "0x1", "3 4"]
)


def scores(low: int, high: int) -> st.SearchStrategy[str | None]:
    return blank_or(padded(st.one_of(decimals(low, high), decimals(low, high), NUMBER_NEAR_MISSES, JUNK)))


@st.composite
def whole_numbers(draw: st.DrawFn) -> str:
    value = draw(st.integers(-5, 600))
    text = f"{abs(value):0{draw(st.integers(1, 12))}d}"
    text = ("-" if value < 0 else draw(st.sampled_from(["", "", "+"]))) + text
    return text + draw(st.sampled_from(["", "", "", ".0", ".000"]))


WHOLE_NEAR_MISSES = st.sampled_from(["1_000", "5.5", "90.", ".0", "1e2", "٥", "99999999999", "-0", "0.01", "4,0"])
WHOLE_NUMBERS = blank_or(padded(st.one_of(whole_numbers(), whole_numbers(), WHOLE_NEAR_MISSES, JUNK)))

CEFR = blank_or(
    padded(st.one_of(
        st.sampled_from(["A1", "A2", "B1", "B2", "C1", "C2"]).flatmap(lambda level: st.sampled_from(
            [level, level.lower(), level[0].lower() + level[1]]
        )),
        st.sampled_from(["B3", "D1", "B 1", "B-1", "intermediate", "Ｂ１"]),
        JUNK,
    ))
)  # fmt: skip
ITEM = st.text(st.characters(codec="utf-8", exclude_characters="\x00\x1c\x1d\x1e\x1f;|,"), max_size=8)
SEPARATOR = st.tuples(SPACES, st.sampled_from(";|,"), SPACES).map("".join)
TOPICS = blank_or(
    st.one_of(
        st.lists(st.tuples(ITEM, SEPARATOR), max_size=4).map(lambda pairs: "".join(a + b for a, b in pairs)),
        st.lists(ITEM, min_size=1, max_size=4).map(", ".join),
        JUNK,
    )
)
SESSION_TYPES = blank_or(
    st.one_of(
        st.sampled_from(["language", "mentorship", "Language Connect", "Mentor session", "Mentoring", "LANGUAGE"]),
        st.sampled_from(["language-connect", " Language_Session ", "MENTOR.SESSION", "Coffee chat", "lang uage"]),
        st.text(string.printable, max_size=10),
    )
)

SESSION_HEADER = [
    "session_id",
    "session_type",
    "participant_email",
    "volunteer_email",
    "scheduled_at",
    "started_at",
    "completed_at",
    "duration_minutes",
    "rating",
    "feedback_text",
    "language_level",
    "topics",
    "Notes",
]


def session_rows(ratings: st.SearchStrategy[str | None]) -> st.SearchStrategy[list[list[str | None]]]:
    row = st.tuples(
        blank_or(TEXT),
        SESSION_TYPES,
        EMAILS,
        EMAILS,
        TIMESTAMPS,
        TIMESTAMPS,
        TIMESTAMPS,
        WHOLE_NUMBERS,
        ratings,
        blank_or(TEXT),
        CEFR,
        TOPICS,
        blank_or(TEXT),
    ).map(list)
    return st.lists(row, min_size=1, max_size=15)


# Keys of any text, some longer than the 64 bytes of a SHA-256 block (then hashed first).
KEYS = st.one_of(st.just("k"), st.text(max_size=30), st.text(min_size=65, max_size=120))


# ---------------------------------------------------------------------------------------------
# SQL and pydantic agree, value by value
# ---------------------------------------------------------------------------------------------


@BATCHES
@given(
    rows=st.one_of(session_rows(scores(-1, 7)), session_rows(scores(0, 1))),
    zone=st.sampled_from(ZONES),
    key=KEYS,
)
def test_the_sql_checks_kintell_sessions_as_the_record_does(
    db: psycopg.Connection[Any], rows: list[list[str | None]], zone: str, key: str
) -> None:
    """Emails (and their user ids), timestamps in any zone, whole numbers, scores on either scale,
    CEFR levels, lists, enum spellings and the chronology: accepted or refused alike, the same values."""
    rows = since_1970(rows, [4, 5, 6], zone)
    checked = sql_checked(db, SESSIONS, SESSION_HEADER, rows, zone, key)

    assert_agree(SESSIONS, SESSION_HEADER, rows, checked, zone, key)


@BATCHES
@given(texts=st.lists(TIMESTAMPS, min_size=1, max_size=40), zone=st.sampled_from(ZONES))
def test_the_sql_reads_a_timestamp_exactly_when_parse_timestamp_does(
    db: psycopg.Connection[Any], texts: list[str | None], zone: str
) -> None:
    """Readings in every form, near DST switches, shaped but impossible (31.02, year 0, past 9999 in
    UTC) and junk: the same UTC instant, or refused by both."""
    header = ["session_id", "session_type", "participant_email", "volunteer_email", "scheduled_at"]
    rows = since_1970([["s", "language", "a@b.no", "a@b.no", text] for text in texts], [4], zone)

    checked = sql_checked(db, SESSIONS, header, rows, zone, "k")

    for row, result in zip(rows, checked, strict=True):
        text = row[4] or ""
        expected = parse_timestamp(text, ZoneInfo(zone)) if text.strip() else None
        refused = bool(text.strip()) and expected is None
        assert (result["scheduled_at"], bool(result["reasons"])) == (expected, refused), (text, result["reasons"])


# ---------------------------------------------------------------------------------------------
# Each kind of the rule table: its SQL and its Python reading agree text by text
# ---------------------------------------------------------------------------------------------

# Whitespace of every kind inside an address (none is allowed), and addresses around the edges.
EMAILS_WITH_SPACES = (
    st.tuples(EMAIL_PART, st.sampled_from(WHITESPACE), EMAIL_PART)
    .map(
        lambda parts: st.sampled_from([f"{parts[0]}{parts[1]}{parts[2]}@x.no", f"a@{parts[0]}{parts[1]}{parts[2]}.no"])
    )
    .flatmap(lambda strategy: strategy)
)
# Around the bound of 9 significant digits, with leading zeros and zero fractions.
LARGE_WHOLE_NUMBERS = st.tuples(
    st.sampled_from(["", "+", "-"]),
    st.sampled_from(["", "0", "000"]),
    st.one_of(st.integers(10**8 - 5, 10**8 + 5), st.integers(10**9 - 5, 10**9 + 5), st.integers(0, 10**15)),
    st.sampled_from(["", ".0", ".00"]),
).map(lambda parts: f"{parts[0]}{parts[1]}{parts[2]}{parts[3]}")
KIND_CASES: list[tuple[FieldKind, Any, st.SearchStrategy[str | None]]] = [
    (EMAIL, Email, st.one_of(EMAILS, EMAILS_WITH_SPACES)),
    (INTEGER, WholeNumber, st.one_of(WHOLE_NUMBERS, LARGE_WHOLE_NUMBERS)),
    (field_kinds.CEFR, CefrLevel, CEFR),
    (NUMBER, Annotated[float, BeforeValidator(NUMBER.validate)], scores(-1000, 1000)),
]


def python_reading(adapter: TypeAdapter[Any], text: str) -> Any:
    """The record's reading of a text: its value, or None when the field would be refused."""
    try:
        return adapter.validate_python(text)
    except ValidationError:
        return None


@BATCHES
@given(data=st.data(), case=st.sampled_from(KIND_CASES))
def test_each_kind_reads_a_text_in_sql_exactly_as_the_record_does(
    db: psycopg.Connection[Any], data: st.DataObject, case: tuple[FieldKind, Any, st.SearchStrategy[str | None]]
) -> None:
    """The rule table's one pattern per kind (the email pattern, the whole-number bound of 9
    significant digits...) read by PostgreSQL and by the pydantic type: the same value, or refused by both."""
    field_kind, python_type, texts = case
    values = [text for text in data.draw(st.lists(texts, min_size=1, max_size=40)) if text and text.strip()]
    trimmed = sql.SQL(TRIMMED_SQL).format(v=sql.Identifier("t"), whitespace=sql.Literal(WHITESPACE))
    query = sql.SQL("SELECT {} FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n").format(
        kind_expression(field_kind.sql, field_kind, v=trimmed)
    )
    read = [row[0] for row in db.execute(query, (values,)).fetchall()]
    adapter: TypeAdapter[Any] = TypeAdapter(python_type)

    for text, in_sql in zip(values, read, strict=True):
        expected = python_reading(adapter, text)
        assert (float(in_sql) if isinstance(in_sql, Decimal) else in_sql) == expected, (text, in_sql, expected)


PROGRESS_HEADER = ["user_email", "course_id", "status", "progress_percent", "final_score", "started_at"]
PERCENTS = blank_or(padded(st.one_of(decimals(-5, 105), decimals(0, 100), NUMBER_NEAR_MISSES, JUNK)))


@BATCHES
@given(
    rows=st.lists(
        st.tuples(
            EMAILS,
            blank_or(TEXT),
            st.sampled_from(["enrolled", "In Progress", "passed", "withdrawn", "Done"]),
            PERCENTS,
            PERCENTS,
            TIMESTAMPS,
        ).map(list),
        min_size=1,
        max_size=15,
    ),
    zone=st.sampled_from(ZONES),
)
def test_the_sql_checks_percentages_as_the_record_does(
    db: psycopg.Connection[Any], rows: list[list[str | None]], zone: str
) -> None:
    rows = since_1970(rows, [5], zone)
    checked = sql_checked(db, ECORNELL, PROGRESS_HEADER, rows, zone, "k")

    assert_agree(ECORNELL, PROGRESS_HEADER, rows, checked, zone, "k")


# ---------------------------------------------------------------------------------------------
# Whole files through the loader
# ---------------------------------------------------------------------------------------------

FEEDBACK = st.text(
    st.one_of(
        st.sampled_from(list(string.ascii_letters + string.digits + " ,;\"'\n\r\t.!?-")),
        st.sampled_from(list("æøåÆØÅéü€–…«»")),
        st.sampled_from(list("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЄІЇЮЯ'ʼ")),
    ),
    max_size=40,
)
SPELLINGS = {
    "language": ["Language Connect", "Language", "Language session"],
    "mentorship": ["Mentorship", "Mentor session", "Mentoring"],
}
# Readings of a timestamp as Europe/Oslo exports write them (naive: Oslo wall clock).
EXPORT_READINGS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d"]
_files = itertools.count(1)


@st.composite
def kintell_session(draw: st.DrawFn, number: int) -> dict[str, str]:
    """A valid session row (source values as text), every optional field sometimes empty."""

    def maybe(value: str) -> str:
        return value if draw(st.booleans()) else ""

    def written(instant: datetime) -> str:
        reading = draw(st.sampled_from(EXPORT_READINGS))
        zone = UTC if reading.endswith("Z") else OSLO
        return instant.astimezone(zone).strftime(reading)

    kind = draw(st.sampled_from(sorted(SPELLINGS)))
    spelling = draw(st.sampled_from([kind, *SPELLINGS[kind]]))
    spelling = draw(st.sampled_from([spelling, spelling.upper(), spelling.lower().replace(" ", "-"), spelling + " "]))
    started = draw(
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
    )
    # A day or more later, so that no reading (a date alone, minutes only, a DST hour) reorders them.
    completed = started + draw(st.timedeltas(min_value=timedelta(hours=25), max_value=timedelta(days=30)))
    topics = draw(st.lists(st.text(string.ascii_letters + "æøå ґї", min_size=1, max_size=8), max_size=3))
    return {
        "session_id": f"{draw(st.text(string.ascii_letters + 'æø-', max_size=4))}KS-{number}",
        "session_type": spelling,
        "participant_email": draw(padded(emails())),
        "volunteer_email": draw(padded(emails())),
        "scheduled_at": maybe(written(started - timedelta(days=2))),
        "started_at": maybe(written(started)),
        "completed_at": maybe(written(completed)),
        "duration_minutes": maybe(str(draw(st.integers(1, 480)))),
        "rating": maybe(str(draw(st.integers(1, 5)))),
        "feedback_text": maybe(draw(FEEDBACK)),
        "language_level": maybe(draw(st.sampled_from(["A1", "a2", " B1", "b2 ", "C1", "c2"]))),
        "topics": maybe(draw(st.sampled_from([";", "|", ", ", " ; "])).join(topics)),
        "Notes": maybe(draw(FEEDBACK)),
    }


@st.composite
def export_files(draw: st.DrawFn) -> tuple[bytes, list[dict[str, str]], str, str]:
    """A Kintell sessions export (bytes) of random rows in a random dialect; its rows, its encoding and
    the header of its extra column."""
    sessions = [draw(kintell_session(number)) for number in range(draw(st.integers(1, 12)))]
    columns = draw(st.permutations(list(sessions[0])))
    header = [draw(st.sampled_from([name, name.replace("_", " ").title(), name.upper()])) for name in columns]
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    if any("\r" in value for session in sessions for value in session.values()):
        line_end = "\r\n"  # else Python's csv writer leaves a value with a lone CR unquoted: no CSV at all
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=draw(st.sampled_from(",;")),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=line_end,
    )
    writer.writerow(header)
    for session in sessions:
        if draw(st.integers(0, 5)) == 0:
            buffer.write(writer.dialect.lineterminator)  # a blank line
        writer.writerow([session[name] for name in columns])
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    if encoding == "cp1252":
        try:
            if text.encode("cp1252").decode("utf-8") != text:
                encoding = "utf-8"  # its bytes would read as UTF-8: another text than the one meant
        except UnicodeEncodeError:
            encoding = "utf-8"  # not all of it is Windows-1252
        except UnicodeDecodeError:
            pass  # so it is read as Windows-1252
    return text.encode(encoding), sessions, encoding, header[columns.index("Notes")]


def table(engine: sa.Engine, query: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.text(query)).mappings()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export=export_files(), key=KEYS)
def test_any_export_loads_every_row_as_the_record_reads_it(
    engine: sa.Engine, tmp_path: Path, export: tuple[bytes, list[dict[str, str]], str, str], key: str
) -> None:
    data, sessions, encoding, notes = export
    with engine.begin() as connection:  # a clean state for each example
        connection.execute(sa.text("TRUNCATE ops.loads CASCADE"))  # and every table citing a load
    path = tmp_path / f"sessions_{next(_files)}.csv"
    path.write_bytes(data)

    result = load_csv_file(engine, path, SESSIONS, timezone=OSLO, pseudonym_key=key)

    assert (result.status, result.error, result.rows_in, result.rows_loaded) == (
        "succeeded",
        None,
        len(sessions),
        len(sessions),
    ), (encoding, data)
    stored = {row["session_id"]: row for row in table(engine, "SELECT * FROM raw.kintell_sessions")}
    context = {"timezone": OSLO, "scales": {"rating": (1.0, 5.0)}}
    for number, session in enumerate(sessions, start=1):
        values = {field: value for field, value in session.items() if field != "Notes" and value.strip()}
        values["session_type"] = SESSIONS.mapping.normalise_value("session_type", values["session_type"])
        record = KintellSessionRecord.model_validate(values, context=context).model_dump()
        row = stored[record["session_id"]]
        for field, value in record.items():
            assert same_value(row[field], value), (field, session, row[field], value)
        assert row["participant_user_id"] == user_id_for_email(session["participant_email"], key.encode("utf-8"))
        assert row["volunteer_user_id"] == user_id_for_email(session["volunteer_email"], key.encode("utf-8"))
        assert row["metadata"] == ({notes: session["Notes"]} if session["Notes"] else {}), (encoding, data)
        assert row["source_row_number"] == number
