"""The bodies of the profile operations: a person's profile, pages of summaries, journey flags, id links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field

EXAMPLE_USER_ID = "3f0c8a5e2b1d4c6f8a9e0b7d5c3a1f2e4d6b8a0c9e7f5d3b1a2c4e6f8d0b9a7c"
USER_ID_REGEX = r"^[0-9a-f]{64}$"
UserId = Annotated[
    str,
    Path(
        pattern=USER_ID_REGEX,
        description="Pseudonymous user id: keyed HMAC-SHA256 of the normalised email, 64 hex characters.",
        examples=[EXAMPLE_USER_ID],
    ),
]
# The systems whose ids can be linked (the check of ops.external_id_links; a course provider by name).
LinkedSystem = Literal["kintell", "buddy", "discord", "ecornell", "itslearning"]
MAX_PAGE = 500


class CompanyLink(BaseModel):
    company_id: str
    role: Literal["volunteer", "participant"] = Field(
        description="volunteer: on the company's roster; participant: worked with one of its volunteers"
    )
    linked_at: datetime | None = None


class Enrolment(BaseModel):
    program: Literal["kintell_language", "kintell_mentorship", "buddy", "upskilling"]
    role: Literal["participant", "volunteer"]
    provider: str | None = Field(default=None, description="ecornell or itslearning (upskilling only)")
    course_id: str | None = None
    course_name: str | None = None
    enrolled_at: datetime | None = None
    status: str | None = None


class Journey(BaseModel):
    flags: dict[str, bool] = Field(description="The journey flags of core.participant_journey, by name.")
    first_activity_at: datetime | None = None
    last_activity_at: datetime | None = None
    first_language_level: str | None = None
    latest_language_level: str | None = None


class Activity(BaseModel):
    sessions: int = Field(description="Kintell sessions the person took part in (either side), in any state.")
    sessions_completed: int
    language_sessions_completed: int
    mentorship_sessions_completed: int
    hours: float = Field(description="Hours of completed Kintell sessions (duration_minutes / 60).")
    buddy_matches: int = Field(description="Buddy matches, as participant or buddy.")
    buddy_events: int = Field(description="Events of those matches.")
    buddy_checkins: int = Field(description="Check-ins of those matches.")
    courses_enrolled: int
    courses_completed: int
    credentials: int


class OutcomeScore(BaseModel):
    dimension: Literal["confidence", "belonging", "lang_level_proxy", "job_readiness", "well_being"]
    score: float = Field(ge=0, le=1)
    confidence: float | None = None
    model_id: str
    model_version: str
    scored_at: datetime


class Milestone(BaseModel):
    milestone: str
    reached_at: datetime | None = None
    outcome_dimension: str | None = None


class ExternalId(BaseModel):
    system: str
    external_id: str
    linked_at: datetime | None = None


class Identity(BaseModel):
    email: str | None = None
    display_name: str | None = None


PROFILE_EXAMPLE: dict[str, Any] = {
    "user_id": EXAMPLE_USER_ID,
    "roles": ["participant"],
    "company_id": None,
    "companies": [{"company_id": "ACM", "role": "participant", "linked_at": "2026-10-01T08:00:00Z"}],
    "enrolments": [
        {
            "program": "kintell_language",
            "role": "participant",
            "provider": None,
            "course_id": None,
            "course_name": None,
            "enrolled_at": "2026-10-01T08:00:00Z",
            "status": None,
        }
    ],
    "journey": {
        "flags": {
            "is_buddy_matched": False,
            "has_completed_language_session": True,
            "has_completed_mentorship_session": False,
            "has_completed_course": False,
            "has_credential": False,
        },
        "first_activity_at": "2026-10-01T08:00:00Z",
        "last_activity_at": "2026-10-28T16:30:00Z",
        "first_language_level": "A2",
        "latest_language_level": "B1",
    },
    "activity": {
        "sessions": 5,
        "sessions_completed": 4,
        "language_sessions_completed": 4,
        "mentorship_sessions_completed": 0,
        "hours": 3.5,
        "buddy_matches": 0,
        "buddy_events": 0,
        "buddy_checkins": 0,
        "courses_enrolled": 0,
        "courses_completed": 0,
        "credentials": 0,
    },
    "outcome_scores": [
        {
            "dimension": "confidence",
            "score": 0.72,
            "confidence": 0.8,
            "model_id": "lexicon",
            "model_version": "1",
            "scored_at": "2026-10-29T02:00:00Z",
        }
    ],
    "milestones": [
        {"milestone": "first_language_session", "reached_at": "2026-10-01T09:00:00Z", "outcome_dimension": None}
    ],
    "external_ids": [{"system": "discord", "external_id": "anna#1234", "linked_at": "2026-10-02T10:00:00Z"}],
    "identity": None,
}


class Profile(BaseModel):
    """A person's aggregated profile."""

    user_id: str
    roles: list[Literal["participant", "volunteer"]] = Field(description="From the data (core.users).")
    company_id: str | None = Field(description="The volunteer's employer (roster); null for anyone else.")
    companies: list[CompanyLink] = Field(
        description="Company memberships (core.company_users); a company user sees only their own company."
    )
    enrolments: list[Enrolment]
    journey: Journey | None = Field(description="Journey flags and levels; null for someone who is no participant.")
    activity: Activity
    outcome_scores: list[OutcomeScore] = Field(description="The latest score per outcome dimension, when scored.")
    milestones: list[Milestone]
    external_ids: list[ExternalId] | None = Field(
        description="Linked ids in other systems (as of the last build); null for company users."
    )
    identity: Identity | None = Field(
        default=None, description="Email and name, for an admin who asks with include_identity=true; else null."
    )

    model_config = {"json_schema_extra": {"examples": [PROFILE_EXAMPLE]}}


