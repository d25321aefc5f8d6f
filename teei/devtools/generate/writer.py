"""Writing one export file row by row in its style, counting what a correct load of it gives.

A `Style` is everything about how a file looks (columns and headers, encoding, delimiter, line
ends, timestamp reading, extra columns); an `EntityExport` is an entity's clean style, the style of
each of its messy files, its faults and its revisions; the `ExportWriter` writes rows and, in a
messy file, mixes in bad rows, repeats, revisions and blank lines. Values are written by the kind
of their field (`contracts.fields.field_rules`) and enum values in the spellings of the connector's
mapping (`EntityMapping.spellings`), so a spelling or a field added there is generated too.
"""

from __future__ import annotations

import csv
import json
import operator
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from connectors.registry import EntitySpec
from contracts.field_kinds import Kind
from contracts.fields import field_rules
from teei.devtools.generate.faults import Fault, Raw, Record
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.timestamps import ISO_Z, MIXED, READINGS, TIMESTAMP_WRITERS

# How often a messy file gets, after a row, a bad row, an exact repeat, or a later revision of a row.
BAD_ROW_RATE = 0.012
DUPLICATE_RATE = 0.006
REVISION_RATE = 0.005
BLANK_LINE_RATE = 0.05
SCRUFFY_EMAIL_RATE = 0.1
# Rows kept to be repeated or revised later.
RECENT_ROWS = 64


@dataclass(frozen=True)
class Style:
    """How one export file is written."""

    columns: tuple[tuple[str, str], ...]
    """(canonical field, header) in column order; an optional field left out is a missing column."""
    encoding: str = "utf-8"  # or "utf-8-sig" (with BOM) or "cp1252"
    delimiter: str = ","
    line_end: str = "\n"
    reading: str = ISO_Z
    extras: Mapping[str, Callable[[Record, Dice], str]] = field(default_factory=dict)
    """Columns no mapping knows (their values land in `metadata`): header -> the value of a record."""
    blank_lines: bool = False
    unit_scale: bool = False
    """Ratings written on 0..1 rather than 1..5."""
    decimal_comma: bool = False


def columns(fields: Sequence[str], headers: str | Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`fields` paired with `headers` (a sequence, or comma-separated)."""
    names = list(fields)
    titles = [title.strip() for title in headers.split(",")] if isinstance(headers, str) else list(headers)
    if len(names) != len(titles):
        raise ValueError(f"{len(names)} fields but {len(titles)} headers")
    return tuple(zip(names, titles, strict=True))


def camel_case(fields: Sequence[str]) -> list[str]:
    """`fields` as camelCase headers (`session_id` -> `sessionId`)."""
    return [name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:]) for name in fields]


def record_fields(spec: EntitySpec, *, without: Sequence[str] = ()) -> tuple[str, ...]:
    """The fields of `spec`'s record an export carries, in record order: all but the mapping's
    constants (a provider's own file never names the provider) and `without` (columns left out)."""
    left_out = {*spec.mapping.constants, *without}
    return tuple(name for name in spec.record.model_fields if name not in left_out)


def choices(spec: EntitySpec, name: str) -> tuple[str, ...]:
    """The values an enum field of `spec`'s record may hold, in the record's order."""
    return next(rule.choices for rule in field_rules(spec.record) if rule.name == name)


def cohort(name: str) -> Callable[[Record, Dice], str]:
    """An extra column's value: the half-year of the record's timestamp `name` (`2026 autumn`)."""

    def value(record: Record, dice: Dice) -> str:
        moment = record[name]
        if not isinstance(moment, datetime):
            return ""
        return f"{moment.year} {'spring' if moment.month < 7 else 'autumn'}"

    return value


def carried_name(record: Record, dice: Dice) -> str:
    """An extra column's value: the person's name the record carries (`_name`, not a field of it)."""
    return str(record.get("_name", ""))


@dataclass(frozen=True)
class EntityExport:
    """How the generator writes one entity's files: its clean style, the style of each messy file
    (by landing-relative path), the ways its bad rows are broken, and how a later row revises one."""

    spec: EntitySpec
    clean: Style
    messy: Mapping[str, Style]
    faults: tuple[Fault, ...]
    revise: Callable[[Record], Record]


class FileCounts(BaseModel):
    """What loading one generated file into an empty database (after the files before it) gives."""

    source: str
    entity: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0


class ExportWriter:
    """One export file being written row by row, counting what a correct load of it gives.

    With `mess` (the messy mode's dice) it also, at random and at least once per file, writes bad
    rows (one `Fault` each), exact repeats of recent rows and later revisions of recent rows (the
    earlier row is then quarantined, the later loaded), and blank lines if the style has them.
    """

    def __init__(
        self,
        out: Path,
        relative: str,
        spec: EntitySpec,
        style: Style,
        *,
        faults: Sequence[Fault] = (),
        revise: Callable[[Record], Record] | None = None,
        mess: Dice | None = None,
    ) -> None:
        self.relative, self.spec, self.style, self.mess = relative, spec, style, mess
        self.counts = FileCounts(source=spec.source, entity=spec.entity)
        self.fresh: Callable[[Dice], Record] | None = None
        """Makes a new valid record to break into a bad row (set by the entity's generator)."""
        self._fields = [name for name, _ in style.columns]
        kinds = {rule.name: rule.kind for rule in field_rules(spec.record)}
        self._renderers = [self._renderer(name, kinds[name]) for name in self._fields]
        # One C call per row for all the values (itemgetter of one field would return it bare).
        self._values = operator.itemgetter(*self._fields, *self._fields[:1])
        self._write_time = None if style.reading == MIXED else TIMESTAMP_WRITERS[style.reading]
        self._scaled = set(spec.mapping.scales)
        self._faults = [
            fault
            for fault in faults
            if fault.field in self._fields and not (style.unit_scale and fault.field in self._scaled)
        ]
        self._revise = revise
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
        if self._revise is None:
            raise AssertionError(f"{self.relative}: a messy file needs a way to revise its rows")
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
            cells.extend(value(record, self.mess) for value in self.style.extras.values())
        return cells

    def _renderer(self, name: str, kind: Kind) -> Callable[[Any], str] | None:
        """How `name`'s values are written in this file; None for timestamps (in the row's reading)."""
        mess, style = self.mess, self.style
        # The mapping's spellings of each value, the export's usual one first (see connectors.mapping).
        spellings = self.spec.mapping.spellings.get(name)
        if spellings is not None:
            if mess is None:
                return lambda value: spellings[value][0]
            return lambda value: mess.pick(spellings[value]) if mess.chance(0.5) else spellings[value][0]
        if kind == Kind.TIMESTAMP:
            return None
        if kind == Kind.EMAIL and mess is not None:
            return lambda value: scruffy_email(value, mess) if mess.chance(SCRUFFY_EMAIL_RATE) else value
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


def scruffy_email(email: str, dice: Dice) -> str:
    """The address as people type it: capitals and stray spaces (valid once trimmed and lower-cased)."""
    local, domain = email.split("@")
    shapes = (
        f"{'.'.join(part.title() for part in local.split('.'))}@{domain.title()}",
        f" {email} ",
        email.upper(),
        f"{local.title()}@{domain} ",
    )
    return dice.pick(shapes)
