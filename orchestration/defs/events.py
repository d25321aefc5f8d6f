# Dagster reads the annotations of asset functions at definition time: no postponed annotations here.
"""Events: the outbox asset derives events from core tables; the publish sensor sends them to NATS."""

import dagster as dg

from contracts.events import current_models
from orchestration.resources import PlatformResource
from teei.events.outbox import CORE_EVENT_TABLES, publish_outbox, stage_events

CORE_EVENT_SOURCES = [dg.AssetKey(["core", table]) for table in CORE_EVENT_TABLES]


@dg.asset(
    key=["ops", "event_outbox"],
    deps=CORE_EVENT_SOURCES,
    group_name="events",
    kinds={"postgres"},
    description=(
        "Events for new or changed core records, written to ops.event_outbox (deterministic ids: an "
        "unchanged record yields nothing new; the run's id is their correlation id). "
        f"Subjects: {', '.join(m.nats_subject() for m in current_models())}."
    ),
)
def event_outbox(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    # The run's id is each new event's correlation id: an event on the wire leads back to this run.
    staged = stage_events(platform.engine(), correlation_id=context.run.run_id)
    for event_type, count in staged.items():
        context.log.info(f"{event_type}: {count} new events in the outbox")
    return dg.MaterializeResult(metadata={"new_events": sum(staged.values()), **staged})


@dg.sensor(
    name="publish_event_outbox",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes pending ops.event_outbox rows to NATS JetStream; a row is marked sent after the ack.",
)
def publish_event_outbox(context: dg.SensorEvaluationContext, platform: PlatformResource) -> dg.SkipReason:
    settings = platform.settings()
    report = publish_outbox(platform.engine(), settings.nats_server_url)
    message = f"sent {report.sent}, pending {report.pending}"
    if report.error:
        context.log.warning(f"NATS unavailable, events wait in the outbox: {report.error}")
        message += f" (NATS: {report.error})"
    return dg.SkipReason(message)
