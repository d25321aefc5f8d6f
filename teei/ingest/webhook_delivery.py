"""A verified webhook delivery, loaded once: the body's records go through the one loader and the load's
events to the outbox, and the delivery id is remembered so a sender's retry changes nothing.

The body is JSON, a list of records or `{"records": [...]}`, with the field names the CSV export uses.
It is loaded by `teei.ingest.loader.load_rows` exactly as a file with those columns would be (the same
mapping, checks, quarantine and upsert). Idempotent by delivery id: `ops.webhook_deliveries` remembers
each delivered id with its load, and a delivery id seen before answers with the original load
(`replayed`) and loads nothing — senders retry until they see success, so a retry must look like one.

Verifying the sender (the signature) is the caller's job; this module trusts what it is given and
raises domain errors (`BodyInvalid`, `DeliveryRejected`, `DeliveryNotLoaded`) that say why.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connectors.registry import get_entity
from teei.events.outbox import stage_load_events
from teei.ingest.loader import load_rows

log = logging.getLogger(__name__)

# Longer ids are refused rather than truncated: two deliveries must never share one.
MAX_DELIVERY_ID_LENGTH = 200


class DeliveryError(Exception):
    """A delivery that was not loaded; `reason` is safe to show the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyInvalid(DeliveryError):
    """The body is not JSON records (the sender must fix it; a retry of the same body fails again)."""


class DeliveryRejected(DeliveryError):
    """The delivery itself is unacceptable (e.g. its id), whatever its body."""


class DeliveryNotLoaded(DeliveryError):
    """The loader failed (e.g. the database); not recorded as delivered, so the sender's retry loads it."""


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery loaded (or, for a replayed delivery id, what its first delivery loaded)."""

    delivery_id: str
    load_id: int
    status: Literal["succeeded", "skipped"]
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int
    events_staged: int
    replayed: bool


def records_of(body: bytes) -> list[dict[str, Any]]:
    """The records of a delivery body; `BodyInvalid` naming what is wrong with it."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyInvalid(f"the body is not JSON: {exc}") from exc
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list) or not records:
        raise BodyInvalid('the body must be a non-empty list of records, or {"records": [...]}')
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise BodyInvalid(f"record {number} is not an object")
    return records


def as_cell(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold (lists joined like a `;` separated column)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value if item is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def as_table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str | None]]]:
    """The records as a header (every field name, in order of appearance) and rows of cells."""
    header = list(dict.fromkeys(str(name) for record in records for name in record))
    return header, [[as_cell(record.get(name)) for name in header] for record in records]


def deliver_webhook(
    engine: sa.Engine,
    source: str,
    entity: str,
    delivery_id: str,
    body: bytes,
    *,
    correlation_id: str | None,
    timezone: ZoneInfo,
    pseudonym_key: str,
) -> DeliveryResult:
    """Load one verified delivery of `source`/`entity` once.

    Deliveries of one id are serialised by an advisory lock, so two concurrent retries load it once."""
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH:
        raise DeliveryRejected(f"webhook-id must be at most {MAX_DELIVERY_ID_LENGTH} characters")
    records = records_of(body)
    spec = get_entity(source, entity)
    with engine.connect() as lock:
        lock.execute(sa.text("SELECT pg_advisory_lock(hashtext('webhook:' || :id))"), {"id": delivery_id})
        try:
            lock.commit()
            before = previous_delivery(lock, delivery_id)
            if before is not None:
                log.info("webhook delivery %s replayed; its load was %s", delivery_id, before.load_id)
                return result_of(before, replayed=True)
            header, rows = as_table(records)
            result = load_rows(
                engine,
                header,
                rows,
                spec,
                file_name=f"webhook/{source}/{entity}/{delivery_id}",
                file_sha256=hashlib.sha256(body).hexdigest(),
                timezone=timezone,
                pseudonym_key=pseudonym_key,
            )
            if result.status == "failed":
                raise DeliveryNotLoaded(f"the delivery could not be loaded ({result.error})")
            load_id = result.load_id
            if result.status == "skipped":
                # The same body came before under another id: its load stands (and its events, once).
                load_id = lock.execute(
                    sa.text(
                        "SELECT load_id FROM ops.loads WHERE source = :source AND entity = :entity "
                        "AND file_sha256 = :sha AND status = 'succeeded' ORDER BY load_id LIMIT 1"
                    ),
                    {"source": source, "entity": entity, "sha": result.file_sha256},
                ).scalar_one()
                lock.commit()
            try:
                staged = stage_load_events(engine, spec.raw_table, load_id, correlation_id=correlation_id)
            except Exception:
                # The rows are loaded; the outbox sensor derives the same events (same ids) after the
                # next build, so the delivery still counts as delivered and is not loaded again.
                log.exception("webhook delivery %s: events of load %s not staged now", delivery_id, load_id)
                staged = 0
            with engine.begin() as db:
                db.execute(
                    sa.text(
                        """
                        INSERT INTO ops.webhook_deliveries
                            (delivery_id, source, entity, load_id, events_staged, correlation_id)
                        VALUES (:id, :source, :entity, :load_id, :staged, :correlation_id)
                        """
                    ),
                    {
                        "id": delivery_id,
                        "source": source,
                        "entity": entity,
                        "load_id": result.load_id,
                        "staged": staged,
                        "correlation_id": correlation_id,
                    },
                )
                row = previous_delivery(db, delivery_id)
            assert row is not None
            log.info("webhook delivery %s loaded as load %s (%s events)", delivery_id, result.load_id, staged)
            return result_of(row, replayed=False)
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(hashtext('webhook:' || :id))"), {"id": delivery_id})
            lock.commit()


def previous_delivery(db: sa.Connection, delivery_id: str) -> sa.Row[Any] | None:
    """The recorded delivery `delivery_id` with its load's counts, if it was delivered before."""
    return db.execute(
        sa.text(
            """
            SELECT d.delivery_id, d.load_id, d.events_staged, l.status, l.rows_in, l.rows_loaded,
                   l.rows_quarantined, l.rows_duplicate
              FROM ops.webhook_deliveries d JOIN ops.loads l USING (load_id)
             WHERE d.delivery_id = :id
            """
        ),
        {"id": delivery_id},
    ).first()


def result_of(row: sa.Row[Any], *, replayed: bool) -> DeliveryResult:
    return DeliveryResult(
        delivery_id=row.delivery_id,
        load_id=row.load_id,
        status=row.status,
        rows_in=row.rows_in,
        rows_loaded=row.rows_loaded,
        rows_quarantined=row.rows_quarantined,
        rows_duplicate=row.rows_duplicate,
        events_staged=row.events_staged,
        replayed=replayed,
    )
