"""The SQL of the profile operations: one statement per profile, the keyset listing, identities, id links.

Every read takes the caller's tenancy condition from api.tenancy; none decides who sees what itself.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from api.auth import Caller
from api.tenancy import memberships_shown, shows_identity, shows_linked_ids, visible_people
from teei.events.journey import JOURNEY_FLAGS, JourneyFlag


def flags_json(alias: str) -> str:
    """A JSON object of every journey flag of `core.participant_journey <alias>`, by name."""
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
""".replace("{flags}", flags_json("j"))

IDENTITY_QUERY = sa.text("SELECT email, display_name FROM pii.user_identities WHERE user_id = :user_id")


@functools.cache
def profile_query(visible: str) -> sa.TextClause:
    """The profile statement for one tenancy condition (three in all), built once."""
    return sa.text(PROFILE_SELECT.replace("{visible}", visible))


def read_profile(engine: sa.Engine, pii: sa.Engine, caller: Caller, user_id: str, include_identity: bool) -> str | None:
    """The profile document (JSON text) of `user_id` if `caller` may see it, else None."""
    visible, params = visible_people(caller)
    with engine.connect() as db:
        found: str | None = db.execute(
            profile_query(visible),
            {
                **params,
                "user_id": user_id,
                "only_company": memberships_shown(caller),
                "with_external_ids": shows_linked_ids(caller),
            },
        ).scalar_one_or_none()
    if found is None or not shows_identity(caller, include_identity):
        return found
    profile = json.loads(found)
    with pii.connect() as identities:
        identity = identities.execute(IDENTITY_QUERY, {"user_id": user_id}).mappings().one_or_none()
    profile["identity"] = dict(identity) if identity else None
    return json.dumps(profile)


def profile_page(
    db: sa.Connection,
    caller: Caller,
    *,
    company_id: str | None,
    role: Literal["participant", "volunteer"] | None,
    flag: JourneyFlag | None,
    cursor: str | None,
    limit: int,
) -> list[sa.Row[Any]]:
    """Up to `limit + 1` people `caller` may see after `cursor`, in user id order (one more than a
    page, so the caller knows whether another page follows)."""
    visible, params = visible_people(caller)
    conditions = [visible, "(CAST(:cursor AS text) IS NULL OR u.user_id > :cursor)"]
    if company_id is not None:
        conditions.append("u.user_id IN (SELECT user_id FROM core.company_users WHERE company_id = :company_id)")
    if role is not None:
        conditions.append("u.is_participant" if role == "participant" else "u.is_volunteer")
    if flag is not None:
        # A column name in the SQL: only ever one of the known flags.
        assert flag in JOURNEY_FLAGS
        conditions.append(f"coalesce(j.{flag}, false)")
    query = f"""
        SELECT u.user_id, u.is_participant, u.is_volunteer, u.company_id,
               CASE WHEN j.user_id IS NOT NULL THEN {flags_json("j")} END::text AS journey_flags
          FROM core.users u LEFT JOIN core.participant_journey j ON j.user_id = u.user_id
         WHERE {" AND ".join(conditions)}
         ORDER BY u.user_id
         LIMIT :limit
    """
    return list(db.execute(sa.text(query), {**params, "cursor": cursor, "company_id": company_id, "limit": limit + 1}))


def user_exists(engine: sa.Engine, user_id: str) -> bool:
    """Whether `core.users` knows `user_id` (as of the last build)."""
    with engine.connect() as db:
        return db.execute(sa.text("SELECT 1 FROM core.users WHERE user_id = :u"), {"u": user_id}).first() is not None


@dataclass(frozen=True)
class ExternalIdLink:
    """The link of one id of another system, as stored (`user_id` may be someone other than asked)."""

    user_id: str
    linked_at: datetime
    linked_by: str | None
    created: bool


def link_external_id(writer: sa.Engine, user_id: str, system: str, external_id: str, linked_by: str) -> ExternalIdLink:
    """Link `system`'s `external_id` to `user_id` unless that id is linked already; the link as it stands."""
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
            {"user_id": user_id, "system": system, "external_id": external_id, "linked_by": linked_by},
        ).first()
        row = (
            inserted
            or db.execute(
                sa.text(
                    "SELECT user_id, linked_at, linked_by FROM ops.external_id_links "
                    "WHERE system = :system AND external_id = :external_id"
                ),
                {"system": system, "external_id": external_id},
            ).one()
        )
    return ExternalIdLink(row.user_id, row.linked_at, row.linked_by, created=inserted is not None)
