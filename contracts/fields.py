"""Reusable field types for source records: timestamps, emails, scaled scores, CEFR levels, lists.

Each is an `Annotated` type whose validator turns one source value into its canonical form. What a
value means can depend on the validation context that the CSV reader (or a webhook) passes:
- `context["timezone"]`: a `tzinfo` for naive timestamps (UTC when absent);
- `context["scales"]`: `{field name: (low, high)}`, the source scale of each scaled score.

Errors are `PydanticCustomError`s whose message quotes the offending value, so a rejected row's
reason reads on its own: `'31.02.2026 10:00' is not a valid date/time`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

# Every reading of a date/time this platform accepts, as a regular expression both Python and
# PostgreSQL run (the loader's SQL uses it too): ISO 8601 extended format (a date, or a date and a
# time with an optional fraction and an optional `Z` or offset up to ±15:59, PostgreSQL's limit)
# or `dd.mm.yyyy [HH:MM[:SS]]` (spaces or one `T` between). ASCII digits only.
TIMESTAMP_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}(( +| *T *)([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?)$"
)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
# A decimal number (after a decimal comma became a point), as Python and PostgreSQL both read it.
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
_NUMBER = re.compile(NUMBER_PATTERN)
# A whole number, also as a spreadsheet writes it with a zero fraction (`90.0`).
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.0+)?")
# `dd.mm.yyyy`, optionally followed by `HH:MM` or `HH:MM:SS` (European spreadsheet exports).
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
# One @, no whitespace, at least one dot inside the domain.
_EMAIL = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+")
_LIST_SEPARATORS = re.compile(r"[;|,]")
CEFR_LEVELS = frozenset({"A1", "A2", "B1", "B2", "C1", "C2"})


class Kind(StrEnum):
    """What a field holds, so a bulk validator (the loader's SQL) can apply the same rule as pydantic."""

    TEXT = "text"
    EMAIL = "email"
    TIMESTAMP = "timestamp"
    CEFR = "cefr"
    TEXT_LIST = "text_list"
    SCORE = "score"
    NUMBER = "number"
    INTEGER = "integer"
    JSON = "json"


@dataclass(frozen=True)
class FieldKind:
    """Marker in a field's `Annotated` metadata naming its `Kind` (pydantic ignores it)."""

    kind: Kind


def _context(info: ValidationInfo) -> dict[str, Any]:
    context = info.context
    return context if isinstance(context, dict) else {}


def parse_timestamp(text: str, timezone: tzinfo) -> datetime | None:
    """`text` as a UTC datetime, or None when it is no date/time this platform reads.

    ISO 8601 with an offset or `Z` keeps its offset; naive ISO, `dd.mm.yyyy HH:MM[:SS]` and plain
    dates (midnight) are wall-clock times in `timezone`. A naive time that a DST switch skips or
    repeats is read in standard time, as PostgreSQL reads it (the loader validates in SQL).
    """
    text = text.strip()
    # Only the readings of TIMESTAMP_PATTERN: `datetime.fromisoformat` alone reads many more (week
    # dates, basic format, hour-only times, other separators) that the loader's SQL refuses.
    if _TIMESTAMP.fullmatch(text) is None:
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


def _to_utc_timestamp(value: Any, info: ValidationInfo) -> Any:
    timezone = _context(info).get("timezone") or UTC
    if isinstance(value, str):
        moment = parse_timestamp(value, timezone)
        if moment is None:
            raise PydanticCustomError("timestamp", "{value} is not a valid date/time", {"value": repr(value)})
        return moment
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone).astimezone(UTC)
    return value  # anything else: pydantic's own datetime validation reports it


