"""The one CSV reader: open an export file, decide how to read it, and stream its records as text.

It copes with what real exports look like: UTF-8 with or without BOM, UTF-16 with BOM,
Windows-1252 (decided from the whole file, not guessed), comma, semicolon or tab delimiters
(sniffed), quoted fields holding delimiters, quotes and line breaks, CRLF or LF, blank lines,
headers spelled in many ways (see `connectors.mapping`), extra columns and missing optional ones.
Only a file that cannot be read at all raises (`CsvFileError`). Values stay text here: the loader
checks every record against its contract in bulk (in SQL), so no row is validated one by one.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

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


@dataclass(frozen=True)
class ColumnPlan:
    """Where each canonical field and each extra column sits in an export's rows."""

    headers: list[str]
    fields: dict[str, int]  # canonical field -> column index
    extras: list[tuple[int, str]]  # column index, header of a column the mapping does not know
    constants: dict[str, str]  # canonical field -> value, for fields the export does not carry


def plan_columns(header: list[str], spec: EntitySpec, name: str) -> ColumnPlan:
    """Match an export's header to `spec`'s fields; `CsvFileError` names any required one missing."""
    headers = _unique_headers(header)
    mapping = spec.mapping
    chosen: dict[str, int] = {}
    for index, column in enumerate(headers):
        field = mapping.canonical_field(column)
        if field is None:
            continue
        # Two columns for one field: the one spelled like the field itself wins, else the first.
        if field not in chosen or (
            normalise_header(column) == normalise_header(field)
            and normalise_header(headers[chosen[field]]) != normalise_header(field)
        ):
            chosen[field] = index
    constants = {field: value for field, value in mapping.constants.items() if field not in chosen}
    missing = _missing_required(spec, chosen.keys() | constants.keys())
    if missing:
        raise CsvFileError(
            f"{name}: required column(s) {', '.join(missing)} not found;"
            f" headers found: {', '.join(repr(column) for column in headers)}"
        )
    used = set(chosen.values())
    return ColumnPlan(
        headers=headers,
        fields=chosen,
        extras=[(index, column) for index, column in enumerate(headers) if index not in used],
        constants=constants,
    )


def missing_required_fields(header: list[str], spec: EntitySpec) -> list[str]:
    """The required fields of `spec` that no column of `header` (nor a mapping constant) provides, so
    `plan_columns` would refuse the header; for callers that word the refusal their own way."""
    mapping = spec.mapping
    present = {mapping.canonical_field(column) for column in _unique_headers(header)}
    return _missing_required(spec, present | mapping.constants.keys())


def _missing_required(spec: EntitySpec, present: Collection[str | None]) -> list[str]:
    required = [field for field, info in spec.record.model_fields.items() if info.is_required()]
    return [field for field in required if field not in present]


@dataclass(frozen=True)
class CsvExport:
    """An export file opened for loading: its encoding, delimiter and column plan.

    `records()` streams its data records (blank lines skipped) as lists of text, each as wide as
    the header (short rows padded with None) plus the surplus values of an over-long row. When
    `copyable`, PostgreSQL can parse the very same bytes itself (`body()`, after the header line).
    """

    path: Path
    encoding: str
    delimiter: str
    plan: ColumnPlan
    copyable: bool  # the header is the first physical line, and the encoding is one PostgreSQL reads
    body_offset: int  # bytes before the data (a byte order mark)

    @property
    def name(self) -> str:
        return self.path.name

    def records(self) -> Iterator[tuple[list[str | None], dict[str, str]]]:
        """Each data record as (values by header position, surplus values by `column_<n>`)."""
        width = len(self.plan.headers)
        with self.path.open("rb") as binary:
            text = io.TextIOWrapper(binary, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                next(record for record in reader if any(record))  # the header
                for record in reader:
                    if not any(record):
                        continue  # blank line (or only empty cells): not a record
                    length = len(record)
                    if length == width:
                        yield record, {}  # type: ignore[misc]  # list[str] is a list[str | None] here
                    elif length < width:
                        yield [*record, *([None] * (width - length))], {}
                    else:
                        # Trailing empty cells (spreadsheets add them) are not extra values.
                        surplus = {f"column_{i + 1}": record[i] for i in range(width, length) if record[i]}
                        yield record[:width], surplus  # type: ignore[misc]
            except UnicodeDecodeError as error:
                raise CsvFileError(f"{self.name}: cannot be decoded as {self.encoding} ({error})") from None
            except csv.Error as error:
                raise CsvFileError(f"{self.name}: unreadable CSV near line {reader.line_num} ({error})") from None

    def body(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The file's bytes from the header line on (no byte order mark), in chunks."""
        with self.path.open("rb") as binary:
            binary.seek(self.body_offset)
            while chunk := binary.read(chunk_size):
                yield chunk


def detect_file_encoding(path: Path) -> str:
    """The encoding of the whole file: a BOM decides; else UTF-8 if every byte decodes as UTF-8,
    else Windows-1252 (which decodes nearly anything, so it is the last resort)."""
    with path.open("rb") as binary:
        sample = binary.read(ENCODING_SAMPLE_BYTES)
        encoding = detect_encoding(sample, complete=len(sample) < ENCODING_SAMPLE_BYTES)
        if encoding != "utf-8":
            return encoding
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(sample)
            while chunk := binary.read(ENCODING_SAMPLE_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def open_export(path: Path, spec: EntitySpec, *, encoding: str | None = None) -> CsvExport:
    """Open `path` as an export of `spec`: detect its encoding (unless given), sniff its delimiter and
    plan its columns. Raises `CsvFileError` when it cannot be read as such at all."""
    encoding = encoding or detect_file_encoding(path)
    with path.open("rb") as binary:
        sample = binary.read(ENCODING_SAMPLE_BYTES)
    complete = len(sample) < ENCODING_SAMPLE_BYTES
    try:
        head = codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=complete)
    except UnicodeDecodeError as error:
        raise CsvFileError(f"{path.name}: cannot be decoded as {encoding} ({error})") from None
    delimiter = sniff_delimiter(
        head[:DELIMITER_SAMPLE_CHARS], complete=complete and len(head) <= DELIMITER_SAMPLE_CHARS
    )
    reader = csv.reader(io.StringIO(head), delimiter=delimiter)
    try:
        header = next((record for record in reader if any(record)), None)
    except csv.Error as error:
        raise CsvFileError(f"{path.name}: unreadable CSV header ({error})") from None
    if header is None:
        raise CsvFileError(f"{path.name}: no header row (the file is empty)")
    bom = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    return CsvExport(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        plan=plan_columns(header, spec, path.name),
        copyable=reader.line_num == 1 and encoding in ("utf-8", "utf-8-sig", "cp1252"),
        body_offset=bom,
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
