"""The benchmark's sample writer: deterministic, realistic Kintell exports with known bad and duplicate rows."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from connectors.registry import KINTELL_SESSIONS
from contracts.kintell import KintellSessionRecord
from teei.devtools.generate.samples import KINTELL_SESSION_HEADERS, SESSION_FAULTS, write_kintell_sessions

OSLO = ZoneInfo("Europe/Oslo")


def read(path: Path) -> tuple[list[KintellSessionRecord], list[list[str]]]:
    """The file's records that validate against the contract, and the reasons of those that do not."""
    accepted: list[KintellSessionRecord] = []
    reasons: list[list[str]] = []
    mapping = KINTELL_SESSIONS.mapping
    context = {"timezone": OSLO, "scales": mapping.scales}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        fields = [mapping.canonical_field(name) for name in next(rows)]
        for row in rows:
            data = {f: mapping.normalise_value(f, v) for f, v in zip(fields, row, strict=True) if f and v.strip()}
            try:
                accepted.append(KintellSessionRecord.model_validate(data, context=context))
            except ValidationError as error:
                # A field's error names the field; a chronology error's message starts with it.
                reasons.append(
                    [": ".join(filter(None, (".".join(map(str, e["loc"])), e["msg"]))) for e in error.errors()]
                )
    return accepted, reasons


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    paths = [tmp_path / f"sessions_{n}.csv" for n in range(3)]
    for path, seed in zip(paths, (7, 7, 8), strict=True):
        write_kintell_sessions(path, rows=120, seed=seed, bad_rows=3, duplicate_rows=2)

    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_good_bad_and_duplicate_rows_are_as_many_as_asked(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    write_kintell_sessions(path, rows=300, seed=3, bad_rows=8, duplicate_rows=5)

    accepted, rejected = read(path)

    assert len(accepted) == 305
    assert len({record.session_id for record in accepted}) == 300
    assert len({record.model_dump_json() for record in accepted}) == 300  # repeats are whole records
    assert len(rejected) == 8
    assert all(len(reasons) == 1 for reasons in rejected)
    broken_fields = [reasons[0].split(" ")[0].rstrip(":") for reasons in rejected]
    assert broken_fields == [fault.field for fault in SESSION_FAULTS[:8]]  # one of each, in order
    assert set(broken_fields) == {
        "participant_email",
        "volunteer_email",
        "completed_at",
        "duration_minutes",
        "session_type",
        "rating",
        "language_level",
    }  # completed_at twice: an impossible date, and an end before the start
    assert any("'31.02.2026 10:00' is not a valid date/time" in reasons[0] for reasons in rejected)
    assert any("'Coffee chat'" in reasons[0] or "'language' or 'mentorship'" in reasons[0] for reasons in rejected)


def test_duplicates_are_exact_repeats_of_earlier_lines(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    write_kintell_sessions(path, rows=200, seed=11, duplicate_rows=4)

    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    repeated = [line for line, count in Counter(lines).items() if count > 1]

    assert len(lines) == 204
    assert sum(Counter(lines)[line] - 1 for line in repeated) == 4
    assert all(lines.index(line) < len(lines) - 1 for line in repeated)


def test_rows_look_like_a_kintell_export(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    write_kintell_sessions(path, rows=600, seed=5, start=date(2026, 3, 1))

    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    accepted, rejected = read(path)

    assert tuple(header) == KINTELL_SESSION_HEADERS
    assert rejected == []
    participants = {record.participant_email for record in accepted}
    volunteers = {record.volunteer_email for record in accepted}
    assert 60 <= len(participants) <= 100  # about rows / 6
    assert 25 <= len(volunteers) <= 40  # about rows / 15
    assert all(email.split("@")[1] in ("example.org", "example.net", "example.com") for email in participants)
    assert all(email.split("@")[1].endswith(".example") for email in volunteers)
    assert {record.session_type for record in accepted} == {"language", "mentorship"}
    completed = [record for record in accepted if record.completed_at is not None]
    assert 0.7 < len(completed) / len(accepted) < 0.9
    assert all(25 <= (record.duration_minutes or 0) <= 95 for record in completed)
    assert all(
        record.started_at is None and record.duration_minutes is None and record.rating is None
        for record in accepted
        if record.completed_at is None
    )
    assert all(
        record.scheduled_at and date(2026, 3, 1) <= record.scheduled_at.date() <= date(2026, 3, 31)
        for record in accepted
    )
    assert {record.rating for record in completed} >= {0.0, 0.25, 0.5, 0.75, 1.0, None}
    assert {record.language_level for record in accepted} >= {"A1", "A2", "B1", "B2", "C1"}
    assert any(record.feedback_text and "дякую" in record.feedback_text.lower() for record in accepted)
    assert any(record.topics and len(record.topics) > 1 for record in accepted)


def test_a_large_file_is_written_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"

    write_kintell_sessions(path, rows=20_000, seed=1, bad_rows=2, duplicate_rows=2)

    with path.open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + 20_004
