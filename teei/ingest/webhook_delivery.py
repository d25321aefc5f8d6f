"""A verified webhook delivery, loaded once: the body's records go through the one loader and the load's
events to the outbox, and the delivery id is remembered so a sender's retry changes nothing.

The body is JSON, a list of records or `{"records": [...]}`, with the field names the CSV export uses.
It is loaded by `teei.ingest.loader.load_rows` exactly as a file with those columns would be (the same
mapping, checks, quarantine and upsert). Idempotent by delivery id: `ops.webhook_deliveries` remembers
each delivered id with its load, and a delivery id seen before answers with the original load
(`replayed`) and loads nothing — senders retry until they see success, so a retry must look like one.

A sender's mistake is told apart from a fault of ours before anything touches the database: a body that
is not JSON (or nests deeper than `MAX_JSON_DEPTH`) is `BodyMalformed`; JSON that is not records, text a
database cannot hold (a NUL or a lone surrogate, which fail a whole file too), or records lacking a
required field altogether are `BodyInvalid`. Such a delivery loads nothing and records nothing, so no
failed load is left behind; the sender fixes it, and a retry of the same body fails the same way. Bad
values inside good records are quarantined by the loader, as in a file. Only a lost database is
`DeliveryNotLoaded` (try again later); a failure of the loader on a body that passed every check is ours
(`DeliveryFailed`), and its bytes are not held, so the sender's next attempt is loaded again.

Verifying the sender (the signature) is the caller's job; this module trusts what it is given and
raises domain errors that say why, in words safe to show the sender (never a table or a statement).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connectors.csv_reader import missing_required_fields
from connectors.registry import EntitySpec, get_entity
from teei.events.outbox import stage_load_events
from teei.ingest.loader import SERVICE_FAULTS, load_rows

log = logging.getLogger(__name__)

# Longer ids are refused rather than truncated: two deliveries must never share one.
MAX_DELIVERY_ID_LENGTH = 200
# Records are flat objects (a list or an object as a value at most): 32 levels is far more than a
# delivery needs, and far less than the recursion of Python's JSON parser can take.
MAX_JSON_DEPTH = 32


class DeliveryError(Exception):
    """A delivery that was not loaded; `reason` is safe to show the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyMalformed(DeliveryError):
    """The body is not JSON (or nests deeper than `MAX_JSON_DEPTH`): the sender must fix it."""


class BodyInvalid(DeliveryError):
    """The body is JSON but not records that can be loaded (the sender must fix it; a retry of the same
    body fails again)."""


class DeliveryRejected(DeliveryError):
    """The delivery itself is unacceptable (e.g. its id), whatever its body."""


class DeliveryNotLoaded(DeliveryError):
    """The database could not be reached; not recorded as delivered, so the sender's retry loads it."""

    # How long a sender is asked to wait: long enough for a database restart, short enough to catch up.
    retry_after_seconds: ClassVar[int] = 30


class DeliveryFailed(DeliveryError):
    """The loader failed on a body that passed every check: a fault of ours, logged with its load."""


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


# Escapes first (`\"` must not end a string), then whole strings: what is left holds the brackets
# that nest. Both patterns match without backtracking, so the scan is linear in the body's length.
_JSON_ESCAPE = re.compile(r"\\.", re.DOTALL)
_JSON_STRING = re.compile(r'"[^"]*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest (0 for a scalar), without parsing it, so a
    body too deep for the parser's recursion is refused before it is parsed. For text that is not JSON
    the answer is only an estimate; the parser refuses such text anyway."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", _JSON_ESCAPE.sub("", text)))
    return max(accumulate(map(_NESTING.__getitem__, brackets)), default=0)


