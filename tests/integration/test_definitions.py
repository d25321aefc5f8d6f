"""The Dagster code location: it validates, ingest, dbt and the outbox form one lineage graph, and its
sensors and schedule are on by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from connectors.registry import ENTITIES
from orchestration.definitions import defs

PROJECT = Path(__file__).parents[2]


def test_definitions_validate_as_the_ui_loads_them() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_raw_staging_core_and_outbox_are_one_lineage_graph() -> None:
    graph = defs().resolve_asset_graph()
    raw = dg.AssetKey(["raw", "kintell_sessions"])
    staging = dg.AssetKey(["staging", "stg_kintell__sessions"])
    core = dg.AssetKey(["core", "kintell_sessions"])
    outbox = dg.AssetKey(["ops", "event_outbox"])
    assert raw in graph.get(staging).parent_keys
    assert staging in graph.get(core).parent_keys
    assert core in graph.get(outbox).parent_keys
    assert graph.get(raw).group_name == "kintell"


def test_the_nightly_schedule_and_the_publish_sensor_are_on_by_default() -> None:
    definitions = defs()
    schedule = definitions.resolve_schedule_def("nightly_pipeline")
    sensor = definitions.resolve_sensor_def("publish_event_outbox")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_every_source_has_a_landing_sensor_on_by_default_running_the_pipeline_job() -> None:
    definitions = defs()
    sources = {spec.source for spec in ENTITIES.values()}
    for source in sources:
        sensor = definitions.resolve_sensor_def(f"{source}_landing_sensor")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.job_name == "teei_pipeline"
        assert sensor.minimum_interval_seconds and sensor.minimum_interval_seconds >= 10
        assert sensor.description and f"{source}/" in sensor.description
    landing = {s.name for s in definitions.sensors or [] if s.name.endswith("_landing_sensor")}
    assert landing == {f"{source}_landing_sensor" for source in sources}


def test_every_raw_asset_feeds_the_shared_schema_and_dbt_tests_are_asset_checks() -> None:
    graph = defs().resolve_asset_graph()
    for spec in ENTITIES.values():
        raw = dg.AssetKey(["raw", spec.asset_name])
        children = {key.path[0] for key in graph.get(raw).child_keys}
        assert "staging" in children or "pii" in children, spec.asset_name
    # both upskilling adapters land in one raw table and both feed its staging model
    progress = graph.get(dg.AssetKey(["staging", "stg_upskilling__progress"])).parent_keys
    assert {dg.AssetKey(["raw", "upskilling_ecornell"]), dg.AssetKey(["raw", "upskilling_itslearning"])} <= progress
    # dbt's data tests show on their model's asset in the UI, as asset checks
    checks = {key.asset_key for key in graph.asset_check_keys}
    for model in ("users", "kintell_sessions", "participant_journey", "metrics_company_period"):
        assert dg.AssetKey(["core", model]) in checks, model


def test_the_nightly_run_tests_every_row_and_other_builds_the_changed_rows() -> None:
    from orchestration.defs.dbt import TEST_ALL_ROWS_TAG, dbt_build_args

    schedule = defs().resolve_schedule_def("nightly_pipeline")
    assert schedule.tags[TEST_ALL_ROWS_TAG] == "true"
    assert dbt_build_args(schedule.tags)[-2:] == ["--vars", '{"test_all_rows": true}']
    assert "--vars" not in dbt_build_args({})
