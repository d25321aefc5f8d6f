"""The `teei` commands an operator uses on a loaded database: quarantine and reset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from connectors.registry import get_entity
from teei.cli.main import app as teei_cli
from teei.ingest.loader import load_csv_file
from teei.platform.migrate import head_revision

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kintell" / "sessions_small.csv"


def load_fixture(teei_env: Any) -> int:
    result = load_csv_file(
        teei_env.engine,
        FIXTURE,
        get_entity("kintell", "sessions"),
        timezone=teei_env.settings.tzinfo,
        pseudonym_key="k",
    )
    return result.load_id


def test_quarantine_prints_each_rejected_row_with_its_reasons(teei_env: Any) -> None:
    load_id = load_fixture(teei_env)

    shown = CliRunner().invoke(teei_cli, ["quarantine", "--load", str(load_id)])

    assert shown.exit_code == 0, shown.output
    assert "KS-1007" in shown.output
    assert "session_type" in shown.output and "duration_minutes" in shown.output
    other = CliRunner().invoke(teei_cli, ["quarantine", "--load", str(load_id + 1)])
    assert "no quarantined rows" in other.output


def test_db_reset_drops_the_data_and_leaves_a_migrated_database(teei_env: Any) -> None:
    load_fixture(teei_env)

    refused = CliRunner().invoke(teei_cli, ["db", "reset"], input="n\n")
    assert refused.exit_code == 1
    with teei_env.engine.connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM raw.kintell_sessions")).scalar_one() == 6
    reset = CliRunner().invoke(teei_cli, ["db", "reset", "--yes"])

    assert reset.exit_code == 0, reset.output
    with teei_env.engine.connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM raw.kintell_sessions")).scalar_one() == 0
        assert db.execute(sa.text("SELECT count(*) FROM ops.loads")).scalar_one() == 0
        assert db.execute(sa.text("SELECT version_num FROM ops.alembic_version")).scalar_one() == head_revision()


def test_generated_exports_of_every_kind_run_through_the_pipeline_with_the_manifest_counts(
    teei_env: Any, jetstream_clean: str
) -> None:
    generated = CliRunner().invoke(
        teei_cli, ["generate", "--scale", "12", "--seed", "5", "--messy", "--out", str(teei_env.landing)]
    )
    assert generated.exit_code == 0, generated.output
    manifest = json.loads((teei_env.landing / "manifest.json").read_text())

    ran = CliRunner().invoke(teei_cli, ["run"], catch_exceptions=False)

    assert ran.exit_code == 0, ran.output
    with teei_env.engine.connect() as db:
        loads = {
            row.file_name: (row.status, row.rows_in, row.rows_loaded, row.rows_quarantined, row.rows_duplicate)
            for row in db.execute(sa.text("SELECT * FROM ops.loads"))
        }
    assert loads == {
        name: ("succeeded", c["rows_in"], c["rows_loaded"], c["rows_quarantined"], c["rows_duplicate"])
        for name, c in manifest["files"].items()
    }
    assert len({name.split("/")[0] + "/" + c["entity"] for name, c in manifest["files"].items()}) == 11
    for name in manifest["files"]:
        assert name in ran.output  # the per-file table
