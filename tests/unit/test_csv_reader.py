"""The CSV tokenizer: encodings, delimiters, quoting, blank lines, header planning and raw records.

Values stay text here; what they mean (and which rows are rejected) is the loader's business
(tests/integration/test_loader_rules.py).
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest

from connectors.csv_reader import (
    ENCODING_SAMPLE_BYTES,
    CsvExport,
    CsvFileError,
    NotTextError,
    detect_encoding,
    detect_file_encoding,
    open_export,
    sniff_delimiter,
)
from connectors.mapping import EntityMapping
from connectors.registry import KINTELL_SESSIONS, UPSKILLING_ECORNELL, EntitySpec
from contracts.fields import NonEmptyText, SourceRecord

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kintell" / "sessions_small.csv"
HEADER = "Session ID,Session Type,Participant Email,Volunteer Email,Completed At,Feedback"
GOOD = "KS-1,Language Connect,olena@example.org,ingrid@acme.example,2026-10-05 10:00,Good"
GOOD_VALUES = GOOD.split(",")

Record = tuple[list[str | None], dict[str, str]]


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / "sessions.csv"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def export_of(path: Path, spec: EntitySpec = KINTELL_SESSIONS) -> CsvExport:
    return open_export(path, spec)


def records(path: Path, spec: EntitySpec = KINTELL_SESSIONS) -> list[Record]:
    return list(export_of(path, spec).records())


def values(path: Path, spec: EntitySpec = KINTELL_SESSIONS) -> list[list[str | None]]:
    rows = records(path, spec)
    assert all(surplus == {} for _, surplus in rows), rows
    return [row for row, _ in rows]


# --- the fixture ---------------------------------------------------------------------------------


def test_the_small_fixture_is_tokenized_with_its_own_header_spellings() -> None:
    export = export_of(FIXTURE)

    assert (export.encoding, export.delimiter, export.copyable, export.body_offset) == ("utf-8", ";", True, 0)
    assert export.plan.fields == {
        "session_id": 0,
        "session_type": 1,
        "participant_email": 2,
        "volunteer_email": 3,
        "scheduled_at": 4,
        "started_at": 5,
        "completed_at": 6,
        "duration_minutes": 7,
        "rating": 8,
        "feedback_text": 9,
        "language_level": 10,
        "topics": 11,
    }
    assert export.plan.extras == [(12, "Region")]
    assert export.plan.constants == {}
    rows = values(FIXTURE)
    assert len(rows) == 8  # the blank line is no record
    assert rows[0][9] == 'Very helpful; we practised a "job interview"'
    assert rows[1][2] == "  Taras.Shevchenko@Example.ORG "  # untouched: trimming is the loader's
    assert rows[1][9] == "Дякую, було дуже корисно"
    assert rows[5][0] == "KS-1006"
    assert rows[-1] == rows[0]


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "complete", "encoding"),
    [
        (codecs.BOM_UTF8 + b"a,b\n", True, "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), True, "utf-16"),
        (codecs.BOM_UTF16_BE + "a,b\n".encode("utf-16-be"), True, "utf-16"),
        ("a,Bjørn\n".encode(), True, "utf-8"),
        ("a,Bjørn\n".encode("cp1252"), True, "cp1252"),
        ("a,Bjø".encode()[:-1], False, "utf-8"),  # a character cut by the sample end
        ("a,Bjø".encode()[:-1], True, "cp1252"),  # ... but the file really ends there
        ("a,på\n".encode("cp1252"), True, "cp1252"),  # a short word: accents weigh much
        ("a,Olena Koval,Олена Коваль\n".encode("cp1251"), True, "cp1251"),
        ("a,Олена\n".encode("cp1251"), True, "cp1251"),  # one name is enough
        ("a,Київ;Їжак;ґанок\n".encode("cp1251"), True, "cp1251"),
        ("a,Café Ærø\n".encode("cp1252"), True, "cp1252"),
        ("a,it’s – «fine»…\n".encode("cp1252"), True, "cp1252"),  # the same bytes in both code pages
        ("a,10 €\n".encode("cp1252"), True, "cp1252"),  # a symbol in Windows-1252, not a word
        (b"", True, "utf-8"),
    ],
)
def test_detect_encoding(sample: bytes, complete: bool, encoding: str) -> None:
    assert detect_encoding(sample, complete=complete) == encoding


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        # The only non-ASCII word reads as Norwegian capitals in one code page and Cyrillic in the other.
        (
            "a,ÆØÅ\n".encode("cp1252"),
            r"the encoding is not clear: .* \(e\.g\. Windows-1252 'ÆØÅ', Windows-1251 'ЖШЕ'\)",
        ),
        # A file of two exports, one in each code page.
        (
            "a,Bjørn Ærø\n".encode("cp1252") + "b,Олена Коваль\n".encode("cp1251"),
            r"some of its words read as Windows-1252 \('Bjørn'\) and others as Windows-1251 \('Олена'\)",
        ),
        # Polish in Windows-1250 reads as neither.
        ("a,Łódź, Gdańsk, Żółć\n".encode("cp1250"), "the encoding is not clear"),
        (b"a,\x81\x98\n", "cannot be decoded as UTF-8, Windows-1252 or Windows-1251"),
        # Its words are Norwegian, but 0x81 is no character in Windows-1252.
        (
            "a,Åse Bjørn Tromsø\n".encode("cp1252") + b"b,x\x81y\n",
            r"reads as Windows-1252, but cannot be decoded as it \(b'x\\x81y' is no text in it\)",
        ),
    ],
)
def test_an_unclear_or_undecodable_encoding_is_a_file_error_saying_why(sample: bytes, message: str) -> None:
    with pytest.raises(CsvFileError, match=message):
        detect_encoding(sample, complete=True)


def test_nul_bytes_without_a_utf16_byte_order_mark_are_binary() -> None:
    with pytest.raises(NotTextError, match="binary, not a CSV text file"):
        detect_encoding(b"PK\x03\x04\x14\x00\x00\x00", complete=True)
    # UTF-16 has NUL bytes in every ASCII character, and is text all the same.
    assert detect_encoding("a,b\n".encode("utf-16"), complete=True) == "utf-16"


def test_a_byte_order_mark_decides_and_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n", encoding="utf-8-sig")

    export = export_of(path)

    assert export.encoding == "utf-8-sig"
    assert export.plan.headers[0] == "Session ID"
    assert export.plan.fields["session_id"] == 0
    assert export.plan.extras == []
    assert (export.copyable, export.body_offset) == (True, 3)
    assert b"".join(export.body()) == f"{HEADER}\n{GOOD}\n".encode()
    assert values(path) == [GOOD_VALUES]


def test_windows_1252_files_are_detected_and_decoded(tmp_path: Path) -> None:
    line = GOOD.replace("Good", '"Très bien – Bjørn, Ærø, Åsa"')
    path = write(tmp_path, f"{HEADER}\n{line}\n", encoding="cp1252")

    export = export_of(path)

    assert (export.encoding, export.copyable) == ("cp1252", True)
    [row] = values(path)
    assert row[5] == "Très bien – Bjørn, Ærø, Åsa"


UKRAINIAN_ROWS = [
    [
        "KS-1",
        "Language Connect",
        "olena.koval@example.org",
        "ingrid@acme.example",
        "2026-10-05 10:00",
        "Дякую, було дуже корисно",
    ],
    [
        "KS-2",
        "Mentorship",
        "taras@example.org",
        "ingrid@acme.example",
        "2026-10-06 10:00",
        "Олена Коваль: «чудова розмова»",
    ],
    [
        "KS-3",
        "Language Connect",
        "iryna@example.org",
        "ingrid@acme.example",
        "2026-10-07 10:00",
        "Їжак, ґанок, Євген — все є",
    ],
]


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def test_windows_1251_files_read_as_ukrainian_not_as_windows_1252(tmp_path: Path) -> None:
    text = csv_text([HEADER.split(","), *UKRAINIAN_ROWS])
    path = write(tmp_path, text, encoding="cp1251")
    # The mistake this guards against: every byte decodes in Windows-1252, into mojibake.
    assert text.encode("cp1251").decode("cp1252").startswith(HEADER + "\nKS-1,Language Connect")

    export = export_of(path)

    assert (export.encoding, export.copyable) == ("cp1251", True)
    assert values(path) == UKRAINIAN_ROWS


def write_ascii_rows_past_the_sample(handle: BinaryIO) -> int:
    """A header and plain ASCII rows until the encoding sample is full, so what follows lies beyond it;
    returns how many rows."""
    handle.write(f"{HEADER}\n".encode())
    n = 0
    while handle.tell() < ENCODING_SAMPLE_BYTES + 1000:
        n += 1
        handle.write(f"{GOOD.replace('KS-1', f'KS-{n}')}\n".encode())
    return n


def test_windows_1251_is_detected_past_the_first_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    with path.open("wb") as handle:
        write_ascii_rows_past_the_sample(handle)
        handle.write(csv_text([UKRAINIAN_ROWS[0]]).encode("cp1251"))

    assert detect_file_encoding(path) == "cp1251"
    assert values(path)[-1] == UKRAINIAN_ROWS[0]


def test_windows_1252_is_detected_even_when_its_first_non_ascii_byte_is_past_the_first_mebibyte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.csv"
    with path.open("wb") as handle:
        n = write_ascii_rows_past_the_sample(handle)
        handle.write(GOOD.replace("KS-1", "KS-last").replace("Good", "Bjørn").encode("cp1252") + b"\n")
    with path.open("rb") as handle:
        assert detect_encoding(handle.read(ENCODING_SAMPLE_BYTES), complete=False) == "utf-8"  # the sample alone

    assert detect_file_encoding(path) == "cp1252"
    rows = values(path)
    assert len(rows) == n + 1
    assert rows[-1][0] == "KS-last"
    assert rows[-1][5] == "Bjørn"


def test_utf8_with_a_multibyte_character_at_the_sample_boundary_stays_utf8(tmp_path: Path) -> None:
    head = f"{HEADER},Notes\n".encode()
    filler_row = f"{GOOD},{'x' * 1000}\n".encode()
    rows_before = ENCODING_SAMPLE_BYTES // len(filler_row) - 1
    # The last row's "ø" starts one byte before the 1 MiB sample ends, so the sample cuts it in two.
    notes = "x" * (ENCODING_SAMPLE_BYTES - len(head) - rows_before * len(filler_row) - len(GOOD) - 2) + "ø"
    path = tmp_path / "sessions.csv"
    path.write_bytes(head + filler_row * rows_before + f"{GOOD},{notes}\n{GOOD},Bjørn\n".encode())
    assert path.read_bytes()[ENCODING_SAMPLE_BYTES - 1 : ENCODING_SAMPLE_BYTES + 1] == "ø".encode()

    export = export_of(path)

    assert (export.encoding, export.copyable) == ("utf-8", True)
    rows = values(path)
    assert len(rows) == rows_before + 2
    assert [row[6][-1] for row in rows[-2:] if row[6]] == ["ø", "n"]
    assert rows[-1][6] == "Bjørn"


def test_utf16_with_a_byte_order_mark_is_read_but_not_copyable(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD.replace('Good', 'Дякую')}\n", encoding="utf-16")

    export = export_of(path)

    assert (export.encoding, export.copyable) == ("utf-16", False)
    assert export.plan.headers[0] == "Session ID"
    assert values(path) == [[*GOOD_VALUES[:5], "Дякую"]]


def test_bytes_that_are_no_text_in_any_supported_encoding_are_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    # 0x81 is no character in Windows-1252, 0x98 none in Windows-1251.
    path.write_bytes(f"{HEADER}\n".encode() + b"KS-1,\x81\x8d\x98\n")

    with pytest.raises(CsvFileError, match=r"sessions\.csv: cannot be decoded as UTF-8, Windows-1252 or Windows-1251"):
        export_of(path)


def test_a_binary_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_bytes(f"{HEADER}\n".encode() + b"\x00\x01\x02")

    with pytest.raises(NotTextError, match=r"sessions\.csv: binary"):
        export_of(path)


def test_records_stream_until_an_undecodable_byte_past_the_sample(tmp_path: Path) -> None:
    # Windows-1252 decided from the words of the first rows (a bounded sample of them), then a byte
    # it cannot read, far on: reading fails only on reaching that byte.
    good_rows = 30_000
    path = tmp_path / "sessions.csv"
    with path.open("wb") as handle:
        handle.write(f"{HEADER}\n".encode())
        for n in range(1, good_rows + 1):
            handle.write(f"{GOOD.replace('KS-1', f'KS-{n}').replace('Good', 'Bjørn')}\n".encode("cp1252"))
        handle.write(b"KS-bad,\x81\n")
    export = export_of(path)
    assert export.encoding == "cp1252"
    rows = export.records()

    first, _ = next(rows)

    assert first[0] == "KS-1"
    yielded = 1
    with pytest.raises(CsvFileError, match="cannot be decoded as cp1252"):
        for _ in rows:
            yielded += 1
    assert good_rows - 1000 < yielded <= good_rows


# --- delimiters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n".replace(",", delimiter))

    assert export_of(path).delimiter == delimiter
    assert values(path) == [GOOD_VALUES]


def test_semicolon_files_keep_unquoted_commas_in_values(tmp_path: Path) -> None:
    text = f"{HEADER}\n{GOOD}\n".replace(",", ";").replace("Good", "Good, thanks, really")

    [row] = values(write(tmp_path, text))

    assert row[5] == "Good, thanks, really"


def test_delimiters_inside_quoted_fields_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    text = (
        "Session ID;Session Type;Participant Email;Volunteer Email;Feedback\n"
        'KS-1;Language;a@b.no;c@d.no;"one, two, three, four, five, six"\n'
        'KS-2;Language;a@b.no;c@d.no;"a,b,c,d,e,f,g"\n'
    )

    export = export_of(write(tmp_path, text))

    assert export.delimiter == ";"
    assert [row[4] for row, _ in export.records()] == ["one, two, three, four, five, six", "a,b,c,d,e,f,g"]


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ('"a;b",c\n"1;2",3\n', ","),
        ("a;b\n1;2\n3;4\n5;6", ";"),
        ("only\n1\n2\n", ","),
        ("\n\na;b\n\n1;2\n", ";"),
    ],
)
def test_the_delimiter_splitting_records_consistently_wins(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample, complete=True) == delimiter


def test_a_record_cut_by_the_sample_end_does_not_decide_the_delimiter() -> None:
    assert sniff_delimiter('a;b\n1;2\n3;"unfinished, quoted, text', complete=False) == ";"


class Note(SourceRecord):
    note: NonEmptyText


NOTES = EntitySpec(
    source="notes",
    entity="notes",
    file_prefix="notes",
    raw_table="notes",
    natural_key=("note",),
    record=Note,
    mapping=EntityMapping(aliases={"note": "note"}, values={}, scales={}, constants={}),
    identities={},
)


def test_a_single_column_file_is_read_whatever_its_values_hold(tmp_path: Path) -> None:
    path = write(tmp_path, 'Note\nhello; world\n"first, second"\n\ttabbed\n')

    export = export_of(path, NOTES)

    assert export.delimiter == ","
    assert values(path, NOTES) == [["hello; world"], ["first, second"], ["\ttabbed"]]


# --- quoting, line endings, blank lines ----------------------------------------------------------


def test_quoted_fields_hold_delimiters_quotes_newlines_and_empty_lines(tmp_path: Path) -> None:
    feedback = 'She said "tusen takk", then:\n\nwe practised; again'
    quoted = '"' + feedback.replace('"', '""') + '"'
    path = write(tmp_path, f"{HEADER}\n{GOOD.replace('Good', quoted)}\n{GOOD.replace('KS-1', 'KS-2')}\n")

    rows = values(path)

    assert [(row[0], row[5]) for row in rows] == [("KS-1", feedback), ("KS-2", "Good")]


def test_crlf_line_endings_are_read_including_inside_quoted_fields(tmp_path: Path) -> None:
    two_lines = GOOD.replace("Good", '"two\nlines"')
    path = write(tmp_path, f"{HEADER}\n{two_lines}\n\n{GOOD}\n", newline="\r\n")

    export = export_of(path)

    assert export.plan.headers[-1] == "Feedback"  # no stray carriage return
    assert [row[5] for row in values(path)] == ["two\r\nlines", "Good"]


def test_blank_lines_anywhere_are_not_records(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n{HEADER}\n\n{GOOD}\n,,,,,\n\n{GOOD.replace('KS-1', 'KS-2')}\n\n\n")

    assert [row[0] for row in values(path)] == ["KS-1", "KS-2"]


def test_a_file_without_a_final_line_break_keeps_its_last_record(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n{GOOD.replace('KS-1', 'KS-2')}")

    assert [row[0] for row in values(path)] == ["KS-1", "KS-2"]


def test_csv_written_by_the_csv_module_round_trips(tmp_path: Path) -> None:
    row = ["KS-7", "Mentorship", "a@b.no", "c@d.no", "", 'quote " comma , semicolon ; newline \n end\r\n']
    path = tmp_path / "sessions.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerow(row)

    assert values(path) == [row]


def test_records_can_be_read_again(tmp_path: Path) -> None:
    export = export_of(write(tmp_path, f"{HEADER}\n{GOOD}\n"))

    assert list(export.records()) == list(export.records()) == [(GOOD_VALUES, {})]


# --- header planning -----------------------------------------------------------------------------


def test_headers_match_ignoring_case_spacing_punctuation_and_camel_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sessionId;SESSION_TYPE;participant-email;Volunteer.Email: ;  Completed  At ;feedbackText\n"
        "KS-1;Mentorship;a@b.no;c@d.no;;ok\n",
    )

    plan = export_of(path).plan

    assert plan.headers == [
        "sessionId",
        "SESSION_TYPE",
        "participant-email",
        "Volunteer.Email:",
        "Completed  At",
        "feedbackText",
    ]
    assert plan.fields == {
        "session_id": 0,
        "session_type": 1,
        "participant_email": 2,
        "volunteer_email": 3,
        "completed_at": 4,
        "feedback_text": 5,
    }
    assert plan.extras == []


def test_aliases_from_the_mapping_name_canonical_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "id;type;learner email;mentor email;Duration (min);Stars;CEFR\nKS-1;Mentorship;a;b;1;2;B1\n")

    assert export_of(path).plan.fields == {
        "session_id": 0,
        "session_type": 1,
        "participant_email": 2,
        "volunteer_email": 3,
        "duration_minutes": 4,
        "rating": 5,
        "language_level": 6,
    }


def test_missing_optional_columns_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "id;type;learner email;mentor email\nKS-1;Mentorship;a@b.no;c@d.no\n")

    export = export_of(path)

    assert sorted(export.plan.fields) == ["participant_email", "session_id", "session_type", "volunteer_email"]
    assert values(path) == [["KS-1", "Mentorship", "a@b.no", "c@d.no"]]


def test_unknown_columns_are_extras_by_their_original_header(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Region, Mentor Company \n{GOOD},Oslo,\n")

    export = export_of(path)

    assert export.plan.extras == [(6, "Region"), (7, "Mentor Company")]
    assert values(path) == [[*GOOD_VALUES, "Oslo", ""]]


def test_a_column_spelled_like_the_field_wins_over_an_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Participant,Session ID,Session Type,Participant Email,Volunteer Email\n"
        "Olena Kovalenko,KS-1,Mentorship,olena@example.org,lars@acme.example\n",
    )

    plan = export_of(path).plan

    assert plan.fields["participant_email"] == 3
    assert plan.extras == [(0, "Participant")]


def test_of_two_aliases_for_one_field_the_first_wins_and_the_other_is_an_extra(tmp_path: Path) -> None:
    path = write(tmp_path, "id;type;learner;newcomer email;mentor\nKS-1;Language;a@b.no;c@d.no;e@f.no\n")

    plan = export_of(path).plan

    assert plan.fields["participant_email"] == 2
    assert plan.extras == [(3, "newcomer email")]


def test_repeated_and_blank_headers_are_all_kept(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Note,Note,,Note\n{GOOD},a,b,c,d\n")

    export = export_of(path)

    assert export.plan.headers[6:] == ["Note", "Note (2)", "column_9", "Note (3)"]
    assert export.plan.extras == [(6, "Note"), (7, "Note (2)"), (8, "column_9"), (9, "Note (3)")]
    assert values(path) == [[*GOOD_VALUES, "a", "b", "c", "d"]]


def test_a_repeated_field_header_keeps_the_first_and_the_repeat_as_an_extra(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Feedback\n{GOOD},more\n")

    plan = export_of(path).plan

    assert plan.fields["feedback_text"] == 5
    assert plan.extras == [(6, "Feedback (2)")]


def test_a_missing_required_column_is_a_file_error_naming_it_and_the_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "Session ID,Session Type,Learner Email\nKS-1,Mentorship,a@b.no\n")

    with pytest.raises(CsvFileError) as caught:
        export_of(path)

    assert str(caught.value) == (
        "sessions.csv: required column(s) volunteer_email not found;"
        " headers found: 'Session ID', 'Session Type', 'Learner Email'"
    )


def test_every_missing_required_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "Region\nOslo\n")

    with pytest.raises(CsvFileError, match=r"session_id, session_type, participant_email, volunteer_email not found"):
        export_of(path)


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n\r\n"])
def test_an_empty_file_is_a_file_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(CsvFileError, match=r"sessions\.csv: no header row \(the file is empty\)"):
        export_of(write(tmp_path, text))


def test_a_header_only_file_has_no_records(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n\n")

    assert records(path) == []


def test_a_constant_fills_a_field_the_export_does_not_carry(tmp_path: Path) -> None:
    path = tmp_path / "ecornell.csv"
    path.write_text("Student Email,Course Code,Enrollment Status\na@b.no,C1,Completed\n", encoding="utf-8")

    plan = export_of(path, UPSKILLING_ECORNELL).plan

    assert plan.fields == {"user_email": 0, "course_id": 1, "status": 2}
    assert plan.constants == {"provider": "ecornell"}


def test_a_column_carrying_the_constant_field_replaces_the_constant(tmp_path: Path) -> None:
    path = tmp_path / "ecornell.csv"
    path.write_text("Platform,Student Email,Course Code,Enrollment Status\necornell,a@b.no,C1,Done\n", encoding="utf-8")

    plan = export_of(path, UPSKILLING_ECORNELL).plan

    assert plan.fields["provider"] == 0
    assert plan.constants == {}


# --- row widths ----------------------------------------------------------------------------------


def test_short_rows_are_padded_with_none(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Region\nKS-1,Mentorship,a@b.no,c@d.no\nKS-2\n")

    assert values(path) == [
        ["KS-1", "Mentorship", "a@b.no", "c@d.no", None, None, None],
        ["KS-2", None, None, None, None, None, None],
    ]


def test_surplus_values_come_apart_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD},surplus\n{GOOD},,x,\n")

    assert records(path) == [
        (GOOD_VALUES, {"column_7": "surplus"}),
        (GOOD_VALUES, {"column_8": "x"}),
    ]


def test_trailing_empty_cells_are_not_surplus(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD},,,\n")

    assert records(path) == [(GOOD_VALUES, {})]


# --- copyable ------------------------------------------------------------------------------------


def test_a_plain_file_is_copyable_from_its_first_byte(tmp_path: Path) -> None:
    text = f"{HEADER}\n{GOOD}\n"
    export = export_of(write(tmp_path, text))

    assert (export.copyable, export.body_offset) == (True, 0)
    assert b"".join(export.body(chunk_size=7)) == text.encode()


def test_a_crlf_file_is_copyable(tmp_path: Path) -> None:
    assert export_of(write(tmp_path, f"{HEADER}\n{GOOD}\n", newline="\r\n")).copyable


def test_blank_lines_before_the_header_make_a_file_not_copyable(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n\n{HEADER}\n{GOOD}\n")

    export = export_of(path)

    assert export.copyable is False
    assert values(path) == [GOOD_VALUES]


def test_a_header_spanning_lines_makes_a_file_not_copyable(tmp_path: Path) -> None:
    header = 'Session ID,Session Type,"Participant\nEmail",Volunteer Email'
    path = write(tmp_path, f"{header}\nKS-1,Language,a@b.no,c@d.no\n")

    export = export_of(path)

    assert export.copyable is False
    assert export.plan.fields["participant_email"] == 2
    assert values(path) == [["KS-1", "Language", "a@b.no", "c@d.no"]]


class TestOpenExport:
    """`open_export` with an encoding given (an upload whose client says what it is)."""

    text: ClassVar[str] = f"{HEADER}\n{GOOD.replace('Good', 'Bjørn')}\n"

    def test_a_given_encoding_is_used(self, tmp_path: Path) -> None:
        path = write(tmp_path, self.text, encoding="cp1252")

        export = open_export(path, KINTELL_SESSIONS, encoding="cp1252")

        assert [row[5] for row, _ in export.records()] == ["Bjørn"]

    def test_a_wrong_given_encoding_is_a_file_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, self.text, encoding="cp1252")

        with pytest.raises(CsvFileError, match="cannot be decoded as utf-8"):
            open_export(path, KINTELL_SESSIONS, encoding="utf-8")
