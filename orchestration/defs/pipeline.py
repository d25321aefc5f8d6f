"""The pipeline job every run goes through, and the nightly schedule that runs all of it."""

import dagster as dg

from orchestration.defs.dbt import TEST_ALL_ROWS_TAG
from teei.platform.settings import get_settings

pipeline_job = dg.define_asset_job(
    "teei_pipeline",
    selection=dg.AssetSelection.all(),
    description="Everything waiting in the landing folder through raw, dbt and the event outbox.",
    executor_def=dg.in_process_executor,
)


@dg.definitions
def defs() -> dg.Definitions:
    # Built when the code location loads, not at import: the schedule's time zone is a setting.
    nightly = dg.ScheduleDefinition(
        name="nightly_pipeline",
        job=pipeline_job,
        cron_schedule="0 2 * * *",
        execution_timezone=get_settings().timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={TEST_ALL_ROWS_TAG: "true"},
        description=(
            "Processes every file waiting in the landing folder, nightly at 02:00 local time; its dbt build "
            "tests every row, not only the rows changed since the last build."
        ),
    )
    return dg.Definitions(jobs=[pipeline_job], schedules=[nightly], executor=dg.in_process_executor)
