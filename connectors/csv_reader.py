"""The one CSV reader: stream an export file as validated records and rejected rows with reasons.

It copes with what real exports look like: UTF-8 with or without BOM, UTF-16 with BOM,
Windows-1252, comma, semicolon or tab delimiters, quoted fields holding delimiters, quotes and line
breaks, CRLF or LF, blank lines, headers spelled in many ways (see `connectors.mapping`), extra
columns and missing optional ones. Only a file that cannot be read at all raises (`CsvFileError`);
every bad row is yielded as a `RejectedRow` with all its reasons, never raised and never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from connectors.mapping import normalise_header

if TYPE_CHECKING:
    from connectors.registry import EntitySpec

# Enough to tell UTF-8 from Windows-1252 in practice, small enough to read up front.
ENCODING_SAMPLE_BYTES = 1 << 20
DELIMITER_SAMPLE_CHARS = 64 * 1024
DELIMITER_SAMPLE_RECORDS = 50
DELIMITERS = (",", ";", "\t")


class CsvFileError(ValueError):
    """The file as a whole cannot be read: undecodable, no header, or a required column missing."""


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    """A data record that validated; `extras` holds the columns the mapping does not know."""

    row_number: int
    record: BaseModel
    extras: dict[str, str]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A data record that did not validate, as read, with every reason (each naming its field)."""

    row_number: int
    raw: dict[str, str | None]
    reasons: list[str]


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """The encoding of a file starting with `sample` (`complete`: the sample is the whole file).

    A BOM decides; otherwise UTF-8 if the sample decodes as UTF-8, else Windows-1252.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Incremental, so a multibyte character cut at the end of the sample is not a decoding error.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def sniff_delimiter(sample: str, *, complete: bool) -> str:
    """The delimiter among `,` `;` and tab that splits the first records of `sample` most consistently.

    A delimiter scores by whether the header has more than one column, then by how many records
    have as many fields as the header, then by the header's width; ties go to the comma, which is
    also the answer for a single-column file.
    """
    best, best_score = DELIMITERS[0], (False, -1, 0)
    for delimiter in DELIMITERS:
        records: list[list[str]] = []
        try:
            for record in islice(csv.reader(io.StringIO(sample), delimiter=delimiter), DELIMITER_SAMPLE_RECORDS):
                if any(record):
                    records.append(record)
        except csv.Error:
            pass  # a quoted field cut at the end of the sample; the records before it still count
        if not complete and len(records) > 1:
            records.pop()  # may be cut short by the sample boundary
        if not records:
            continue
        width = len(records[0])
        score = (width > 1, sum(len(record) == width for record in records[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, spec: EntitySpec, *, timezone: ZoneInfo) -> Iterator[AcceptedRow | RejectedRow]:
    """Stream `path` as `spec` records: an `AcceptedRow` or a `RejectedRow` per data record, in order.

    Memory stays flat in the file size. Raises `CsvFileError` for file-level problems only.
    """
    with path.open("rb") as binary:
        sample = binary.read(ENCODING_SAMPLE_BYTES)
        complete = len(sample) < ENCODING_SAMPLE_BYTES
        encoding = detect_encoding(sample, complete=complete)
        try:
            head = codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=complete)
        except UnicodeDecodeError as error:
            raise CsvFileError(f"{path.name}: cannot be decoded as {encoding} ({error})") from None
        delimiter = sniff_delimiter(
            head[:DELIMITER_SAMPLE_CHARS], complete=complete and len(head) <= DELIMITER_SAMPLE_CHARS
        )
        del sample, head  # not needed while streaming: keep memory flat
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            yield from _read_records(reader, path, spec, timezone)
        except UnicodeDecodeError as error:
            raise CsvFileError(f"{path.name}: cannot be decoded as {encoding} ({error})") from None
        except csv.Error as error:
            raise CsvFileError(f"{path.name}: unreadable CSV near line {reader.line_num} ({error})") from None


@dataclass(frozen=True)
class _ColumnPlan:
    """Where each canonical field and each extra column sits in the file's rows."""

    headers: list[str]
    fields: list[tuple[int, str, dict[str, str] | None]]  # index, field, value normalisations
    extras: list[tuple[int, str]]


