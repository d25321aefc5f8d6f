"""The field types of source records, built from the rule table, and the one reading of a record's rules.

Each type is an `Annotated` whose before-validator and marker are one `FieldKind` of
`contracts.field_kinds`, the table where each kind's pattern, Python reading and SQL reading are
defined side by side. The records made of these types (`contracts.kintell`, `contracts.buddy`, ...)
validate API bodies and webhooks, and are the oracle the loader's set-based SQL is tested against:
the loader itself compiles the same table into SQL (`teei.ingest.record_checks`) and never
validates a row in Python.

`field_rules(record)` reads a record's fields into `FieldRule`s (kind, required, enum choices,
bounds), walking nested `Annotated`, `Optional` and unions; the loader's checks, the generator and
the generated docs all read a record through it.

Errors are `PydanticCustomError`s whose message quotes the offending value, so a rejected row's
reason reads on its own: `'31.02.2026 10:00' is not a valid date/time`.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from contracts.field_kinds import (
    CEFR,
    EMAIL,
    ENUM,
    INTEGER,
    JSON,
    NUMBER,
    SCORE,
    TEXT,
    TEXT_LIST,
    TIMESTAMP,
    FieldKind,
    Kind,
)

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), TEXT]
"""Text that must hold more than whitespace; trimmed."""

Text = Annotated[str, TEXT]
"""Free text, trimmed (records strip whitespace); blank means absent."""

UtcTimestamp = Annotated[datetime, BeforeValidator(TIMESTAMP.validate), TIMESTAMP]
"""A timestamp read from ISO 8601, `dd.mm.yyyy HH:MM[:SS]` or a date; naive ones in the context timezone."""

Email = Annotated[str, BeforeValidator(EMAIL.validate), EMAIL]
"""An email address, trimmed and lower-cased."""

CefrLevel = Annotated[str, BeforeValidator(CEFR.validate), CEFR]
"""A CEFR language level, A1 to C2, stored upper-case."""

# The validator sits outside the `| None` so that a value with no items becomes None.
TextList = Annotated[list[str] | None, BeforeValidator(TEXT_LIST.validate), TEXT_LIST]
"""A list from a `;`, `|` or `,` separated source value; items trimmed, empty items dropped, None if none."""

Rating = Annotated[float, BeforeValidator(SCORE.validate), SCORE]
"""A rating on its source scale (`context["scales"]`, default 1 to 5), stored in 0..1."""

Percent = Annotated[float, BeforeValidator(NUMBER.validate), Field(ge=0, le=100), NUMBER]
"""A number from 0 to 100 (progress, final scores); a decimal comma is accepted."""

JsonDocument = Annotated[dict[str, Any] | list[Any], BeforeValidator(JSON.validate), JSON]
"""A JSON object or array, given as JSON text in a CSV cell."""

WholeNumber = Annotated[int, BeforeValidator(INTEGER.validate), INTEGER]
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


@dataclass(frozen=True)
class FieldRule:
    """What one record field requires, read from its annotation."""

    name: str
    field_kind: FieldKind
    required: bool
    choices: tuple[str, ...] = ()  # of an enum (a `Literal`)
    low: float | None = None  # `ge` / `le` bounds
    high: float | None = None

    @property
    def kind(self) -> Kind:
        """The name of the field's kind."""
        return self.field_kind.kind


def field_rules(record: type[BaseModel]) -> list[FieldRule]:
    """The rules of every field of `record`, in field order.

    Raises TypeError for a field with neither a `FieldKind` nor a `Literal`: nothing could check it.
    """
    rules = []
    for name, info in record.model_fields.items():
        kinds: list[FieldKind] = []
        choices: list[str] = []
        bounds: dict[str, float] = {}
        for item in [*info.metadata, *_annotation_parts(info.annotation)]:
            if isinstance(item, FieldKind):
                kinds.append(item)
            elif isinstance(item, annotated_types.Ge):
                bounds["low"] = float(item.ge)  # type: ignore[arg-type]
            elif isinstance(item, annotated_types.Le):
                bounds["high"] = float(item.le)  # type: ignore[arg-type]
            elif isinstance(item, tuple):
                choices.extend(item)
        if choices:
            rules.append(FieldRule(name, ENUM, info.is_required(), tuple(choices)))
        elif kinds:
            rules.append(FieldRule(name, kinds[0], info.is_required(), (), bounds.get("low"), bounds.get("high")))
        else:
            raise TypeError(f"{record.__name__}.{name}: no FieldKind or Literal; the loader cannot check it")
    return rules


def _annotation_parts(annotation: Any) -> list[Any]:
    """Metadata of every nested `Annotated`, and `Literal` choices (as one tuple), inside `annotation`."""
    parts: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for item in annotation.__metadata__:
            # `Field(ge=..., le=...)` inside an Annotated keeps its constraints in its own metadata.
            parts.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        parts.extend(_annotation_parts(annotation.__origin__))
    elif origin is Literal:
        parts.append(tuple(str(choice) for choice in typing.get_args(annotation)))
    elif origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            parts.extend(_annotation_parts(member))
    return parts
