"""Property tests (hypothesis) of the rules a source record lives by: header matching, timestamp
readings and the keyed hash behind user ids. The loader's SQL is held to the same rules in
`tests/integration/test_loader_properties.py`."""

from __future__ import annotations

import hashlib
import hmac
import re
import string
import sys
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.mapping import normalise_header
from connectors.registry import ENTITIES, EntitySpec
from contracts.field_kinds import TIMESTAMP_PATTERN, WHITESPACE, parse_timestamp
from teei.ingest.identity import hmac_pads, user_id_for_email

CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"
OSLO = ZoneInfo("Europe/Oslo")
# Zones with DST (northern, southern, negative, half-hour), odd offsets and a skipped day (Apia, 2011).
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
    "Pacific/Apia",
]

# ---------------------------------------------------------------------------------------------
# Header matching
# ---------------------------------------------------------------------------------------------

WORDS = st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8), min_size=1, max_size=4)
# Anything but letters and digits (all of it is ignored when headers are compared).
NOT_ALPHANUMERIC = st.characters(codec="utf-8").filter(lambda c: not c.isalnum())
SEPARATORS = st.one_of(
    st.sampled_from(["", " ", "_", "-", ".", "  ", " - ", "/", ": ", "(", ") ", "\t"]),
    st.text(NOT_ALPHANUMERIC, max_size=3),
)
SURROUNDING = st.text(" \t\u00a0\u3000\n", max_size=3)


@st.composite
def respelled(draw: st.DrawFn, words: list[str]) -> str:
    """`words` as an export might spell them: any case per word (or per letter), camelCase, any
    punctuation between them, whitespace around."""
    styles = ["lower", "upper", "title", "letters"]
    if draw(st.booleans()):  # camelCase / PascalCase
        spelled = [word if i == 0 and draw(st.booleans()) else word.title() for i, word in enumerate(words)]
        separators = [""] * len(words)
    else:
        spelled = []
        for word in words:
            style = draw(st.sampled_from(styles))
            if style == "letters":
                uppers = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
                spelled.append("".join(c.upper() if up else c for c, up in zip(word, uppers, strict=True)))
            else:
                spelled.append(getattr(word, style)())
        separators = [draw(SEPARATORS) for _ in words]
    body = "".join(separator + word for separator, word in zip(separators, spelled, strict=True))[len(separators[0]) :]
    return draw(SURROUNDING) + body + draw(SURROUNDING)


def words_of(spelling: str) -> list[str]:
    """The letter-and-digit runs of a spelling: `duration (min)` -> [duration, min]."""
    return [word.lower() for word in re.findall(r"[^\W_]+", spelling)]


def mapping_aliases() -> list[tuple[EntitySpec, str, str]]:
    """(entity, canonical field, alias) for every alias as written in the connectors' mapping files."""
    found = []
    for spec in ENTITIES.values():
        document = yaml.safe_load((CONNECTORS / spec.source / "mapping.yaml").read_text(encoding="utf-8"))
        for field, aliases in document[spec.entity]["aliases"].items():
            found += [(spec, field, str(alias)) for alias in aliases or []]
    return found


FIELDS = [(spec, field) for spec in ENTITIES.values() for field in spec.record.model_fields]
ALIASES = mapping_aliases()


@given(data=st.data(), words=WORDS)
def test_any_respelling_of_a_name_normalises_to_its_letters_and_digits(data: st.DataObject, words: list[str]) -> None:
    header = data.draw(respelled(words))

    assert normalise_header(header) == "".join(words)
    for spec in ENTITIES.values():
        assert spec.mapping.canonical_field(header) == spec.mapping.canonical_field("_".join(words))


@given(data=st.data(), entry=st.sampled_from(FIELDS))
def test_every_field_of_every_entity_is_found_however_its_name_is_spelled(
    data: st.DataObject, entry: tuple[EntitySpec, str]
) -> None:
    spec, field = entry
    header = data.draw(respelled(field.split("_")))

    assert spec.mapping.canonical_field(header) == field


