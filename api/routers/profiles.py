"""Participant and volunteer profiles, by pseudonymous user id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from api.deps import ConnectionDep
from api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/profiles", tags=["profiles"])

UserId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{64}$",
        description="Pseudonymous user id: keyed HMAC-SHA256 of the normalised email, 64 hex characters.",
        examples=["3f0c8a5e2b1d4c6f8a9e0b7d5c3a1f2e4d6b8a0c9e7f5d3b1a2c4e6f8d0b9a7c"],
    ),
]


class KintellActivity(BaseModel):
    sessions: int = Field(description="Sessions the person took part in, in any state.")
    sessions_completed: int
    language_sessions_completed: int
    mentorship_sessions_completed: int
    hours: float = Field(description="Hours of completed sessions (duration_minutes / 60).")
    first_session_at: datetime | None
    last_session_at: datetime | None


class Profile(BaseModel):
    user_id: str
    roles: list[str] = Field(description="participant and/or volunteer, from the data")
    kintell: KintellActivity

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": "3f0c8a5e2b1d4c6f8a9e0b7d5c3a1f2e4d6b8a0c9e7f5d3b1a2c4e6f8d0b9a7c",
                    "roles": ["participant"],
                    "kintell": {
                        "sessions": 5,
                        "sessions_completed": 4,
                        "language_sessions_completed": 3,
                        "mentorship_sessions_completed": 1,
                        "hours": 3.5,
                        "first_session_at": "2026-10-01T08:00:00Z",
                        "last_session_at": "2026-10-28T16:30:00Z",
                    },
                }
            ]
        }
    }


PROFILE_QUERY = sa.text(
    """
    SELECT bool_or(participant_user_id = :user_id)                               AS is_participant,
           bool_or(volunteer_user_id = :user_id)                                 AS is_volunteer,
           count(*)                                                              AS sessions,
           count(*) FILTER (WHERE status = 'completed')                          AS sessions_completed,
           count(*) FILTER (WHERE status = 'completed' AND session_type = 'language')   AS language_completed,
           count(*) FILTER (WHERE status = 'completed' AND session_type = 'mentorship') AS mentorship_completed,
           coalesce(sum(volunteer_hours), 0)                                     AS hours,
           min(coalesce(started_at, scheduled_at, completed_at))                 AS first_session_at,
           max(coalesce(completed_at, started_at, scheduled_at))                 AS last_session_at
      FROM core.kintell_sessions
     WHERE participant_user_id = :user_id OR volunteer_user_id = :user_id
    """
)


@router.get("/{user_id}", response_model=Profile, responses=PROBLEM_RESPONSES, summary="A person's profile")
def get_profile(user_id: UserId, db: ConnectionDep) -> Profile:
    row = db.execute(PROFILE_QUERY, {"user_id": user_id}).mappings().one()
    if row["sessions"] == 0:
        raise HTTPException(status_code=404, detail=f"no profile for user {user_id}")
    roles = [
        role for role, flag in (("participant", row["is_participant"]), ("volunteer", row["is_volunteer"])) if flag
    ]
    return Profile(
        user_id=user_id,
        roles=roles,
        kintell=KintellActivity(
            sessions=row["sessions"],
            sessions_completed=row["sessions_completed"],
            language_sessions_completed=row["language_completed"],
            mentorship_sessions_completed=row["mentorship_completed"],
            hours=float(row["hours"]),
            first_session_at=row["first_session_at"],
            last_session_at=row["last_session_at"],
        ),
    )
