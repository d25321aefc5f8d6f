"""`teei run`: the whole pipeline once, headless, through Dagster's own API on the PostgreSQL instance."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from teei.cli.errors import DATABASE_ERRORS, operator_message
from teei.events.outbox import PublishReport, publish_outbox
from teei.platform.dagster_home import ensure_dagster_home
from teei.platform.database import create_db_engine
from teei.platform.processes import pid_alive
from teei.platform.settings import Settings


@dataclass
class PipelineSummary:
    run_id: str
    succeeded: bool
    loads: list[dict[str, Any]] = field(default_factory=list)
    steps_failed: list[str] = field(default_factory=list)
    publish: PublishReport | None = None
    error: str | None = None
    log_file: str | None = None
    materialized: int = 0
    total: int = 0
    # The Q2Q asset's counts (texts_scored, texts_unchanged, texts_unscorable, …), when it ran.
    q2q: dict[str, Any] | None = None


def run_pipeline(settings: Settings, *, on_progress: Any = None) -> PipelineSummary:
    """Materialize every asset in one Dagster run, then publish the outbox (what the sensor does).

    `on_progress(done, total, label)` is called as assets materialize.
    """
    ensure_dagster_home(settings)
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.defs.outcomes import OUTCOME_SCORES_KEY
    from orchestration.defs.pipeline import pipeline_job

    definitions = defs()
    job = definitions.resolve_job_def(pipeline_job.name)
    total = len(definitions.resolve_asset_graph().get_all_asset_keys() - _external_keys(definitions))
    engine = create_db_engine(settings.postgres_url, pool_size=1, application_name="teei-run")
    try:
        with engine.connect() as db:
            last_load: int = db.execute(sa.text("SELECT coalesce(max(load_id), 0) FROM ops.loads")).scalar_one()
        run_id = str(uuid.uuid4())
        with DagsterInstance.get() as instance:
            mark_abandoned_runs(instance)
            outcome: dict[str, Any] = {}

            def execute() -> None:
                try:
                    outcome["result"] = job.execute_in_process(
                        instance=instance,
                        run_id=run_id,
                        raise_on_error=False,
                        tags={TRIGGER_TAG: "teei run", HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())},
                        # The run's log goes to the log file below (and the Dagster UI); the terminal shows
                        # progress and a summary.
                        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                    )
                except Exception as exc:  # reported below, never swallowed
                    outcome["error"] = exc

            worker = threading.Thread(target=execute, name="teei-run", daemon=True)
            log_file = settings.home_dir / "logs" / "teei-run.log"
            log_file.parent.mkdir(parents=True, exist_ok=True)
            # dbt's own output (streamed by dagster-dbt to stdout) and Dagster's error logs with their
            # tracebacks go to a log file, not the terminal: the summary tells what failed, in one line each.
            # The file stays open after the run: log handlers made during it (Dagster's, SQLAlchemy's) keep
            # writing there instead of failing on a closed file and printing their own tracebacks.
            log = log_file.open("w")
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                worker.start()
                materialized = _watch(instance, run_id, worker, total, on_progress)
            summary = PipelineSummary(
                run_id=run_id,
                succeeded=False,
                log_file=str(log_file),
                materialized=materialized,
                total=total,
                q2q=_materialization_metadata(instance, run_id, OUTCOME_SCORES_KEY),
            )
            if "error" in outcome:
                error = outcome["error"]
                lost = operator_message(error, postgres_url=settings.postgres_url)
                summary.error = lost or f"{type(error).__name__}: {error}"
            else:
                result = outcome["result"]
                summary.succeeded = result.success
                summary.steps_failed = [event.step_key or "" for event in result.all_events if event.is_step_failure]
                if not result.success:
                    summary.error = _first_failure(result)
        try:
            summary.loads = _loads_since(engine, last_load)
            summary.publish = publish_outbox(engine, settings.nats_server_url)
        except DATABASE_ERRORS as exc:
            # The database went away during the run: say so in one line, with what was done before it.
            summary.succeeded = False
            summary.error = operator_message(exc, postgres_url=settings.postgres_url)
            return summary
        if summary.publish.error:
            summary.succeeded = False
            summary.error = summary.error or f"events wait in the outbox: {summary.publish.error}"
        return summary
    finally:
        engine.dispose()


TRIGGER_TAG = "teei/trigger"
HOST_TAG = "teei/host"
PID_TAG = "teei/pid"


def mark_abandoned_runs(instance: Any) -> list[str]:
    """Mark failed the runs of `teei run` on this host whose process is gone (killed, or lost its
    database mid-run), so none stays STARTED in Dagster's storage for ever; returns their ids."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED],
            tags={TRIGGER_TAG: "teei run", HOST_TAG: socket.gethostname()},
        )
    )
    marked = []
    for run in unfinished:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid and pid_alive(pid):
            continue
        instance.report_run_failed(run, message=f"the `teei run` process ({pid or 'unknown'}) that ran it is gone")
        marked.append(run.run_id)
    return marked


def _watch(instance: Any, run_id: str, worker: threading.Thread, total: int, on_progress: Any) -> int:
    """Report materializations of the run as they happen, until the worker finishes."""
    from dagster import DagsterEventType

    seen = 0
    watching = on_progress is not None
    while worker.is_alive():
        worker.join(0.5)
        if not watching:
            continue
        try:
            records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
        except Exception:  # the progress display is best effort: the storage may be gone mid-run
            watching = False  # the run itself ends with the error, reported by the summary
            continue
        if len(records) != seen:
            seen = len(records)
            latest = records[-1].event_log_entry.dagster_event
            label = latest.asset_key.to_user_string() if latest and latest.asset_key else ""
            on_progress(seen, total, label)
    return seen


def _materialization_metadata(instance: Any, run_id: str, asset_key: Any) -> dict[str, Any] | None:
    """The metadata values of the run's materialization of `asset_key`, or None when it did not materialize."""
    from dagster import DagsterEventType

    try:
        records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    except Exception:  # the storage went away mid-run: the summary reports the run's own error instead
        return None
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None and materialization.asset_key == asset_key:
            return {name: value.value for name, value in materialization.metadata.items()}
    return None


def _external_keys(definitions: Any) -> set[Any]:
    graph = definitions.resolve_asset_graph()
    return {key for key in graph.get_all_asset_keys() if not graph.get(key).is_materializable}


def _first_failure(result: Any) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            return f"{event.step_key}: {error.message.strip() if error else 'failed'}"
    return "the run failed"


def _loads_since(engine: sa.Engine, last_load: int) -> list[dict[str, Any]]:
    with engine.connect() as db:
        rows = db.execute(
            sa.text(
                """
                SELECT load_id, source, entity, file_name, status, rows_in, rows_loaded,
                       rows_quarantined, rows_duplicate, error
                  FROM ops.loads WHERE load_id > :last ORDER BY load_id
                """
            ),
            {"last": last_load},
        ).mappings()
        return [dict(row) for row in rows]
