"""The Dagster instance home: run, event and schedule storage in PostgreSQL (dagster-postgres)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from teei.platform.settings import Settings

STORAGE_URL_VARIABLE = "TEEI_DAGSTER_STORAGE_URL"


def dagster_storage_url(postgres_url: str) -> str:
    """dagster-postgres interpolates parameters client-side (psycopg2); SQLAlchemy 2.1 would pick psycopg 3."""
    return make_url(postgres_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def ensure_dagster_home(settings: Settings) -> Path:
    """Write `dagster.yaml` under DAGSTER_HOME and point this process (and its children) at it.

    The storage URL is passed through the environment, never written to disk, so the file holds
    no password and follows TEEI_DATABASE_URL.
    """
    home = settings.dagster_home_path
    home.mkdir(parents=True, exist_ok=True)
    config = {
        "storage": {"postgres": {"postgres_url": {"env": STORAGE_URL_VARIABLE}}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": 2},
        },
        # The daemon marks a run whose worker died (killed, out of memory, host lost) failed instead of
        # leaving it STARTED for ever; `teei run` does the same for its own runs when it next starts.
        "run_monitoring": {"enabled": True, "start_timeout_seconds": 180, "max_resume_run_attempts": 0},
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
    }
    text = "# Written by `teei`; edit the TEEI_* settings instead.\n" + yaml.safe_dump(config, sort_keys=False)
    config_file = home / "dagster.yaml"
    if not config_file.exists() or config_file.read_text() != text:
        config_file.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[STORAGE_URL_VARIABLE] = dagster_storage_url(settings.postgres_url)
    return home
