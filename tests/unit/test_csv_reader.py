"""The CSV reader: encodings, delimiters, quoting, blank lines, headers, rejects and streaming."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from connectors.csv_reader import AcceptedRow, CsvFileError, RejectedRow, read_csv, sniff_delimiter
from connectors.mapping import EntityMapping
from connectors.registry import KINTELL_SESSIONS, EntitySpec
from contracts.kintell import KintellSessionRecord

OSLO = ZoneInfo("Europe/Oslo")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "kintell" / "sessions_small.csv"
HEADER = "Session ID,Session Type,Participant Email,Volunteer Email,Completed At,Feedback"
GOOD = "KS-1,Language Connect,olena@example.org,ingrid@acme.example,2026-10-05 10:00,Good"


def read(path: Path) -> list[AcceptedRow | RejectedRow]:
    return list(read_csv(path, KINTELL_SESSIONS, timezone=OSLO))


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / "sessions.csv"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def session(row: AcceptedRow | RejectedRow) -> KintellSessionRecord:
    assert isinstance(row, AcceptedRow), row
    assert isinstance(row.record, KintellSessionRecord)
    return row.record


def records(rows: list[AcceptedRow | RejectedRow]) -> list[KintellSessionRecord]:
    return [session(row) for row in rows if isinstance(row, AcceptedRow)]


def rejected(rows: list[AcceptedRow | RejectedRow]) -> list[RejectedRow]:
    return [row for row in rows if isinstance(row, RejectedRow)]


def test_the_small_fixture_has_six_distinct_good_rows_one_bad_and_one_duplicate() -> None:
    rows = read(FIXTURE)

    assert len(rows) == 8
    good = records(rows)
    assert len(good) == 7
    assert len({record.session_id for record in good}) == 6
    assert sum(record.completed_at is not None for record in {r.session_id: r for r in good}.values()) == 4
    [bad] = rejected(rows)
    assert bad.row_number == 7
    assert bad.reasons == [
        "session_type: 'Coffee chat' should be 'language' or 'mentorship'",
        "duration_minutes: '900' should be less than or equal to 480",
    ]
    assert bad.raw["TYPE"] == "Coffee chat"
    assert good[-1] == good[0]  # the last row repeats the first


def test_the_small_fixture_maps_its_own_header_spellings() -> None:
    first, second = records(read(FIXTURE))[:2]

    assert first.session_type == "language"
    assert first.feedback_text == 'Very helpful; we practised a "job interview"'
    assert first.topics == ["job interview", "CV"]
    assert first.rating == 1.0
    assert second.participant_email == "taras.shevchenko@example.org"
    assert second.started_at == datetime(2026, 10, 2, 12, 5, tzinfo=UTC)


def test_row_numbers_count_data_records_not_the_header_or_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n{HEADER}\n\n{GOOD}\n,,,,,\n\n{GOOD.replace('KS-1', 'KS-2')}\n\n")

    rows = read(path)

    assert [(row.row_number, session(row).session_id) for row in rows if isinstance(row, AcceptedRow)] == [
        (1, "KS-1"),
        (2, "KS-2"),
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n", encoding="utf-8-sig")

    [row] = read(path)

    assert isinstance(row, AcceptedRow)
    assert row.extras == {}


def test_windows_1252_files_are_decoded(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD.replace('Good', 'Très bien – Bjørn')}\n", encoding="cp1252")

    [record] = records(read(path))

    assert record.feedback_text == "Très bien – Bjørn"


def test_utf8_with_a_multibyte_character_at_the_sample_boundary_stays_utf8(tmp_path: Path) -> None:
    head = f"{HEADER},Notes\n".encode()
    filler_row = f"{GOOD},{'x' * 1000}\n".encode()
    rows_before = (1 << 20) // len(filler_row) - 1
    # The last row's "ø" starts one byte before the 1 MiB sample ends, so the sample cuts it in two.
    notes = "x" * ((1 << 20) - len(head) - rows_before * len(filler_row) - len(GOOD) - 2) + "ø"
    path = tmp_path / "sessions.csv"
    path.write_bytes(head + filler_row * rows_before + f"{GOOD},{notes}\n{GOOD},Bjørn\n".encode())
    assert path.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == "ø".encode()

    rows = read(path)

    assert len(records(rows)) == rows_before + 2
    assert [row.extras["Notes"][-1] for row in rows[-2:] if isinstance(row, AcceptedRow)] == ["ø", "n"]


def test_bytes_that_are_no_text_in_any_supported_encoding_are_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_bytes(f"{HEADER}\n".encode() + b"KS-1,\x81\x8d\x8f\n")

    with pytest.raises(CsvFileError, match="cannot be decoded"):
        read(path)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n".replace(",", delimiter))

    [record] = records(read(path))

    assert (record.session_id, record.feedback_text) == ("KS-1", "Good")


def test_semicolon_files_keep_unquoted_commas_in_values(tmp_path: Path) -> None:
    text = f"{HEADER}\n{GOOD}\n".replace(",", ";").replace("Good", "Good, thanks, really")

    [record] = records(read(write(tmp_path, text)))

    assert record.feedback_text == "Good, thanks, really"


class Note(BaseModel):
    note: str


NOTES = EntitySpec(
    source="notes",
    entity="notes",
    file_prefix="notes",
    raw_table="notes",
    natural_key=("note",),
    record=Note,
    mapping=EntityMapping(aliases={"note": "note"}, values={}, scales={}),
    identities={},
)


def test_a_single_column_file_is_read_whatever_its_values_hold(tmp_path: Path) -> None:
    path = write(tmp_path, 'Note\nhello; world\n"first, second"\n\ttabbed\n')

    rows = list(read_csv(path, NOTES, timezone=OSLO))

    assert [row.record.model_dump() for row in rows if isinstance(row, AcceptedRow)] == [
        {"note": "hello; world"},
        {"note": "first, second"},
        {"note": "\ttabbed"},
    ]


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ('"a;b",c\n"1;2",3\n', ","),
        ("a;b\n1;2\n3;4\n5;6", ";"),
        ("only\n1\n2\n", ","),
    ],
)
def test_the_delimiter_splitting_records_consistently_wins(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample, complete=True) == delimiter


def test_a_record_cut_by_the_sample_end_does_not_decide_the_delimiter() -> None:
    assert sniff_delimiter('a;b\n1;2\n3;"unfinished, quoted, text', complete=False) == ";"


def test_quoted_fields_hold_delimiters_quotes_newlines_and_empty_lines(tmp_path: Path) -> None:
    feedback = 'She said "tusen takk", then:\n\nwe practised; again'
    quoted = '"' + feedback.replace('"', '""') + '"'
    path = write(tmp_path, f"{HEADER}\n{GOOD.replace('Good', quoted)}\n{GOOD.replace('KS-1', 'KS-2')}\n")

    rows = read(path)

    assert [record.feedback_text for record in records(rows)] == [feedback, "Good"]
    assert [row.row_number for row in rows] == [1, 2]


def test_crlf_line_endings_are_read_including_inside_quoted_fields(tmp_path: Path) -> None:
    two_lines = GOOD.replace("Good", '"two\nlines"')
    path = write(tmp_path, f"{HEADER}\n{two_lines}\n", newline="\r\n")

    [record] = records(read(path))

    assert record.feedback_text == "two\r\nlines"
    assert record.completed_at == datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


def test_unknown_columns_are_kept_as_extras_by_their_original_header(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Region,Mentor Company\n{GOOD},Oslo,\n")

    [row] = read(path)

    assert isinstance(row, AcceptedRow)
    assert row.extras == {"Region": "Oslo", "Mentor Company": ""}


def test_missing_optional_columns_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "id;type;learner email;mentor email\nKS-1;Mentorship;a@b.no;c@d.no\n")

    [record] = records(read(path))

    assert record.model_dump(exclude_none=True) == {
        "session_id": "KS-1",
        "session_type": "mentorship",
        "participant_email": "a@b.no",
        "volunteer_email": "c@d.no",
    }


def test_a_missing_required_column_is_a_file_error_naming_it_and_the_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "Session ID,Session Type,Learner Email\nKS-1,Mentorship,a@b.no\n")

    with pytest.raises(CsvFileError) as caught:
        read(path)

    message = str(caught.value)
    assert "required column(s) volunteer_email not found" in message
    assert "headers found: 'Session ID', 'Session Type', 'Learner Email'" in message


def test_an_empty_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CsvFileError, match="no header row"):
        read(write(tmp_path, "\n\n"))


def test_a_column_spelled_like_the_field_wins_over_an_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Participant,Session ID,Session Type,Participant Email,Volunteer Email\n"
        "Olena Kovalenko,KS-1,Mentorship,olena@example.org,lars@acme.example\n",
    )

    [row] = read(path)

    assert isinstance(row, AcceptedRow)
    assert session(row).participant_email == "olena@example.org"
    assert row.extras == {"Participant": "Olena Kovalenko"}


def test_repeated_headers_are_all_kept(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Note,Note,\n{GOOD},a,b,c\n")

    [row] = read(path)

    assert isinstance(row, AcceptedRow)
    assert row.extras == {"Note": "a", "Note (2)": "b", "column_9": "c"}


def test_a_row_with_more_values_than_headers_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD},surplus\n{GOOD},,\n")

    first, second = read(path)

    assert isinstance(first, RejectedRow)
    assert first.reasons == ["row has 7 values but the header has 6 columns"]
    assert first.raw["column_7"] == "surplus"
    assert isinstance(second, AcceptedRow)  # trailing empty cells are no values


def test_a_row_with_fewer_values_has_its_trailing_values_empty(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Region\nKS-1,Mentorship,a@b.no,c@d.no\nKS-2,Mentorship,a@b.no\n")

    first, second = read(path)

    assert isinstance(first, AcceptedRow)
    assert session(first).completed_at is None
    assert first.extras == {"Region": ""}
    assert isinstance(second, RejectedRow)
    assert second.reasons == ["volunteer_email: required, but empty"]
    assert second.raw == {
        "Session ID": "KS-2",
        "Session Type": "Mentorship",
        "Participant Email": "a@b.no",
        "Volunteer Email": None,
        "Completed At": None,
        "Feedback": None,
        "Region": None,
    }


def test_rejected_rows_carry_every_reason_naming_the_field_and_the_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Session ID,Type,Learner Email,Mentor Email,Completed At,Duration,Rating,CEFR\n"
        "  ,Coffee chat, ,lars(at)acme.example,31.02.2026 10:00,abc,7,D1\n",
    )

    [row] = read(path)

    assert isinstance(row, RejectedRow)
    assert row.row_number == 1
    assert row.reasons == [
        "session_id: required, but empty",
        "session_type: 'Coffee chat' should be 'language' or 'mentorship'",
        "participant_email: required, but empty",
        "volunteer_email: 'lars(at)acme.example' is not a valid email address",
        "completed_at: '31.02.2026 10:00' is not a valid date/time",
        "duration_minutes: 'abc' should be a valid integer, unable to parse string as an integer",
        "rating: '7' is outside the scale 1 to 5",
        "language_level: 'D1' is not a CEFR level (A1, A2, B1, B2, C1 or C2)",
    ]
    assert row.raw["Type"] == "Coffee chat"
    assert row.raw["Session ID"] == "  "


def test_a_rule_across_fields_reads_on_its_own(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Session ID,Type,Learner Email,Mentor Email,Started At,Completed At\n"
        "KS-1,Mentorship,a@b.no,c@d.no,05.10.2026 10:00,05.10.2026 09:00\n",
    )

    [row] = read(path)

    assert isinstance(row, RejectedRow)
    assert row.reasons == ["completed_at (2026-10-05T07:00:00+00:00) is before started_at (2026-10-05T08:00:00+00:00)"]


def test_bad_rows_never_stop_the_good_ones(tmp_path: Path) -> None:
    bad = GOOD.replace("Language Connect", "Coffee chat")
    path = write(tmp_path, f"{HEADER}\n{bad}\n{GOOD}\n{bad}\n{GOOD.replace('KS-1', 'KS-2')}\n")

    rows = read(path)

    assert [(row.row_number, type(row).__name__) for row in rows] == [
        (1, "RejectedRow"),
        (2, "AcceptedRow"),
        (3, "RejectedRow"),
        (4, "AcceptedRow"),
    ]


def test_rows_stream_before_the_rest_of_the_file_is_read(tmp_path: Path) -> None:
    # Well past the 1 MiB encoding sample, a byte that is no UTF-8: reading only fails on reaching it.
    good_rows = 30_000
    path = tmp_path / "sessions.csv"
    with path.open("wb") as handle:
        handle.write(f"{HEADER}\n".encode())
        for n in range(1, good_rows + 1):
            handle.write(f"{GOOD.replace('KS-1', f'KS-{n}')}\n".encode())
        handle.write(GOOD.replace("Good", "Bj\xf8rn").encode("cp1252") + b"\n")
    rows = read_csv(path, KINTELL_SESSIONS, timezone=OSLO)

    first = next(rows)

    assert isinstance(first, AcceptedRow)
    assert session(first).session_id == "KS-1"
    yielded = 1
    with pytest.raises(CsvFileError, match="cannot be decoded as utf-8"):
        for _ in rows:
            yielded += 1
    assert good_rows - 1000 < yielded <= good_rows


def test_reading_is_lazy_until_the_first_row_is_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"

    rows = read_csv(path, KINTELL_SESSIONS, timezone=OSLO)  # the file does not exist yet
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")

    assert [row.row_number for row in rows] == [1]


def test_csv_written_by_the_csv_module_round_trips(tmp_path: Path) -> None:
    values = ["KS-7", "Mentorship", "a@b.no", "c@d.no", "", 'quote " comma , semicolon ; newline \n end']
    path = tmp_path / "sessions.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerow(values)

    [record] = records(read(path))

    assert record.feedback_text == values[-1].strip()
