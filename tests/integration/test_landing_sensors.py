"""Landing-folder sensors, evaluated as the Dagster daemon does: files in a real folder, the cursor
carried from tick to tick, run requests of the pipeline job limited to what the new files feed."""

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from orchestration.resources import PlatformResource
from teei.platform.settings import get_settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kintell" / "sessions_small.csv"
BUDDY_MATCHES_CSV = (
    "match_id,participant_email,buddy_email,matched_at\nm-1,p@example.org,b@example.org,2025-01-02T10:00:00Z\n"
)

RAW_SESSIONS = dg.AssetKey(["raw", "kintell_sessions"])
RAW_RATINGS = dg.AssetKey(["raw", "kintell_ratings"])
RAW_MATCHES = dg.AssetKey(["raw", "buddy_matches"])
STAGING_SESSIONS = dg.AssetKey(["staging", "stg_kintell__sessions"])
CORE_SESSIONS = dg.AssetKey(["core", "kintell_sessions"])
OUTBOX = dg.AssetKey(["ops", "event_outbox"])

pytestmark = pytest.mark.integration


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A landing folder of this test, and a database nobody listens on: a sensor must not need one."""
    folder = tmp_path / "landing"
    folder.mkdir()
    monkeypatch.setenv("TEEI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TEEI_LANDING_DIR", str(folder))
    monkeypatch.setenv("TEEI_DATABASE_URL", "postgresql://nobody:nothing@127.0.0.1:9/none")
    monkeypatch.chdir(tmp_path)  # no stray .env of the developer's
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture
def definitions(landing: Path) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


class Ticks:
    """Evaluates one sensor tick after tick, carrying the cursor like the daemon."""

    def __init__(self, definitions: dg.Definitions, instance: dg.DagsterInstance, sensor: str) -> None:
        self.definitions = definitions
        self.instance = instance
        self.sensor = definitions.resolve_sensor_def(sensor)
        self.cursor: str | None = None

    def tick(self) -> Any:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=self.definitions,
            resources={"platform": PlatformResource()},
        )
        data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return data


def drop(landing: Path, relative: str, content: bytes | None = None) -> Path:
    target = landing / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        shutil.copyfile(FIXTURE, target)
    else:
        target.write_bytes(content)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def kintell(definitions: dg.Definitions, instance: dg.DagsterInstance) -> Ticks:
    return Ticks(definitions, instance, "kintell_landing_sensor")


def test_a_new_sessions_file_requests_one_run_of_its_raw_asset_and_everything_downstream(
    landing: Path, kintell: Ticks
) -> None:
    path = drop(landing, "kintell/sessions_small.csv")

    data = kintell.tick()

    [request] = data.run_requests
    selection = set(request.asset_selection)
    assert {RAW_SESSIONS, STAGING_SESSIONS, CORE_SESSIONS, OUTBOX} <= selection
    assert RAW_MATCHES not in selection
    assert RAW_RATINGS not in selection
    assert request.run_key == sha256(path)
    assert request.tags["teei/landing_files"] == "kintell/sessions_small.csv"
    assert request.tags["teei/trigger"] == "kintell_landing_sensor"
    # the job it runs is the pipeline, limited by the selection
    assert kintell.sensor.job_name == "teei_pipeline"
    assert json.loads(data.cursor)["files"]["kintell/sessions_small.csv"][2] == sha256(path)


def test_the_next_tick_with_nothing_new_skips(landing: Path, kintell: Ticks) -> None:
    drop(landing, "kintell/sessions_small.csv")
    first = kintell.tick()

    again = kintell.tick()

    assert again.run_requests == []
    assert again.skip_message and "no new files" in again.skip_message
    assert again.cursor == first.cursor


def test_an_empty_or_missing_folder_skips(landing: Path, kintell: Ticks) -> None:
    assert kintell.tick().run_requests == []
    (landing / "kintell").mkdir()
    data = kintell.tick()
    assert data.run_requests == []
    assert data.skip_message


def test_the_same_bytes_under_another_name_request_nothing(landing: Path, kintell: Ticks) -> None:
    drop(landing, "kintell/sessions_small.csv")
    kintell.tick()
    drop(landing, "kintell/sessions_small_copy.csv")

    data = kintell.tick()

    assert data.run_requests == []
    # the copy is remembered, so the tick after neither hashes nor requests it
    assert "kintell/sessions_small_copy.csv" in json.loads(data.cursor)["files"]
    assert kintell.tick().cursor == data.cursor


def test_two_identical_new_files_in_one_tick_are_one_request(landing: Path, kintell: Ticks) -> None:
    drop(landing, "kintell/sessions_a.csv")
    drop(landing, "kintell/sessions_b.csv")

    [request] = kintell.tick().run_requests

    assert request.run_key == sha256(FIXTURE)


def test_a_changed_file_requests_a_new_run(landing: Path, kintell: Ticks) -> None:
    path = drop(landing, "kintell/sessions_small.csv")
    [first] = kintell.tick().run_requests
    path.write_bytes(FIXTURE.read_bytes().replace(b"Mentorship", b"Mentor session", 1) + b"\n")

    [second] = kintell.tick().run_requests

    assert second.run_key == sha256(path) != first.run_key
    assert RAW_SESSIONS in second.asset_selection
    assert kintell.tick().run_requests == []


def test_new_files_of_two_entities_in_one_tick_are_one_run_of_both(landing: Path, kintell: Ticks) -> None:
    sessions = drop(landing, "kintell/sessions_small.csv")
    ratings = drop(
        landing, "kintell/Ratings-2025-01.CSV", b"rating_id,session_id,from_role,rating\nr1,s1,participant,5\n"
    )

    [request] = kintell.tick().run_requests

    assert {RAW_SESSIONS, RAW_RATINGS, CORE_SESSIONS} <= set(request.asset_selection)
    assert request.tags["teei/landing_files"] == "kintell/Ratings-2025-01.CSV, kintell/sessions_small.csv"
    expected_key = hashlib.sha256("\n".join(sorted([sha256(sessions), sha256(ratings)])).encode()).hexdigest()
    assert request.run_key == expected_key


def test_files_of_no_entity_are_ignored(landing: Path, kintell: Ticks) -> None:
    drop(landing, "kintell/notes.txt", b"not an export")
    drop(landing, "kintell/unknown_export.csv")
    drop(landing, "kintell/sessions_partial.csv.part")
    drop(landing, "kintell/archive/sessions_old.csv")
    drop(landing, "sessions_at_the_top.csv")

    data = kintell.tick()

    assert data.run_requests == []
    assert data.skip_message


def test_a_buddy_file_triggers_the_buddy_sensor_not_the_kintell_one(
    landing: Path, kintell: Ticks, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    drop(landing, "buddy/matches_2025.csv", BUDDY_MATCHES_CSV.encode())
    buddy = Ticks(definitions, instance, "buddy_landing_sensor")

    assert kintell.tick().run_requests == []
    [request] = buddy.tick().run_requests

    assert RAW_MATCHES in request.asset_selection
    assert RAW_SESSIONS not in request.asset_selection
    # the models its models read are built too (a first buddy file before any kintell one), not kintell's ingest
    assert CORE_SESSIONS in request.asset_selection


def test_an_unchanged_file_is_not_hashed_again(landing: Path, kintell: Ticks) -> None:
    path = drop(landing, "kintell/sessions_small.csv")
    stat = path.stat()
    # A cursor that remembers this size and mtime with some hash: the sensor trusts it, reading nothing.
    kintell.cursor = json.dumps(
        {"version": 1, "files": {"kintell/sessions_small.csv": [stat.st_size, stat.st_mtime_ns, "0" * 64]}}
    )

    data = kintell.tick()

    assert data.run_requests == []
    assert json.loads(data.cursor)["files"]["kintell/sessions_small.csv"][2] == "0" * 64


def test_an_unreadable_cursor_means_every_file_is_requested_once_more(landing: Path, kintell: Ticks) -> None:
    drop(landing, "kintell/sessions_small.csv")
    kintell.cursor = "not json"

    assert len(kintell.tick().run_requests) == 1
    assert kintell.tick().run_requests == []


def test_a_removed_file_leaves_the_cursor(landing: Path, kintell: Ticks) -> None:
    path = drop(landing, "kintell/sessions_small.csv")
    kintell.tick()
    path.unlink()

    data = kintell.tick()

    assert data.run_requests == []
    assert json.loads(data.cursor)["files"] == {}


def test_the_requested_run_loads_the_file_into_raw_and_core(teei_env: Any) -> None:
    from orchestration.definitions import defs

    drop(teei_env.landing, "kintell/sessions_small.csv")
    definitions = defs()
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(
            instance=instance, definitions=definitions, resources={"platform": PlatformResource()}
        )
        sensor = definitions.resolve_sensor_def("kintell_landing_sensor")
        [request] = sensor.evaluate_tick(context).run_requests or []
        assert sensor.job_name

        # what the daemon launches for the request: the sensor's job, limited to the request's selection
        result = definitions.resolve_job_def(sensor.job_name).execute_in_process(
            instance=instance, asset_selection=request.asset_selection, tags=request.tags
        )

        assert result.success
        materialized = {event.asset_key for event in result.get_asset_materialization_events()}
        assert {RAW_SESSIONS, CORE_SESSIONS, OUTBOX} <= materialized
        assert RAW_MATCHES not in materialized
        # the dbt tests of the selected models run with them, as asset checks
        checks = result.get_asset_check_evaluations()
        assert any(check.asset_key == CORE_SESSIONS for check in checks)
        assert all(check.passed for check in checks)
        assert result.dagster_run.tags["teei/landing_files"] == "kintell/sessions_small.csv"
    with teei_env.engine.connect() as db:
        raw = db.execute(sa.text("SELECT count(*) FROM raw.kintell_sessions")).scalar_one()
        core = db.execute(sa.text("SELECT count(*) FROM core.kintell_sessions")).scalar_one()
        files = db.execute(sa.text("SELECT file_name FROM ops.loads")).scalars().all()
    assert raw == core == 6
    assert files == ["kintell/sessions_small.csv"]
