"""The one loader: every source entity lands in its raw table through `load_csv_file`.

A load's `running` row in `ops.loads` is committed first; the load itself is one transaction:
1. the file's SHA-256 is looked up in `ops.loads`: a file already loaded is recorded as `skipped` and
   changes nothing else; so are bytes that failed before by a fault of the file (they would fail again)
   until the file changes or an operator releases the failed load (`teei retry --load ID`) — except for a
   caller that does not hold failures (a webhook: its sender sees the answer and decides to send again);
2. valid records stream through PostgreSQL COPY into a temporary staging table, rejected rows
   into `ops.quarantine` with every reason;
3. a key repeated inside the file keeps its last row (earlier rows with other values are
   quarantined with the reason); then set-based statements move the staged rows into
   `raw.<entity>` on the natural key: new and changed records count as loaded, identical ones as
   duplicates;
4. `ops.loads` gets the counts, which always add up: rows_in = loaded + quarantined + duplicate.
Any error rolls all of it back. A fault of the file (undecodable, no header, missing columns) is recorded
as a `failed` load with the error and `failure = 'file'`, and returned: the caller goes on with other
files. A lost database is raised; the load's row stays `running` until the next load of the entity finds
its session gone and records it `failed` (`failure = 'service'`), and the next run loads it again.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from psycopg import sql

from connectors.csv_reader import POSTGRES_ENCODINGS, ColumnPlan, CsvExport, open_export, plan_columns
from connectors.registry import EntitySpec
from contracts.field_kinds import Kind
from contracts.fields import field_rules
from teei.ingest.identity import hmac_pads
from teei.ingest.record_checks import (
    checked_select,
    field_inputs,
    raw_record,
    scale_query,
    session_settings,
)

log = logging.getLogger(__name__)

LoadStatus = Literal["succeeded", "failed", "skipped"]
# Records sent to COPY in chunks of about this many characters (memory stays flat).
COPY_CHUNK_CHARS = 1 << 20


@dataclass(frozen=True)
class LoadResult:
    """What one load did, as recorded in `ops.loads`."""

    load_id: int
    source: str
    entity: str
    file_name: str
    file_sha256: str
    status: LoadStatus
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    error: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_csv_file(
    engine: sa.Engine,
    path: Path,
    spec: EntitySpec,
    *,
    timezone: ZoneInfo,
    pseudonym_key: str,
    file_name: str | None = None,
) -> LoadResult:
    """Load one export file of `spec`'s entity into `raw.<spec.raw_table>` (see the module doc)."""
    return _run_load(
        engine,
        lambda: open_export(path, spec),
        spec,
        file_name=file_name or path.name,
        file_sha256=file_sha256(path),
        timezone=timezone,
        pseudonym_key=pseudonym_key,
    )


def load_rows(
    engine: sa.Engine,
    header: list[str],
    rows: Iterable[list[str | None]],
    spec: EntitySpec,
    *,
    file_name: str,
    file_sha256: str,
    timezone: ZoneInfo,
    pseudonym_key: str,
    hold_failures: bool = True,
) -> LoadResult:
    """Load rows already split into values under `header` (a webhook body or an upload read by the
    same connector) exactly as a file with that header and those rows would load.

    `hold_failures=False` is for a caller whose sender sees the answer (a webhook): bytes that failed are
    recorded failed but not held, so the same bytes sent again are loaded again, not `skipped`."""
    return _run_load(
        engine,
        lambda: RowsExport(plan_columns(header, spec, file_name), rows),
        spec,
        file_name=file_name,
        file_sha256=file_sha256,
        timezone=timezone,
        pseudonym_key=pseudonym_key,
        hold_failures=hold_failures,
    )


class Export(Protocol):
    """What the loader stages: a column plan and the records (and, for a file, its own bytes)."""

    @property
    def plan(self) -> ColumnPlan: ...

    @property
    def copyable(self) -> bool: ...

    def records(self) -> Iterator[tuple[list[str | None], dict[str, str]]]: ...


