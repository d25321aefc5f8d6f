"""The one NATS client: every piece of the platform that talks to NATS goes through here.

It ensures the JetStream streams of the event catalog, publishes CloudEvents with the event id as
`Nats-Msg-Id` (so JetStream drops a replay inside the duplicate window) and pipelines publishes
with asynchronous acknowledgements, reporting per event whether the server acknowledged it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from contracts.events import STREAMS, CloudEvent

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(hours=24)
ACK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class OutgoingEvent:
    """A CloudEvent ready to go out on its NATS subject."""

    subject: str
    envelope: CloudEvent

    def encode(self) -> bytes:
        return self.envelope.model_dump_json(exclude_none=True).encode()


@dataclass(frozen=True)
class PublishOutcome:
    event_id: str
    acked: bool
    duplicate: bool = False
    error: str | None = None


@contextlib.asynccontextmanager
async def connect(url: str, *, name: str = "teei", connect_timeout: float = 2.0) -> AsyncIterator[NATS]:
    """A connection that fails fast when the server is down (callers retry later, e.g. the outbox)."""
    connection = await nats.connect(
        url,
        name=name,
        connect_timeout=connect_timeout,
        allow_reconnect=False,
        # nats-py reads 0 as "retry forever"; 1 means: try, retry once, then raise NoServersError.
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=_log_connection_error,
    )
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            await connection.drain()


async def _log_connection_error(error: Exception) -> None:
    # nats-py's default prints a traceback per attempt; callers report the final error themselves.
    log.debug("NATS connection error: %r", error)


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the catalog's streams when missing (idempotent)."""
    for name, subjects in STREAMS.items():
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=[subjects],
                    duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                )
            )


async def publish_events(js: JetStreamContext, events: Sequence[OutgoingEvent]) -> list[PublishOutcome]:
    """Publish `events` pipelined (async acks) and report, in order, which ones JetStream acknowledged."""
    futures = []
    for event in events:
        futures.append(
            await js.publish_async(
                event.subject,
                event.encode(),
                headers={"Nats-Msg-Id": event.envelope.id},
            )
        )
    # One wait for the whole batch (not a task per message); whatever has no ack by then failed.
    if futures:
        await asyncio.wait(futures, timeout=ACK_TIMEOUT_S)
    outcomes = []
    for event, future in zip(events, futures, strict=True):
        if not future.done():
            future.cancel()
            outcomes.append(PublishOutcome(event.envelope.id, False, error="no acknowledgement in time"))
        elif future.exception() is not None:
            outcomes.append(PublishOutcome(event.envelope.id, False, error=repr(future.exception())))
        else:
            outcomes.append(PublishOutcome(event.envelope.id, True, duplicate=bool(future.result().duplicate)))
    return outcomes


async def check_nats(url: str) -> tuple[bool, str]:
    """Is NATS with JetStream reachable at `url`? (for readiness checks)"""
    try:
        async with connect(url, name="teei-health") as connection:
            info = await connection.jetstream().account_info()
    except Exception as exc:
        return False, f"NATS at {url} unreachable: {exc or type(exc).__name__}"
    return True, f"JetStream with {info.streams} streams"
