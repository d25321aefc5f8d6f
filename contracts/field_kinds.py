"""The one rule table of source fields: each kind of value an export holds, defined once.

Every kind (`FIELD_KINDS`) has, side by side:
- `pattern`: the regular expression a valid source text matches, written so that Python's `re` and
  PostgreSQL's `~` read it alike (ASCII digits, whitespace spelled out as `WHITESPACE`);
- `parse`: the Python reading of a value (the pydantic before-validator of the record's field);
- `sql`: the PostgreSQL reading of the same trimmed text, a psycopg `sql.SQL` template kept as plain
  text here (`{v}` the text, `{pattern}` the pattern), so `contracts/` imports no database code;
  `teei.ingest.record_checks` composes it into the loader's checking statement;
- `stored`: how the raw table stores the converted value (`{value}`), where it differs from it;
- `refusal`: the words after the quoted value when it is no such value, for pydantic's error and
  the loader's quarantine reason alike;
- `holds`: what `docs/sources.md` says a field of the kind holds.

The pydantic records built from these kinds (`contracts.fields`) are the oracle the loader's SQL is
tested against (`tests/unit/test_properties.py`, `tests/integration/test_loader_properties.py`):
the loader never validates a row in Python, so a rule changed here changes both readings at once.

What a Python reading means can depend on the validation context the CSV reader (or a webhook)
passes: `context["timezone"]`, a `tzinfo` for naive timestamps (UTC when absent), and
`context["scales"]`, `{field name: (low, high)}`, the source scale of each score.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError


class Kind(StrEnum):
    """The name of a field kind (a key of `FIELD_KINDS`)."""

    TEXT = "text"
    EMAIL = "email"
    TIMESTAMP = "timestamp"
    CEFR = "cefr"
    TEXT_LIST = "text_list"
    SCORE = "score"
    NUMBER = "number"
    INTEGER = "integer"
    JSON = "json"
    ENUM = "enum"


class Refused(ValueError):
    """Raised by a kind's `parse` when a value is no value of the kind (`FieldKind.validate` reports it)."""


@dataclass(frozen=True)
class FieldKind:
    """One kind of source field: its pattern, Python reading and SQL reading side by side.

    Also the marker in a field's `Annotated` metadata (pydantic ignores it), so the loader and the
    generator know a field's kind from its record (`contracts.fields.field_rules`).
    """

    kind: Kind
    holds: str
    sql: str
    refusal: str | None = None
    pattern: str | None = None
    parse: Callable[[Any, ValidationInfo], Any] | None = None
    stored: str = "{value}"

    def validate(self, value: Any, info: ValidationInfo) -> Any:
        """The pydantic before-validator: `parse`, refusing a value with the kind's `refusal`."""
        if self.parse is None:
            return value
        try:
            return self.parse(value, info)
        except Refused:
            message = f"{{value}} {self.refusal}"
            raise PydanticCustomError(self.kind.value, message, {"value": repr(value)}) from None


def _context(info: ValidationInfo) -> dict[str, Any]:
    context = info.context
    return context if isinstance(context, dict) else {}


