"""The loader against a real PostgreSQL: counts, quarantine, idempotency and atomicity."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.registry import get_entity
from teei.ingest.loader import load_csv_file, load_rows

pytestmark = pytest.mark.integration

SESSIONS = get_entity("kintell", "sessions")
OSLO = ZoneInfo("Europe/Oslo")
HEADER = "Session ID,Session Type,Participant Email,Volunteer Email,Completed At,Duration Minutes,Notes\n"


def write(path: Path, *lines: str) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def load(engine: sa.Engine, path: Path) -> Any:
    return load_csv_file(engine, path, SESSIONS, timezone=OSLO, pseudonym_key="k")


def table(engine: sa.Engine, query: str) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query)).mappings()]


def test_counts_add_up_and_bad_rows_keep_every_reason(engine: sa.Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "sessions_a.csv",
        "s1,Language Connect, Anna.Berg@X.org ,vol@acme.example,2026-10-01 10:00,60,first",
        "s2,Mentorship,ole@example.org,vol@acme.example,,,",
        "s3,Coffee chat,,vol@acme.example,31.02.2026 10:00,900,",
        "s1,Language Connect, Anna.Berg@X.org ,vol@acme.example,2026-10-01 10:00,60,first",
    )

    result = load(engine, path)

    assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (
        "succeeded",
        4,
        2,
        1,
        1,
    )
    [load_row] = table(engine, "SELECT * FROM ops.loads")
    assert load_row["rows_in"] == load_row["rows_loaded"] + load_row["rows_quarantined"] + load_row["rows_duplicate"]
    raw = table(engine, "SELECT * FROM raw.kintell_sessions ORDER BY session_id")
    assert [r["session_id"] for r in raw] == ["s1", "s2"]
    assert raw[0]["participant_email"] == "anna.berg@x.org"
    assert raw[0]["metadata"] == {"Notes": "first"}
    assert raw[0]["completed_at"].isoformat() == "2026-10-01T08:00:00+00:00"  # 10:00 in Oslo, summer time
    [bad] = table(engine, "SELECT * FROM ops.quarantine")
    assert bad["source_row_number"] == 3
    assert bad["raw_record"]["Session Type"] == "Coffee chat"
    reasons = " ".join(bad["reasons"])
    for field in ("session_type", "participant_email", "completed_at", "duration_minutes"):
        assert field in reasons


def test_a_later_file_updates_changed_records_and_counts_unchanged_as_duplicates(
    engine: sa.Engine, tmp_path: Path
) -> None:
    load(engine, write(tmp_path / "sessions_1.csv", "s1,Language,a@x.org,v@y.org,,,", "s2,Language,b@x.org,v@y.org,,,"))
    before = {r["session_id"]: r for r in table(engine, "SELECT * FROM raw.kintell_sessions")}

    result = load(
        engine,
        write(
            tmp_path / "sessions_2.csv", "s1,Language,a@x.org,v@y.org,,,", "s2,Language,b@x.org,v@y.org,2026-11-02,45,"
        ),
    )

    assert (result.rows_in, result.rows_loaded, result.rows_duplicate) == (2, 1, 1)
    after = {r["session_id"]: r for r in table(engine, "SELECT * FROM raw.kintell_sessions")}
    assert after["s1"] == before["s1"]  # unchanged: not rewritten, not even loaded_at
    assert after["s2"]["duration_minutes"] == 45
    assert after["s2"]["load_id"] == result.load_id
    assert after["s2"]["loaded_at"] > before["s2"]["loaded_at"]


def test_the_same_file_again_is_skipped(engine: sa.Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "sessions.csv", "s1,Language,a@x.org,v@y.org,,,")
    load(engine, path)
    before = table(engine, "SELECT * FROM raw.kintell_sessions")

    again = load(engine, path)

    assert again.status == "skipped"
    assert (again.rows_in, again.rows_loaded) == (0, 0)
    assert table(engine, "SELECT * FROM raw.kintell_sessions") == before


def test_a_key_repeated_with_other_values_keeps_the_last_and_quarantines_the_earlier(
    engine: sa.Engine, tmp_path: Path
) -> None:
    result = load(
        engine,
        write(tmp_path / "sessions.csv", "s1,Language,a@x.org,v@y.org,,30,", "s1,Language,a@x.org,v@y.org,,45,"),
    )

    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (2, 1, 1, 0)
    assert [r["duration_minutes"] for r in table(engine, "SELECT * FROM raw.kintell_sessions")] == [45]
    [superseded] = table(engine, "SELECT * FROM ops.quarantine")
    assert superseded["source_row_number"] == 1
    assert "appears again in row 2" in superseded["reasons"][0]


def test_a_file_missing_a_required_column_fails_and_writes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text("Session ID,Session Type,Volunteer Email\ns1,Language,v@y.org\n")

    result = load(engine, path)

    assert result.status == "failed"
    assert "participant_email" in (result.error or "")
    [failed] = table(engine, "SELECT status, error, rows_loaded FROM ops.loads")
    assert failed["status"] == "failed" and "participant_email" in failed["error"]
    assert table(engine, "SELECT * FROM raw.kintell_sessions") == []
    assert table(engine, "SELECT * FROM ops.quarantine") == []


def test_rows_whose_sender_sees_the_answer_are_not_held_after_a_failure(engine: sa.Engine) -> None:
    # A NUL fails the load (PostgreSQL text cannot hold it). A file's bytes would then be held; rows of a
    # caller that does not hold failures (a webhook) are tried again when sent again.
    header = ["session_id", "session_type", "participant_email", "volunteer_email"]
    rows: list[list[str | None]] = [["s1", "language", "a\x00@x.org", "v@y.org"]]

    def attempt(hold_failures: bool) -> Any:
        return load_rows(
            engine,
            header,
            rows,
            SESSIONS,
            file_name="webhook/kintell/sessions/m1",
            file_sha256="0" * 64,
            timezone=OSLO,
            pseudonym_key="k",
            hold_failures=hold_failures,
        )

    assert [attempt(False).status, attempt(False).status] == ["failed", "failed"]
    assert table(engine, "SELECT count(*) AS held FROM ops.loads WHERE released_at IS NULL") == [{"held": 0}]
    assert attempt(True).status == "failed"
    held = attempt(True)
    assert held.status == "skipped" and "not retried" in (held.error or "")
