"""The one CSV reader: open an export file, decide how to read it, and stream its records as text.

It copes with what real exports look like: UTF-8 with or without BOM, UTF-16 with BOM, the
Windows code pages of Western European (1252) and Cyrillic (1251) spreadsheets, comma, semicolon
or tab delimiters (sniffed), quoted fields holding delimiters, quotes and line breaks, CRLF or LF,
blank lines, headers spelled in many ways (see `connectors.mapping`), extra columns and missing
optional ones. Only a file that cannot be read at all raises (`CsvFileError`): binary, text in none
of those encodings, or text whose encoding is not clear. Values stay text here: the loader checks
every record against its contract in bulk (in SQL), so no row is validated one by one.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from charset_normalizer.md import mess_ratio

from connectors.mapping import normalise_header

if TYPE_CHECKING:
    from connectors.registry import EntitySpec

# How much is read at a time to decide the encoding, and up front to sniff the delimiter and header.
ENCODING_SAMPLE_BYTES = 1 << 20
DELIMITER_SAMPLE_CHARS = 64 * 1024
DELIMITER_SAMPLE_RECORDS = 50
DELIMITERS = (",", ";", "\t")

# A file without a byte order mark that is not UTF-8 throughout is in one of these code pages (the
# first is the answer when their readings do not differ). Each decodes nearly any byte, so which one
# is decided by how the file's words read in each, never by whether they decode.
CODE_PAGES = ("cp1252", "cp1251")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "cp1251": "Windows-1251",
}
# PostgreSQL's names for the encodings whose files its COPY parses as they are (UTF-16 it cannot).
POSTGRES_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1252": "WIN1252", "cp1251": "WIN1251"}

# The words that carry a non-ASCII byte (split at spaces and CSV punctuation), the only bytes on which
# the code pages differ. The first few thousand are plenty to tell them apart and bound the work on
# a file of a million rows; repeats count towards the bound, so one name on every row stops it early.
_NON_ASCII_WORD = re.compile(rb"[^\s,;\"'|]*[\x80-\xff][^\s,;\"'|]*")
_WORDS_DISTINCT = 2_000
_WORDS_SEEN = 20_000
# Each word is judged by charset-normalizer's mess detector in each code page (0: reads as plain text,
# 1 or more: gibberish). A reading below `_WORD_CLEAN` and `_WORD_MARGIN` cleaner than the other one
# is the word's vote; a word that reads as well (or as badly) in both has none. (Short words score
# high on accents alone, "på" is 0.5 in Windows-1252, and one Cyrillic letter in a long Latin word,
# "arbeidsmiljш", only 0.15: hence these bounds.) The file's code page needs `_MAJORITY` of the votes.
_WORD_CLEAN = 0.6
_WORD_MARGIN = 0.1
_MAJORITY = 0.9
# The detector ignores very short texts; a word is repeated up to this length (its ratios stay the
# same) so that a single "Bjørn" or "Олена" is judged too.
_JUDGED_CHARS = 64


class CsvFileError(ValueError):
    """The file as a whole cannot be read: binary, undecodable, of unclear encoding, no header, or a
    required column missing."""


class NotTextError(CsvFileError):
    """The file is binary, not a text export: it has NUL bytes and no UTF-16 byte order mark."""


def detect_encoding(sample: bytes, *, complete: bool, name: str = "the file") -> str:
    """The encoding of a file starting with `sample` (`complete`: the sample is the whole file).

    See `detect_file_encoding`; `CsvFileError` (`NotTextError` for binary) when it cannot be told.
    """
    return _decide_encoding(iter((sample,)), complete=complete, name=name)


def detect_file_encoding(path: Path) -> str:
    """Whether `path` is a readable text export, and in which encoding: the one rule for the landing
    folder and uploads.

    A byte order mark decides (UTF-8 or UTF-16). Otherwise NUL bytes make it binary (`NotTextError`);
    a file that is UTF-8 throughout is UTF-8; any other is read in the code page of `CODE_PAGES` in
    which its non-ASCII words read as text (charset-normalizer's mess detector, word by word), and
    refused (`CsvFileError`) when its words read no better in one than the other, or disagree. The
    file is streamed once, in chunks, and the words are a bounded sample.
    """
    with path.open("rb") as binary:
        chunks = iter(lambda: binary.read(ENCODING_SAMPLE_BYTES), b"")
        return _decide_encoding(chunks, complete=True, name=path.name)


def _decide_encoding(chunks: Iterator[bytes], *, complete: bool, name: str) -> str:
    first = next(chunks, b"")
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Incremental, so a multibyte character cut between two chunks is not a decoding error.
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    words = _NonAsciiWords()
    chunk = first
    while chunk:
        if b"\0" in chunk:
            # No text export has NUL bytes unless it is UTF-16 (which has a byte order mark).
            raise NotTextError(f"{name}: binary, not a CSV text file (NUL bytes and no UTF-16 byte order mark)")
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
        words.add(chunk)
        if not is_utf8 and words.full:
            break  # enough to choose a code page; a byte it cannot read fails the read when reached
        chunk = next(chunks, b"")
    if is_utf8:
        try:
            utf8.decode(b"", final=complete)
            return "utf-8"
        except UnicodeDecodeError:
            pass  # the file ends inside a multibyte character: not UTF-8 after all
    return _choose_code_page(words.words, name)


class _NonAsciiWords:
    """The distinct words of a file that hold a non-ASCII byte, gathered chunk by chunk up to a bound."""

    def __init__(self) -> None:
        self.words: dict[bytes, None] = {}  # a dict keeps the order they were found in
        self.seen = 0

    @property
    def full(self) -> bool:
        return len(self.words) >= _WORDS_DISTINCT or self.seen >= _WORDS_SEEN

    def add(self, chunk: bytes) -> None:
        if self.full or chunk.isascii():  # isascii() runs at memory speed: most chunks stop here
            return
        for line in chunk.split(b"\n"):
            if line.isascii():
                continue
            for word in _NON_ASCII_WORD.findall(line):
                self.words[word] = None
                self.seen += 1
                if self.full:
                    return


def _choose_code_page(words: Iterable[bytes], name: str) -> str:
    """The code page of `CODE_PAGES` in which `words` read as text; `CsvFileError` when it is not clear."""
    words = list(words)
    readable = [page for page in CODE_PAGES if all(_decodes(word, page) for word in words)]
    if not readable:
        raise CsvFileError(
            f"{name}: cannot be decoded as UTF-8, {' or '.join(ENCODING_NAMES[page] for page in CODE_PAGES)}"
            " (bytes that are no text in any of them); save the export as UTF-8"
        )
    telling = [word for word in words if _tells_code_pages_apart(word)]
    if not telling:
        return readable[0]  # every reading is the same text (’ – … « »), or only one decodes at all
    votes: dict[str, list[bytes]] = {page: [] for page in CODE_PAGES}
    undecided: list[bytes] = []
    for word in telling:
        page = _word_vote(word)
        (votes[page] if page else undecided).append(word)
    ranked = sorted(CODE_PAGES, key=lambda page: len(votes[page]), reverse=True)
    cast = sum(len(voters) for voters in votes.values())
    if cast and len(votes[ranked[0]]) >= _MAJORITY * cast:
        chosen = ranked[0]
        if chosen not in readable:
            # Its words say which code page, but a byte elsewhere is none of its characters.
            stray = next(word for word in words if not _decodes(word, chosen))
            raise CsvFileError(
                f"{name}: reads as {ENCODING_NAMES[chosen]}, but cannot be decoded as it ({stray!r} is no text"
                " in it); save the export as UTF-8"
            )
        return chosen
    if cast:
        # Some words read as one code page, others as the other: two exports in one file, perhaps.
        readings = " and others as ".join(
            f"{ENCODING_NAMES[page]} ({votes[page][0].decode(page)!r})" for page in ranked if votes[page]
        )
        problem = f"the encoding is not clear: some of its words read as {readings}"
    else:
        names = [ENCODING_NAMES[page] for page in readable]
        problem = (
            f"the encoding is not clear: its words read no better in {' than in '.join(names)}"
            f" (e.g. {_readings(undecided[0], readable)})"
        )
    raise CsvFileError(f"{name}: {problem}; save the export as UTF-8")


def _word_vote(word: bytes) -> str | None:
    """The code page of `CODE_PAGES` in which `word` clearly reads as a word, if one does."""
    mess = {}
    for page in CODE_PAGES:
        try:
            reading = word.decode(page)
        except UnicodeDecodeError:
            mess[page] = math.inf
            continue
        judged = " ".join([reading] * -(-_JUDGED_CHARS // (len(reading) + 1)))
        mess[page] = mess_ratio(judged, maximum_threshold=1.0)
    best, *others = sorted(CODE_PAGES, key=lambda page: mess[page])
    if mess[best] < _WORD_CLEAN and all(mess[other] >= mess[best] + _WORD_MARGIN for other in others):
        return best
    return None


def _readings(word: bytes, pages: list[str]) -> str:
    return ", ".join(f"{ENCODING_NAMES[page]} {word.decode(page)!r}" for page in pages)


def _decodes(word: bytes, page: str) -> bool:
    try:
        word.decode(page)
    except UnicodeDecodeError:
        return False
    return True


def _tells_code_pages_apart(word: bytes) -> bool:
    """Whether `word` reads differently in the code pages, as a word: not when it reads the same
    (’ – « » are at the same bytes in both), nor when it is a symbol in Windows-1252 (€, ™, the ¹ of
    a Cyrillic №), which says nothing about the language of the file."""
    readings = {page: word.decode(page, errors="replace") for page in CODE_PAGES}
    if len(set(readings.values())) == 1:
        return False
    # (A byte Windows-1252 cannot read, U+FFFD here, is a letter in Windows-1251: that tells too.)
    return any(
        character.isalpha() or character == "\ufffd" for character in readings["cp1252"] if not character.isascii()
    )


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
        copyable=reader.line_num == 1 and encoding in POSTGRES_ENCODINGS,
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