def _read_matching(pattern: str, normalise: Callable[[str], str]) -> Callable[[Any, ValidationInfo], Any]:
    """The reading of a text that, trimmed and normalised (lower-cased, say), must match `pattern`;
    anything but text is left to pydantic's own validation."""

    def read(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        text = normalise(value.strip())
        if re.fullmatch(pattern, text) is None:
            raise Refused
        return text

    return read


# --- shared by every kind ---------------------------------------------------------------------------

# Whitespace trimmed from every value: exactly what Python's str.strip() removes (`str.isspace`),
# and what `\s` means in a Python regular expression (PostgreSQL's `\s` differs, so patterns spell it).
WHITESPACE = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
TRIMMED_SQL = "nullif(btrim({v}, {whitespace}), '')"
"""A value as every rule reads it (Python: `str.strip()`, blank means absent)."""
# What is ignored when headers and enum values are compared (`connectors.mapping.normalise_header`).
NOT_ALPHANUMERIC_PATTERN = r"[\W_]+"

# --- text -------------------------------------------------------------------------------------------

TEXT = FieldKind(Kind.TEXT, holds="text", sql="{v}")

# --- enum: a `Literal` field, its spellings from the connector's mapping ----------------------------

# `{choices}` the canonical values, `{cases}` the mapping's `WHEN <normalised spelling> THEN <value>`s.
# Python: `EntityMapping.normalise_value` before validation, then pydantic's `Literal`.
ENUM = FieldKind(
    Kind.ENUM,
    holds="one of {choices}",
    sql="CASE WHEN {v} IN ({choices}) THEN {v}"
    " ELSE CASE lower(regexp_replace({v}, {pattern}, '', 'g')) {cases} END END",
    refusal="should be {choices}",
    pattern=NOT_ALPHANUMERIC_PATTERN,
)

# --- email ------------------------------------------------------------------------------------------

# One @, no whitespace, at least one dot inside the domain.
EMAIL_PATTERN = rf"^[^@{WHITESPACE}]+@([^@{WHITESPACE}.]+\.)+[^@{WHITESPACE}.]+$"


EMAIL = FieldKind(
    Kind.EMAIL,
    holds="email (trimmed, lower-cased; identifies a person)",
    # Full Unicode case mapping, as Python's str.lower() (the database's own locale may map less).
    sql="CASE WHEN lower({v} COLLATE pg_unicode_fast) ~ {pattern} THEN lower({v} COLLATE pg_unicode_fast) END",
    refusal="is not a valid email address",
    pattern=EMAIL_PATTERN,
    parse=_read_matching(EMAIL_PATTERN, str.lower),
)

# --- timestamp --------------------------------------------------------------------------------------

# Every reading of a date/time this platform accepts: ISO 8601 extended format (a date, or a date and
# a time with an optional fraction and an optional `Z` or offset up to ±15:59, PostgreSQL's limit) or
# `dd.mm.yyyy [HH:MM[:SS]]` (spaces or one `T` between). ASCII digits only.
TIMESTAMP_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}(( +| *T *)([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?)$"
)
# `dd.mm.yyyy`, optionally followed by `HH:MM` or `HH:MM:SS` (European spreadsheet exports).
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_timestamp(text: str, timezone: tzinfo) -> datetime | None:
    """`text` as a UTC datetime, or None when it is no date/time this platform reads.

    ISO 8601 with an offset or `Z` keeps its offset; naive ISO, `dd.mm.yyyy HH:MM[:SS]` and plain
    dates (midnight) are wall-clock times in `timezone`. A naive time that a DST switch skips or
    repeats is read in standard time, as PostgreSQL reads it (the loader validates in SQL).
    """
    text = text.strip()
    # Only the readings of TIMESTAMP_PATTERN: `datetime.fromisoformat` alone reads many more (week
    # dates, basic format, hour-only times, other separators) that the loader's SQL refuses.
    if re.fullmatch(TIMESTAMP_PATTERN, text) is None:
        return None
    # A dot in the first three characters means dd.mm.yyyy; everything else is ISO 8601.
    if "." in text[:3]:
        match = _DOTTED_DATE.fullmatch(text)
        if match is None:
            return None
        day, month, year, hour, minute, second = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            return None
    else:
        try:
            moment = datetime.fromisoformat(text[:-1] + "Z" if text.endswith("z") else text)
        except ValueError:
            return None
    try:
        if moment.tzinfo is None:
            # A wall-clock time a DST switch skips or repeats has two readings; like PostgreSQL, take
            # standard time, which is the later instant of the two in both cases.
            return max(moment.replace(tzinfo=timezone, fold=fold).astimezone(UTC) for fold in (0, 1))
        return moment.astimezone(UTC)
    except OverflowError:  # in UTC before year 1 or after year 9999
        return None


def _read_timestamp(value: Any, info: ValidationInfo) -> Any:
    timezone = _context(info).get("timezone") or UTC
    if isinstance(value, str):
        moment = parse_timestamp(value, timezone)
        if moment is None:
            raise Refused
        return moment
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone).astimezone(UTC)
    return value  # anything else: pydantic's own datetime validation reports it


TIMESTAMP = FieldKind(
    Kind.TIMESTAMP,
    holds="date/time",
    # The pattern admits the readings above only; PostgreSQL's own input then reads them, with
    # TimeZone and DateStyle (DMY) set for the load. The bounds are the instants Python's datetime
    # holds (the OverflowError above).
    sql="CASE WHEN {v} ~ {pattern} AND pg_input_is_valid({v}, 'timestamptz') THEN"
    " CASE WHEN {v}::timestamptz BETWEEN '0001-01-01 00:00:00+00'::timestamptz"
    " AND '9999-12-31 23:59:59.999999+00'::timestamptz THEN {v}::timestamptz END END",
    refusal="is not a valid date/time",
    pattern=TIMESTAMP_PATTERN,
    parse=_read_timestamp,
)

# --- CEFR level -------------------------------------------------------------------------------------

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
CEFR_PATTERN = "^(" + "|".join(CEFR_LEVELS) + ")$"


CEFR = FieldKind(
    Kind.CEFR,
    holds="CEFR level A1–C2",
    sql="CASE WHEN upper({v}) ~ {pattern} THEN upper({v}) END",
    refusal="is not a CEFR level (A1, A2, B1, B2, C1 or C2)",
    pattern=CEFR_PATTERN,
    parse=_read_matching(CEFR_PATTERN, str.upper),
)

# --- list -------------------------------------------------------------------------------------------

# A separator with the whitespace around it, so splitting a trimmed value trims every item.
LIST_SEPARATOR_PATTERN = rf"[{WHITESPACE}]*[;|,][{WHITESPACE}]*"