def records_of(body: bytes) -> list[dict[str, Any]]:
    """The records of a delivery body; `BodyMalformed` (not JSON) or `BodyInvalid` (not records)."""
    try:
        text = body.decode("utf-8")  # JSON between systems is UTF-8 (RFC 8259)
    except UnicodeDecodeError as exc:
        raise BodyMalformed(f"the body is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BodyMalformed(f"the body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep")
    try:
        document = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise BodyMalformed(f"the body is not JSON: {exc}") from None
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


# What PostgreSQL text cannot hold: NUL, and UTF-16 surrogates that JSON's `\ud800` escapes can name
# alone (they are no characters, so no UTF-8 exists for them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(character: str) -> str:
    if character == "\x00":
        return "a NUL character (\\u0000)"
    return f"a lone surrogate (\\u{ord(character):04x}, half of a UTF-16 pair)"


def table_of(records: list[dict[str, Any]], spec: EntitySpec) -> tuple[list[str], list[list[str | None]]]:
    """The records as the loader's header and rows; `BodyInvalid` for what a file could not load either:
    text a database cannot hold (naming the record and field), or a required field in no record."""
    header, rows = as_table(records)
    for name in header:
        if found := _UNSTORABLE.search(name):
            raise BodyInvalid(f"a field name ({json.dumps(name)}) holds {_unstorable(found.group())}")
    for number, row in enumerate(rows, start=1):
        for name, cell in zip(header, row, strict=True):
            if cell is not None and (found := _UNSTORABLE.search(cell)):
                raise BodyInvalid(
                    f"record {number}, field {json.dumps(name, ensure_ascii=False)}: the value holds "
                    f"{_unstorable(found.group())}, which cannot be stored as text; remove it"
                )
    if missing := missing_required_fields(header, spec):
        raise BodyInvalid(
            f"required field(s) {', '.join(missing)} missing from every record "
            f"(a record may leave one empty, which quarantines that record alone)"
        )
    return header, rows


def check_delivery_id(delivery_id: str) -> None:
    """`DeliveryRejected` unless `delivery_id` can name a delivery: short enough, printable."""
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH:
        raise DeliveryRejected(f"webhook-id must be at most {MAX_DELIVERY_ID_LENGTH} characters")
    if not delivery_id.isprintable():
        raise DeliveryRejected("webhook-id must hold printable characters only")


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
    """Load one verified delivery of `source`/`entity` once (see the module doc for its errors).

    Deliveries of one id are serialised by an advisory lock, so two concurrent retries load it once."""
    check_delivery_id(delivery_id)
    spec = get_entity(source, entity)
    # Every mistake of the sender is found here, before the database: it records nothing.
    header, rows = table_of(records_of(body), spec)
    try:
        return _deliver_once(
            engine,
            spec,
            delivery_id,
            header,
            rows,
            file_sha256=hashlib.sha256(body).hexdigest(),
            correlation_id=correlation_id,
            timezone=timezone,
            pseudonym_key=pseudonym_key,
        )
    except SERVICE_FAULTS as exc:
        log.warning("webhook delivery %s not loaded, the database is unavailable: %s", delivery_id, exc)
        raise DeliveryNotLoaded(
            "the database is unavailable: nothing was loaded or recorded; send the delivery again later"
        ) from exc


def _deliver_once(
    engine: sa.Engine,
    spec: EntitySpec,
    delivery_id: str,
    header: list[str],
    rows: list[list[str | None]],
    *,
    file_sha256: str,
    correlation_id: str | None,
    timezone: ZoneInfo,
    pseudonym_key: str,
) -> DeliveryResult:
    source, entity = spec.source, spec.entity
    with engine.connect() as lock:
        lock.execute(sa.text("SELECT pg_advisory_lock(hashtext('webhook:' || :id))"), {"id": delivery_id})
        try:
            lock.commit()
            before = previous_delivery(lock, delivery_id)
            if before is not None:
                log.info("webhook delivery %s replayed; its load was %s", delivery_id, before.load_id)
                return result_of(before, replayed=True)
            result = load_rows(
                engine,
                header,
                rows,
                spec,
                file_name=f"webhook/{source}/{entity}/{delivery_id}",
                file_sha256=file_sha256,
                timezone=timezone,
                pseudonym_key=pseudonym_key,
                # The sender sees this answer and decides whether to send the body again.
                hold_failures=False,
            )
            if result.status == "failed":
                # The body passed every check of the sender's mistakes, so this is ours; the load's error
                # (which names tables and statements) stays in ops.loads and the log.
                log.error("webhook delivery %s: load %s failed: %s", delivery_id, result.load_id, result.error)
                raise DeliveryFailed(f"the delivery could not be loaded (load {result.load_id}); it has been logged")
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
            # A lost session took its advisory lock with it: nothing to release then.
            with contextlib.suppress(*SERVICE_FAULTS):
                lock.rollback()
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
    """A recorded delivery (a row of `previous_delivery`) as the result answered to its sender."""
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
