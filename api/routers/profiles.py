"""Participant and volunteer profiles, by pseudonymous user id, within the caller's tenancy.

An admin sees everyone; a company user the people of their company (its rostered volunteers and the
participants who worked with one of them, `core.company_users`), never an email or a name; a
participant only themself. Anyone outside answers 404, exactly like an unknown id.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import AdminDep, Caller, CallerDep
from api.deps import ConnectionDep, CorrelationIdDep, EngineDep, PiiEngineDep, WriterEngineDep
from api.problems import AUTHENTICATED_PROBLEMS, problem_responses
from api.routing import LiteralFirstRoute
from teei.events.journey import JOURNEY_FLAGS, UnknownParticipant, set_journey_flags

# A literal path (`/mappings`) is never read as a user id, so its 405 names its own methods.
router = APIRouter(prefix="/v1/profiles", tags=["profiles"], route_class=LiteralFirstRoute)

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
JourneyFlag = Literal[
    "is_buddy_matched",
    "has_completed_language_session",
    "has_completed_mentorship_session",
    "has_completed_course",
    "has_credential",
]
# The systems whose ids can be linked (the check of ops.external_id_links; a course provider by name).
LinkedSystem = Literal["kintell", "buddy", "discord", "ecornell", "itslearning"]
MAX_PAGE = 500


# --- models -------------------------------------------------------------------------------------


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


# --- tenancy ------------------------------------------------------------------------------------


def visible_people(caller: Caller, alias: str = "u") -> tuple[str, dict[str, Any]]:
    """A SQL condition on `core.users <alias>` that holds for the people `caller` may see."""
    if caller.role == "admin":
        return "true", {}
    if caller.role == "company_user":
        return (
            f"{alias}.user_id IN (SELECT user_id FROM core.company_users WHERE company_id = :scope_company)",
            {"scope_company": caller.company_id},
        )
    return f"{alias}.user_id = :scope_user", {"scope_user": caller.user_id}


def _flags_json(alias: str) -> str:
    return "json_build_object(" + ", ".join(f"'{flag}', {alias}.{flag}" for flag in JOURNEY_FLAGS) + ")"


# One statement builds the whole profile as JSON, so a profile is one round trip.
PROFILE_SELECT = """
SELECT json_build_object(
    'user_id', u.user_id,
    'roles', array_remove(ARRAY[CASE WHEN u.is_participant THEN 'participant' END,
                                CASE WHEN u.is_volunteer THEN 'volunteer' END], NULL),
    'company_id', u.company_id,
    'companies', (
        SELECT coalesce(json_agg(json_build_object('company_id', cu.company_id, 'role', cu.role,
                                                   'linked_at', cu.linked_at) ORDER BY cu.company_id, cu.role), '[]')
          FROM core.company_users cu
         WHERE cu.user_id = u.user_id AND (CAST(:only_company AS text) IS NULL OR cu.company_id = :only_company)),
    'enrolments', (
        SELECT coalesce(json_agg(json_build_object('program', e.program, 'role', e.role, 'provider', e.provider,
                                                   'course_id', e.course_id, 'course_name', e.course_name,
                                                   'enrolled_at', e.enrolled_at, 'status', e.status)
                                 ORDER BY e.enrolled_at NULLS LAST, e.enrollment_id), '[]')
          FROM core.program_enrollments e WHERE e.user_id = u.user_id),
    'journey', (
        SELECT json_build_object('flags', {flags}, 'first_activity_at', j.first_activity_at,
                                 'last_activity_at', j.last_activity_at,
                                 'first_language_level', j.first_language_level,
                                 'latest_language_level', j.latest_language_level)
          FROM core.participant_journey j WHERE j.user_id = u.user_id),
    'activity', (
        SELECT json_build_object(
                   'sessions', s.sessions, 'sessions_completed', s.completed,
                   'language_sessions_completed', s.language_completed,
                   'mentorship_sessions_completed', s.mentorship_completed, 'hours', s.hours,
                   'buddy_matches', b.matches, 'buddy_events', b.events, 'buddy_checkins', b.checkins,
                   'courses_enrolled', c.enrolled, 'courses_completed', c.completed,
                   'credentials', (SELECT count(*) FROM core.credentials cr WHERE cr.user_id = u.user_id))
          FROM (SELECT count(*) AS sessions,
                       count(*) FILTER (WHERE k.status = 'completed') AS completed,
                       count(*) FILTER (WHERE k.status = 'completed' AND k.session_type = 'language')
                           AS language_completed,
                       count(*) FILTER (WHERE k.status = 'completed' AND k.session_type = 'mentorship')
                           AS mentorship_completed,
                       coalesce(sum(k.volunteer_hours) FILTER (WHERE k.status = 'completed'), 0) AS hours
                  FROM core.kintell_sessions k
                 WHERE k.participant_user_id = u.user_id OR k.volunteer_user_id = u.user_id) s,
               (SELECT count(*) AS matches,
                       coalesce(sum((SELECT count(*) FROM core.buddy_events be WHERE be.match_id = m.match_id)), 0)
                           AS events,
                       coalesce(sum((SELECT count(*) FROM core.buddy_checkins bc WHERE bc.match_id = m.match_id)), 0)
                           AS checkins
                  FROM core.buddy_matches m
                 WHERE m.participant_user_id = u.user_id OR m.buddy_user_id = u.user_id) b,
               (SELECT count(*) AS enrolled, count(*) FILTER (WHERE lp.status = 'completed') AS completed
                  FROM core.learning_progress lp WHERE lp.user_id = u.user_id) c),
    'outcome_scores', (
        SELECT coalesce(json_agg(json_build_object('dimension', o.dimension, 'score', o.score,
                                                   'confidence', o.confidence, 'model_id', o.model_id,
                                                   'model_version', o.model_version, 'scored_at', o.scored_at)
                                 ORDER BY o.dimension), '[]')
          FROM (SELECT DISTINCT ON (dimension) * FROM core.outcome_scores
                 WHERE user_id = u.user_id ORDER BY dimension, scored_at DESC) o),
    'milestones', (
        SELECT coalesce(json_agg(json_build_object('milestone', jm.milestone, 'reached_at', jm.reached_at,
                                                   'outcome_dimension', jm.outcome_dimension)
                                 ORDER BY jm.reached_at, jm.milestone), '[]')
          FROM core.journey_milestones jm WHERE jm.user_id = u.user_id),
    'external_ids', CASE WHEN :with_external_ids THEN (
        SELECT coalesce(json_agg(json_build_object('system', x.system, 'external_id', x.external_id,
                                                   'linked_at', x.linked_at) ORDER BY x.system, x.external_id), '[]')
          FROM core.external_id_mappings x WHERE x.user_id = u.user_id) END,
    'identity', NULL
)::text AS profile
  FROM core.users u
 WHERE u.user_id = :user_id AND {visible}
