"""The transactional outbox: events are derived from the core tables into `ops.event_outbox`, then
published to JetStream; a row is marked sent only after JetStream acknowledged it.

Deriving is set-based and bounded: one query per event type reads the core records a dbt build
rewrote since that type's watermark (`ops.event_derivations`, by `dbt_updated_at`), Python turns each
into its validated payload and deterministic UUIDv5 id (the embedded PostgreSQL has no uuid-ossp),
COPY stages them and one `INSERT … ON CONFLICT DO NOTHING` adds the new ones. The id covers the
payload, so a rebuilt but unchanged record yields no new event, and a changed one yields one.

A webhook's load (issue 7) is announced at once from its raw rows by the same derivations: the
payloads equal the ones the core tables give later, so the ids match and nothing is doubled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext

from contracts.events import (
    EVENT_TYPES,
    BuddyCheckinCompletedV1,
    BuddyEventLoggedV1,
    BuddyFeedbackSubmittedV1,
    BuddyMatchCreatedV1,
    EventPayload,
    JourneyMilestoneReachedV1,
    KintellRatingCreatedV1,
    KintellSessionCompletedV2,
    KintellSessionScheduledV1,
    UpskillingCourseCompletedV1,
    UpskillingCredentialIssuedV1,
    UpskillingProgressUpdatedV1,
    event_id,
    structured_json,
)
from teei.events import nats_client

log = logging.getLogger(__name__)

PUBLISH_BATCH = 10_000
DERIVE_BATCH = 10_000


@dataclass(frozen=True)
class EventDerivation:
    """How one event type is derived from the records of a table.

    `query` selects the payload's fields plus `changed_at`, reading `{alias}` from `{table}` and
    keeping only the rows `{bound}` lets through: a watermark on core, or one load on raw. `{schema}`
    names the schema of the tables it joins (core, or raw for a webhook's load).
    """

    payload: type[EventPayload]
    table: str
    alias: str
    query: str

    def sql(self, schema: str, bound: str) -> str:
        changed_at = "loaded_at" if schema == "raw" else "dbt_updated_at"
        return self.query.format(
            schema=schema,
            table=f"{schema}.{self.table} {self.alias}",
            changed_at=f"{self.alias}.{changed_at}",
            bound=bound.format(alias=self.alias),
        )


_SESSION_COMPLETED = EventDerivation(
    KintellSessionCompletedV2,
    "kintell_sessions",
    "s",
    """
    SELECT {changed_at} AS changed_at, s.session_id, s.session_type, s.participant_user_id,
           s.volunteer_user_id, s.completed_at, s.duration_minutes * 60 AS duration_seconds,
           s.language_level AS cefr_level
      FROM {table}
     WHERE s.completed_at IS NOT NULL AND {bound}
    """,
)
_SESSION_SCHEDULED = EventDerivation(
    KintellSessionScheduledV1,
    "kintell_sessions",
    "s",
    """
    SELECT {changed_at} AS changed_at, s.session_id, s.session_type, s.participant_user_id,
           s.volunteer_user_id, s.scheduled_at
      FROM {table}
     WHERE s.scheduled_at IS NOT NULL AND {bound}
    """,
)
_RATING_CREATED = EventDerivation(
    KintellRatingCreatedV1,
    "kintell_ratings",
    "r",
    """
    SELECT {changed_at} AS changed_at, r.rating_id, r.session_id, r.from_role,
           CASE r.from_role WHEN 'participant' THEN s.participant_user_id ELSE s.volunteer_user_id END
               AS rater_user_id,
           r.rating::double precision AS rating, coalesce(r.feedback_text, '') <> '' AS has_feedback_text,
           r.created_at
      FROM {table}
      LEFT JOIN {schema}.kintell_sessions s ON s.session_id = r.session_id
     WHERE {bound}
    """,
)

DERIVATIONS: tuple[EventDerivation, ...] = (
    _SESSION_COMPLETED,
    _SESSION_SCHEDULED,
    _RATING_CREATED,
    EventDerivation(
        BuddyMatchCreatedV1,
        "buddy_matches",
        "m",
        """
        SELECT {changed_at} AS changed_at, m.match_id, m.participant_user_id, m.buddy_user_id, m.matched_at,
               m.language
          FROM {table}
         WHERE {bound}
        """,
    ),
    EventDerivation(
        BuddyEventLoggedV1,
        "buddy_events",
        "e",
        """
        SELECT {changed_at} AS changed_at, e.event_id AS buddy_event_id, e.match_id, m.participant_user_id,
               m.buddy_user_id, e.event_type AS buddy_event_type, e.event_date, e.attendees, e.volunteer_hours
          FROM {table}
          LEFT JOIN {schema}.buddy_matches m ON m.match_id = e.match_id
         WHERE {bound}
        """,
    ),
    EventDerivation(
        BuddyCheckinCompletedV1,
        "buddy_checkins",
        "c",
        """
        SELECT {changed_at} AS changed_at, c.checkin_id, c.match_id, m.participant_user_id, m.buddy_user_id,
               c.checkin_date, c.mood, c.mood_score
          FROM {table}
          LEFT JOIN {schema}.buddy_matches m ON m.match_id = c.match_id
         WHERE {bound}
        """,
    ),
    EventDerivation(
        BuddyFeedbackSubmittedV1,
        "buddy_feedback",
        "f",
        """
        SELECT {changed_at} AS changed_at, f.feedback_id, f.match_id, f.from_role,
               CASE f.from_role WHEN 'participant' THEN m.participant_user_id ELSE m.buddy_user_id END
                   AS author_user_id,
               f.rating, coalesce(f.feedback_text, '') <> '' AS has_feedback_text, f.submitted_at
          FROM {table}
          LEFT JOIN {schema}.buddy_matches m ON m.match_id = f.match_id
         WHERE {bound}
        """,
    ),
    EventDerivation(
        UpskillingCourseCompletedV1,
        "learning_progress",
        "p",
        """
        SELECT {changed_at} AS changed_at, p.progress_id, p.user_id, p.provider, p.course_id, p.course_name,
               p.completed_at, p.final_score
          FROM {table}
         WHERE p.status = 'completed' AND {bound}
        """,
    ),
    EventDerivation(
        UpskillingProgressUpdatedV1,
        "learning_progress",
        "p",
        """
        SELECT {changed_at} AS changed_at, p.progress_id, p.user_id, p.provider, p.course_id, p.status,
               p.progress_percent, p.started_at, p.completed_at
          FROM {table}
         WHERE {bound}
        """,
    ),
    EventDerivation(
        UpskillingCredentialIssuedV1,
        "credentials",
        "c",
        """
        SELECT {changed_at} AS changed_at, c.credential_id, c.user_id, c.provider, c.course_id,
               c.credential_type, c.issued_at, c.expires_at
          FROM {table}
         WHERE {bound}
        """,
    ),
    EventDerivation(
        JourneyMilestoneReachedV1,
        "journey_milestones",
        "j",
        """
        SELECT {changed_at} AS changed_at, j.milestone_id, j.user_id, j.milestone, j.reached_at, j.record_id,
               j.outcome_dimension
          FROM {table}
         WHERE {bound}
        """,
    ),
)

# The core tables events are derived from (what the outbox asset depends on).
CORE_EVENT_TABLES: tuple[str, ...] = tuple(dict.fromkeys(d.table for d in DERIVATIONS))
# What a webhook's load of a raw table announces at once.
RAW_DERIVATIONS: dict[str, tuple[EventDerivation, ...]] = {
    "kintell_sessions": (_SESSION_COMPLETED, _SESSION_SCHEDULED),
    "kintell_ratings": (_RATING_CREATED,),
}


def stage_events(
    engine: sa.Engine, derivations: Sequence[EventDerivation] = DERIVATIONS, *, correlation_id: str | None = None
) -> dict[str, int]:
    """Write the events of core records rewritten since each type's watermark to the outbox;
    returns how many new events per type.

    `correlation_id` (the deriving pipeline run's id) goes with every new event, as its CloudEvents
    `correlationid`, so an event leads back to the run that produced it. It is not part of the id:
    an event re-derived by another run is the same event, and `ON CONFLICT DO NOTHING` keeps the
    first run's."""
    staged: dict[str, int] = {}
    for derivation in derivations:
        model = derivation.payload
        with engine.begin() as connection:
            driver = _driver(connection)
            since = connection.execute(
                sa.text("SELECT derived_through FROM ops.event_derivations WHERE type = :type AND version = :version"),
                {"type": model.event_type, "version": model.version},
            ).scalar_one_or_none()
            bound = "{alias}.dbt_updated_at > %(since)s" if since is not None else "true"
            added, through = _stage(driver, derivation.sql("core", bound), model, {"since": since}, correlation_id)
            if through is not None:
                connection.execute(
                    sa.text(
                        """
                        INSERT INTO ops.event_derivations (type, version, derived_through) VALUES (:t, :v, :through)
                        ON CONFLICT (type, version)
                        DO UPDATE SET derived_through = excluded.derived_through, derived_at = now()
                        """
                    ),
                    {"t": model.event_type, "v": model.version, "through": through},
                )
        staged[model.event_type] = staged.get(model.event_type, 0) + added
    return staged


def stage_load_events(engine: sa.Engine, entity: str, load_id: int, *, correlation_id: str | None = None) -> int:
    """Announce one load of a raw table at once (a webhook delivery), before any dbt build; returns
    how many new events. The ids equal the ones the core records give later, so the outbox sensor's
    derivation after the next build adds nothing twice."""
    count = 0
    with engine.begin() as connection:
        driver = _driver(connection)
        for derivation in RAW_DERIVATIONS.get(entity, ()):
            added, _ = _stage(
                driver,
                derivation.sql("raw", "{alias}.load_id = %(load_id)s"),
                derivation.payload,
                {"load_id": load_id},
                correlation_id,
            )
            count += added
    return count


def stage_payloads(
    connection: sa.Connection, payloads: Sequence[EventPayload], *, correlation_id: str | None = None
) -> int:
    """Add events built in Python (e.g. `orchestration.profile.updated`) to the outbox, inside the
    caller's transaction; returns how many were new."""
    if not payloads:
        return 0
    result = connection.execute(
        sa.text(
            """
            INSERT INTO ops.event_outbox (event_id, type, subject, natural_key, payload, correlation_id)
            VALUES (CAST(:id AS uuid), :type, :subject, :key, CAST(:payload AS jsonb), :correlation_id)
            ON CONFLICT (event_id) DO NOTHING
            """
        ),
        [
            {
                "id": str(event_id(p.event_type, p.version, p.natural_key())),
                "type": p.event_type,
                "subject": p.nats_subject(),
                "key": p.natural_key(),
                "payload": p.model_dump_json(),
                "correlation_id": correlation_id,
            }
            for p in payloads
        ],
    )
    return int(result.rowcount or 0)


def _driver(connection: sa.Connection) -> Any:
    driver = connection.connection.driver_connection
    assert driver is not None
    return driver


def _stage(
    driver: Any,
    query: str,
    model: type[EventPayload],
    params: dict[str, Any],
    correlation_id: str | None,
) -> tuple[int, datetime | None]:
    """Stage the events of `query`'s records; returns how many were new and the latest `changed_at`."""
    driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS outbox_batch "
        "(event_id uuid, type text, subject text, natural_key text, payload jsonb) ON COMMIT DROP"
    )
    added = 0
    through: datetime | None = None
    with driver.cursor(name=f"derive_{model.event_type.replace('.', '_')}") as records:
        records.execute(query, params)
        columns = [column.name for column in records.description]
        # Batches: a server-side cursor cannot be read while a COPY is in progress.
        while batch := records.fetchmany(DERIVE_BATCH):
            with driver.cursor().copy(
                "COPY outbox_batch (event_id, type, subject, natural_key, payload) FROM STDIN"
            ) as copy:
                for values in batch:
                    row = dict(zip(columns, values, strict=True))
                    changed_at = row.pop("changed_at")
                    if through is None or changed_at > through:
                        through = changed_at
                    payload = model.model_validate(row)
                    natural_key = payload.natural_key()
                    copy.write_row(
                        (
                            event_id(model.event_type, model.version, natural_key),
                            model.event_type,
                            model.nats_subject(),
                            natural_key,
                            payload.model_dump_json(),
                        )
                    )
            inserted = driver.execute(
                """
                INSERT INTO ops.event_outbox (event_id, type, subject, natural_key, payload, correlation_id)
                SELECT event_id, type, subject, natural_key, payload, %(correlation_id)s FROM outbox_batch
                ON CONFLICT (event_id) DO NOTHING
                """,
                {"correlation_id": correlation_id},
            )
            added += inserted.rowcount
            driver.execute("TRUNCATE outbox_batch")
    return added, through


@dataclass(frozen=True)
class PublishReport:
    sent: int
    failed: int
    pending: int
    error: str | None = None


def publish_outbox(engine: sa.Engine, nats_url: str, *, batch_size: int = PUBLISH_BATCH) -> PublishReport:
    """Publish every pending outbox row; NATS down leaves them pending with attempts and last_error."""
    return asyncio.run(publish_outbox_async(engine, nats_url, batch_size=batch_size))


async def publish_outbox_async(engine: sa.Engine, nats_url: str, *, batch_size: int = PUBLISH_BATCH) -> PublishReport:
    counts = PublishCounts()
    try:
        async with nats_client.connect(nats_url, name="teei-outbox") as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            await publish_pending(engine, js, batch_size=batch_size, counts=counts)
    except Exception as exc:  # connection refused, timeouts, server gone mid-batch
        error = f"{type(exc).__name__}: {exc}"
        log.warning("publishing the outbox stopped: %s", error)
        # Every row this publish left pending says so, not only the first batch; rows another publisher
        # holds right now are its to account for.
        with engine.begin() as db:
            db.execute(
                sa.text(
                    """
                    UPDATE ops.event_outbox SET attempts = attempts + 1, last_error = :error
                     WHERE event_id IN (SELECT event_id FROM ops.event_outbox WHERE sent_at IS NULL
                                        FOR UPDATE SKIP LOCKED)
                    """
                ),
                {"error": error},
            )
        return PublishReport(counts.sent, counts.failed, pending_events(engine), error)
    return PublishReport(counts.sent, counts.failed, pending_events(engine))


@dataclass
class PublishCounts:
    sent: int = 0
    failed: int = 0


async def publish_pending(
    engine: sa.Engine, js: JetStreamContext, *, batch_size: int = PUBLISH_BATCH, counts: PublishCounts | None = None
) -> PublishCounts:
    """Publish pending rows over an open connection until none are left or one fails; `counts`
    grows batch by batch (so a caller still knows what went out when the connection breaks).

    Each batch is locked (FOR UPDATE SKIP LOCKED: two publishers never send the same rows) in its
    own transaction and marked sent in it only after its acks. Two batches are in flight: the next
    one is read and sent while the server is still acknowledging the previous one."""
    counts = counts or PublishCounts()
    _refresh_statistics_for_a_backlog(engine, batch_size)
    in_flight: tuple[sa.Connection, nats_client.SentBatch] | None = None
    try:
        while True:
            db = engine.connect()
            db.begin()
            # Plain driver rows: this loop handles every event, and SQLAlchemy's rows cost per field.
            rows = _driver(db).execute(_PENDING, {"batch": batch_size}).fetchall()
            batch = await nats_client.send_events(js, [_outgoing(row) for row in rows]) if rows else None
            if in_flight is not None:
                finished, in_flight = in_flight, None
                failed = await _finish(*finished, counts)
                if failed:
                    db.close()  # rolls back: its rows stay pending (a resend is dropped by Nats-Msg-Id)
                    return counts
            if batch is None:
                db.close()
                return counts
            in_flight = (db, batch)
    finally:
        if in_flight is not None:
            in_flight[0].close()


_PENDING = """
    SELECT event_id::text AS id, type, subject, natural_key, payload::text, correlation_id, created_at
      FROM ops.event_outbox
     WHERE sent_at IS NULL
     ORDER BY created_at, event_id
     LIMIT %(batch)s
     FOR UPDATE SKIP LOCKED
"""


def _refresh_statistics_for_a_backlog(engine: sa.Engine, batch_size: int) -> None:
    """Before a backlog of more than a batch (a first derivation, NATS back after an outage), update
    the outbox's statistics: planned on stale ones (a table autovacuum has not analysed since it
    grew), each batch sorted every pending row instead of reading its own through the index."""
    with engine.begin() as db:
        backlog: int = db.execute(
            sa.text("SELECT count(*) FROM (SELECT 1 FROM ops.event_outbox WHERE sent_at IS NULL LIMIT :n) p"),
            {"n": batch_size + 1},
        ).scalar_one()
        if backlog > batch_size:
            db.execute(sa.text("ANALYZE ops.event_outbox"))


async def _finish(db: sa.Connection, batch: nats_client.SentBatch, counts: PublishCounts) -> bool:
    """Wait for `batch`'s acks, mark it and commit; True when any event failed."""
    try:
        outcomes = await batch.outcomes()
        acked = [o.event_id for o in outcomes if o.acked]
        errors = [(o.event_id, o.error) for o in outcomes if not o.acked]
        _mark(db, acked, errors)
        db.commit()
    finally:
        db.close()
    counts.sent += len(acked)
    counts.failed += len(errors)
    return bool(errors)


def _outgoing(row: tuple[Any, ...]) -> nats_client.OutgoingEvent:
    identifier, event_type, subject, natural_key, payload_json, correlation_id, created_at = row
    model = EVENT_TYPES[(event_type, int(subject.rsplit(".v", 1)[1]))]
    # Validated against its contract before it leaves (from the stored JSON text, in one pass); the
    # id and the CloudEvents subject were fixed when the row was staged (natural key = subject@digest).
    payload = model.model_validate_json(payload_json)
    data = structured_json(
        identifier=identifier,
        payload_type=model,
        # (rows staged before natural keys carried the subject: from the payload)
        subject=natural_key.rsplit("@", 1)[0] if "@" in natural_key else payload.event_subject(),
        time=created_at,
        correlation_id=correlation_id,
        data_json=payload.model_dump_json(),
    )
    return nats_client.OutgoingEvent(subject, identifier, data)


def _mark(db: sa.Connection, acked: list[str], errors: list[tuple[str, str | None]]) -> None:
    if acked:
        db.execute(
            sa.text(
                "UPDATE ops.event_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL "
                "WHERE event_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": acked},
        )
    if errors:
        db.execute(
            sa.text(
                """
                UPDATE ops.event_outbox o SET attempts = attempts + 1, last_error = e.error
                  FROM unnest(CAST(:ids AS uuid[]), CAST(:errors AS text[])) AS e(event_id, error)
                 WHERE o.event_id = e.event_id
                """
            ),
            {"ids": [event for event, _ in errors], "errors": [error for _, error in errors]},
        )


def pending_events(engine: sa.Engine) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.text("SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NULL")).scalar_one())
