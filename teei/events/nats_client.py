"""The one NATS client: every piece of the platform that talks to NATS goes through here.

It ensures the JetStream streams of the event catalog, publishes CloudEvents validated against
their contract with the event id as `Nats-Msg-Id` (so JetStream drops a replay inside the duplicate
window), pipelines publishes with asynchronous acknowledgements, reporting per event whether the
server acknowledged it, and reads events through durable pull consumers as typed payloads (older
versions upcast to the current model), retrying failed handling with backoff.

Streams (one per domain, `<domain>.>`): file storage, limits retention (a message stays for
`RETENTION`, whoever has read it, so a new consumer can replay history) and a 24-hour duplicate
window, longer than any outage the outbox is expected to ride out, so a batch re-sent after a lost
ack is dropped by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.events import EVENT_TYPES, STREAMS, CloudEvent, EventPayload, current_payload, encode_structured

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(hours=24)
RETENTION = timedelta(days=90)
ACK_TIMEOUT_S = 10.0
# Redelivery delays after a failed handling: 1 s, 5 s, 30 s, then every 2 minutes.
RETRY_BACKOFF_S = (1.0, 5.0, 30.0, 120.0)
MAX_DELIVERIES = 20


@dataclass(frozen=True)
class OutgoingEvent:
    """An event encoded for its NATS subject: the CloudEvents structured JSON and its id."""

    subject: str
    event_id: str
    data: bytes


@dataclass(frozen=True)
class PublishOutcome:
    event_id: str
    acked: bool
    duplicate: bool = False
    error: str | None = None


DRAIN_TIMEOUT_S = 5.0


@contextlib.asynccontextmanager
async def connect(
    url: str, *, name: str = "teei", connect_timeout: float = 2.0, stay_connected: bool = False
) -> AsyncIterator[NATS]:
    """A connection to NATS.

    By default it fails fast when the server is down (callers retry later, e.g. the outbox). With
    `stay_connected` (long-running consumers) it waits for the server and reconnects after a restart
    for as long as the process runs."""
    if stay_connected:
        options: dict[str, Any] = {
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,  # never give up
            "reconnect_time_wait": 0.5,
        }
    else:
        # nats-py reads 0 as "retry forever"; 1 means: try, retry once, then raise NoServersError.
        options = {"allow_reconnect": False, "max_reconnect_attempts": 1, "reconnect_time_wait": 0.2}
    # drain_timeout bounds the goodbye to a server that went away, so no caller waits on a dead link.
    connection = await nats.connect(
        url,
        name=name,
        connect_timeout=connect_timeout,
        drain_timeout=DRAIN_TIMEOUT_S,
        error_cb=_log_connection_error,
        **options,
    )
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            await connection.drain()


async def _log_connection_error(error: Exception) -> None:
    # nats-py's default prints a traceback per attempt; callers report the final error themselves.
    log.debug("NATS connection error: %r", error)


def stream_config(name: str) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[STREAMS[name]],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=RETENTION.total_seconds(),
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
    )


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the catalog's streams when missing, and bring an older configuration up to date."""
    for name in STREAMS:
        wanted = stream_config(name)
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(wanted)
            continue
        current = info.config
        if (current.subjects, current.duplicate_window, current.max_age) != (
            wanted.subjects,
            wanted.duplicate_window,
            wanted.max_age,
        ):
            await js.update_stream(wanted)


async def publish(
    js: JetStreamContext,
    payload: EventPayload,
    *,
    time: datetime,
    natural_key: str | None = None,
    correlation_id: str | None = None,
) -> PublishOutcome:
    """Publish one event: validated against its contract, wrapped, sent with its id as Nats-Msg-Id."""
    validated = type(payload).model_validate(payload.model_dump())
    identifier, data = encode_structured(validated, time=time, natural_key=natural_key, correlation_id=correlation_id)
    [outcome] = await publish_events(js, [OutgoingEvent(validated.nats_subject(), identifier, data)])
    return outcome


async def publish_events(js: JetStreamContext, events: Sequence[OutgoingEvent]) -> list[PublishOutcome]:
    """Publish `events` pipelined (async acks) and report, in order, which ones JetStream acknowledged."""
    return await (await send_events(js, events)).outcomes()


