"""A failure stays where it happened: one bad file never stops the other files and sources."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from connectors.registry import entity_for_file
from contracts.events import KintellSessionCompletedV2
from teei.cli.errors import DATABASE_ERRORS
from teei.cli.main import app as teei_cli
from teei.cli.pipeline import mark_abandoned_runs
from teei.devtools.docs.events import example_payload
from teei.devtools.services import EmbeddedNats, EmbeddedPostgres, free_port
from teei.events import nats_client
from teei.events.outbox import publish_outbox, stage_payloads
from teei.ingest.loader import load_csv_file
from teei.platform.dagster_home import ensure_dagster_home
from teei.platform.database import create_db_engine
from teei.platform.migrate import migrate

pytestmark = pytest.mark.integration

# One file of each source that no reader can make sense of, next to that source's good files.
BAD_FILES = {
    "kintell/sessions_broken.csv": b"",
    "buddy/matches_broken.csv": b"\xff\xfe\x00\x00not a csv at all",
    "upskilling/credentials_broken.csv": b"just,some,columns\n1,2,3\n",
    "roster/companies_broken.csv": b"\n\n",
}


def stream_counts(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        async with nats_client.connect(url) as connection:
            js = connection.jetstream()
            return {info.config.name or "": info.state.messages for info in await js.streams_info()}

    return asyncio.run(count())


def load_landed(teei_env: Any, relative: str) -> Any:
    """A file of the landing folder through the loader, as a run's raw asset loads it."""
    spec = entity_for_file(Path(relative))
    assert spec is not None
    tz, key = teei_env.settings.tzinfo, "test-pseudonym-key"
    path = teei_env.landing / relative
    return load_csv_file(teei_env.engine, path, spec, timezone=tz, pseudonym_key=key, file_name=relative)


def loads(engine: sa.Engine) -> list[Any]:
    with engine.connect() as db:
        return list(db.execute(sa.text("SELECT * FROM ops.loads ORDER BY load_id")))


def test_a_bad_file_in_each_source_fails_alone_and_is_not_retried_until_it_changes(
    teei_env: Any, jetstream_clean: str
) -> None:
    runner = CliRunner()
    generated = runner.invoke(teei_cli, ["generate", "--scale", "8", "--seed", "3", "--out", str(teei_env.landing)])
    assert generated.exit_code == 0, generated.output
    for relative, content in BAD_FILES.items():
        (teei_env.landing / relative).write_bytes(content)

    first = runner.invoke(teei_cli, ["run"])

    assert first.exit_code == 1, first.output
    failed = [load for load in loads(teei_env.engine) if load.status == "failed"]
    assert sorted(load.file_name for load in failed) == sorted(BAD_FILES)
    assert all(load.failure == "file" and load.error for load in failed)
    # The failures are told first, each with its reason, before the table.
    lines = [line for line in first.output.splitlines() if line.strip()]
    assert all(line.startswith("failed: ") for line in lines[: len(BAD_FILES)]), first.output
    succeeded = [load for load in loads(teei_env.engine) if load.status == "succeeded"]
    assert {load.source for load in succeeded} == {"kintell", "buddy", "upskilling", "roster"}
    with teei_env.engine.connect() as db:
        for table in ("kintell_sessions", "buddy_matches", "credentials", "companies"):
            assert db.execute(sa.text(f"SELECT count(*) FROM core.{table}")).scalar_one() > 0, table
        pending = db.execute(sa.text("SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NULL")).scalar_one()
    assert pending == 0
    on_streams = stream_counts(jetstream_clean)
    assert on_streams["KINTELL"] > 0 and on_streams["BUDDY"] > 0 and on_streams["UPSKILLING"] > 0

    # The next run does not try the same bytes again (the loader is what every run's raw asset calls).
    held = [load_landed(teei_env, relative) for relative in BAD_FILES]

    assert {load.status for load in held} == {"skipped"}
    assert all("not retried" in (load.error or "") and "teei retry --load" in (load.error or "") for load in held)
    assert len([load for load in loads(teei_env.engine) if load.status == "failed"]) == len(BAD_FILES)

    # Changed bytes are a new file: tried at once, without any operator.
    fixed = teei_env.landing / "kintell/sessions_broken.csv"
    fixed.write_bytes(next((teei_env.landing / "kintell").glob("sessions_2*")).read_bytes() + b"\n")
    result = load_landed(teei_env, "kintell/sessions_broken.csv")
    assert result.status == "succeeded" and result.error is None