@given(data=st.data(), entry=st.sampled_from(ALIASES))
def test_every_alias_in_the_mapping_files_is_found_however_it_is_spelled(
    data: st.DataObject, entry: tuple[EntitySpec, str, str]
) -> None:
    spec, field, alias = entry
    header = data.draw(respelled(words_of(alias)))

    assert spec.mapping.canonical_field(alias) == field
    assert spec.mapping.canonical_field(header) == field


@given(header=st.text(), data=st.data())
def test_characters_other_than_letters_and_digits_never_change_the_match(header: str, data: st.DataObject) -> None:
    inserted = data.draw(st.lists(st.tuples(st.integers(0, len(header)), NOT_ALPHANUMERIC), max_size=6))
    noisy = header
    for position, character in sorted(inserted, reverse=True):
        noisy = noisy[:position] + character + noisy[position:]

    assert normalise_header(noisy) == normalise_header(header)
    for spec in ENTITIES.values():
        assert spec.mapping.canonical_field(noisy) == spec.mapping.canonical_field(header)


# ---------------------------------------------------------------------------------------------
# Timestamp readings
# ---------------------------------------------------------------------------------------------


def wall_clock_instant(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant a naive wall-clock time in `zone` means, worked out without `fold`: the
    instants whose wall clock in `zone` reads `wall`, the later one if it is repeated; in a gap, the
    later of its readings (with the offset before the switch), as PostgreSQL reads it."""
    guess = wall.replace(tzinfo=UTC)
    offsets = {(guess + timedelta(hours=hours)).astimezone(zone).utcoffset() for hours in range(-30, 31)}
    readings = [guess - offset for offset in offsets if offset is not None]
    exact = [moment for moment in readings if moment.astimezone(zone).replace(tzinfo=None) == wall]
    return max(exact or readings)


def fraction_text(microsecond: int, digits: int) -> tuple[str, int]:
    """`.ffff` with `digits` digits of `microsecond` (none when 0), and the microseconds it says."""
    if digits == 0:
        return "", 0
    text = f"{microsecond:06d}"[:digits]
    return "." + text, int(text.ljust(6, "0"))


@st.composite
def naive_reading(draw: st.DrawFn, wall: datetime) -> tuple[str, datetime]:
    """`wall` written in one of the naive readings, and the wall-clock time that text says."""
    form = draw(st.sampled_from(["iso", "iso-minutes", "iso-date", "dotted", "dotted-seconds", "dotted-date"]))
    if form == "iso":
        fraction, microsecond = fraction_text(wall.microsecond, draw(st.integers(0, 6)))
        separator = draw(st.sampled_from("T "))
        return f"{wall:%Y-%m-%d}{separator}{wall:%H:%M:%S}{fraction}", wall.replace(microsecond=microsecond)
    if form == "iso-minutes":
        return f"{wall:%Y-%m-%d}{draw(st.sampled_from('T '))}{wall:%H:%M}", wall.replace(second=0, microsecond=0)
    if form == "iso-date":
        return f"{wall:%Y-%m-%d}", wall.replace(hour=0, minute=0, second=0, microsecond=0)
    padded = draw(st.booleans())
    day, month = (f"{wall.day:02d}", f"{wall.month:02d}") if padded else (str(wall.day), str(wall.month))
    date_text = f"{day}.{month}.{wall.year:04d}"
    if form == "dotted-date":
        return date_text, wall.replace(hour=0, minute=0, second=0, microsecond=0)
    hour = f"{wall.hour:02d}" if draw(st.booleans()) else str(wall.hour)
    separator = draw(st.sampled_from([" ", "T", "  "]))
    if form == "dotted-seconds":
        return f"{date_text}{separator}{hour}:{wall:%M:%S}", wall.replace(microsecond=0)
    return f"{date_text}{separator}{hour}:{wall:%M}", wall.replace(second=0, microsecond=0)


@st.composite
def aware_reading(draw: st.DrawFn, instant: datetime) -> tuple[str, datetime]:
    """`instant` written as ISO 8601 with `Z` or an offset (any up to ±15:59, in any of its
    spellings), and the UTC instant that text says."""
    minutes = draw(st.integers(-(15 * 60 + 59), 15 * 60 + 59))
    local = instant.astimezone(timezone(timedelta(minutes=minutes)))
    sign, hours, rest = "-" if minutes < 0 else "+", abs(minutes) // 60, abs(minutes) % 60
    spellings = [f"{sign}{hours:02d}:{rest:02d}", f"{sign}{hours:02d}{rest:02d}"]
    spellings += [f"{sign}{hours:02d}"] if rest == 0 else []
    spellings += ["Z", "z", "-00:00"] if minutes == 0 else []
    offset = draw(st.sampled_from(spellings))
    precision = draw(st.sampled_from(["minutes", "seconds", "fraction"]))
    if precision == "minutes":
        clock, local = f"{local:%H:%M}", local.replace(second=0, microsecond=0)
    else:
        digits = draw(st.integers(1, 6)) if precision == "fraction" else 0
        fraction, microsecond = fraction_text(local.microsecond, digits)
        clock, local = f"{local:%H:%M:%S}{fraction}", local.replace(microsecond=microsecond)
    return f"{local:%Y-%m-%d}{draw(st.sampled_from('T '))}{clock}{offset}", local.astimezone(UTC)


WALL_CLOCK = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    # the night of each 2026 DST switch in Europe (and near the others')
    st.datetimes(min_value=datetime(2026, 3, 28, 23), max_value=datetime(2026, 3, 29, 5)),
    st.datetimes(min_value=datetime(2026, 10, 24, 23), max_value=datetime(2026, 10, 25, 5)),
    st.datetimes(min_value=datetime(2026, 3, 7, 23), max_value=datetime(2026, 4, 6, 5)),
    st.datetimes(min_value=datetime(2026, 9, 26, 23), max_value=datetime(2026, 11, 2, 5)),
)
INSTANTS = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC))


@settings(max_examples=300)
@given(data=st.data(), wall=WALL_CLOCK, zone=st.one_of(st.sampled_from(ZONES).map(ZoneInfo), st.timezones()))
def test_naive_readings_are_wall_clock_times_in_the_timezone(data: st.DataObject, wall: datetime, zone: tzinfo) -> None:
    text, said = data.draw(naive_reading(wall))

    parsed = parse_timestamp(data.draw(SURROUNDING) + text + data.draw(SURROUNDING), zone)

    assert parsed == wall_clock_instant(said, zone)


@given(data=st.data(), instant=INSTANTS, zone=st.sampled_from(ZONES).map(ZoneInfo))
def test_readings_with_an_offset_or_z_keep_it_whatever_the_timezone(
    data: st.DataObject, instant: datetime, zone: tzinfo
) -> None:
    text, said = data.draw(aware_reading(instant))

    parsed = parse_timestamp(data.draw(SURROUNDING) + text + data.draw(SURROUNDING), zone)

    assert parsed == said and parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-29 01:59", "2026-03-29T00:59:00+00:00"),
        ("2026-03-29 02:00", "2026-03-29T01:00:00+00:00"),  # skipped: standard time (+01)
        ("29.03.2026 02:59", "2026-03-29T01:59:00+00:00"),
        ("2026-03-29T03:00", "2026-03-29T01:00:00+00:00"),
        ("2026-10-25 01:59", "2026-10-24T23:59:00+00:00"),
        ("2026-10-25 02:00", "2026-10-25T01:00:00+00:00"),  # repeated: the second, standard time (+01)
        ("25.10.2026 02:59:59", "2026-10-25T01:59:59+00:00"),
        ("2026-10-25 03:00", "2026-10-25T02:00:00+00:00"),
    ],
)
def test_the_2026_dst_switches_in_oslo(text: str, utc: str) -> None:
    dotted = "%d.%m.%Y %H:%M:%S" if text.count(":") == 2 else "%d.%m.%Y %H:%M"
    wall = datetime.strptime(text, dotted) if "." in text else datetime.fromisoformat(text)

    assert parse_timestamp(text, OSLO) == wall_clock_instant(wall, OSLO) == datetime.fromisoformat(utc)


def test_a_day_a_timezone_skipped_is_read_with_the_offset_before_it() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 never happened in Samoa (UTC-10 to UTC+14)

    assert parse_timestamp("30.12.2011 12:00", apia) == datetime(2011, 12, 30, 22, tzinfo=UTC)
    assert wall_clock_instant(datetime(2011, 12, 30, 12), apia) == datetime(2011, 12, 30, 22, tzinfo=UTC)


# Strings shaped like a reading (maybe no real date: 31.02, year 0, or out of range in UTC) and junk.
SHAPED = st.from_regex(TIMESTAMP_PATTERN, fullmatch=True)


@settings(max_examples=300)
@given(text=st.one_of(SHAPED, st.text(), st.text("0123456789-.:T Zz+"), st.text(max_size=40)),
       zone=st.sampled_from(ZONES).map(ZoneInfo))  # fmt: skip
@example(text="0001-01-01", zone=OSLO)  # before year 1 in UTC
@example(text="9999-12-31T23:59-01:00", zone=OSLO)  # after year 9999 in UTC
@example(text="31.12.9999 23:59", zone=ZoneInfo("America/New_York"))
def test_any_text_is_read_as_a_utc_instant_or_refused_never_an_error(text: str, zone: tzinfo) -> None:
    parsed = parse_timestamp(text, zone)

    assert parsed is None or parsed.utcoffset() == timedelta(0)
    if parsed is not None:
        assert re.fullmatch(TIMESTAMP_PATTERN, text.strip())


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-01T10",  # hour only
        "20261001",  # basic format
        "2026-10-01T1000",
        "2026-W40-1",  # week date
        "2026-274",  # ordinal date
        "2026-10-01T10:00:00,5",  # decimal comma
        "2026-10-01T10:00:00.1234567",  # more than microseconds
        "2026-10-01t10:00",
        "2026-10-01x10:00",
        "2026-10-01 10:00 +01:00",
        "2026-10-01T10:00+23:59",  # past PostgreSQL's ±15:59
        "2026-10-01T10:00:00+05:30:15",
        "٠١.٠٢.٢٠٢٦",  # non-ASCII digits
        "2026-10-01T24:00",
        "2026-10-01T10:00:60",
    ],
)
def test_readings_outside_the_contract_are_refused(text: str) -> None:
    """`datetime.fromisoformat` reads all of these; the contract (and the loader's SQL) does not."""
    assert parse_timestamp(text, OSLO) is None


def test_lower_case_z_is_utc_as_in_the_loader() -> None:
    assert parse_timestamp("2026-10-01T10:00z", OSLO) == datetime(2026, 10, 1, 10, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Whitespace and the keyed hash, as the SQL computes them
# ---------------------------------------------------------------------------------------------


def test_the_sql_trims_exactly_what_python_strips() -> None:
    python_whitespace = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}

    assert set(WHITESPACE) == python_whitespace
    assert {c for c in python_whitespace if re.fullmatch(r"\s", c)} == python_whitespace


KEYS = st.one_of(st.text(max_size=100), st.text(min_size=65, max_size=200), st.binary(max_size=200))


@given(key=KEYS, email=st.text())
def test_the_hmac_from_padded_keys_is_the_hmac(key: str | bytes, email: str) -> None:
    """What the loader's SQL computes with sha256() alone equals `user_id_for_email`."""
    inner, outer = hmac_pads(key)
    message = email.strip().lower().encode("utf-8")
    secret = key.encode("utf-8") if isinstance(key, str) else key

    by_pads = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).hexdigest()

    assert by_pads == hmac.new(secret, message, hashlib.sha256).hexdigest() == user_id_for_email(email, secret)
