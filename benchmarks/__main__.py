"""`make bench`: throughput of the platform's paths as ratios against baselines measured in the same run.

CSV → raw: the loader (parse, map, validate, pseudonymise, COPY, upsert, lineage) against
  - `psql \\copy` of the same file into a bare all-text table (the limit), and
  - pandas `read_csv` + `to_sql` (what a user writes by hand);
  and the loader's peak memory (RSS) for the full file against a file a tenth its size (flat means streaming).
outbox → JetStream: `publish_outbox` against raw nats-py async publishing of the same payloads.
dbt build: a full `dbt build` of the shared schema on a generated data set of about BENCH_DBT_SESSIONS
  (default 1000000) Kintell sessions, against an incremental `dbt build` after one more day's file.

Sizes: BENCH_ROWS (default 1000000) rows for the loader and \\copy, BENCH_PANDAS_ROWS (default 100000)
for pandas (compared by rows per second: to_sql of a million rows takes minutes), BENCH_EVENTS
(default 100000) outbox rows. BENCH_ONLY=loader,outbox,dbt runs some of them.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from connectors.registry import get_entity
from orchestration.defs.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_environment
from teei.devtools.generate import generate_exports, write_kintell_sessions
from teei.devtools.services import EmbeddedNats, EmbeddedPostgres, free_port
from teei.ingest.loader import load_csv_file
from teei.platform.database import create_db_engine, with_database
from teei.platform.migrate import migrate

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
PANDAS_ROWS = int(os.environ.get("BENCH_PANDAS_ROWS", "100000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
DBT_SESSIONS = int(os.environ.get("BENCH_DBT_SESSIONS", "1000000"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "loader,outbox,dbt,api").split(",")))
API_REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "4000"))
API_CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "32"))
API_PEOPLE = int(os.environ.get("BENCH_API_PEOPLE", "300"))
# Kintell sessions the generator writes per participant over its three months (sample: 283 for 60).
SESSIONS_PER_PARTICIPANT = 4.7
OSLO = ZoneInfo("Europe/Oslo")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fresh_database(server: EmbeddedPostgres, name: str) -> str:
    with psycopg.connect(with_database(server.url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server.url, name)
    migrate(url)
    return url


def psql_copy(url: str, path: Path) -> None:
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    columns = ", ".join(f'"c{i}" text' for i in range(len(header)))
    psql = str(EmbeddedPostgres.bin_dir() / "psql")
    subprocess.run([psql, url, "-qc", f"DROP TABLE IF EXISTS bare; CREATE TABLE bare ({columns})"], check=True)
    subprocess.run([psql, url, "-qc", f"\\copy bare FROM '{path}' WITH (FORMAT csv, HEADER true)"], check=True)


def pandas_to_sql(url: str, path: Path) -> None:
    import pandas as pd

    engine = create_db_engine(url)
    frame = pd.read_csv(path)
    frame.to_sql("by_hand", engine, if_exists="replace", index=False)
    engine.dispose()


def loader_in_subprocess(url: str, path: Path) -> tuple[float, int]:
    """(seconds, peak RSS in MiB) of one load in a fresh process, so memory is the loader's alone."""
    code = (
        "import sys, time, resource; from pathlib import Path; from zoneinfo import ZoneInfo;"
        "from connectors.registry import get_entity; from teei.platform.database import create_db_engine;"
        "from teei.ingest.loader import load_csv_file;"
        "engine = create_db_engine(sys.argv[1]); started = time.perf_counter();"
        "r = load_csv_file(engine, Path(sys.argv[2]), get_entity('kintell', 'sessions'),"
        " timezone=ZoneInfo('Europe/Oslo'), pseudonym_key='bench');"
        "assert r.status == 'succeeded', r;"
        "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    output = subprocess.run([sys.executable, "-c", code, url, str(path)], check=True, capture_output=True, text=True)
    seconds, peak = output.stdout.split()
    return float(seconds), int(peak)


def bench_csv_to_raw(server: EmbeddedPostgres, work: Path) -> dict[str, float]:
    big, small, tenth = work / "sessions_big.csv", work / "sessions_pandas.csv", work / "sessions_tenth.csv"
    write_kintell_sessions(big, rows=ROWS, seed=1)
    write_kintell_sessions(small, rows=PANDAS_ROWS, seed=2)
    write_kintell_sessions(tenth, rows=ROWS // 10, seed=3)
    url = fresh_database(server, "bench_copy")
    copy_s = timed(lambda: psql_copy(url, big))
    loader_s, peak_mib = loader_in_subprocess(fresh_database(server, "bench_loader"), big)
    _, peak_tenth_mib = loader_in_subprocess(fresh_database(server, "bench_loader_tenth"), tenth)
    pandas_s = timed(lambda: pandas_to_sql(fresh_database(server, "bench_pandas"), small))
    loader_rate, copy_rate, pandas_rate = ROWS / loader_s, ROWS / copy_s, PANDAS_ROWS / pandas_s
    print(f"\nCSV → raw, {ROWS:,} Kintell session rows (parse, map, check, COPY, lineage, upsert)")
    print(f"  psql \\copy (bare table)   {copy_s:8.2f} s  {copy_rate:12,.0f} rows/s")
    print(f"  teei loader              {loader_s:8.2f} s  {loader_rate:12,.0f} rows/s  peak {peak_mib} MiB")
    print(
        f"  pandas read_csv+to_sql   {pandas_s:8.2f} s  {pandas_rate:12,.0f} rows/s  ({PANDAS_ROWS:,} rows;"
        f" {ROWS / pandas_rate:.0f} s at {ROWS:,})"
    )
    print(f"  loader time / \\copy time        {loader_s / copy_s:6.2f}×   (target ≤ 3×)")
    print(f"  loader rate / to_sql rate       {loader_rate / pandas_rate:6.1f}×   (target ≥ 10×)")
    print(
        f"  peak RSS, {ROWS:,} vs {ROWS // 10:,} rows   {peak_mib} MiB vs {peak_tenth_mib} MiB "
        f"({peak_mib / peak_tenth_mib:.2f}×; target ≤ 1.5×)"
    )
    return {
        "copy_seconds": copy_s,
        "loader_seconds": loader_s,
        "loader_vs_copy": loader_s / copy_s,
        "loader_vs_to_sql": loader_rate / pandas_rate,
        "memory_10x_rows_ratio": peak_mib / peak_tenth_mib,
    }


def bench_outbox(server: EmbeddedPostgres, work: Path) -> dict[str, float]:
    """EVENTS outbox rows → JetStream against raw nats-py `publish_async` of the same envelopes to
    the same stream (deleted and recreated in between, which also resets its duplicate window); each
    run counted on the stream, not by calls."""
    import sqlalchemy as sa

    from contracts.events import KintellSessionCompletedV2
    from teei.events import nats_client
    from teei.events.outbox import publish_outbox, stage_payloads

    nats = EmbeddedNats(work / "nats-home", free_port(), free_port())
    nats.start()
    try:
        url = fresh_database(server, "bench_outbox")
        engine = create_db_engine(url)
        payloads = [
            KintellSessionCompletedV2(
                session_id=f"bench-{i}",
                session_type="language",
                participant_user_id=f"{i:064x}",
                volunteer_user_id="b" * 64,
                completed_at=datetime(2026, 10, 1, 10, tzinfo=UTC),
                duration_seconds=3600,
                cefr_level="B1",
            )
            for i in range(EVENTS)
        ]
        with engine.begin() as db:
            stage_payloads(db, payloads)
        with engine.connect() as db:
            stored = db.execute(sa.text("SELECT * FROM ops.event_outbox ORDER BY created_at, event_id")).all()
        # What a hand-written publisher starts from: the payloads and their ids and subjects.
        events = [(str(r.event_id), r.natural_key.split("@")[0], r.created_at, r.payload) for r in stored]
        # The strictest floor: the outbox's very bytes, encoded ahead, sent without a Nats-Msg-Id.
        preencoded = [_encoded(row) for row in stored]
        subject = KintellSessionCompletedV2.nats_subject()
        dataschema = KintellSessionCompletedV2.dataschema()

        async def stream_messages() -> int:
            async with nats_client.connect(nats.url) as connection:
                return int((await connection.jetstream().stream_info("KINTELL")).state.messages)

        async def raw_publish() -> None:
            """Raw nats-py: json.dumps of each CloudEvent, publish_async with its id, gather the acks."""
            async with nats_client.connect(nats.url) as connection:
                js = connection.jetstream()
                await nats_client.ensure_streams(js)
                futures = []
                for identifier, ce_subject, created_at, payload in events:
                    envelope = {
                        "specversion": "1.0",
                        "id": identifier,
                        "source": "urn:teei:platform",
                        "type": "kintell.session.completed",
                        "subject": ce_subject,
                        "time": created_at.isoformat(),
                        "datacontenttype": "application/json",
                        "dataschema": dataschema,
                        "data": payload,
                    }
                    data = json.dumps(envelope).encode()
                    futures.append(await js.publish_async(subject, data, headers={"Nats-Msg-Id": identifier}))
                await asyncio.gather(*futures)

        async def preencoded_publish() -> None:
            async with nats_client.connect(nats.url) as connection:
                js = connection.jetstream()
                await nats_client.ensure_streams(js)
                futures = [await js.publish_async(subject, data) for data in preencoded]
                await asyncio.gather(*futures)

        async def drop_stream() -> None:
            # Deleting (not purging) also forgets the Nats-Msg-Ids the duplicate window remembers.
            async with nats_client.connect(nats.url) as connection:
                await connection.jetstream().delete_stream("KINTELL")

        floor_s = timed(lambda: asyncio.run(preencoded_publish()))
        asyncio.run(drop_stream())
        raw_s = timed(lambda: asyncio.run(raw_publish()))
        raw_count = asyncio.run(stream_messages())
        asyncio.run(drop_stream())
        outbox_s = timed(lambda: publish_outbox(engine, nats.url))
        on_stream = asyncio.run(stream_messages())
        # A replay of everything (the marks lost): JetStream must drop every message as a duplicate.
        with engine.begin() as db:
            db.execute(sa.text("UPDATE ops.event_outbox SET sent_at = NULL"))
        publish_outbox(engine, nats.url)
        after_replay = asyncio.run(stream_messages())
        engine.dispose()
    finally:
        nats.stop()
    print(f"\noutbox → JetStream, {EVENTS:,} events, stream KINTELL")
    print(f"  raw nats-py publish_async   {raw_s:8.2f} s  {EVENTS / raw_s:12,.0f} events/s  ({raw_count:,} stored)")
    print(f"  teei publish_outbox         {outbox_s:8.2f} s  {EVENTS / outbox_s:12,.0f} events/s")
    print(f"  outbox rate / raw rate          {raw_s / outbox_s:6.2f}    (target ≥ 0.5)")
    print(f"  (floor: pre-encoded bytes, no Nats-Msg-Id {floor_s:6.2f} s, {EVENTS / floor_s:,.0f} events/s)")
    print(f"  messages on the stream          {on_stream:,} of {EVENTS:,} (lost {max(EVENTS - on_stream, 0)})")
    print(f"  after replaying every row       {after_replay:,} (doubled {after_replay - on_stream})")
    return {
        "outbox_vs_raw": raw_s / outbox_s,
        "outbox_events_per_s": EVENTS / outbox_s,
        "raw_events_per_s": EVENTS / raw_s,
        "outbox_vs_preencoded_floor": floor_s / outbox_s,
        "events_lost": float(EVENTS - on_stream),
        "events_doubled": float(after_replay - EVENTS),
    }


def _encoded(row: Any) -> bytes:
    from contracts.events import EVENT_TYPES, encode_structured

    payload = EVENT_TYPES[(row.type, int(row.subject.rsplit(".v", 1)[1]))].model_validate(row.payload)
    return encode_structured(payload, natural_key=row.natural_key, time=row.created_at)[1]


def dbt_build(url: str, work: Path) -> float:
    """One `dbt build` (models, seeds and tests) as a user runs it; returns its wall time."""
    command = [str(DBT_EXECUTABLE), "build", "--quiet", "--profiles-dir", ".", "--target-path", str(work / "target")]
    started = time.perf_counter()
    subprocess.run(command, cwd=DBT_PROJECT_DIR, env={**os.environ, **dbt_environment(url)}, check=True)
    return time.perf_counter() - started


def write_next_day(url: str, path: Path, sessions: int) -> None:
    """One more day's Kintell export: `sessions` new sessions completed the day after the latest one,
    between people the data set already has, plus a tenth as many updates of existing sessions."""
    with psycopg.connect(url) as db, path.open("w", newline="", encoding="utf-8") as out:
        rows = db.execute(
            """
            WITH latest AS (SELECT date_trunc('day', max(completed_at)) + interval '1 day' AS day
                              FROM raw.kintell_sessions)
            SELECT 'DAY-' || n, session_type, participant_email, volunteer_email,
                   to_char(day + (n %% 600) * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   to_char(day + (n %% 600) * interval '1 minute' + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   60
              FROM (SELECT row_number() OVER () AS n, s.* FROM raw.kintell_sessions s
                     TABLESAMPLE SYSTEM (5) LIMIT %(new)s) picked, latest
            UNION ALL
            SELECT session_id, session_type, participant_email, volunteer_email,
                   to_char(coalesce(started_at, completed_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   to_char(completed_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), duration_minutes %% 480 + 1
              FROM raw.kintell_sessions WHERE completed_at IS NOT NULL LIMIT %(updated)s
            """,
            {"new": sessions, "updated": sessions // 10},
        )
        writer = csv.writer(out)
        fields = "session_id session_type participant_email volunteer_email started_at completed_at duration_minutes"
        writer.writerow(fields.split())
        writer.writerows(rows)


def bench_dbt_build(server: EmbeddedPostgres, work: Path) -> dict[str, float]:
    scale = max(60, round(DBT_SESSIONS / SESSIONS_PER_PARTICIPANT))
    exports = work / "exports"
    manifest = generate_exports(exports, scale=scale, seed=2026)
    url = fresh_database(server, "bench_dbt")
    engine = create_db_engine(url, pool_size=1)
    load = functools.partial(load_csv_file, engine, timezone=OSLO, pseudonym_key="bench-key")
    for relative, files in manifest.files.items():
        load(exports / relative, get_entity(files.source, files.entity), file_name=relative)
    with psycopg.connect(url) as db:
        sessions = db.execute("SELECT count(*) FROM raw.kintell_sessions").fetchone()[0]  # type: ignore[index]
    full_s = dbt_build(url, work)
    day = work / "sessions_next_day.csv"
    day_sessions = max(10, sessions // 90)
    write_next_day(url, day, day_sessions)
    load(day, get_entity("kintell", "sessions"), file_name="kintell/sessions_next_day.csv")
    incremental_s = dbt_build(url, work)
    engine.dispose()
    print(f"\ndbt build of the shared schema, {sessions:,} Kintell sessions ({scale:,} participants, all sources)")
    print(f"  full build                      {full_s:8.2f} s")
    print(
        f"  incremental, one more day       {incremental_s:8.2f} s  "
        f"({day_sessions:,} new sessions, {day_sessions // 10:,} updated)"
    )
    print(f"  incremental / full              {incremental_s / full_s:6.1%}   (target < 15 %)")
    return {
        "dbt_full_seconds": full_s,
        "dbt_incremental_seconds": incremental_s,
        "dbt_incremental_vs_full": incremental_s / full_s,
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _load(base_url: str, paths: list[str], headers: dict[str, str], requests: int) -> tuple[float, list[float]]:
    """`requests` GETs spread over API_CLIENTS concurrent clients (one connection each); every answer
    must be 200. Returns (seconds, latencies in seconds)."""
    import httpx

    latencies: list[float] = []
    sent = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < requests:
            path = paths[sent % len(paths)]
            sent += 1
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=API_CLIENTS, max_keepalive_connections=API_CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(API_CLIENTS)))
        return time.perf_counter() - started, latencies


def bench_profiles_api(server: EmbeddedPostgres, work: Path) -> dict[str, float]:
    """`GET /v1/profiles/{id}` under concurrent load against `GET /health` on the same server."""
    import httpx

    from api.auth import mint_token
    from teei.platform.settings import Settings

    exports = work / "api-exports"
    manifest = generate_exports(exports, scale=API_PEOPLE, seed=7)
    url = fresh_database(server, "bench_api")
    engine = create_db_engine(url, pool_size=1)
    load = functools.partial(load_csv_file, engine, timezone=OSLO, pseudonym_key="bench-key")
    for relative, files in manifest.files.items():
        load(exports / relative, get_entity(files.source, files.entity), file_name=relative)
    engine.dispose()
    dbt_build(url, work)
    with psycopg.connect(url) as db:
        user_ids = [row[0] for row in db.execute("SELECT user_id FROM core.users ORDER BY md5(user_id)")]

    secret = "bench-jwt-secret-long-enough-for-hs256-0123456789"
    environment = {
        **os.environ,
        "TEEI_DATABASE_URL": url,
        "TEEI_HOME": str(work / "api-home"),
        "TEEI_JWT_SECRET": secret,
        # The bench measures throughput, not the limiter's refusals.
        "TEEI_API_RATE_LIMIT": "1000000000/minute",
    }
    token = mint_token(Settings(_env_file=None, jwt_secret=secret), role="admin", sub="bench")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"]
    with (work / "api.log").open("wb") as log:
        api = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or api.poll() is not None:
                raise RuntimeError(f"the API did not start; see {work / 'api.log'}")
            time.sleep(0.2)
        admin = {"Authorization": f"Bearer {token}"}
        profiles = [f"/v1/profiles/{user_id}" for user_id in user_ids]
        # warm both paths (connections, pools, caches) before measuring
        asyncio.run(_load(base_url, ["/health"], {}, API_CLIENTS * 10))
        asyncio.run(_load(base_url, profiles, admin, API_CLIENTS * 10))
        health_s, health_latencies = asyncio.run(_load(base_url, ["/health"], {}, API_REQUESTS))
        profile_s, profile_latencies = asyncio.run(_load(base_url, profiles, admin, API_REQUESTS))
    finally:
        api.terminate()
        api.wait(timeout=20)
    health_rate, profile_rate = API_REQUESTS / health_s, API_REQUESTS / profile_s
    print(
        f"\nHTTP API, {API_REQUESTS:,} requests each from {API_CLIENTS} concurrent clients "
        f"(uvicorn, 1 worker; {len(user_ids):,} people)"
    )
    for name, rate, latencies in (
        ("GET /health               ", health_rate, health_latencies),
        ("GET /v1/profiles/{id}     ", profile_rate, profile_latencies),
    ):
        p50, p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
        print(f"  {name} {rate:9,.0f} requests/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    print(f"  profile rate / health rate      {profile_rate / health_rate:6.2f}    (target ≥ 0.5)")
    return {
        "api_health_requests_per_second": health_rate,
        "api_profile_requests_per_second": profile_rate,
        "api_profile_vs_health": profile_rate / health_rate,
        "api_profile_p50_ms": _percentile(profile_latencies, 0.5) * 1000,
        "api_profile_p99_ms": _percentile(profile_latencies, 0.99) * 1000,
        "api_health_p99_ms": _percentile(health_latencies, 0.99) * 1000,
    }


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="teei-bench-"))
    work.chmod(0o711)  # ours; the unprivileged PostgreSQL user must reach its folders when we are root
    server = EmbeddedPostgres(work / "home", free_port())
    server.start()
    try:
        results: dict[str, float] = {}
        if "loader" in ONLY:
            results |= bench_csv_to_raw(server, work)
        if "outbox" in ONLY:
            results |= bench_outbox(server, work)
        if "dbt" in ONLY:
            results |= bench_dbt_build(server, work)
        if "api" in ONLY:
            results |= bench_profiles_api(server, work)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    results_dir = Path("benchmarks/results")
    results_dir.mkdir(parents=True, exist_ok=True)
    latest = results_dir / "latest.json"
    # A partial run (BENCH_ONLY) keeps the other paths' last figures.
    earlier = json.loads(latest.read_text()) if latest.exists() else {}
    latest.write_text(json.dumps(earlier | results, indent=2) + "\n")
    print(f"\nratios written to {results_dir / 'latest.json'}")


if __name__ == "__main__":
    main()