def _plan_columns(header: list[str], path: Path, spec: EntitySpec) -> _ColumnPlan:
    headers = _unique_headers(header)
    mapping = spec.mapping
    chosen: dict[str, int] = {}
    for index, name in enumerate(headers):
        field = mapping.canonical_field(name)
        if field is None:
            continue
        # Two columns for one field: the one spelled like the field itself wins, else the first.
        if field not in chosen or (
            normalise_header(name) == normalise_header(field)
            and normalise_header(headers[chosen[field]]) != normalise_header(field)
        ):
            chosen[field] = index
    required = [name for name, info in spec.record.model_fields.items() if info.is_required()]
    missing = [field for field in required if field not in chosen]
    if missing:
        raise CsvFileError(
            f"{path.name}: required column(s) {', '.join(missing)} not found;"
            f" headers found: {', '.join(repr(name) for name in headers)}"
        )
    used = set(chosen.values())
    return _ColumnPlan(
        headers=headers,
        fields=[(index, field, mapping.values.get(field)) for field, index in chosen.items()],
        extras=[(index, name) for index, name in enumerate(headers) if index not in used],
    )


def _unique_headers(header: list[str]) -> list[str]:
    """Header names trimmed, blanks named `column_<n>`, repeats suffixed ` (2)`, so none is lost."""
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{position}"
        candidate, copy = name, 1
        while candidate in seen:
            copy += 1
            candidate = f"{name} ({copy})"
        seen.add(candidate)
        names.append(candidate)
    return names


def _read_records(
    reader: Iterator[list[str]], path: Path, spec: EntitySpec, timezone: ZoneInfo
) -> Iterator[AcceptedRow | RejectedRow]:
    header = next((record for record in reader if any(record)), None)
    if header is None:
        raise CsvFileError(f"{path.name}: no header row (the file is empty)")
    plan = _plan_columns(header, path, spec)
    width = len(plan.headers)
    fields, extras = plan.fields, plan.extras
    validate = spec.record.model_validate
    context = {"timezone": timezone, "scales": spec.mapping.scales}
    row_number = 0
    for row in reader:
        if not any(row):
            continue  # blank line: not a record
        row_number += 1
        length = len(row)
        problems: list[str] = []
        # Trailing empty cells (spreadsheets add them) are not extra values.
        if length > width and any(row[width:]):
            problems.append(f"row has {length} values but the header has {width} columns")
        data: dict[str, str] = {}
        for index, field, values in fields:
            if index < length:
                value = row[index]
                # Empty or blank means absent: optional fields become None, required ones are reported.
                if value and not value.isspace():
                    data[field] = value if values is None else values.get(normalise_header(value), value)
        record: BaseModel | None = None
        try:
            record = validate(data, context=context)
        except ValidationError as error:
            problems.extend(_reasons(error))
        if record is None or problems:
            yield RejectedRow(row_number, _raw_record(plan.headers, row), problems)
        else:
            yield AcceptedRow(row_number, record, {name: row[i] if i < length else "" for i, name in extras})


def _raw_record(headers: list[str], row: list[str]) -> dict[str, str | None]:
    """The row as read, by header; absent trailing values are None, surplus ones `column_<n>`."""
    raw: dict[str, str | None] = {name: row[index] if index < len(row) else None for index, name in enumerate(headers)}
    for index in range(len(headers), len(row)):
        raw[f"column_{index + 1}"] = row[index]
    return raw


def _reasons(error: ValidationError) -> list[str]:
    """Each validation error as `<field>: <what is wrong>`, quoting the value as the source wrote it."""
    reasons = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"])
        message: str = detail["msg"]
        value = detail.get("input")
        if detail["type"] == "missing":
            message = "required, but empty"
        elif message.startswith("Input should be "):
            message = f"{value!r} should be {message.removeprefix('Input should be ')}"
        elif isinstance(value, str) and repr(value) not in message:
            message = f"{message} (value {value!r})"
        reasons.append(f"{field}: {message}" if field else message)
    return reasons