""".replace("{flags}", _flags_json("j"))

IDENTITY_QUERY = sa.text("SELECT email, display_name FROM pii.user_identities WHERE user_id = :user_id")


@functools.cache
def profile_query(visible: str) -> sa.TextClause:
    """The profile statement for one tenancy condition (three in all), built once."""
    return sa.text(PROFILE_SELECT.replace("{visible}", visible))


def not_found(user_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no profile for user {user_id}")


# --- endpoints ----------------------------------------------------------------------------------


@router.get(
    "",
    response_model=ProfilePage,
    responses=problem_responses(*AUTHENTICATED_PROBLEMS),
    summary="Profiles the caller may see, a page at a time (keyset pagination by user id)",
)
def list_profiles(
    caller: CallerDep,
    db: ConnectionDep,
    company_id: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this company's people.", examples=["ACM"])
    ] = None,
    role: Annotated[
        Literal["participant", "volunteer"] | None, Query(description="Only people with this role.")
    ] = None,
    flag: Annotated[JourneyFlag | None, Query(description="Only participants with this journey flag set.")] = None,
    cursor: Annotated[
        str | None, Query(pattern=USER_ID_REGEX, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Profiles per page.")] = 50,
) -> ProfilePage:
    if caller.role == "company_user" and company_id is not None and company_id != caller.company_id:
        # Another company's people are outside the caller's tenancy: as if the company did not exist.
        raise HTTPException(status_code=404, detail=f"no company {company_id}")
    visible, params = visible_people(caller)
    conditions = [visible, "(CAST(:cursor AS text) IS NULL OR u.user_id > :cursor)"]
    if company_id is not None:
        conditions.append("u.user_id IN (SELECT user_id FROM core.company_users WHERE company_id = :company_id)")
    if role is not None:
        conditions.append("u.is_participant" if role == "participant" else "u.is_volunteer")
    if flag is not None:
        assert flag in JOURNEY_FLAGS
        conditions.append(f"coalesce(j.{flag}, false)")
    query = f"""
        SELECT u.user_id, u.is_participant, u.is_volunteer, u.company_id,
               CASE WHEN j.user_id IS NOT NULL THEN {_flags_json("j")} END::text AS journey_flags
          FROM core.users u LEFT JOIN core.participant_journey j ON j.user_id = u.user_id
         WHERE {" AND ".join(conditions)}
         ORDER BY u.user_id
         LIMIT :limit
    """
    rows = db.execute(sa.text(query), {**params, "cursor": cursor, "company_id": company_id, "limit": limit + 1}).all()
    items = [
        ProfileSummary(
            user_id=row.user_id,
            roles=[r for r, on in (("participant", row.is_participant), ("volunteer", row.is_volunteer)) if on],
            company_id=row.company_id,
            journey_flags=json.loads(row.journey_flags) if row.journey_flags else None,
        )
        for row in rows[:limit]
    ]
    next_cursor = items[-1].user_id if len(rows) > limit else None
    return ProfilePage(items=items, next_cursor=next_cursor, limit=limit)


@router.get(
    "/{user_id}",
    response_model=Profile,
    responses=problem_responses(*AUTHENTICATED_PROBLEMS),
    summary="A person's profile: roles, company, enrolments, journey, activity, outcomes, milestones",
)
async def get_profile(
    user_id: UserId,
    caller: CallerDep,
    engine: EngineDep,
    pii: PiiEngineDep,
    include_identity: Annotated[
        bool, Query(description="Admins only: add the email and name (read through the restricted pii role).")
    ] = False,
) -> Response:
    # One hop to the thread pool for all the database work (a connection dependency and a sync
    # endpoint would take three).
    found = await run_in_threadpool(read_profile, engine, pii, caller, user_id, include_identity)
    if found is None:
        raise not_found(user_id)
    # PostgreSQL built the document in the response model's shape (the tests check every field
    # against the schema); sending its text as is spares a parse and a re-serialisation.
    return Response(content=found, media_type="application/json")


def read_profile(engine: sa.Engine, pii: sa.Engine, caller: Caller, user_id: str, include_identity: bool) -> str | None:
    """The profile document (JSON text) of `user_id` if `caller` may see it, else None."""
    visible, params = visible_people(caller)
    with engine.connect() as db:
        found: str | None = db.execute(
            profile_query(visible),
            {
                **params,
                "user_id": user_id,
                "only_company": caller.company_id if caller.role == "company_user" else None,
                "with_external_ids": caller.role != "company_user",
            },
        ).scalar_one_or_none()
    if found is None or not (caller.is_admin and include_identity):
        return found
    profile = json.loads(found)
    with pii.connect() as identities:
        identity = identities.execute(IDENTITY_QUERY, {"user_id": user_id}).mappings().one_or_none()
    profile["identity"] = dict(identity) if identity else None
    return json.dumps(profile)


@router.put(
    "/{user_id}/flags",
    response_model=JourneyFlagsSet,
    responses=problem_responses(400, *AUTHENTICATED_PROBLEMS),
    summary="Set journey flags of a participant (admin); kept over later builds, announced as an event",
)
def put_journey_flags(
    user_id: UserId,
    caller: AdminDep,
    writer: WriterEngineDep,
    correlation_id: CorrelationIdDep,
    flags: Annotated[
        dict[JourneyFlag, bool],
        Body(
            description="Flag names and the values to pin them to.",
            examples=[{"has_credential": True, "is_buddy_matched": False}],
            min_length=1,
        ),
    ],
) -> JourneyFlagsSet:
    try:
        after = set_journey_flags(
            writer,
            user_id,
            {str(name): value for name, value in flags.items()},
            source="admin",
            set_by=caller.sub,
            correlation_id=correlation_id,
        )
    except UnknownParticipant as exc:
        raise HTTPException(status_code=404, detail=f"user {user_id} has no journey (not a participant)") from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return JourneyFlagsSet(user_id=user_id, journey_flags=after)


@router.post(
    "/mappings",
    response_model=Mapping,
    status_code=201,
    responses={
        200: {"model": Mapping, "description": "The same link existed already; nothing changed."},
        **problem_responses(400, 409, *AUTHENTICATED_PROBLEMS),
    },
    summary="Link an id of another system (Kintell, Buddy, Discord, a course provider) to a user (admin)",
)
def link_external_id(
    mapping: MappingRequest,
    caller: AdminDep,
    engine: EngineDep,
    writer: WriterEngineDep,
    response: Response,
) -> Mapping:
    with engine.connect() as db:
        known = db.execute(
            sa.text("SELECT 1 FROM core.users WHERE user_id = :user_id"), {"user_id": mapping.user_id}
        ).first()
    if known is None:
        raise not_found(mapping.user_id)
    with writer.begin() as db:
        inserted = db.execute(
            sa.text(
                """
                INSERT INTO ops.external_id_links (user_id, system, external_id, linked_by)
                VALUES (:user_id, :system, :external_id, :linked_by)
                ON CONFLICT (system, external_id) DO NOTHING
                RETURNING user_id, linked_at, linked_by
                """
            ),
            {**mapping.model_dump(), "linked_by": caller.sub},
        ).first()
        row = (
            inserted
            or db.execute(
                sa.text(
                    "SELECT user_id, linked_at, linked_by FROM ops.external_id_links "
                    "WHERE system = :system AND external_id = :external_id"
                ),
                {"system": mapping.system, "external_id": mapping.external_id},
            ).one()
        )
    if row.user_id != mapping.user_id:
        raise HTTPException(
            status_code=409,
            detail=f"{mapping.system} id {mapping.external_id!r} is already linked to another user",
        )
    if inserted is None:
        response.status_code = 200
    return Mapping(
        user_id=row.user_id,
        system=mapping.system,
        external_id=mapping.external_id,
        linked_at=row.linked_at,
        linked_by=row.linked_by,
        created=inserted is not None,
    )


# Seam: `DELETE /v1/profiles/{user_id}` (admin, GDPR erasure) comes with the erasure feature.
