"""The one loader: every source entity lands in its raw table through `load_csv_file`.

A load is one transaction:
1. the file's SHA-256 is looked up in `ops.loads`; a file already loaded is recorded as `skipped`
   and changes nothing else;
2. valid records stream through PostgreSQL COPY into a temporary staging table, rejected rows
   into `ops.quarantine` with every reason;
3. a key repeated inside the file keeps its last row (earlier rows with other values are
   quarantined with the reason); then set-based statements move the staged rows into
   `raw.<entity>` on the natural key: new and changed records count as loaded, identical ones as
   duplicates;
4. `ops.loads` gets the counts, which always add up: rows_in = loaded + quarantined + duplicate.
Any error rolls all of it back and records a `failed` load with the error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.types.json import Jsonb

from connectors.csv_reader import AcceptedRow, RejectedRow, read_csv
from connectors.registry import EntitySpec
from teei.identity import Pseudonymiser

log = logging.getLogger(__name__)

LoadStatus = Literal["succeeded", "failed", "skipped"]
LINEAGE_COLUMNS = ("load_id", "source_file", "source_row_number", "row_hash")
# Rejected rows are spooled to disk past this size, so memory stays flat however bad a file is.
QUARANTINE_SPOOL_BYTES = 8 * 1024 * 1024


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
    file_name = file_name or path.name
    sha256 = file_sha256(path)
    rows = read_csv(path, spec, timezone=timezone)
    return load_rows(engine, rows, spec, file_name=file_name, file_sha256=sha256, pseudonym_key=pseudonym_key)


def load_rows(
    engine: sa.Engine,
    rows: Iterable[AcceptedRow | RejectedRow],
    spec: EntitySpec,
    *,
    file_name: str,
    file_sha256: str,
    pseudonym_key: str,
) -> LoadResult:
    """Load already-parsed rows (a CSV file, or a webhook body read by the same connector)."""
    try:
        with engine.begin() as connection:
            driver = connection.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            return _load(driver, rows, spec, file_name, file_sha256, Pseudonymiser(pseudonym_key))
    except Exception as exc:
        log.exception("load of %s failed", file_name)
        with engine.begin() as connection:
            load_id: int = connection.execute(
                sa.text(
                    """
                    INSERT INTO ops.loads (source, entity, file_name, file_sha256, status, finished_at, error)
                    VALUES (:source, :entity, :file_name, :sha, 'failed', now(), :error)
                    RETURNING load_id
                    """
                ),
                {
                    "source": spec.source,
                    "entity": spec.entity,
                    "file_name": file_name,
                    "sha": file_sha256,
                    "error": f"{type(exc).__name__}: {exc}",
                },
            ).scalar_one()
        return LoadResult(load_id, spec.source, spec.entity, file_name, file_sha256, "failed", error=str(exc))


def _load(
    connection: psycopg.Connection[Any],
    rows: Iterable[AcceptedRow | RejectedRow],
    spec: EntitySpec,
    file_name: str,
    sha256: str,
    pseudonyms: Pseudonymiser,
) -> LoadResult:
    table = sql.Identifier("raw", spec.raw_table)
    # Loads of one entity run one at a time, so two copies of a file cannot both pass the check below.
    connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"raw.{spec.raw_table}",))
    already = connection.execute(
        "SELECT load_id FROM ops.loads WHERE source = %s AND entity = %s AND file_sha256 = %s "
        "AND status = 'succeeded' LIMIT 1",
        (spec.source, spec.entity, sha256),
    ).fetchone()
    status: LoadStatus = "skipped" if already else "succeeded"
    row = connection.execute(
        "INSERT INTO ops.loads (source, entity, file_name, file_sha256, status) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING load_id",
        (spec.source, spec.entity, file_name, sha256, "skipped" if already else "running"),
    ).fetchone()
    assert row is not None
    load_id = int(row[0])
    if already:
        connection.execute("UPDATE ops.loads SET finished_at = now() WHERE load_id = %s", (load_id,))
        return LoadResult(load_id, spec.source, spec.entity, file_name, sha256, "skipped")

    columns = raw_columns(spec)
    stage = sql.Identifier(f"stage_{spec.raw_table}")
    connection.execute(
        sql.SQL("CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP").format(
            stage=stage, table=table
        )
    )
    rows_in = accepted = 0
    with tempfile.SpooledTemporaryFile(QUARANTINE_SPOOL_BYTES, mode="w+", encoding="utf-8") as rejects:
        copy_into_stage = sql.SQL("COPY {stage} ({columns}) FROM STDIN").format(
            stage=stage, columns=sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with connection.cursor().copy(copy_into_stage) as copy:
            for parsed in rows:
                rows_in += 1
                if isinstance(parsed, RejectedRow):
                    rejects.write(json.dumps([parsed.row_number, parsed.raw, parsed.reasons]) + "\n")
                    continue
                accepted += 1
                copy.write_row(_raw_row(parsed, spec, load_id, file_name, pseudonyms))
        rejects.seek(0)
        rejected = _copy_quarantine(connection, load_id, rejects)

    superseded = _settle_repeats(connection, spec, stage, load_id)
    loaded = _upsert(connection, spec, stage, table, columns)
    duplicates = accepted - superseded - loaded
    connection.execute(
        """
        UPDATE ops.loads
           SET rows_in = %s, rows_loaded = %s, rows_quarantined = %s, rows_duplicate = %s,
               status = %s, finished_at = now()
         WHERE load_id = %s
        """,
        (rows_in, loaded, rejected + superseded, duplicates, status, load_id),
    )
    return LoadResult(
        load_id,
        spec.source,
        spec.entity,
        file_name,
        sha256,
        status,
        rows_in=rows_in,
        rows_loaded=loaded,
        rows_quarantined=rejected + superseded,
        rows_duplicate=duplicates,
    )


def raw_columns(spec: EntitySpec) -> list[str]:
    """The raw table's columns a load writes, in COPY order (record fields, user ids, metadata, lineage)."""
    return [*spec.record.model_fields, *spec.identities.values(), "metadata", *LINEAGE_COLUMNS]