@dataclass
class SentBatch:
    """Events handed to the connection whose acknowledgements may still be on their way."""

    events: Sequence[OutgoingEvent]
    futures: list[asyncio.Future[Any]]

    async def outcomes(self) -> list[PublishOutcome]:
        """Wait for the acks (one wait for the whole batch, not a task per message) and report, in
        order, which events JetStream acknowledged; whatever has no ack in time failed."""
        if self.futures:
            await asyncio.wait(self.futures, timeout=ACK_TIMEOUT_S)
        outcomes = []
        for event, future in zip(self.events, self.futures, strict=True):
            if not future.done():
                future.cancel()
                outcomes.append(PublishOutcome(event.event_id, False, error="no acknowledgement in time"))
            elif future.exception() is not None:
                outcomes.append(PublishOutcome(event.event_id, False, error=repr(future.exception())))
            else:
                outcomes.append(PublishOutcome(event.event_id, True, duplicate=bool(future.result().duplicate)))
        return outcomes


async def send_events(js: JetStreamContext, events: Sequence[OutgoingEvent]) -> SentBatch:
    """Hand `events` to the connection, each with its id as Nats-Msg-Id, without waiting for acks."""
    futures = [
        await js.publish_async(event.subject, event.data, headers={"Nats-Msg-Id": event.event_id}) for event in events
    ]
    return SentBatch(events, futures)


async def check_nats(url: str) -> tuple[bool, str]:
    """Is NATS with JetStream reachable at `url`? (for readiness checks)"""
    try:
        async with connect(url, name="teei-health") as connection:
            info = await connection.jetstream().account_info()
    except Exception as exc:
        return False, f"NATS at {url} unreachable: {exc or type(exc).__name__}"
    return True, f"JetStream with {info.streams} streams"


@dataclass
class ReceivedEvent:
    """An event read from a durable consumer: its envelope and its payload as the current model."""

    envelope: CloudEvent
    payload: EventPayload
    message: Msg

    @property
    def deliveries(self) -> int:
        return int(self.message.metadata.num_delivered)

    async def ack(self) -> None:
        await self.message.ack()

    async def retry_later(self) -> None:
        """Handling failed: have JetStream deliver it again after a backoff delay."""
        delay = RETRY_BACKOFF_S[min(self.deliveries, len(RETRY_BACKOFF_S)) - 1]
        await self.message.nak(delay=delay)


def durable_consumer_config(durable: str, subjects: Sequence[str]) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable,
        name=durable,
        filter_subjects=list(subjects),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=60,
        max_deliver=MAX_DELIVERIES,
    )


async def subscribe_events(
    js: JetStreamContext,
    durable: str,
    subjects: Sequence[str],
    *,
    batch: int = 100,
    wait_s: float = 1.0,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[ReceivedEvent]:
    """Typed events on `subjects` (e.g. `buddy.match.created.v1`) through durable pull consumers
    named `<durable>-<stream>` (one per stream the subjects fall in), until `stop` is set.

    A message that is not a valid event of the catalog can never be handled: it is logged and
    terminated (not redelivered). The caller acks each event, or calls `retry_later`."""
    await ensure_streams(js)
    by_stream: dict[str, list[str]] = {}
    for subject in subjects:
        by_stream.setdefault(subject.split(".", 1)[0].upper(), []).append(subject)
    subscriptions = []
    for stream, stream_subjects in by_stream.items():
        name = f"{durable}-{stream.lower()}"
        config = durable_consumer_config(name, stream_subjects)
        try:
            await js.consumer_info(stream, name)
            await js.add_consumer(stream, config)  # same name: updates the filter subjects
        except NotFoundError:
            await js.add_consumer(stream, config)
        subscriptions.append(await js.pull_subscribe_bind(durable=name, stream=stream))
    try:
        while stop is None or not stop.is_set():
            for subscription in subscriptions:
                try:
                    messages = await subscription.fetch(batch, timeout=wait_s / len(subscriptions))
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception as exc:  # the server went away: the connection reconnects by itself
                    log.warning("fetching events failed, retrying: %r", exc)
                    await asyncio.sleep(RETRY_BACKOFF_S[0])
                    continue
                for message in messages:
                    received = _typed(message)
                    if received is None:
                        await message.term()
                        continue
                    yield received
    finally:
        # Without this, closing the connection waits for the pull requests to drain.
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()


def _typed(message: Msg) -> ReceivedEvent | None:
    try:
        envelope = CloudEvent.model_validate_json(message.data)
        payload = envelope.payload()
    except (ValidationError, ValueError) as exc:
        log.error("dropping a message on %s that is not a valid event: %s", message.subject, exc)
        return None
    if (envelope.type, envelope.version()) not in EVENT_TYPES:
        return None
    return ReceivedEvent(envelope=envelope, payload=current_payload(payload), message=message)