def test_retry_releases_a_failed_file_and_names_what_cannot_be_retried(teei_env: Any, jetstream_clean: str) -> None:
    (teei_env.landing / "kintell").mkdir()
    broken = teei_env.landing / "kintell/sessions_broken.csv"
    broken.write_bytes(b"")
    failed, held = (load_landed(teei_env, "kintell/sessions_broken.csv") for _ in range(2))
    assert failed.status == "failed" and held.status == "skipped"
    runner = CliRunner()

    unknown = runner.invoke(teei_cli, ["retry", "--load", str(failed.load_id + 1000)])
    retried = runner.invoke(teei_cli, ["retry", "--load", str(failed.load_id)])

    assert unknown.exit_code == 2
    assert f"load {failed.load_id + 1000} cannot be retried: no such load" in unknown.output
    assert retried.exit_code == 1, retried.output  # the same empty bytes fail again, once more
    after = loads(teei_env.engine)
    assert [load.status for load in after] == ["failed", "skipped", "failed"]
    assert after[0].released_at is not None


def test_a_failed_publish_records_attempts_and_the_error_on_every_pending_row(engine: sa.Engine) -> None:
    example = example_payload(KintellSessionCompletedV2)
    payloads = [example.model_copy(update={"session_id": f"S-{i}"}) for i in range(25)]
    with engine.begin() as db:
        stage_payloads(db, payloads)

    report = publish_outbox(engine, f"nats://127.0.0.1:{free_port()}", batch_size=10)

    assert report.sent == 0 and report.pending == 25 and report.error
    with engine.connect() as db:
        accounted = db.execute(sa.text("SELECT attempts, last_error FROM ops.event_outbox")).all()
    assert len(accounted) == 25
    assert all(row.attempts == 1 and row.last_error == report.error for row in accounted)