@dataclass
class RowsExport:
    """Rows given as values (not a file): staged through the same path as a file's records."""

    plan: ColumnPlan
    rows: Iterable[list[str | None]]
    copyable: bool = False

    def records(self) -> Iterator[tuple[list[str | None], dict[str, str]]]:
        width = len(self.plan.headers)
        for row in self.rows:
            values = list(row[:width]) + [None] * (width - len(row))
            yield values, {f"column_{i + 1}": str(row[i]) for i in range(width, len(row)) if row[i]}


# A lost or refused connection, or a statement cancelled by a timeout: a fault of a service, not of the
# file, so the next run tries the same bytes again.
SERVICE_FAULTS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    ConnectionError,
    TimeoutError,
)

INTERRUPTED = (
    "interrupted: the load's database connection was lost (the database stopped or the process was killed); "
    "the next run loads these bytes again"
)


def _run_load(
    engine: sa.Engine,
    open_source: Callable[[], Export],
    spec: EntitySpec,
    *,
    file_name: str,
    file_sha256: str,
    timezone: ZoneInfo,
    pseudonym_key: str,
    hold_failures: bool = True,
) -> LoadResult:
    # The load's row is committed first, with the connection that does the load, so a load cut off by a
    # lost database or a killed process is still visible afterwards (`_recover_interrupted` marks it).
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with connection.begin():
            load_id = _begin_load(driver, spec, file_name, file_sha256)
        try:
            with connection.begin():
                return _load(
                    driver,
                    load_id,
                    open_source,
                    spec,
                    file_name,
                    file_sha256,
                    timezone.key,
                    hmac_pads(pseudonym_key),
                    hold_failures=hold_failures,
                )
        except Exception as exc:
            log.warning("load %s of %s failed: %s: %s", load_id, file_name, type(exc).__name__, exc)
            if isinstance(exc, SERVICE_FAULTS):
                # The connection is gone: the row stays `running` until the next load finds it interrupted.
                raise
            with connection.begin():
                # A caller that does not hold failures gets them released at once, as `teei retry` would.
                driver.execute(
                    "UPDATE ops.loads SET status = 'failed', failure = 'file', error = %s, finished_at = now(), "
                    "released_at = CASE WHEN %s THEN NULL ELSE now() END WHERE load_id = %s",
                    (f"{type(exc).__name__}: {exc}".strip(), hold_failures, load_id),
                )
            return LoadResult(load_id, spec.source, spec.entity, file_name, file_sha256, "failed", error=str(exc))