def _raw_row(
    parsed: AcceptedRow, spec: EntitySpec, load_id: int, file_name: str, pseudonyms: Pseudonymiser
) -> list[Any]:
    record = parsed.record
    fields = record.__dict__  # the validated values as they are; model_dump() would copy them again
    # COPY's text format takes JSON as text, so lists and dicts go in already serialised.
    values: list[Any] = [json.dumps(v) if isinstance(v, (list, dict)) else v for v in fields.values()]
    values.extend(pseudonyms.user_id(fields[field]) for field in spec.identities)
    extras = json.dumps(parsed.extras) if parsed.extras else "{}"
    values.append(extras)
    # The hash covers what the source said (record and extra columns), not where or when it was loaded.
    fingerprint = record.__pydantic_serializer__.to_json(record) + extras.encode()
    values.extend((load_id, file_name, parsed.row_number, hashlib.blake2b(fingerprint, digest_size=16).hexdigest()))
    return values


def _copy_quarantine(connection: psycopg.Connection[Any], load_id: int, rejects: Iterator[str]) -> int:
    count = 0
    with connection.cursor().copy(
        "COPY ops.quarantine (load_id, source_row_number, raw_record, reasons) FROM STDIN"
    ) as copy:
        for line in rejects:
            row_number, raw, reasons = json.loads(line)
            copy.write_row((load_id, row_number, Jsonb(raw), Jsonb(reasons)))
            count += 1
    return count


def _key_match(spec: EntitySpec, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(key), sql.Identifier(right), sql.Identifier(key)
        )
        for key in spec.natural_key
    )


def _settle_repeats(connection: psycopg.Connection[Any], spec: EntitySpec, stage: sql.Identifier, load_id: int) -> int:
    """Keep only the last row of each key in the stage; earlier rows with other values are quarantined
    (returned count), identical earlier rows are dropped as duplicates."""
    keys = sql.SQL(", ").join(map(sql.Identifier, spec.natural_key))
    key_text = sql.SQL(" || '/' || ").join(
        sql.SQL("{}.{}::text").format(sql.Identifier("s"), sql.Identifier(k)) for k in spec.natural_key
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
        SELECT %(load_id)s, s.source_row_number,
               to_jsonb(s) - ARRAY['load_id', 'source_file', 'source_row_number', 'row_hash',
                                   'loaded_at', 'latest_row', 'latest_hash'],
               jsonb_build_array(format(%(reason)s, {key_text}, s.latest_row))
          FROM earlier s
         WHERE s.row_hash <> s.latest_hash
        """
    ).format(keys=keys, stage=stage, match=_key_match(spec, "s", "l"), key_text=key_text)
    reason = "+".join(spec.natural_key) + " %s appears again in row %s with other values; the later row was loaded"
    cursor = connection.execute(statement, {"load_id": load_id, "reason": reason})
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
