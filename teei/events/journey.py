"""Journey flags set outside a dbt build: by the event consumer (from an event) or by an admin.

`set_journey_flags` records the flags in `ops.journey_flag_overrides`, updates the participant's
row of `core.participant_journey` at once and, when anything changed, stages an
`orchestration.profile.updated` event in the outbox — all in one transaction. The dbt model applies
the overrides over what it computes, so the next build keeps what was set here.

The row is changed without touching `dbt_updated_at`: the model re-applies every override set
after its last build, so a build that ran while an override was being set cannot undo it for long.

Events are announced facts, so the consumer only ever sets a flag to true, and records an override
only when it changed the flag; an admin's value is recorded as given, so it pins the flag until an
admin changes it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import sqlalchemy as sa

from contracts.events import ProfileUpdatedV1
from teei.events.outbox import stage_payloads

# The flag columns of core.participant_journey (dbt_project/models/core/participant_journey.sql), written
# once: as a type for the API's parameters and bodies, and as the tuple the SQL is built from.
JourneyFlag = Literal[
    "is_buddy_matched",
    "has_completed_language_session",
    "has_completed_mentorship_session",
    "has_completed_course",
    "has_credential",
]
JOURNEY_FLAGS: tuple[JourneyFlag, ...] = get_args(JourneyFlag)

# Which flag an event's milestone sets (core.journey_milestones.milestone).
MILESTONE_FLAGS: dict[str, str] = {
    "first_language_session": "has_completed_language_session",
    "first_mentorship_session": "has_completed_mentorship_session",
    "buddy_matched": "is_buddy_matched",
    "course_completed": "has_completed_course",
    "credential_earned": "has_credential",
}


class UnknownParticipant(LookupError):
    """The user has no journey: not a participant (yet)."""


def set_journey_flags(
    engine: sa.Engine,
    user_id: str,
    flags: Mapping[str, bool],
    *,
    source: Literal["event", "admin"],
    set_by: str,
    source_event_id: str | None = None,
    correlation_id: str | None = None,
    create_missing: bool = False,
) -> dict[str, bool]:
    """Set `flags` for `user_id`; returns all of their journey flags afterwards.

    With `create_missing`, a participant with no journey row yet (their records are in raw but no
    build has run) gets one, which the next build completes; otherwise `UnknownParticipant`."""
    unknown = sorted(set(flags) - set(JOURNEY_FLAGS))
    if unknown:
        raise ValueError(f"unknown journey flag(s): {', '.join(unknown)}; known: {', '.join(JOURNEY_FLAGS)}")
    columns = ", ".join(JOURNEY_FLAGS)
    with engine.begin() as db:
        row = (
            db.execute(
                sa.text(f"SELECT {columns} FROM core.participant_journey WHERE user_id = :user_id FOR UPDATE"),
                {"user_id": user_id},
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            if not create_missing:
                raise UnknownParticipant(user_id)
            db.execute(
                sa.text(
                    f"INSERT INTO core.participant_journey (user_id, {columns}) "
                    f"VALUES (:user_id, {', '.join('false' for _ in JOURNEY_FLAGS)})"
                ),
                {"user_id": user_id},
            )
            before: dict[str, bool] = dict.fromkeys(JOURNEY_FLAGS, False)
        else:
            before = {flag: bool(row[flag]) for flag in JOURNEY_FLAGS}
        changed = {flag: value for flag, value in flags.items() if before[flag] != value}
        recorded = flags if source == "admin" else changed
        if recorded:
            db.execute(
                sa.text(
                    """
                    INSERT INTO ops.journey_flag_overrides
                        (user_id, flag, value, source, set_by, source_event_id, correlation_id)
                    VALUES (:user_id, :flag, :value, :source, :set_by, CAST(:event AS uuid), :correlation_id)
                    ON CONFLICT (user_id, flag) DO UPDATE SET
                        value = excluded.value, source = excluded.source, set_by = excluded.set_by,
                        source_event_id = excluded.source_event_id, correlation_id = excluded.correlation_id,
                        set_at = now()
                    """
                ),
                [
                    {
                        "user_id": user_id,
                        "flag": flag,
                        "value": value,
                        "source": source,
                        "set_by": set_by,
                        "event": source_event_id,
                        "correlation_id": correlation_id,
                    }
                    for flag, value in recorded.items()
                ],
            )
        after = before | changed
        if changed:
            db.execute(
                sa.text(
                    "UPDATE core.participant_journey SET "
                    + ", ".join(f"{flag} = :{flag}" for flag in changed)
                    + " WHERE user_id = :user_id"
                ),
                {"user_id": user_id, **changed},
            )
            stage_payloads(
                db,
                [
                    ProfileUpdatedV1(
                        user_id=user_id,
                        changed_flags=changed,
                        journey_flags=after,
                        cause=source,
                        cause_event_id=source_event_id,
                        set_by=set_by,
                        updated_at=db.execute(sa.text("SELECT now()")).scalar_one(),
                    )
                ],
                correlation_id=correlation_id,
            )
        return after
