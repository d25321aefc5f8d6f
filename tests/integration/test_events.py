"""Events end to end against real PostgreSQL and NATS: every type derived from core rows and read
back from its stream with the CloudEvents SDK, the outbox riding out a NATS stop mid-batch, no new
events from unchanged records, a webhook's load announced before the build without doubling, and
the consumer keeping journeys current in agreement with the next dbt build."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import sqlalchemy as sa
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent

from connectors.registry import get_entity
from contracts.events import (
    EVENT_TYPES,
    BuddyMatchCreatedV1,
    KintellSessionCompletedV1,
    KintellSessionCompletedV2,
    SafetyFlagRaisedV1,
    SafetyReviewCompletedV1,
    UpskillingCourseCompletedV1,
    UpskillingCredentialIssuedV1,
    current_models,
)
from orchestration.defs.events import event_outbox
from orchestration.resources import PlatformResource
from teei.devtools.generate import generate_exports
from teei.devtools.services import EmbeddedNats, free_port
from teei.events import nats_client
from teei.events.consumer import ConsumerStats, consume
from teei.events.outbox import DERIVATIONS, publish_outbox, stage_events, stage_load_events
from teei.ingest.loader import load_csv_file, load_rows
from teei.platform.database import create_db_engine

pytestmark = pytest.mark.integration

KEY = "test-key"
SCALE, SEED = 40, 7
EMAIL = re.compile(rb"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# The core rows each derived event type announces (the outbox must hold exactly one event per row).
ANNOUNCED_ROWS = {
    "kintell.session.completed": "SELECT count(*) FROM core.kintell_sessions WHERE completed_at IS NOT NULL",
    "kintell.session.scheduled": "SELECT count(*) FROM core.kintell_sessions WHERE scheduled_at IS NOT NULL",
    "kintell.rating.created": "SELECT count(*) FROM core.kintell_ratings",
    "buddy.match.created": "SELECT count(*) FROM core.buddy_matches",
    "buddy.event.logged": "SELECT count(*) FROM core.buddy_events",
    "buddy.checkin.completed": "SELECT count(*) FROM core.buddy_checkins",
    "buddy.feedback.submitted": "SELECT count(*) FROM core.buddy_feedback",
    "upskilling.course.completed": "SELECT count(*) FROM core.learning_progress WHERE status = 'completed'",
    "upskilling.progress.updated": "SELECT count(*) FROM core.learning_progress",
    "upskilling.credential.issued": "SELECT count(*) FROM core.credentials",
    "orchestration.journey.milestone.reached": "SELECT count(*) FROM core.journey_milestones",
}


@dataclass
class Built:
    url: str
    folder: Path


@pytest.fixture(scope="module")
def built(make_database: Any, load_exports: Any, dbt: Any, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A generated export set of every source, loaded and built by dbt once: the template of each test."""
    url = make_database()
    folder = tmp_path_factory.mktemp("event-exports")
    manifest = generate_exports(folder, scale=SCALE, seed=SEED, messy=False)
    engine = create_db_engine(url)
    load_exports(engine, folder, manifest, pseudonym_key=KEY)
    engine.dispose()
    dbt(url, "build")
    return Built(url, folder)


@pytest.fixture
def copy(built: Built, make_database: Any) -> Iterator[tuple[str, sa.Engine]]:
    url = make_database(template=str(sa.make_url(built.url).database))
    engine = create_db_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS of this test's own, so stopping it or replaying its streams disturbs nobody."""
    server = EmbeddedNats(tmp_path / "nats", free_port(), free_port())
    server.start()
    yield server
    server.stop()


def scalar(engine: sa.Engine, query: str, **params: Any) -> Any:
    with engine.connect() as db:
        return db.execute(sa.text(query), params).scalar_one()


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query), params).mappings()]


