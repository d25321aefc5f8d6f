"""Kintell sessions end to end, as a user runs it: a file in the landing folder, `teei run`, then
raw rows, quarantine, ops.loads, core rows without emails, events on JetStream and the API."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.auth import mint_token
from teei.cli.main import app as teei_cli
from teei.devtools.services import EmbeddedNats, free_port
from teei.events import nats_client
from teei.events.outbox import publish_outbox
from teei.ingest.identity import user_id_for_email

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kintell" / "sessions_small.csv"
PSEUDONYM_KEY = b"test-pseudonym-key"

pytestmark = pytest.mark.integration


def teei_run() -> Any:
    return CliRunner().invoke(teei_cli, ["run"], catch_exceptions=False)


def drop_fixture(landing: Path, name: str = "sessions_small.csv") -> Path:
    target = landing / "kintell" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE, target)
    return target


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query), params).mappings()]


async def stream_messages(url: str, stream: str = "KINTELL") -> list[tuple[str | None, dict[str, str], bytes]]:
    async with nats_client.connect(url) as connection:
        js = connection.jetstream()
        info = await js.stream_info(stream)
        messages = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(stream, sequence)
            messages.append((message.subject, dict(message.headers or {}), message.data or b""))
        return messages


def test_kintell_file_flows_through_raw_core_events_and_api(teei_env: Any, jetstream_clean: str) -> None:
    drop_fixture(teei_env.landing)

    result = teei_run()

    assert result.exit_code == 0, result.output
    assert "sessions_small.csv" in result.output
    engine = teei_env.engine

    # Q2Q read every text of the file once and the summary says so
    texts = rows(engine, "SELECT count(*) AS n FROM core.texts")[0]["n"]
    ledger = rows(engine, "SELECT status, count(*) AS n FROM ops.q2q_scored_texts GROUP BY status")
    scored = sum(row["n"] for row in ledger if row["status"] == "scored")
    assert texts > 0 and scored > 0
    assert "texts scored (Q2Q, rules): " in result.output
    assert rows(engine, "SELECT count(*) AS n FROM core.outcome_scores")[0]["n"] > 0

    # ops.loads: the counts add up
    [load] = rows(engine, "SELECT * FROM ops.loads")
    assert (load["status"], load["rows_in"], load["rows_loaded"], load["rows_quarantined"], load["rows_duplicate"]) == (
        "succeeded",
        8,
        6,
        1,
        1,
    )

    # raw: six sessions, with lineage, emails normalised
    raw = rows(engine, "SELECT * FROM raw.kintell_sessions ORDER BY source_row_number")
    assert len(raw) == 6
    assert all(r["load_id"] == load["load_id"] and r["source_file"] == "kintell/sessions_small.csv" for r in raw)
    assert all(r["participant_email"] == r["participant_email"].strip().lower() for r in raw)
    assert all(r["participant_user_id"] == user_id_for_email(r["participant_email"], PSEUDONYM_KEY) for r in raw)

    # quarantine: the bad row, with every reason
    [rejected] = rows(engine, "SELECT * FROM ops.quarantine")
    assert rejected["load_id"] == load["load_id"]
    assert len(rejected["reasons"]) >= 2
    assert rejected["raw_record"]

    # core: the sessions, people only as user ids, no email anywhere in core, staging or events
    core = rows(engine, "SELECT * FROM core.kintell_sessions")
    assert {r["session_id"] for r in core} == {r["session_id"] for r in raw}
    emails = {r["participant_email"] for r in raw} | {r["volunteer_email"] for r in raw}
    assert _tables_holding(engine, emails, schemas=("core", "staging")) == []
    assert _tables_holding(engine, emails, schemas=("pii",)) == ["pii.user_identities"]

    # events: one per completed session (and per scheduled one), deterministic ids, on KINTELL, sent
    completed = sorted(r["session_id"] for r in core if r["completed_at"] is not None)
    assert len(completed) == 4
    messages = asyncio.run(stream_messages(jetstream_clean))
    assert {subject for subject, _, _ in messages} == {"kintell.session.completed.v2", "kintell.session.scheduled.v1"}
    parsed = [JSONFormat().read(SdkCloudEvent, data) for _, _, data in messages]
    done = [event for event in parsed if event.get_type() == "kintell.session.completed"]
    assert sorted(str(event.get_subject()).removeprefix("kintell/sessions/") for event in done) == completed
    outbox = rows(engine, "SELECT event_id::text AS id, natural_key FROM ops.event_outbox WHERE type LIKE 'kintell.%'")
    assert {event.get_id() for event in parsed} == {r["id"] for r in outbox}
    assert {headers["Nats-Msg-Id"] for _, headers, _ in messages} == {r["id"] for r in outbox}
    for event, (_, _, data) in zip(parsed, messages, strict=True):
        assert event.get_type().startswith("kintell.session.")
        assert b"@" not in data
    assert rows(engine, "SELECT count(*) AS n FROM ops.event_outbox WHERE sent_at IS NULL") == [{"n": 0}]

    # API: the participant's profile
    participant = raw[0]["participant_user_id"]
    expected = [r for r in core if participant in (r["participant_user_id"], r["volunteer_user_id"])]
    admin = {"Authorization": f"Bearer {mint_token(teei_env.settings, role='admin')}"}
    with TestClient(create_app(teei_env.settings)) as client:
        response = client.get(f"/v1/profiles/{participant}", headers=admin)
        ready = client.get("/health/ready")
        unknown = client.get(f"/v1/profiles/{'0' * 64}", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == participant
    assert "participant" in body["roles"]
    assert body["activity"]["sessions"] == len(expected)
    assert body["activity"]["hours"] == pytest.approx(sum(float(r["volunteer_hours"] or 0) for r in expected))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["dagster_storage"]["healthy"] is True


def test_the_same_file_again_is_skipped_and_changes_nothing(teei_env: Any, jetstream_clean: str) -> None:
    drop_fixture(teei_env.landing)
    assert teei_run().exit_code == 0
    snapshot = rows(teei_env.engine, "SELECT * FROM raw.kintell_sessions ORDER BY session_id")
    core_snapshot = rows(teei_env.engine, "SELECT * FROM core.kintell_sessions ORDER BY session_id")
    messages = asyncio.run(stream_messages(jetstream_clean))
    # the same bytes under another name are still the same file
    drop_fixture(teei_env.landing, "sessions_small_copy.csv")

    again = teei_run()

    assert again.exit_code == 0, again.output
    # no text changed: Q2Q reads none
    assert "texts scored (Q2Q, rules): 0, unchanged: " in again.output
    loads = rows(teei_env.engine, "SELECT file_name, status, rows_loaded FROM ops.loads ORDER BY load_id")
    assert [load["status"] for load in loads] == ["succeeded", "skipped", "skipped"]
    assert rows(teei_env.engine, "SELECT * FROM raw.kintell_sessions ORDER BY session_id") == snapshot
    assert rows(teei_env.engine, "SELECT * FROM core.kintell_sessions ORDER BY session_id") == core_snapshot
    assert rows(teei_env.engine, "SELECT count(*) AS n FROM ops.quarantine") == [{"n": 1}]
    assert asyncio.run(stream_messages(jetstream_clean)) == messages


def test_events_wait_in_the_outbox_while_nats_is_down_and_go_out_once(
    teei_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A NATS of this test's own, so stopping it disturbs nobody.
    nats = EmbeddedNats(tmp_path / "own-nats", free_port(), free_port())
    nats.start()
    monkeypatch.setenv("TEEI_NATS_URL", nats.url)
    from teei.platform.settings import get_settings

    get_settings.cache_clear()
    drop_fixture(teei_env.landing)
    nats.stop()

    down = teei_run()

    assert down.exit_code == 1
    assert "outbox" in down.output
    pending = rows(teei_env.engine, "SELECT attempts, last_error FROM ops.event_outbox WHERE sent_at IS NULL")
    events = len(pending)
    assert events >= 4  # the four completed sessions, their scheduling and the milestones they reach
    assert all(r["attempts"] == 1 and r["last_error"] for r in pending)

    nats.start()
    try:
        report = publish_outbox(teei_env.engine, nats.url)
        assert (report.sent, report.pending, report.error) == (events, 0, None)
        # a second publish (the sensor's next tick) sends nothing more
        assert publish_outbox(teei_env.engine, nats.url).sent == 0
        assert asyncio.run(stream_total(nats.url)) == events
        # a publisher that died after sending but before marking (its acks lost) sends them again:
        # JetStream drops the replay by Nats-Msg-Id, so the streams still hold each event once
        with teei_env.engine.begin() as db:
            db.execute(sa.text("UPDATE ops.event_outbox SET sent_at = NULL"))
        assert publish_outbox(teei_env.engine, nats.url).sent == events
        assert asyncio.run(stream_total(nats.url)) == events
    finally:
        nats.stop()


async def stream_total(url: str) -> int:
    async with nats_client.connect(url) as connection:
        js = connection.jetstream()
        return sum(int(info.state.messages) for info in await js.streams_info())


def _tables_holding(engine: sa.Engine, needles: set[str], *, schemas: tuple[str, ...]) -> list[str]:
    """Tables in `schemas` where any text or JSON column contains one of `needles`."""
    found = []
    with engine.connect() as db:
        tables = db.execute(
            sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema = ANY(:schemas) ORDER BY 1, 2"
            ),
            {"schemas": list(schemas)},
        ).all()
        for schema, table in tables:
            hit = db.execute(
                sa.text(
                    f'SELECT 1 FROM "{schema}"."{table}" t '
                    "WHERE EXISTS (SELECT 1 FROM unnest(CAST(:needles AS text[])) n "
                    "WHERE strpos(lower(to_jsonb(t)::text), n) > 0) LIMIT 1"
                ),
                {"needles": sorted(needles)},
            ).first()
            if hit:
                found.append(f"{schema}.{table}")
    return found