class ProfileSummary(BaseModel):
    user_id: str
    roles: list[Literal["participant", "volunteer"]]
    company_id: str | None = None
    journey_flags: dict[str, bool] | None = Field(description="null for someone who is no participant")


class ProfilePage(BaseModel):
    """One page of profiles in user id order; pass `next_cursor` as `cursor` for the next one."""

    items: list[ProfileSummary]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last page.")
    limit: int

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [
                        {
                            "user_id": EXAMPLE_USER_ID,
                            "roles": ["participant"],
                            "company_id": None,
                            "journey_flags": PROFILE_EXAMPLE["journey"]["flags"],
                        }
                    ],
                    "next_cursor": EXAMPLE_USER_ID,
                    "limit": 50,
                }
            ]
        }
    }


class JourneyFlagsSet(BaseModel):
    user_id: str
    journey_flags: dict[str, bool] = Field(description="All of the participant's journey flags afterwards.")

    model_config = {
        "json_schema_extra": {
            "examples": [{"user_id": EXAMPLE_USER_ID, "journey_flags": PROFILE_EXAMPLE["journey"]["flags"]}]
        }
    }


class MappingRequest(BaseModel):
    user_id: str = Field(pattern=USER_ID_REGEX, examples=[EXAMPLE_USER_ID])
    system: LinkedSystem = Field(description="kintell, buddy, discord, or a course provider (ecornell, itslearning)")
    external_id: str = Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$", examples=["anna#1234"])

    model_config = {
        "json_schema_extra": {
            "examples": [{"user_id": EXAMPLE_USER_ID, "system": "discord", "external_id": "anna#1234"}]
        }
    }


class Mapping(BaseModel):
    user_id: str
    system: LinkedSystem
    external_id: str
    linked_at: datetime
    linked_by: str | None = None
    created: bool = Field(description="false when the same link already existed (nothing changed)")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": EXAMPLE_USER_ID,
                    "system": "discord",
                    "external_id": "anna#1234",
                    "linked_at": "2026-10-02T10:00:00Z",
                    "linked_by": "ops@example.org",
                    "created": True,
                }
            ]
        }
    }