def test_a_killed_run_is_marked_failed_in_dagster_by_the_next_run(teei_env: Any, jetstream_clean: str) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    runner = CliRunner()
    assert runner.invoke(teei_cli, ["generate", "--scale", "20", "--out", str(teei_env.landing)]).exit_code == 0
    teei = Path(sys.executable).with_name("teei")
    killed = subprocess.Popen(
        [str(teei), "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not any(load.status == "succeeded" for load in loads(teei_env.engine)):
            assert killed.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.2)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()

    # What `teei run` does first when it starts again (the daemon's run monitoring does it for launched runs).
    ensure_dagster_home(teei_env.settings)
    with DagsterInstance.get() as instance:
        before = [run.status for run in instance.get_runs()]
        marked = mark_abandoned_runs(instance)
        after = {run.run_id: run.status for run in instance.get_runs()}

    assert before == [DagsterRunStatus.STARTED]
    assert len(marked) == 1 and after[marked[0]] == DagsterRunStatus.FAILURE
    # The load the kill cut off (if any was running) is recorded failed by the next load of its entity.
    for relative in {load.file_name for load in loads(teei_env.engine) if load.status == "running"}:
        load_landed(teei_env, relative)
    assert not [load for load in loads(teei_env.engine) if load.status == "running"]


def test_losing_the_database_mid_run_ends_it_in_bounded_time_in_one_line_and_the_next_run_recovers(
    nats_server: EmbeddedNats,
) -> None:
    base = Path(tempfile.mkdtemp(prefix="teei-lost-db-"))
    base.chmod(0o711)  # ours: traversable, so the unprivileged PostgreSQL user reaches its folders
    postgres = EmbeddedPostgres(base / "own-postgres", free_port())
    postgres.start()
    try:
        migrate(postgres.url)
        environment = {
            **os.environ,
            "TEEI_DATABASE_URL": postgres.url,
            "TEEI_NATS_URL": nats_server.url,
            "TEEI_HOME": str(base / "home"),
            "TEEI_LANDING_DIR": str(base / "landing"),
            "DAGSTER_HOME": str(base / "dagster"),
        }
        teei = str(Path(sys.executable).with_name("teei"))
        subprocess.run(
            [teei, "generate", "--scale", "40", "--out", str(base / "landing")], check=True, capture_output=True
        )
        engine = create_db_engine(postgres.url, pool_size=1)
        running = subprocess.Popen(
            [teei, "run"], env=environment, cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while not any(load.status == "succeeded" for load in loads(engine)):
            assert running.poll() is None and time.monotonic() < deadline, "the run ended before the database stopped"
            time.sleep(0.1)
        engine.dispose()

        postgres.stop()
        out, err = running.communicate(timeout=120)  # bounded: never waiting on a closed connection

        assert running.returncode == 1, out + err
        assert "Traceback" not in out + err, (out + err)[-3000:]
        error_lines = [line for line in err.splitlines() if line.strip()]
        assert len(error_lines) == 1 and error_lines[0].startswith("error: lost the database"), err

        postgres.start()
        # What the next run's raw assets do: load every waiting file; the interrupted load is found first.
        engine = create_db_engine(postgres.url, pool_size=1)
        settings_key = environment.get("TEEI_PSEUDONYM_KEY", "dev-only-change-me")
        for path in sorted((base / "landing").rglob("*.csv")):
            relative = str(path.relative_to(base / "landing"))
            spec = entity_for_file(Path(relative))
            assert spec is not None
            result = load_csv_file(
                engine, path, spec, timezone=ZoneInfo("Europe/Oslo"), pseudonym_key=settings_key, file_name=relative
            )
            assert result.status in {"succeeded", "skipped"}, result
        after = loads(engine)
        engine.dispose()
        assert not [load for load in after if load.status == "running"]
        assert all(
            load.failure == "service" and "interrupted" in load.error for load in after if load.status == "failed"
        )
        files = {load.file_name for load in after}
        assert files == {load.file_name for load in after if load.status in {"succeeded", "skipped"}}
    finally:
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_losing_the_database_mid_publish_raises_in_bounded_time_and_nothing_is_lost_or_doubled(
    jetstream_clean: str,
) -> None:
    base = Path(tempfile.mkdtemp(prefix="teei-lost-db-publish-"))
    base.chmod(0o711)
    postgres = EmbeddedPostgres(base / "own-postgres", free_port())
    postgres.start()
    try:
        migrate(postgres.url)
        engine = create_db_engine(postgres.url, pool_size=2)
        example = example_payload(KintellSessionCompletedV2)
        with engine.begin() as db:
            stage_payloads(db, [example.model_copy(update={"session_id": f"S-{i}"}) for i in range(60_000)])
        outcome: dict[str, Any] = {}

        def publish() -> None:
            try:
                outcome["report"] = publish_outbox(engine, jetstream_clean, batch_size=1000)
            except Exception as exc:
                outcome["error"] = exc

        publisher = threading.Thread(target=publish)
        publisher.start()
        deadline = time.monotonic() + 120
        while stream_counts(jetstream_clean).get("KINTELL", 0) < 2000:
            assert publisher.is_alive() and time.monotonic() < deadline, "publishing ended before the database stopped"
            time.sleep(0.05)
        postgres.stop()
        publisher.join(timeout=120)

        assert not publisher.is_alive()  # bounded: it did not wait on a closed connection
        assert isinstance(outcome.get("error"), DATABASE_ERRORS), outcome
        postgres.start()
        engine.dispose()
        report = publish_outbox(engine, jetstream_clean, batch_size=5000)
        with engine.connect() as db:
            unsent: int = db.execute(
                sa.text("SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NULL")
            ).scalar_one()
        engine.dispose()
        assert report.error is None and unsent == 0
        # Rows sent before the loss but not yet marked went out again: the server dropped them by Nats-Msg-Id.
        assert stream_counts(jetstream_clean)["KINTELL"] == 60_000
    finally:
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)