def _to_email(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    email = value.strip().lower()
    if _EMAIL.fullmatch(email) is None:
        raise PydanticCustomError("email", "{value} is not a valid email address", {"value": repr(value)})
    return email


def _to_cefr_level(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    level = value.strip().upper()
    if level not in CEFR_LEVELS:
        raise PydanticCustomError(
            "cefr_level", "{value} is not a CEFR level (A1, A2, B1, B2, C1 or C2)", {"value": repr(value)}
        )
    return level


def _to_text_list(value: Any) -> Any:
    if isinstance(value, str):
        value = _LIST_SEPARATORS.split(value)
    if isinstance(value, list | tuple):
        items = [item.strip() for item in value if isinstance(item, str)]
        return [item for item in items if item] or None
    return value


def _decimal(value: str, kind: str) -> Decimal:
    """`value` as a decimal number (a decimal comma accepted); not `float()`'s wider syntax
    (exponents, `inf`, `nan`, `1_000`, non-ASCII digits), which the loader's SQL refuses."""
    text = value.strip().replace(",", ".")
    if _NUMBER.fullmatch(text) is None:
        raise PydanticCustomError(kind, "{value} is not a number", {"value": repr(value)})
    return Decimal(text)


def _to_number(value: Any) -> Any:
    if isinstance(value, str):
        return float(_decimal(value, "number"))
    return value


def _to_whole_number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if _WHOLE_NUMBER.fullmatch(text) is None:
            # pydantic's own message; its own parsing would also take `1_000`, which the loader's SQL refuses
            raise PydanticCustomError(
                "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
            )
        return int(text.partition(".")[0])
    return value


def _to_json_document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise PydanticCustomError("json", "{value} is not valid JSON", {"value": repr(value)}) from None
    return value


def unit_scaled(default_scale: tuple[float, float]) -> Any:
    """A score on a source scale, stored in 0..1 as `(v - low) / (high - low)` rounded to 4 decimals.

    The scale is `context["scales"][field name]`, else `default_scale`; values outside it are
    rejected. A decimal comma (`4,5`) is accepted, as spreadsheets in Norway write it. Computed in
    decimal, rounding half away from zero, as PostgreSQL's numeric does (the loader's SQL).
    """

    def to_unit(value: Any, info: ValidationInfo) -> Any:
        number: Decimal | None
        if isinstance(value, str):
            number = _decimal(value, "score")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = Decimal(str(value)) if math.isfinite(value) else None
        else:
            return value
        scales = _context(info).get("scales") or {}
        low, high = scales.get(info.field_name, default_scale)
        bottom, top = Decimal(str(float(low))), Decimal(str(float(high)))
        if number is None or not (bottom <= number <= top):
            raise PydanticCustomError(
                "score_scale",
                "{value} is outside the scale {low} to {high}",
                {"value": repr(value), "low": f"{low:g}", "high": f"{high:g}"},
            )
        return float(((number - bottom) / (top - bottom)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))

    return Annotated[float, BeforeValidator(to_unit), FieldKind(Kind.SCORE)]


NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), FieldKind(Kind.TEXT)]
"""Text that must hold more than whitespace; trimmed."""

Text = Annotated[str, FieldKind(Kind.TEXT)]
"""Free text, trimmed (records strip whitespace); blank means absent."""

UtcTimestamp = Annotated[datetime, BeforeValidator(_to_utc_timestamp), FieldKind(Kind.TIMESTAMP)]
"""A timestamp read from ISO 8601, `dd.mm.yyyy HH:MM[:SS]` or a date; naive ones in the context timezone."""

Email = Annotated[str, BeforeValidator(_to_email), FieldKind(Kind.EMAIL)]
"""An email address, trimmed and lower-cased."""

CefrLevel = Annotated[str, BeforeValidator(_to_cefr_level), FieldKind(Kind.CEFR)]
"""A CEFR language level, A1 to C2, stored upper-case."""

# The validator sits outside the `| None` so that a value with no items becomes None.
TextList = Annotated[list[str] | None, BeforeValidator(_to_text_list), FieldKind(Kind.TEXT_LIST)]
"""A list from a `;`, `|` or `,` separated source value; items trimmed, empty items dropped, None if none."""

Rating = unit_scaled((1.0, 5.0))
"""A rating on its source scale (default 1 to 5), stored in 0..1."""

Percent = Annotated[float, BeforeValidator(_to_number), Field(ge=0, le=100), FieldKind(Kind.NUMBER)]
"""A number from 0 to 100 (progress, final scores); a decimal comma is accepted."""

JsonDocument = Annotated[dict[str, Any] | list[Any], BeforeValidator(_to_json_document), FieldKind(Kind.JSON)]
"""A JSON object or array, given as JSON text in a CSV cell."""


WholeNumber = Annotated[int, BeforeValidator(_to_whole_number), FieldKind(Kind.INTEGER)]
"""A whole number (`90.0` too, as spreadsheets write it); bound it where used:
`Annotated[WholeNumber, Field(ge=1, le=480)]`."""


class SourceRecord(BaseModel):
    """Base of every source record: immutable, text trimmed, and the rules a bulk loader reads.

    - `identity_fields`: email fields that identify people (the loader stores a pseudonymous user id);
    - `chronology`: `(earlier, later)` timestamp pairs that must not run backwards.
    """

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    identity_fields: ClassVar[tuple[str, ...]] = ()
    chronology: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _in_chronological_order(self) -> SourceRecord:
        for earlier, later in self.chronology:
            first, second = getattr(self, earlier), getattr(self, later)
            if first is not None and second is not None and second < first:
                raise PydanticCustomError(
                    "chronology",
                    "{later} ({second}) is before {earlier} ({first})",
                    {"later": later, "earlier": earlier, "second": second.isoformat(), "first": first.isoformat()},
                )
        return self