def _begin_load(connection: psycopg.Connection[Any], spec: EntitySpec, file_name: str, sha256: str) -> int:
    """The load's `running` row (committed by the caller), naming this connection's backend so another
    load can tell whether it is still alive."""
    row = connection.execute(
        """
        INSERT INTO ops.loads (source, entity, file_name, file_sha256, status, backend_pid, backend_started_at)
        SELECT %s, %s, %s, %s, 'running', pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()
        RETURNING load_id
        """,
        (spec.source, spec.entity, file_name, sha256),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _recover_interrupted(connection: psycopg.Connection[Any], spec: EntitySpec) -> None:
    """Mark this entity's loads `failed` whose connection is gone (run under the entity's lock)."""
    connection.execute(
        """
        UPDATE ops.loads l
           SET status = 'failed', failure = 'service', finished_at = now(), error = %s
         WHERE l.status = 'running' AND l.source = %s AND l.entity = %s
           AND NOT EXISTS (
               SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid AND a.backend_start = l.backend_started_at
           )
        """,
        (INTERRUPTED, spec.source, spec.entity),
    )


@contextlib.contextmanager
def _step(name: str, file_name: str) -> Iterator[None]:
    """Log how long one step of a load took (DEBUG), to see where a slow load spends its time."""
    started = time.perf_counter()
    yield
    log.debug("%s: %s took %.2f s", file_name, name, time.perf_counter() - started)


def _load(
    connection: psycopg.Connection[Any],
    load_id: int,
    open_source: Callable[[], Export],
    spec: EntitySpec,
    file_name: str,
    sha256: str,
    timezone: str,
    hmac_keys: tuple[bytes, bytes],
    *,
    hold_failures: bool,
) -> LoadResult:
    table = sql.Identifier("raw", spec.raw_table)
    # Loads of one table run one at a time, so two copies of a file cannot both pass the checks below.
    connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"raw.{spec.raw_table}",))
    _recover_interrupted(connection, spec)
    already = connection.execute(
        "SELECT load_id FROM ops.loads WHERE source = %s AND entity = %s AND file_sha256 = %s "
        "AND status = 'succeeded' LIMIT 1",
        (spec.source, spec.entity, sha256),
    ).fetchone()
    # The same bytes failed before by a fault of the file: they would fail again, so they wait until the
    # file changes or an operator releases that load (`teei retry --load ID`).
    held = None
    if hold_failures:
        held = connection.execute(
            "SELECT load_id, error FROM ops.loads WHERE source = %s AND entity = %s AND file_sha256 = %s "
            "AND status = 'failed' AND failure = 'file' AND released_at IS NULL ORDER BY load_id DESC LIMIT 1",
            (spec.source, spec.entity, sha256),
        ).fetchone()
    if already or held:
        reason = None
        if held and not already:
            reason = (
                f"not retried: load {held[0]} failed on these bytes ({held[1]}); "
                f"change the file, or `teei retry --load {held[0]}`"
            )
        connection.execute(
            "UPDATE ops.loads SET status = 'skipped', finished_at = now(), error = %s WHERE load_id = %s",
            (reason, load_id),
        )
        return LoadResult(load_id, spec.source, spec.entity, file_name, sha256, "skipped", error=reason)

    export = open_source()
    plan = export.plan
    connection.execute(session_settings(timezone))
    # A plain (unlogged) table, not a temporary one, so the checking statement can run in parallel
    # workers; created and dropped inside this transaction, so no other session ever sees it.
    stage = sql.Identifier("ops", f"stage_load_{load_id}")
    with _step("staging", file_name):
        rows_in = _stage(connection, export, stage)
        connection.execute(sql.SQL("ANALYZE {}").format(stage))

    inputs = field_inputs(spec, plan)
    scored = [rule.name for rule in field_rules(spec.record) if rule.kind == Kind.SCORE and rule.name in plan.fields]
    zero_to_one: set[str] = set()
    if scored and rows_in:
        with _step("deciding score scales", file_name):
            decided = connection.execute(scale_query({name: inputs[name] for name in scored}, stage)).fetchone()
            assert decided is not None
        zero_to_one = {name for name, on_unit_scale in zip(scored, decided, strict=True) if on_unit_scale}

    checked = sql.Identifier(f"checked_{spec.raw_table}")
    converted = sql.Identifier("ops", f"converted_load_{load_id}")
    select = checked_select(
        spec,
        plan,
        stage,
        converted,
        zero_to_one=zero_to_one,
        hmac_keys=hmac_keys,
        load_id=load_id,
        file_name=file_name,
    )
    with _step("checking", file_name):
        connection.execute(sql.SQL("CREATE UNLOGGED TABLE {} AS {}").format(converted, select.converting))
        connection.execute(sql.SQL("ANALYZE {}").format(converted))
        connection.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(checked, select.checking))
        connection.execute(sql.SQL("DROP TABLE {}").format(converted))
    rejected = connection.execute(
        sql.SQL(
            "INSERT INTO ops.quarantine (load_id, source_row_number, raw_record, reasons) "
            "SELECT {load_id}, s.source_row_number, {raw}, to_jsonb(c.reasons) "
            "FROM {stage} s JOIN {checked} c USING (source_row_number) WHERE cardinality(c.reasons) > 0"
        ).format(load_id=sql.Literal(load_id), raw=raw_record(plan), stage=stage, checked=checked)
    ).rowcount
    if rejected:
        connection.execute(sql.SQL("DELETE FROM {} WHERE cardinality(reasons) > 0").format(checked))
    connection.execute(sql.SQL("ANALYZE {}").format(checked))
    accepted = rows_in - rejected

    with _step("settling repeats", file_name):
        superseded = _settle_repeats(connection, spec, checked, load_id, stage, raw_record(plan))
    connection.execute(sql.SQL("DROP TABLE {}").format(stage))
    with _step("upserting", file_name):
        loaded = _upsert(connection, spec, checked, table, select.columns)
    duplicates = accepted - superseded - loaded
    connection.execute(
        """
        UPDATE ops.loads
           SET rows_in = %s, rows_loaded = %s, rows_quarantined = %s, rows_duplicate = %s,
               status = 'succeeded', finished_at = now()
         WHERE load_id = %s
        """,
        (rows_in, loaded, rejected + superseded, duplicates, load_id),
    )
    return LoadResult(
        load_id,
        spec.source,
        spec.entity,
        file_name,
        sha256,
        "succeeded",
        rows_in=rows_in,
        rows_loaded=loaded,
        rows_quarantined=rejected + superseded,
        rows_duplicate=duplicates,
    )


