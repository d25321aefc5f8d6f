"""Participant and volunteer profiles, by pseudonymous user id, within the caller's tenancy (api.tenancy):
anyone outside answers 404, exactly like an unknown id. The SQL is in api.queries.profiles."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from api.auth import AdminDep, CallerDep
from api.deps import ConnectionDep, CorrelationIdDep, EngineDep, PiiEngineDep, WriterEngineDep
from api.models.profiles import (
    MAX_PAGE,
    USER_ID_REGEX,
    JourneyFlagsSet,
    Mapping,
    MappingRequest,
    Profile,
    ProfilePage,
    ProfileSummary,
    UserId,
)
from api.problems import AUTHENTICATED_PROBLEMS, problem_responses
from api.queries import profiles as queries
from api.routing import LiteralFirstRoute
from api.tenancy import outside_tenancy, require_people_of_company
from teei.events.journey import JourneyFlag, UnknownParticipant, set_journey_flags

# A literal path (`/mappings`) is never read as a user id, so its 405 names its own methods.
router = APIRouter(prefix="/v1/profiles", tags=["profiles"], route_class=LiteralFirstRoute)


def not_found(user_id: str) -> HTTPException:
    return outside_tenancy(f"no profile for user {user_id}")


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
    require_people_of_company(caller, company_id)
    rows = queries.profile_page(db, caller, company_id=company_id, role=role, flag=flag, cursor=cursor, limit=limit)
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
    found = await run_in_threadpool(queries.read_profile, engine, pii, caller, user_id, include_identity)
    if found is None:
        raise not_found(user_id)
    # PostgreSQL built the document in the response model's shape (the tests check every field
    # against the schema); sending its text as is spares a parse and a re-serialisation.
    return Response(content=found, media_type="application/json")


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
    if not queries.user_exists(engine, mapping.user_id):
        raise not_found(mapping.user_id)
    link = queries.link_external_id(writer, mapping.user_id, mapping.system, mapping.external_id, caller.sub)
    if link.user_id != mapping.user_id:
        raise HTTPException(
            status_code=409,
            detail=f"{mapping.system} id {mapping.external_id!r} is already linked to another user",
        )
    if not link.created:
        response.status_code = 200
    return Mapping(
        user_id=link.user_id,
        system=mapping.system,
        external_id=mapping.external_id,
        linked_at=link.linked_at,
        linked_by=link.linked_by,
        created=link.created,
    )


# Seam: `DELETE /v1/profiles/{user_id}` (admin, GDPR erasure) comes with the erasure feature.
