"""The Dagster code location: ingest → dbt → event outbox, the landing and publish sensors, the nightly run."""

import dagster as dg

from orchestration.defs.dbt import TEST_ALL_ROWS_TAG, dbt_resource, teei_dbt_models
from orchestration.defs.events import event_outbox, publish_event_outbox
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.landing import build_landing_sensors
from orchestration.resources import PlatformResource
from teei.platform.settings import get_settings

pipeline_job = dg.define_asset_job(
    "teei_pipeline",
    selection=dg.AssetSelection.all(),
    description="Everything waiting in the landing folder through raw, dbt and the event outbox.",
    executor_def=dg.in_process_executor,
)
# A landing sensor per source runs this job limited to what its new files feed.
landing_sensors = build_landing_sensors(pipeline_job.name)


@dg.definitions
def defs() -> dg.Definitions:
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
    return dg.Definitions(
        assets=[*ingest_assets, teei_dbt_models, event_outbox],
        jobs=[pipeline_job],
        schedules=[nightly],
        sensors=[*landing_sensors, publish_event_outbox],
        resources={"platform": PlatformResource(), "dbt": dbt_resource},
        executor=dg.in_process_executor,
    )
