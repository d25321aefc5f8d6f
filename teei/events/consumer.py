"""The event consumer that keeps profiles current (`teei consume`).

It reads the events that move a participant's journey through durable pull consumers, sets the
matching journey flag at once (teei.events.journey: recorded as an override, so the next dbt build keeps it)
and raises `orchestration.profile.updated` through the outbox. Handling is idempotent: a replayed or
redelivered event finds the flag already set, changes nothing and raises nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from contracts.events import (
    BuddyMatchCreatedV1,
    EventPayload,
    JourneyMilestoneReachedV1,
    KintellSessionCompletedV1,
    KintellSessionCompletedV2,
    UpskillingCourseCompletedV1,
    UpskillingCredentialIssuedV1,
)
from teei.events import nats_client
from teei.events.journey import MILESTONE_FLAGS, set_journey_flags
from teei.events.outbox import publish_pending

log = logging.getLogger(__name__)

CONSUMER_NAME = "teei-profiles"
# Every accepted version of each event that moves a journey (v1 and v2 arrive as the current model).
JOURNEY_EVENTS: tuple[type[EventPayload], ...] = (
    KintellSessionCompletedV1,
    KintellSessionCompletedV2,
    BuddyMatchCreatedV1,
    UpskillingCourseCompletedV1,
    UpskillingCredentialIssuedV1,
    JourneyMilestoneReachedV1,
)
SUBJECTS: tuple[str, ...] = tuple(model.nats_subject() for model in JOURNEY_EVENTS)


def journey_change(payload: EventPayload) -> tuple[str, dict[str, bool]] | None:
    """Whose journey flag the event sets, and which (None: the event changes no flag)."""
    match payload:
        case KintellSessionCompletedV2():
            return payload.participant_user_id, {f"has_completed_{payload.session_type}_session": True}
        case BuddyMatchCreatedV1():
            return payload.participant_user_id, {"is_buddy_matched": True}
        case UpskillingCourseCompletedV1():
            return payload.user_id, {"has_completed_course": True}
        case UpskillingCredentialIssuedV1():
            return payload.user_id, {"has_credential": True}
        case JourneyMilestoneReachedV1() if payload.milestone in MILESTONE_FLAGS:
            return payload.user_id, {MILESTONE_FLAGS[payload.milestone]: True}
    return None


@dataclass
class ConsumerStats:
    handled: int = 0
    retried: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


async def consume(
    engine: sa.Engine,
    nats_url: str,
    *,
    stop: asyncio.Event | None = None,
    durable: str = CONSUMER_NAME,
    stats: ConsumerStats | None = None,
) -> ConsumerStats:
    """Handle journey events until `stop` is set; reconnects by itself after a NATS restart."""
    stats = stats or ConsumerStats()
    async with nats_client.connect(nats_url, name="teei-consumer", stay_connected=True) as connection:
        js = connection.jetstream()
        async for event in nats_client.subscribe_events(js, durable, SUBJECTS, stop=stop):
            change = journey_change(event.payload)
            try:
                if change is not None:
                    user_id, flags = change
                    await asyncio.to_thread(
                        set_journey_flags,
                        engine,
                        user_id,
                        flags,
                        source="event",
                        set_by=durable,
                        source_event_id=event.envelope.id,
                        # The cause's correlation id goes on to the profile event it raises.
                        correlation_id=event.envelope.correlationid,
                        create_missing=True,
                    )
            except Exception:
                log.exception("handling %s %s failed; it will be redelivered", event.envelope.type, event.envelope.id)
                stats.retried += 1
                await event.retry_later()
                continue
            await event.ack()
            stats.handled += 1
            stats.by_type[event.envelope.type] = stats.by_type.get(event.envelope.type, 0) + 1
            if change is not None:
                try:
                    await publish_pending(engine, js)
                except Exception as exc:  # NATS away: the profile events wait in the outbox
                    log.warning("profile events wait in the outbox: %r", exc)
    return stats