class _BlankRecord(Exception):
    """COPY staged a record of only empty fields, which `CsvExport.records` skips as a blank line."""


def _stage(connection: psycopg.Connection[Any], export: Export, stage: sql.Identifier) -> int:
    """Copy the export's records into a temporary table of text columns; the number of records.

    A file PostgreSQL can parse itself goes in as its own bytes (the fastest path, COPY's CSV
    parser); if COPY refuses it (a blank line, a row of another width, a byte that is no text in
    its encoding) or reads a line of only delimiters as a record (the csv path skips it as blank),
    the attempt is rolled back and the records go through Python's csv module, which reads what
    COPY cannot. Either way the stage numbers records in file order and holds the same values: an
    empty field is NULL whether or not it was quoted (`FORCE_NULL`), as the csv path writes it.
    """
    width = len(export.plan.headers)
    columns = sql.SQL(", ").join(sql.Identifier(f"c{n}") for n in range(1, width + 1))
    create = sql.SQL(
        "CREATE UNLOGGED TABLE {stage} (source_row_number integer GENERATED ALWAYS AS IDENTITY, {defs}, surplus text)"
    ).format(
        stage=stage,
        defs=sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{n}")) for n in range(1, width + 1)),
    )
    if export.copyable and isinstance(export, CsvExport):
        try:
            with connection.transaction():
                connection.execute(create)
                copy_file = sql.SQL(
                    "COPY {stage} ({columns}) FROM STDIN"
                    " (FORMAT csv, HEADER true, DELIMITER {delimiter}, ENCODING {encoding}, FORCE_NULL *)"
                ).format(
                    stage=stage,
                    columns=columns,
                    delimiter=sql.Literal(export.delimiter),
                    encoding=sql.Literal(POSTGRES_ENCODINGS[export.encoding]),
                )
                with connection.cursor() as cursor:
                    with cursor.copy(copy_file) as copy:
                        for chunk in export.body():
                            copy.write(chunk)
                    count = cursor.rowcount
                blank = connection.execute(
                    sql.SQL("SELECT EXISTS (SELECT FROM {stage} WHERE ROW({columns}) IS NULL)").format(
                        stage=stage, columns=columns
                    )
                ).fetchone()
                if blank and blank[0]:
                    raise _BlankRecord("a line of only delimiters, which is a blank line, not a record")
                return count
        except (psycopg.DataError, _BlankRecord) as refused:
            log.info("%s: COPY cannot parse it (%s); reading it with Python's csv module", export.name, refused)
    connection.execute(create)
    copy_records = sql.SQL("COPY {stage} ({columns}, surplus) FROM STDIN (FORMAT csv)").format(
        stage=stage, columns=columns
    )
    count = 0
    buffer = io.StringIO()
    # CRLF line ends make the csv module quote any value holding a CR or LF (a lone CR too).
    writer = csv.writer(buffer, lineterminator="\r\n")
    with connection.cursor().copy(copy_records) as copy:
        for values, surplus in export.records():
            count += 1
            writer.writerow([*values, json.dumps(surplus) if surplus else None])
            if buffer.tell() > COPY_CHUNK_CHARS:
                copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
        copy.write(buffer.getvalue())
    return count