async def stream_contents(url: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    """Every message on every stream: (stream, subject, headers, data)."""
    found = []
    async with nats_client.connect(url) as connection:
        js = connection.jetstream()
        for info in await js.streams_info():
            name = str(info.config.name)
            if not info.state.messages:
                continue
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(name, sequence)
                found.append((name, str(message.subject), dict(message.headers or {}), message.data or b""))
    return found


def test_every_event_type_is_derived_from_core_rows_and_reads_back_from_its_stream(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats
) -> None:
    _, engine = copy

    staged = stage_events(engine)

    for event_type, query in ANNOUNCED_ROWS.items():
        expected = scalar(engine, query)
        assert expected > 0, f"the generated set has no rows for {event_type}"
        assert staged[event_type] == expected, event_type

    # The two Python-made types: a profile update (by the consumer, tested below) and the safety
    # events, whose screening is a later feature: their contracts go out through the same client.
    async def publish_safety() -> None:
        async with nats_client.connect(own_nats.url) as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            at = datetime(2026, 3, 1, tzinfo=UTC)
            flag = SafetyFlagRaisedV1(
                flag_id="f-1",
                source_table="buddy_feedback",
                record_id="fb-1",
                category="personal_data",
                severity="medium",
                raised_at=at,
            )
            review = SafetyReviewCompletedV1(flag_id="f-1", decision="dismissed", reviewed_by="admin-1", reviewed_at=at)
            for payload in (flag, review):
                outcome = await nats_client.publish(js, payload, time=at, correlation_id="safety-test")
                assert outcome.acked and not outcome.duplicate

    asyncio.run(publish_safety())
    report = publish_outbox(engine, own_nats.url)
    assert (report.sent, report.pending, report.error) == (sum(staged.values()), 0, None)

    messages = asyncio.run(stream_contents(own_nats.url))
    assert len(messages) == sum(staged.values()) + 2
    outbox = {r["event_id"]: r for r in rows(engine, "SELECT event_id::text, type, subject FROM ops.event_outbox")}
    seen: Counter[str] = Counter()
    for stream, subject, headers, data in messages:
        assert not EMAIL.search(data), data
        event = JSONFormat().read(SdkCloudEvent, data)  # the official SDK
        event_type, version = event.get_type(), int(subject.rsplit(".v", 1)[1])
        model = EVENT_TYPES[(event_type, version)]
        assert subject == model.nats_subject() == f"{event_type}.v{version}"
        assert stream == model.stream() == event_type.split(".")[0].upper()
        assert headers["Nats-Msg-Id"] == event.get_id()
        assert event.get_dataschema() == model.dataschema()
        payload = model.model_validate(event.get_data())
        assert event.get_subject() == payload.event_subject()
        if event_type.startswith("safety."):
            assert event.get_id() not in outbox  # published by hand above
        else:
            assert outbox[event.get_id()]["subject"] == subject
        seen[subject] += 1
    # Every type but the consumer's profile update, each in its current version only.
    current = {m.nats_subject() for m in current_models() if m.event_type != "orchestration.profile.updated"}
    assert set(seen) == current


def test_a_completed_session_event_carries_the_core_row(copy: tuple[str, sa.Engine]) -> None:
    _, engine = copy
    stage_events(engine)
    [session] = rows(
        engine,
        "SELECT * FROM core.kintell_sessions WHERE completed_at IS NOT NULL AND duration_minutes IS NOT NULL "
        "ORDER BY session_id LIMIT 1",
    )
    [event] = rows(
        engine,
        "SELECT payload FROM ops.event_outbox WHERE type = 'kintell.session.completed' AND natural_key LIKE :key",
        key=f"kintell/sessions/{session['session_id']}@%",
    )
    assert event["payload"] == {
        "session_id": session["session_id"],
        "session_type": session["session_type"],
        "participant_user_id": session["participant_user_id"],
        "volunteer_user_id": session["volunteer_user_id"],
        "completed_at": session["completed_at"].isoformat().replace("+00:00", "Z"),
        "duration_seconds": session["duration_minutes"] * 60,
        "cefr_level": session["language_level"],
    }


def test_unchanged_records_yield_no_new_events_and_a_changed_one_yields_one(
    copy: tuple[str, sa.Engine], dbt: Any
) -> None:
    url, engine = copy
    first = stage_events(engine)
    assert sum(first.values()) > 0

    assert sum(stage_events(engine).values()) == 0
    dbt(url, "build")  # nothing new loaded
    assert sum(stage_events(engine).values()) == 0
    dbt(url, "build", "--full-refresh", "--select", "kintell_sessions")  # every row rewritten, none changed
    assert sum(stage_events(engine).values()) == 0

    [session] = rows(
        engine,
        "SELECT r.* FROM raw.kintell_sessions r WHERE completed_at IS NOT NULL AND duration_minutes < 400 "
        "ORDER BY session_id LIMIT 1",
    )
    _load_sessions(engine, [session | {"duration_minutes": session["duration_minutes"] + 15}])
    dbt(url, "build")
    again = stage_events(engine)
    assert again["kintell.session.completed"] == 1
    assert again["kintell.session.scheduled"] == 0
    [new] = rows(
        engine,
        "SELECT payload FROM ops.event_outbox WHERE type = 'kintell.session.completed' "
        "AND created_at = (SELECT max(created_at) FROM ops.event_outbox)",
    )
    assert new["payload"]["duration_seconds"] == (session["duration_minutes"] + 15) * 60


def test_events_derived_by_a_run_carry_its_id_as_correlation_id_but_not_in_their_id(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats
) -> None:
    url, engine = copy
    resources = {"platform": PlatformResource(database_url=url, nats_url=own_nats.url)}

    first = dg.materialize([event_outbox], resources=resources)

    assert first.success
    staged = rows(engine, "SELECT event_id::text AS id, correlation_id FROM ops.event_outbox")
    assert staged and {row["correlation_id"] for row in staged} == {first.run_id}
    assert publish_outbox(engine, own_nats.url).sent == len(staged)
    published = [json.loads(data) for *_, data in asyncio.run(stream_contents(own_nats.url))]
    assert len(published) == len(staged)
    assert {event["correlationid"] for event in published} == {first.run_id}
    assert {event["id"] for event in published} == {row["id"] for row in staged}

    # Another run deriving every record afresh (the outbox and its watermarks emptied): the same
    # events by id, now traced to that run.
    with engine.begin() as db:
        db.execute(sa.text("TRUNCATE ops.event_outbox, ops.event_derivations"))
    second = dg.materialize([event_outbox], resources=resources)

    assert second.success and second.run_id != first.run_id
    again = rows(engine, "SELECT event_id::text AS id, correlation_id FROM ops.event_outbox")
    assert {row["id"] for row in again} == {row["id"] for row in staged}
    assert {row["correlation_id"] for row in again} == {second.run_id}


def test_a_webhook_load_is_announced_before_the_build_and_not_again_after_it(
    make_database: Any, dbt: Any, built: Built
) -> None:
    url = make_database()
    engine = create_db_engine(url)
    try:
        sessions = get_entity("kintell", "sessions")
        export = sorted((built.folder / "kintell").glob("sessions*.csv"))[0]
        result = load_csv_file(
            engine, export, sessions, timezone=ZoneInfo("Europe/Oslo"), pseudonym_key=KEY, file_name=export.name
        )
        assert result.load_id is not None

        announced = stage_load_events(engine, "kintell_sessions", result.load_id, correlation_id="hook-1")

        expected = scalar(engine, "SELECT count(*) FROM raw.kintell_sessions WHERE completed_at IS NOT NULL")
        expected += scalar(engine, "SELECT count(*) FROM raw.kintell_sessions WHERE scheduled_at IS NOT NULL")
        assert announced == expected > 0
        assert scalar(engine, "SELECT count(DISTINCT correlation_id) FROM ops.event_outbox") == 1
        dbt(url, "build")
        after_build = stage_events(engine, [d for d in DERIVATIONS if d.table == "kintell_sessions"])
        assert after_build == {"kintell.session.completed": 0, "kintell.session.scheduled": 0}
    finally:
        engine.dispose()


def test_the_outbox_rides_out_nats_stopping_mid_batch_and_sends_each_event_once(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats
) -> None:
    _, engine = copy
    total = sum(stage_events(engine).values())
    assert total > 500

    async def publish_then_stop() -> Any:
        """Publish in small batches; the server stops once the first batch is acknowledged."""
        from teei.events.outbox import publish_outbox_async

        async def stop_after_first_batch() -> None:
            while scalar(engine, "SELECT count(*) FROM ops.event_outbox WHERE sent_at IS NOT NULL") == 0:
                await asyncio.sleep(0.01)
            own_nats.stop()

        stopper = asyncio.create_task(stop_after_first_batch())
        report = await publish_outbox_async(engine, own_nats.url, batch_size=50)
        await stopper
        return report

    down = asyncio.run(publish_then_stop())
    assert down.error or down.failed
    assert 0 < down.sent < total
    waiting = rows(engine, "SELECT attempts, last_error FROM ops.event_outbox WHERE sent_at IS NULL")
    assert len(waiting) == total - down.sent
    assert any(r["attempts"] >= 1 and r["last_error"] for r in waiting)

    own_nats.start()
    up = publish_outbox(engine, own_nats.url)
    assert (up.sent, up.pending, up.error) == (total - down.sent, 0, None)
    messages = asyncio.run(stream_contents(own_nats.url))
    ids = [headers["Nats-Msg-Id"] for _, _, headers, _ in messages]
    assert len(ids) == len(set(ids)) == total  # nothing lost, nothing doubled: counted on the streams

    # a replayed batch (the marks lost): JetStream drops it by Nats-Msg-Id
    with engine.begin() as db:
        db.execute(
            sa.text(
                "UPDATE ops.event_outbox SET sent_at = NULL WHERE event_id IN "
                "(SELECT event_id FROM ops.event_outbox ORDER BY created_at, event_id LIMIT 300)"
            )
        )
    assert publish_outbox(engine, own_nats.url).sent == 300
    assert len(asyncio.run(stream_contents(own_nats.url))) == total


def _participant_without(engine: sa.Engine, flag: str) -> str:
    user: str = scalar(
        engine, f"SELECT user_id FROM core.participant_journey WHERE NOT {flag} ORDER BY user_id LIMIT 1"
    )
    return user


async def _consume_until(engine: sa.Engine, url: str, handled: int, *, durable: str = "teei-profiles") -> ConsumerStats:
    stop = asyncio.Event()
    stats = ConsumerStats()

    async def watch() -> None:
        while stats.handled < handled:
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(consume(engine, url, stop=stop, durable=durable, stats=stats), timeout=60)
    await watcher
    return stats


def test_v1_and_v2_of_a_session_reach_the_consumer_as_the_current_model(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats
) -> None:
    _, engine = copy
    first = _participant_without(engine, "has_completed_mentorship_session")
    second = scalar(
        engine,
        "SELECT user_id FROM core.participant_journey WHERE NOT has_completed_mentorship_session "
        "AND user_id > :first ORDER BY user_id LIMIT 1",
        first=first,
    )
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    common = {"session_type": "mentorship", "volunteer_user_id": "b" * 64, "completed_at": at}
    old = KintellSessionCompletedV1(session_id="hook-v1", participant_user_id=first, duration_minutes=30, **common)
    new = KintellSessionCompletedV2(session_id="hook-v2", participant_user_id=second, duration_seconds=1800, **common)

    async def publish_and_read() -> list[Any]:
        async with nats_client.connect(own_nats.url) as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            for payload in (old, new):
                assert (await nats_client.publish(js, payload, time=at)).acked
            received = []
            async for event in nats_client.subscribe_events(
                js, "probe", ["kintell.session.completed.v1", "kintell.session.completed.v2"]
            ):
                received.append(event.payload)
                await event.ack()
                if len(received) == 2:
                    break
            return received

    received = asyncio.run(publish_and_read())
    assert all(isinstance(p, KintellSessionCompletedV2) for p in received)
    assert {(p.session_id, p.duration_seconds) for p in received} == {("hook-v1", 1800), ("hook-v2", 1800)}

    stats = asyncio.run(_consume_until(engine, own_nats.url, 2))
    assert stats.by_type == {"kintell.session.completed": 2}
    flags = rows(
        engine,
        "SELECT user_id, has_completed_mentorship_session AS done FROM core.participant_journey "
        "WHERE user_id = ANY(:ids)",
        ids=[first, second],
    )
    assert {r["user_id"]: r["done"] for r in flags} == {first: True, second: True}


def test_the_consumer_sets_a_flag_raises_profile_updated_and_the_next_build_keeps_it(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats, dbt: Any
) -> None:
    url, engine = copy
    user = _participant_without(engine, "has_credential")
    at = datetime(2026, 7, 1, 9, tzinfo=UTC)
    credential = UpskillingCredentialIssuedV1(
        credential_id="cred-from-elsewhere", user_id=user, provider="ecornell", credential_type="badge", issued_at=at
    )

    async def publish(correlation_id: str) -> None:
        async with nats_client.connect(own_nats.url) as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            assert (await nats_client.publish(js, credential, time=at, correlation_id=correlation_id)).acked

    asyncio.run(publish("req-42"))
    asyncio.run(_consume_until(engine, own_nats.url, 1))

    def journey() -> dict[str, Any]:
        [row] = rows(engine, "SELECT * FROM core.participant_journey WHERE user_id = :u", u=user)
        return row

    assert journey()["has_credential"] is True
    [override] = rows(engine, "SELECT * FROM ops.journey_flag_overrides WHERE user_id = :u", u=user)
    assert (override["flag"], override["value"], override["source"]) == ("has_credential", True, "event")
    profile_events = [
        (headers, json.loads(data))
        for stream, subject, headers, data in asyncio.run(stream_contents(own_nats.url))
        if subject == "orchestration.profile.updated.v1"
    ]
    [(headers, event)] = profile_events
    assert headers["Nats-Msg-Id"] == event["id"]
    assert event["correlationid"] == "req-42"  # the cause's correlation id, passed on
    assert event["data"]["changed_flags"] == {"has_credential": True}
    assert event["data"]["journey_flags"]["has_credential"] is True
    assert event["data"]["cause"] == "event"

    # replays and redeliveries change nothing: the same event again (deduplicated by the server),
    # and a second consumer replaying the whole stream
    asyncio.run(publish("req-43"))
    stats = asyncio.run(_consume_until(engine, own_nats.url, 1, durable="replay"))
    assert stats.handled == 1
    assert scalar(engine, "SELECT count(*) FROM ops.event_outbox WHERE type = 'orchestration.profile.updated'") == 1

    # the next builds keep the flag, though the data alone says otherwise
    dbt(url, "build")
    assert journey()["has_credential"] is True
    dbt(url, "build", "--full-refresh", "--select", "participant_journey")
    assert journey()["has_credential"] is True
    assert scalar(engine, "SELECT count(*) FROM core.credentials WHERE user_id = :u", u=user) == 0


def _load_sessions(engine: sa.Engine, records: list[dict[str, Any]]) -> None:
    """Load raw session rows again through the loader, as a later export or a webhook would."""
    spec = get_entity("kintell", "sessions")
    header = [
        "session_id",
        "session_type",
        "participant_email",
        "volunteer_email",
        "scheduled_at",
        "started_at",
        "completed_at",
        "duration_minutes",
        "rating",
        "language_level",
    ]
    values = [
        [None if r[c] is None else (r[c].isoformat() if isinstance(r[c], datetime) else str(r[c])) for c in header]
        for r in records
    ]
    result = load_rows(
        engine,
        header,
        values,
        spec,
        file_name="later.csv",
        file_sha256="later-" + str(len(values)),
        timezone=ZoneInfo("Europe/Oslo"),
        pseudonym_key=KEY,
    )
    assert result.error is None and result.rows_loaded == len(records), result


def test_the_consumer_carries_on_after_a_nats_restart(copy: tuple[str, sa.Engine], own_nats: EmbeddedNats) -> None:
    _, engine = copy
    before = _participant_without(engine, "has_completed_course")
    after = scalar(
        engine,
        "SELECT user_id FROM core.participant_journey WHERE NOT has_completed_course AND user_id > :u "
        "ORDER BY user_id LIMIT 1",
        u=before,
    )
    at = datetime(2026, 8, 1, tzinfo=UTC)

    def course(user: str) -> UpskillingCourseCompletedV1:
        return UpskillingCourseCompletedV1(
            progress_id=f"p-{user[:8]}", user_id=user, provider="itslearning", course_id="c-1", completed_at=at
        )

    async def publish(payload: Any) -> None:
        async with nats_client.connect(own_nats.url) as connection:
            js = connection.jetstream()
            await nats_client.ensure_streams(js)
            assert (await nats_client.publish(js, payload, time=at)).acked

    async def scenario() -> ConsumerStats:
        stop, stats = asyncio.Event(), ConsumerStats()
        consumer = asyncio.create_task(consume(engine, own_nats.url, stop=stop, stats=stats))
        await publish(course(before))
        await _wait_for(lambda: stats.handled == 1)
        await asyncio.to_thread(own_nats.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(own_nats.start)
        await publish(course(after))
        await _wait_for(lambda: stats.handled == 2)
        stop.set()
        await asyncio.wait_for(consumer, timeout=30)
        return stats

    stats = asyncio.run(scenario())
    assert stats.handled == 2
    done = rows(
        engine,
        "SELECT user_id, has_completed_course FROM core.participant_journey WHERE user_id = ANY(:ids)",
        ids=[before, after],
    )
    assert {r["user_id"]: r["has_completed_course"] for r in done} == {before: True, after: True}


async def _wait_for(condition: Any, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def test_teei_consume_runs_until_stopped_and_keeps_journeys_current(
    copy: tuple[str, sa.Engine], own_nats: EmbeddedNats, tmp_path: Path
) -> None:
    url, engine = copy
    user = _participant_without(engine, "is_buddy_matched")
    at = datetime(2026, 9, 1, tzinfo=UTC)
    match = BuddyMatchCreatedV1(match_id="m-cli", participant_user_id=user, buddy_user_id="b" * 64, matched_at=at)
    environment = {
        **os.environ,
        "TEEI_DATABASE_URL": url,
        "TEEI_NATS_URL": own_nats.url,
        "TEEI_HOME": str(tmp_path / "home"),
    }
    teei = Path(sys.executable).parent / "teei"
    process = subprocess.Popen(
        [str(teei), "consume"], cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:

        async def publish() -> None:
            async with nats_client.connect(own_nats.url) as connection:
                js = connection.jetstream()
                await nats_client.ensure_streams(js)
                assert (await nats_client.publish(js, match, time=at)).acked

        asyncio.run(publish())
        deadline = time.monotonic() + 60
        while not scalar(engine, "SELECT is_buddy_matched FROM core.participant_journey WHERE user_id = :u", u=user):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the consumer did not set the flag within 60 s"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert b"stopped after 1 event(s)" in output
