"""What `teei up` serves: the bundled sample in the landing folder, the Dagster UI and daemon, the API,
the consumer and dbt's docs, each a child process logging under `$TEEI_HOME/logs`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from teei.platform.packaged_files import DBT_PROJECT_DIR
from teei.platform.settings import Settings


def stage_sample_data(settings: Settings, sample_dir: Path | None = None) -> list[Path]:
    """Copy the bundled sample exports into the landing folder (files already there are kept)."""
    from teei.devtools.generate import BUNDLED_SAMPLE_DIR

    sample_dir = sample_dir or BUNDLED_SAMPLE_DIR
    copied = []
    for sample in sorted(sample_dir.rglob("*.csv")):
        target = settings.landing_path / sample.relative_to(sample_dir)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample, target)
            copied.append(target)
    from connectors.registry import ENTITIES

    for source in dict.fromkeys(spec.source for spec in ENTITIES.values()):
        (settings.landing_path / source).mkdir(parents=True, exist_ok=True)
    return copied


def dbt_docs_dir(settings: Settings) -> Path:
    # Beside the other run-time data, not in dbt_project/target, which holds the manifest Dagster loads.
    return settings.home_dir / "dbt-docs"


def generate_dbt_docs(settings: Settings) -> bool:
    """dbt's docs site against the running database (its catalog has the real column types)."""
    from orchestration.defs.dbt import dbt_environment

    logs = settings.home_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    dbt = str(Path(sys.executable).parent / "dbt")
    project = str(DBT_PROJECT_DIR)
    command = [dbt, "docs", "generate", "--static", "--project-dir", project, "--profiles-dir", project]
    with (logs / "dbt-docs.log").open("wb") as log:
        result = subprocess.run(
            [*command, "--target-path", str(dbt_docs_dir(settings))],
            cwd=settings.home_dir,
            env={**os.environ, **dbt_environment(settings.postgres_url)},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return result.returncode == 0


def serve(settings: Settings, *, dbt_docs: bool) -> list[subprocess.Popen[bytes]]:
    bin_dir = Path(sys.executable).parent
    # The code location by module, not by workspace.yaml, so an installed wheel serves from anywhere.
    code_location = ["-m", "orchestration.definitions"]
    logs = settings.home_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    commands = {
        "dagster-webserver": [
            str(bin_dir / "dagster-webserver"),
            *code_location,
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.dagster_port),
        ],
        "dagster-daemon": [str(bin_dir / "dagster-daemon"), "run", *code_location],
        "consumer": [str(bin_dir / "teei"), "consume"],
        "api": [
            str(bin_dir / "uvicorn"),
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(settings.api_port),
        ],
    }
    if dbt_docs:
        project = str(DBT_PROJECT_DIR)
        commands["dbt-docs"] = [
            str(bin_dir / "dbt"),
            "docs",
            "serve",
            "--project-dir",
            project,
            "--profiles-dir",
            project,
            "--target-path",
            str(dbt_docs_dir(settings)),
            "--host",
            "127.0.0.1",
            "--port",
            str(settings.docs_port),
            "--no-browser",
        ]
    processes = []
    for name, command in commands.items():
        with (logs / f"{name}.log").open("ab") as log:
            processes.append(
                subprocess.Popen(
                    command, cwd=settings.home_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    return processes


def print_totals(settings: Settings, console: Console) -> None:
    """What the database holds now, so a second `make up` (everything skipped) still says something."""
    import sqlalchemy as sa

    from connectors.registry import ENTITIES
    from teei.platform.database import create_db_engine

    engine = create_db_engine(settings.postgres_url, pool_size=1)
    with engine.connect() as db:
        counts = [
            f"raw.{raw_table} {db.execute(sa.text(f'SELECT count(*) FROM raw.{raw_table}')).scalar_one()}"
            for raw_table in dict.fromkeys(spec.raw_table for spec in ENTITIES.values())
        ]
        quarantined: int = db.execute(sa.text("SELECT count(*) FROM ops.quarantine")).scalar_one()
        sent: int = db.execute(sa.text("SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NOT NULL")).scalar_one()
    engine.dispose()
    console.print(f"in the database: {', '.join(counts)} rows; {quarantined} in quarantine; {sent} events sent")


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
