"""The transactional outbox: events are derived from the core tables into `ops.event_outbox`, then
published to JetStream; a row is marked sent only after JetStream acknowledged it.

Deriving is set-based: one query per event type finds the core records that have no event yet
(anti-join on type + natural key), Python only computes the deterministic UUIDv5 ids (the embedded
PostgreSQL has no uuid-ossp), and COPY writes them. A record that has not changed yields no new
event, and re-running a derivation adds nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from contracts.events import EVENT_TYPES, CloudEvent, EventPayload, KintellSessionCompletedV1, event_id
from teei import nats_client

log = logging.getLogger(__name__)

PUBLISH_BATCH = 2000
DERIVE_BATCH = 10_000


@dataclass(frozen=True)
class EventDerivation:
    """How one event type is derived: a query returning `natural_key` plus the payload's fields."""

    payload: type[EventPayload]
    query: str


DERIVATIONS: tuple[EventDerivation, ...] = (
    EventDerivation(
        KintellSessionCompletedV1,
        """
        SELECT s.session_id AS natural_key, s.session_id, s.session_type, s.participant_user_id,
               s.volunteer_user_id, s.completed_at, s.duration_minutes, s.language_level
          FROM core.kintell_sessions s
         WHERE s.completed_at IS NOT NULL
        """,
    ),
)


def stage_events(engine: sa.Engine, derivations: Sequence[EventDerivation] = DERIVATIONS) -> dict[str, int]:
    """Write the events of new core records to the outbox; returns how many per event type."""
    staged: dict[str, int] = {}
    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        for derivation in derivations:
            model = derivation.payload
            staged[model.event_type] = _stage(driver, derivation)
    return staged


def _stage(driver: Any, derivation: EventDerivation) -> int:
    model = derivation.payload
    new_records = f"""
        SELECT d.* FROM ({derivation.query}) d
         WHERE NOT EXISTS (SELECT 1 FROM ops.event_outbox o
                            WHERE o.type = %(type)s AND o.natural_key = d.natural_key)
    """
    count = 0
    with driver.cursor(name=f"derive_{model.event_type.replace('.', '_')}") as records:
        records.execute(new_records, {"type": model.event_type})
        columns = [column.name for column in records.description]
        # Batches: the server-side cursor cannot be read while a COPY is in progress.
        while batch := records.fetchmany(DERIVE_BATCH):
            with driver.cursor().copy(
                "COPY ops.event_outbox (event_id, type, subject, natural_key, payload) FROM STDIN"
            ) as copy:
                for values in batch:
                    row = dict(zip(columns, values, strict=True))
                    natural_key = str(row.pop("natural_key"))
                    payload = model.model_validate(row).model_dump_json()
                    copy.write_row(
                        (
                            event_id(model.event_type, model.version, natural_key),
                            model.event_type,
                            model.nats_subject(),
                            natural_key,
                            payload,
                        )
                    )
            count += len(batch)
    return count


@dataclass(frozen=True)
class PublishReport:
    sent: int
    failed: int
    pending: int
    error: str | None = None


def publish_outbox(engine: sa.Engine, nats_url: str, *, batch_size: int = PUBLISH_BATCH) -> PublishReport:
    """Publish every pending outbox row; NATS down leaves them pending with attempts and last_error."""
    return asyncio.run(_publish_outbox(engine, nats_url, batch_size))


async def _publish_outbox(engine: sa.Engine, nats_url: str, batch_size: int) -> PublishReport:
    sent = failed = 0
    try:
        async with nats_client.connect(nats_url, name="teei-outbox") as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            while True:
                with engine.begin() as db:
                    # Locked so two publishers (sensor and CLI) never send the same rows at once.
                    rows = db.execute(
                        sa.text(
                            """
                            SELECT event_id, type, subject, natural_key, payload, correlation_id, created_at
                              FROM ops.event_outbox
                             WHERE sent_at IS NULL
                             ORDER BY created_at, event_id
                             LIMIT :batch
                             FOR UPDATE SKIP LOCKED
                            """
                        ),
                        {"batch": batch_size},
                    ).all()
                    if not rows:
                        break
                    outcomes = await nats_client.publish_events(js, [_outgoing(row) for row in rows])
                    acked = [o.event_id for o in outcomes if o.acked]
                    errors = [(o.event_id, o.error) for o in outcomes if not o.acked]
                    _mark(db, acked, errors)
                sent += len(acked)
                failed += len(errors)
                if errors:
                    break
    except Exception as exc:  # connection refused, timeouts, server gone mid-batch
        error = f"{type(exc).__name__}: {exc}"
        log.warning("publishing the outbox stopped: %s", error)
        with engine.begin() as db:
            db.execute(
                sa.text(
                    """
                    UPDATE ops.event_outbox SET attempts = attempts + 1, last_error = :error
                     WHERE event_id IN (SELECT event_id FROM ops.event_outbox WHERE sent_at IS NULL
                                         ORDER BY created_at, event_id LIMIT :batch)
                    """
                ),
                {"error": error, "batch": batch_size},
            )
        return PublishReport(sent, failed, pending_events(engine), error)
    return PublishReport(sent, failed, pending_events(engine))


def _outgoing(row: sa.Row[Any]) -> nats_client.OutgoingEvent:
    version = int(row.subject.rsplit(".v", 1)[1])
    payload_data = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
    # Validated against its contract before it leaves.
    payload = EVENT_TYPES[(row.type, version)].model_validate(payload_data)
    created_at: datetime = row.created_at
    envelope = CloudEvent.wrap(payload, natural_key=row.natural_key, time=created_at, correlation_id=row.correlation_id)
    assert envelope.id == str(row.event_id)
    return nats_client.OutgoingEvent(subject=row.subject, envelope=envelope)


def _mark(db: sa.Connection, acked: list[str], errors: list[tuple[str, str | None]]) -> None:
    if acked:
        db.execute(
            sa.text(
                "UPDATE ops.event_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL "
                "WHERE event_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": acked},
        )
    for event, error in errors:
        db.execute(
            sa.text(
                "UPDATE ops.event_outbox SET attempts = attempts + 1, last_error = :error "
                "WHERE event_id = CAST(:id AS uuid)"
            ),
            {"id": event, "error": error},
        )


def pending_events(engine: sa.Engine) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.text("SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NULL")).scalar_one())