def _key_match(spec: EntitySpec, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(key), sql.Identifier(right), sql.Identifier(key)
        )
        for key in spec.natural_key
    )


def _settle_repeats(
    connection: psycopg.Connection[Any],
    spec: EntitySpec,
    stage: sql.Identifier,
    load_id: int,
    source: sql.Identifier,
    raw: sql.Composable,
) -> int:
    """Keep only the last row of each key in the (checked) stage; earlier rows with other values are
    quarantined (returned count) with their record as read (`raw`, over the `source` stage as `s`),
    identical earlier rows are dropped as duplicates."""
    keys = sql.SQL(", ").join(map(sql.Identifier, spec.natural_key))
    key_text = sql.SQL(" || '/' || ").join(
        sql.SQL("{}.{}::text").format(sql.Identifier("e"), sql.Identifier(k)) for k in spec.natural_key
    )
    statement = sql.SQL(
        """
        WITH repeated AS (
            SELECT {keys} FROM {stage} GROUP BY {keys} HAVING count(*) > 1
        ), latest AS (
            SELECT DISTINCT ON ({keys}) {keys}, source_row_number, row_hash
              FROM {stage} JOIN repeated USING ({keys})
             ORDER BY {keys}, source_row_number DESC
        ), earlier AS (
            DELETE FROM {stage} s USING latest l
             WHERE {match} AND s.source_row_number < l.source_row_number
            RETURNING s.*, l.source_row_number AS latest_row, l.row_hash AS latest_hash
        )
        INSERT INTO ops.quarantine (load_id, source_row_number, raw_record, reasons)
        SELECT {load_id}, e.source_row_number, {raw},
               jsonb_build_array(format({reason}, {key_text}, e.latest_row))
          FROM earlier e JOIN {source} s USING (source_row_number)
         WHERE e.row_hash <> e.latest_hash
        """
    ).format(
        keys=keys,
        stage=stage,
        match=_key_match(spec, "s", "l"),
        key_text=key_text,
        source=source,
        raw=raw,
        load_id=sql.Literal(load_id),
        reason=sql.Literal(
            "+".join(spec.natural_key) + " %s appears again in row %s with other values; the later row was loaded"
        ),
    )
    # No parameters: the raw record's keys are headers, which may hold a `%`.
    cursor = connection.execute(statement)
    return cursor.rowcount


def _upsert(
    connection: psycopg.Connection[Any],
    spec: EntitySpec,
    stage: sql.Identifier,
    table: sql.Identifier,
    columns: list[str],
) -> int:
    """Update changed records, insert new keys; identical records are left alone (not even loaded_at).

    Two plain statements instead of INSERT … ON CONFLICT: no speculative insertion per row, and the
    stage holds one row per key (see `_settle_repeats`). Loads of a table are serialised by the caller.
    """
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = sql.SQL(", ").join(
        sql.SQL("{col} = s.{col}").format(col=sql.Identifier(column))
        for column in columns
        if column not in spec.natural_key
    )
    match = _key_match(spec, "t", "s")
    updated = connection.execute(
        sql.SQL(
            "UPDATE {table} t SET {updates}, loaded_at = now() "
            "FROM {stage} s WHERE {match} AND t.row_hash <> s.row_hash"
        ).format(table=table, updates=updates, stage=stage, match=match)
    ).rowcount
    inserted = connection.execute(
        sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} s "
            "WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"
        ).format(table=table, columns=column_list, stage=stage, match=match)
    ).rowcount
    return updated + inserted