def _read_text_list(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        value = re.split(LIST_SEPARATOR_PATTERN, value.strip())
    if isinstance(value, list | tuple):
        items = [item.strip() for item in value if isinstance(item, str)]
        return [item for item in items if item] or None
    return value


TEXT_LIST = FieldKind(
    Kind.TEXT_LIST,
    holds="list separated by `;`, `\\|` or `,`",
    # Empty items dropped, no items at all: NULL (None).
    sql="to_jsonb(nullif(array_remove(regexp_split_to_array({v}, {pattern}), ''), '{{}}'::text[]))",
    pattern=LIST_SEPARATOR_PATTERN,
    parse=_read_text_list,
)

# --- number (percentages) and score -----------------------------------------------------------------

# A decimal number (after a decimal comma became a point), as Python and PostgreSQL both read it:
# not `float()`'s wider syntax (exponents, `inf`, `nan`, `1_000`, non-ASCII digits).
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"


def _decimal(value: str) -> Decimal:
    """`value` as a decimal number, a decimal comma accepted."""
    text = value.strip().replace(",", ".")
    if re.fullmatch(NUMBER_PATTERN, text) is None:
        raise Refused
    return Decimal(text)


def _read_number(value: Any, info: ValidationInfo) -> Any:
    return float(_decimal(value)) if isinstance(value, str) else value


NUMBER = FieldKind(
    Kind.NUMBER,
    holds="number",
    sql="CASE WHEN replace({v}, ',', '.') ~ {pattern} THEN replace({v}, ',', '.')::numeric END",
    # As the raw column stores it (numeric(7, 2)), so `92.5` and `92.50` hash as one value.
    stored="round({value}, 2)",
    refusal="is not a number",
    pattern=NUMBER_PATTERN,
    parse=_read_number,
)

SCORE_SCALE = (1.0, 5.0)
"""The source scale of a score whose mapping names none (and whose file is not on 0..1)."""
OFF_SCALE = "is outside the scale {low} to {high}"
"""The refusal of a score outside its file's scale."""


def _read_score(value: Any, info: ValidationInfo) -> Any:
    """A score on its source scale (`context["scales"][field]`, else `SCORE_SCALE`) as
    `(v - low) / (high - low)`, rounded to 4 decimals half away from zero as PostgreSQL's numeric."""
    number: Decimal | None
    if isinstance(value, str):
        number = _decimal(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(str(value)) if math.isfinite(value) else None
    else:
        return value
    low, high = (_context(info).get("scales") or {}).get(info.field_name, SCORE_SCALE)
    bottom, top = Decimal(str(float(low))), Decimal(str(float(high)))
    if number is None or not (bottom <= number <= top):
        raise PydanticCustomError(
            "score_scale", "{value} " + OFF_SCALE, {"value": repr(value), "low": f"{low:g}", "high": f"{high:g}"}
        )
    return float(((number - bottom) / (top - bottom)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


# A score's text is read as a number (pattern, SQL, refusal); then scaled.
SCORE = dataclasses.replace(
    NUMBER,
    kind=Kind.SCORE,
    holds="score",
    # `{low}`, `{high}`: the file's scale of the column, decided by the loader (0..1 or the mapping's).
    stored="round(({value} - {low}) / ({high} - {low}), 4)",
    parse=_read_score,
)

# --- whole number -----------------------------------------------------------------------------------

# Leading zeros and a zero fraction (`90.0`, as spreadsheets write it) allowed; at most 9
# significant digits, so every whole number fits the raw tables' integer columns.
WHOLE_NUMBER_PATTERN = r"^[+-]?0*[0-9]{1,9}(\.0+)?$"


def _read_whole_number(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(WHOLE_NUMBER_PATTERN, text) is None:
            raise Refused
        return int(text.partition(".")[0])
    return value


INTEGER = FieldKind(
    Kind.INTEGER,
    holds="whole number",
    sql="CASE WHEN {v} ~ {pattern} THEN split_part({v}, '.', 1)::integer END",
    refusal="is not a whole number",
    pattern=WHOLE_NUMBER_PATTERN,
    parse=_read_whole_number,
)

# --- JSON -------------------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise Refused  # NaN and Infinity: Python's json reads them, PostgreSQL's jsonb does not


def _read_json_document(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_no_constant)
        except ValueError:
            raise Refused from None
        if not isinstance(value, dict | list):
            raise Refused
    return value


JSON = FieldKind(
    Kind.JSON,
    holds="JSON object or array",
    sql="CASE WHEN pg_input_is_valid({v}, 'jsonb') AND jsonb_typeof({v}::jsonb) IN ('object', 'array')"
    " THEN {v}::jsonb END",
    refusal="is not a JSON object or array",
    parse=_read_json_document,
)

FIELD_KINDS: dict[Kind, FieldKind] = {
    field_kind.kind: field_kind
    for field_kind in (TEXT, ENUM, EMAIL, TIMESTAMP, CEFR, TEXT_LIST, NUMBER, SCORE, INTEGER, JSON)
}
"""Every field kind, by name."""
