"""`teei services`: embedded PostgreSQL and NATS under a home folder, started as a user would."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from teei.cli.main import app as teei_cli
from teei.devtools.services import EmbeddedNats, EmbeddedPostgres, ServiceError, Services, free_port
from teei.platform.migrate import head_revision
from teei.platform.settings import get_settings, load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # pytest's tmp_path sits in a root-only folder; the unprivileged PostgreSQL user needs a path it
    # can traverse, so this folder (ours, just made) is opened for traversal only.
    base = Path(tempfile.mkdtemp(prefix="teei-services-"))
    base.chmod(0o711)
    home = base / "teei-home"
    monkeypatch.chdir(base)
    for name, value in {
        "TEEI_HOME": str(home),
        "TEEI_POSTGRES_PORT": str(free_port()),
        "TEEI_NATS_PORT": str(free_port()),
        "TEEI_NATS_MONITOR_PORT": str(free_port()),
        # Set here so it is restored afterwards: `teei run` points DAGSTER_HOME at this home for the process.
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("TEEI_DATABASE_URL", "TEEI_NATS_URL"):
        monkeypatch.delenv(name, raising=False)
    # The Dagster resources read the process-wide settings: read them again from this environment.
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    Services(load_settings()).stop()
    shutil.rmtree(base, ignore_errors=True)


def test_start_is_idempotent_status_prints_urls_and_stop_stops(home: Path) -> None:
    runner = CliRunner()
    try:
        first = runner.invoke(teei_cli, ["services", "start"])
        assert first.exit_code == 0, first.output
        assert "started postgres" in first.output and "started nats" in first.output

        again = runner.invoke(teei_cli, ["services", "start"])
        assert again.exit_code == 0, again.output
        assert "started" not in again.output

        status = runner.invoke(teei_cli, ["services", "status"])
        assert status.exit_code == 0, status.output
        url = next(word for word in status.output.split() if word.startswith("postgresql://"))
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("teei",)
        assert "nats://127.0.0.1:" in status.output
        assert (home / "postgres" / "data" / "PG_VERSION").exists()
    finally:
        stop = runner.invoke(teei_cli, ["services", "stop"])
    assert stop.exit_code == 0
    assert "stopped nats, postgres" in stop.output
    down = runner.invoke(teei_cli, ["services", "status"])
    assert down.exit_code == 1
    assert "stopped" in down.output


def test_a_taken_port_is_named(home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ServiceError, match=rf"port {port} .* TEEI_POSTGRES_PORT"):
            EmbeddedPostgres(home, port).start()


def test_a_damaged_data_folder_is_named(home: Path) -> None:
    data = home / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "base").mkdir()  # leftovers, but no PG_VERSION
    result = CliRunner().invoke(teei_cli, ["services", "start"])
    assert result.exit_code == 1
    assert "damaged" in result.output and "data" in result.output


def test_external_services_are_used_and_nothing_is_started(
    home: Path, postgres_server: EmbeddedPostgres, nats_server: EmbeddedNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEEI_DATABASE_URL", postgres_server.url)
    monkeypatch.setenv("TEEI_NATS_URL", nats_server.url)
    runner = CliRunner()

    started = runner.invoke(teei_cli, ["services", "start"])

    assert started.exit_code == 0, started.output
    assert "started" not in started.output
    assert not (home / "postgres").exists()
    assert not (home / "nats").exists()
    assert started.output.count("external") == 2
    assert postgres_server.url.replace(":teei@", ":***@") in started.output


def test_run_on_a_fresh_home_brings_the_database_to_the_current_migration_first(home: Path) -> None:
    runner = CliRunner()
    try:
        assert runner.invoke(teei_cli, ["services", "start"]).exit_code == 0

        ran = runner.invoke(teei_cli, ["run"])

        assert ran.exit_code == 0, ran.output
        assert "(no files waiting)" in ran.output
        with psycopg.connect(load_settings().postgres_url) as connection:
            assert connection.execute("SELECT version_num FROM ops.alembic_version").fetchone() == (head_revision(),)
            assert connection.execute("SELECT count(*) FROM ops.loads").fetchone() == (0,)
    finally:
        runner.invoke(teei_cli, ["services", "stop"])


def test_an_unreachable_database_is_one_line_and_exit_code_1_not_a_traceback(home: Path) -> None:
    environment = {**os.environ, "TEEI_DATABASE_URL": f"postgresql://teei:teei@127.0.0.1:{free_port()}/teei"}
    teei = Path(sys.executable).with_name("teei")

    ran = subprocess.run([str(teei), "run"], env=environment, capture_output=True, text=True, timeout=120)

    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr + ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith("error: lost the database at 127.0.0.1:")
    assert "teei services status" in lines[0]
