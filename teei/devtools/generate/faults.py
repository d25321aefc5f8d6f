"""What a generated row is, and how a messy file breaks or revises one.

Each source lists its own bad rows (`Fault`s) and revisions beside its generator; this module
holds what they are made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

Record = dict[str, Any]
"""A generated record: canonical field -> Python value (or `Raw` text); `_name` is no field (an extra column)."""


class Raw(str):
    """A value written exactly as it is (a deliberately broken one), bypassing every rendering."""

    __slots__ = ()


@dataclass(frozen=True)
class Fault:
    """One way a bad row is broken: exactly one fault per bad row."""

    kind: str
    field: str
    value: str | None = None  # the raw value written in `field`
    before: str | None = None  # or: `field` set three days before this timestamp field

    def apply(self, record: Record) -> Record:
        """`record` broken this way."""
        broken = dict(record)
        if self.before is not None:
            broken[self.field] = broken[self.before] - timedelta(days=3)
        else:
            broken[self.field] = Raw(self.value or "")
        return broken


def empty(field: str) -> Fault:
    """A required field left empty."""
    return Fault("required field empty", field, "")


BAD_DATE = "31.02.2026 10:00"
"""A date that does not exist, in a reading that is otherwise fine."""


def other(value: int, low: int, high: int) -> int:
    """A different value in low..high, next to `value` (a revised rating, mood, ...)."""
    return value - 1 if value > low else value + 1 if value < high else low
