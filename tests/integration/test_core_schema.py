"""The shared schema built by dbt from a generated export set with known answers: every core table,
pseudonymous identities behind a restricted role, journeys recomputed independently from the raw
rows, idempotent rebuilds, and a later export flowing through the incremental models."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa

from connectors.registry import get_entity
from teei.devtools.generate import Manifest, generate_exports, population_for
from teei.ingest.identity import user_id_for_email
from teei.ingest.loader import load_csv_file
from teei.outcomes.text import text_sha256

pytestmark = pytest.mark.integration

KEY = "test-key"
SCALE, SEED = 120, 23
CEFR = ["A1", "A2", "B1", "B2", "C1", "C2"]
MOODS = {"difficult": 1, "struggling": 2, "okay": 3, "good": 4, "great": 5}
MONTH_HOURS = """
    SELECT volunteer_hours FROM core.metrics_company_period
     WHERE company_id = :c AND period_start = date_trunc('month', :t AT TIME ZONE 'UTC')::date
"""
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@dataclass
class Built:
    url: str
    engine: sa.Engine
    folder: Path
    manifest: Manifest


@pytest.fixture(scope="module")
def built(make_database: Any, load_exports: Any, dbt: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """A messy generated export set loaded through the real loader and built once by dbt."""
    url = make_database()
    folder = tmp_path_factory.mktemp("exports")
    manifest = generate_exports(folder, scale=SCALE, seed=SEED, messy=True)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    load_exports(engine, folder, manifest, pseudonym_key=KEY)
    dbt(url, "build")
    yield Built(url, engine, folder, manifest)
    engine.dispose()


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query), params).mappings()]


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as db:
        value: int = db.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    return value


def uid(email: str) -> str:
    return user_id_for_email(email, KEY.encode())


def core_tables(engine: sa.Engine) -> list[str]:
    found = rows(
        engine,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'core' AND table_type = 'BASE TABLE'",
    )
    return sorted(row["table_name"] for row in found)


# dbt's bookkeeping: when a row was written and up to which load it had read. An incremental build and a
# build from scratch write the same facts at different times.
BOOKKEEPING = ("dbt_updated_at", "inputs_loaded_through")


def snapshot(engine: sa.Engine) -> dict[str, str]:
    """A fingerprint of every core table's facts (order-independent, bookkeeping columns left out)."""
    row = "(to_jsonb(t)" + "".join(f" - '{column}'" for column in BOOKKEEPING) + ")::text"
    prints = {}
    for table in core_tables(engine):
        [value] = rows(
            engine,
            f"SELECT count(*) AS n, md5(string_agg(md5({row}), '' ORDER BY md5({row}))) AS h FROM core.{table} t",
        )
        prints[table] = f"{value['n']}:{value['h']}"
    return prints


# --- every record, every person ------------------------------------------------------------------


def test_every_core_table_holds_every_raw_record(built: Built) -> None:
    engine = built.engine
    pairs = {
        "core.kintell_sessions": "raw.kintell_sessions",
        "core.kintell_ratings": "raw.kintell_ratings",
        "core.buddy_matches": "raw.buddy_matches",
        "core.buddy_events": "raw.buddy_events",
        "core.buddy_checkins": "raw.buddy_checkins",
        "core.buddy_feedback": "raw.buddy_feedback",
        "core.learning_progress": "raw.upskilling_progress",
        "core.credentials": "raw.upskilling_credentials",
    }
    for core, raw in pairs.items():
        assert count(engine, core) == count(engine, raw) > 0, core
    # the raw rows are what the generator's manifest says a first load gives
    loaded = sum(files.rows_loaded for files in built.manifest.files.values())
    assert loaded >= sum(count(engine, raw) for raw in set(pairs.values()))
    assert count(engine, "core.companies") == len(population_for(SCALE, SEED).company_rows)
    volunteers = rows(engine, "SELECT company_code, employee_email FROM raw.roster_volunteers")
    members = rows(engine, "SELECT company_id, user_id FROM core.company_users WHERE role = 'volunteer'")
    assert {(m["company_id"], m["user_id"]) for m in members} == {
        (v["company_code"], uid(v["employee_email"])) for v in volunteers
    }


def test_texts_hold_every_free_text_of_the_core_tables_with_its_hash_and_language(built: Built) -> None:
    engine = built.engine
    sources = {
        "kintell_sessions": ("session_id", "feedback_text"),
        "kintell_ratings": ("rating_id", "feedback_text"),
        "buddy_feedback": ("feedback_id", "feedback_text"),
        "buddy_checkins": ("checkin_id", "notes"),
        "buddy_events": ("event_id", "description"),
    }
    expected = {}
    for table, (key, field) in sources.items():
        for row in rows(engine, f"SELECT {key} AS id, {field} AS text FROM core.{table} WHERE {field} IS NOT NULL"):
            expected[f"{table}:{row['id']}"] = row["text"]
    texts = {row["text_id"]: row for row in rows(engine, "SELECT * FROM core.texts")}
    assert {text_id: row["text"] for text_id, row in texts.items()} == expected
    assert len({row["source_table"] for row in texts.values()}) == 5
    # the hash in SQL is the hash in Python (multi-line, quoted and Cyrillic texts among them)
    assert all(row["text_sha256"] == text_sha256(row["text"]) for row in texts.values())
    by_text = {row["text"]: row["language"] for row in texts.values()}
    assert by_text.get("Все добре, дякую!", "uk") == "uk"
    assert by_text.get("Busy month, we only texted.", "en") == "en"
    assert {"en", "uk"} <= set(by_text.values())
    # a volunteer's rating is about the session's participant; a participant's has no subject
    ratings = rows(
        engine,
        """
        SELECT t.author_role, t.author_user_id, t.subject_user_id, s.participant_user_id, s.volunteer_user_id
          FROM core.texts t JOIN core.kintell_ratings r ON t.text_id = 'kintell_ratings:' || r.rating_id
          JOIN core.kintell_sessions s USING (session_id)
        """,
    )
    assert {r["author_role"] for r in ratings} == {"participant", "volunteer"}
    for r in ratings:
        if r["author_role"] == "volunteer":
            assert (r["author_user_id"], r["subject_user_id"]) == (r["volunteer_user_id"], r["participant_user_id"])
        else:
            assert (r["author_user_id"], r["subject_user_id"]) == (r["participant_user_id"], None)


def people_from_raw(engine: sa.Engine) -> dict[str, set[str]]:
    """email → roles, read from the raw rows (the known answer core.users must give)."""
    roles: dict[str, set[str]] = defaultdict(set)
    queries = {
        "participant": [
            "SELECT participant_email AS email FROM raw.kintell_sessions",
            "SELECT participant_email FROM raw.buddy_matches",
            "SELECT user_email FROM raw.upskilling_progress",
            "SELECT user_email FROM raw.upskilling_credentials",
        ],
        "volunteer": [
            "SELECT volunteer_email FROM raw.kintell_sessions",
            "SELECT buddy_email FROM raw.buddy_matches",
            "SELECT employee_email FROM raw.roster_volunteers",
        ],
    }
    for role, selects in queries.items():
        for query in selects:
            for row in rows(engine, query):
                roles[next(iter(row.values()))].add(role)
    return roles


def test_users_are_the_people_of_the_exports_once_each_with_their_roles(built: Built) -> None:
    people = people_from_raw(built.engine)
    users = {row["user_id"]: row for row in rows(built.engine, "SELECT * FROM core.users")}

    assert set(users) == {uid(email) for email in people}
    assert len(users) == len(people)  # distinct people, distinct ids
    for email, roles in people.items():
        user = users[uid(email)]
        assert (user["is_participant"], user["is_volunteer"]) == ("participant" in roles, "volunteer" in roles)
    roster = {
        uid(r["employee_email"]): r["company_code"] for r in rows(built.engine, "SELECT * FROM raw.roster_volunteers")
    }
    assert {u: row["company_id"] for u, row in users.items() if row["company_id"]} == roster
    # volunteers on no roster are kept, with no company
    unrostered = [u for u, row in users.items() if row["is_volunteer"] and u not in roster]
    assert all(users[u]["company_id"] is None for u in unrostered)


def test_no_email_or_name_in_any_core_column(built: Built) -> None:
    engine = built.engine
    people = population_for(SCALE, SEED)
    names = {people.participant_name(p).lower() for p in range(people.participants)}
    names |= {people.volunteer_name(v).lower() for v in range(people.volunteers)}
    emails = set(people_from_raw(engine))
    identities = rows(engine, "SELECT email, display_name FROM pii.user_identities")
    assert {row["email"] for row in identities} == emails
    named = {row["display_name"].lower() for row in identities if row["display_name"]}
    assert named and named <= names  # the exports' "Full Name" / "Learner Name" columns reach pii

    columns = rows(
        engine,
        """
        SELECT c.table_name, c.column_name FROM information_schema.columns c
          JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'core' AND t.table_type = 'BASE TABLE'
           AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
        """,
    )
    assert len({c["table_name"] for c in columns}) >= 15
    scanned = 0
    for column in columns:
        values = rows(
            engine,
            f'SELECT DISTINCT "{column["column_name"]}"::text AS v FROM core.{column["table_name"]} '
            f'WHERE "{column["column_name"]}" IS NOT NULL',
        )
        for value in (row["v"].lower() for row in values):
            scanned += 1
            where = f"core.{column['table_name']}.{column['column_name']}: {value[:80]!r}"
            assert not EMAIL.search(value), where
            assert not any(name in value for name in names), where
    assert scanned > 1000


def test_identities_are_readable_only_through_the_pii_role(built: Built) -> None:
    with psycopg.connect(built.url) as db:
        owner = db.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'pii' AND tablename = 'user_identities'"
        )
        assert owner.fetchone() == ("teei_pii_reader",)
        db.execute("SET ROLE teei_api_reader")
        assert db.execute("SELECT count(*) FROM core.users").fetchone()[0] > 0  # type: ignore[index]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute("SELECT email FROM pii.user_identities")
    with psycopg.connect(built.url) as db:
        db.execute("SET ROLE teei_pii_reader")
        assert db.execute("SELECT count(*) FROM pii.user_identities").fetchone()[0] == count(built.engine, "core.users")  # type: ignore[index]


# --- journeys, recomputed from the raw rows in Python --------------------------------------------


def activities_from_raw(engine: sa.Engine) -> dict[str, list[tuple[datetime, str, str]]]:
    """user_id → (when, activity, record) of everything that counts as a participant's activity."""
    done: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
    for s in rows(engine, "SELECT * FROM raw.kintell_sessions WHERE completed_at IS NOT NULL"):
        done[uid(s["participant_email"])].append(
            (s["completed_at"], f"kintell_{s['session_type']}_session", s["session_id"])
        )
    matches = {m["match_id"]: m for m in rows(engine, "SELECT * FROM raw.buddy_matches")}
    for m in matches.values():
        done[uid(m["participant_email"])].append((m["matched_at"], "buddy_match", m["match_id"]))
    for table, column, key in (
        ("buddy_events", "event_date", "event_id"),
        ("buddy_checkins", "checkin_date", "checkin_id"),
    ):
        for row in rows(engine, f"SELECT * FROM raw.{table}"):
            if row["match_id"] in matches:
                done[uid(matches[row["match_id"]]["participant_email"])].append((row[column], table, row[key]))
    for p in rows(
        engine, "SELECT * FROM raw.upskilling_progress WHERE status = 'completed' AND completed_at IS NOT NULL"
    ):
        done[uid(p["user_email"])].append((p["completed_at"], "course_completed", p["course_id"]))
    for c in rows(engine, "SELECT * FROM raw.upskilling_credentials"):
        done[uid(c["user_email"])].append((c["issued_at"], "credential_issued", c["credential_id"]))
    return done


def milestones_from_raw(engine: sa.Engine) -> dict[tuple[str, str], datetime]:
    reached: dict[tuple[str, str], datetime] = {}

    def first(user: str, milestone: str, when: datetime) -> None:
        if (user, milestone) not in reached or when < reached[(user, milestone)]:
            reached[(user, milestone)] = when

    sessions = sorted(
        rows(engine, "SELECT * FROM raw.kintell_sessions WHERE completed_at IS NOT NULL"),
        key=lambda s: (s["completed_at"], s["session_id"]),
    )
    starting: dict[str, int] = {}
    for s in sessions:
        user = uid(s["participant_email"])
        first(user, f"first_{s['session_type']}_session", s["completed_at"])
        if s["language_level"]:
            level = CEFR.index(s["language_level"])
            starting.setdefault(user, level)
            if level > starting[user]:
                first(user, "language_level_up", s["completed_at"])
    matches = {m["match_id"]: m for m in rows(engine, "SELECT * FROM raw.buddy_matches")}
    for m in matches.values():
        first(uid(m["participant_email"]), "buddy_matched", m["matched_at"])
    checkins: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in rows(engine, "SELECT * FROM raw.buddy_checkins"):
        if c["match_id"] in matches:
            checkins[uid(matches[c["match_id"]]["participant_email"])].append(c)
    for user, theirs in checkins.items():
        theirs.sort(key=lambda c: (c["checkin_date"], c["checkin_id"]))
        if len(theirs) >= 3:
            first(user, "sustained_buddy_contact", theirs[2]["checkin_date"])
        moods = [c for c in theirs if c["mood"]]
        for c in moods[1:]:
            if MOODS[c["mood"]] > MOODS[moods[0]["mood"]]:
                first(user, "mood_improved", c["checkin_date"])
    for p in rows(
        engine, "SELECT * FROM raw.upskilling_progress WHERE status = 'completed' AND completed_at IS NOT NULL"
    ):
        first(uid(p["user_email"]), "course_completed", p["completed_at"])
    for c in rows(engine, "SELECT * FROM raw.upskilling_credentials"):
        first(uid(c["user_email"]), "credential_earned", c["issued_at"])
    return reached


def test_journey_flags_agree_with_a_recomputation_from_the_raw_rows(built: Built) -> None:
    engine = built.engine
    journeys = {j["user_id"]: j for j in rows(engine, "SELECT * FROM core.participant_journey")}
    participants = {uid(e) for e, roles in people_from_raw(engine).items() if "participant" in roles}
    assert set(journeys) == participants
    done = activities_from_raw(engine)
    matched = {uid(m["participant_email"]) for m in rows(engine, "SELECT participant_email FROM raw.buddy_matches")}
    completed = {
        uid(p["user_email"])
        for p in rows(engine, "SELECT user_email FROM raw.upskilling_progress WHERE status = 'completed'")
    }
    credentialed = {uid(c["user_email"]) for c in rows(engine, "SELECT user_email FROM raw.upskilling_credentials")}

    for user, journey in journeys.items():
        kinds = {activity for _, activity, _ in done[user]}
        times = [when for when, _, _ in done[user]]
        assert journey["is_buddy_matched"] == (user in matched)
        assert journey["has_completed_language_session"] == ("kintell_language_session" in kinds)
        assert journey["has_completed_mentorship_session"] == ("kintell_mentorship_session" in kinds)
        assert journey["has_completed_course"] == (user in completed)
        assert journey["has_credential"] == (user in credentialed)
        assert journey["first_activity_at"] == (min(times) if times else None)
        assert journey["last_activity_at"] == (max(times) if times else None)
    # the generated set exercises every flag both ways
    for flag in ("is_buddy_matched", "has_completed_language_session", "has_completed_course", "has_credential"):
        assert {j[flag] for j in journeys.values()} == {True, False}, flag


def test_milestones_agree_with_a_recomputation_from_the_raw_rows(built: Built) -> None:
    expected = milestones_from_raw(built.engine)
    found = {
        (m["user_id"], m["milestone"]): m["reached_at"]
        for m in rows(built.engine, "SELECT * FROM core.journey_milestones")
    }

    assert found == expected
    assert {milestone for _, milestone in found} == {
        "first_language_session",
        "first_mentorship_session",
        "language_level_up",
        "buddy_matched",
        "sustained_buddy_contact",
        "mood_improved",
        "course_completed",
        "credential_earned",
    }


def test_a_hand_checked_participant(built: Built) -> None:
    """One participant read by eye: their sessions, their match and check-ins, their courses."""
    engine = built.engine
    [person] = rows(
        engine,
        """
        SELECT m.participant_email AS email FROM raw.buddy_matches m
          JOIN raw.kintell_sessions s ON s.participant_email = m.participant_email AND s.completed_at IS NOT NULL
         ORDER BY m.participant_email LIMIT 1
        """,
    )
    user = uid(person["email"])
    sessions = rows(
        engine,
        "SELECT session_type, completed_at FROM raw.kintell_sessions"
        " WHERE participant_email = :e AND completed_at IS NOT NULL",
        e=person["email"],
    )
    [match_time] = [
        min(
            r["matched_at"]
            for r in rows(
                engine, "SELECT matched_at FROM raw.buddy_matches WHERE participant_email = :e", e=person["email"]
            )
        )
    ]
    milestones = {
        m["milestone"]: m for m in rows(engine, "SELECT * FROM core.journey_milestones WHERE user_id = :u", u=user)
    }
    assert milestones["buddy_matched"]["reached_at"] == match_time
    first_session = min(sessions, key=lambda s: s["completed_at"])
    assert milestones[f"first_{first_session['session_type']}_session"]["reached_at"] == first_session["completed_at"]
    [journey] = rows(engine, "SELECT * FROM core.participant_journey WHERE user_id = :u", u=user)
    assert journey["is_buddy_matched"] is True
    assert journey["first_activity_at"] <= min(first_session["completed_at"], match_time)


# --- rebuilds and later exports -------------------------------------------------------------------


def test_rebuilding_changes_nothing_and_user_ids_stay(built: Built, dbt: Any) -> None:
    before = snapshot(built.engine)

    dbt(built.url, "build")

    assert snapshot(built.engine) == before
    assert len(before) >= 16


def session_file(path: Path, sessions: list[dict[str, Any]]) -> None:
    """A Kintell sessions export of these raw rows, in canonical column names."""
    fields = ["session_id", "session_type", "participant_email", "volunteer_email", "scheduled_at", "started_at"]
    fields += ["completed_at", "duration_minutes", "rating", "language_level"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(fields)
        for s in sessions:
            values = {**s, "rating": None if s["rating"] is None else float(s["rating"]) * 4 + 1}
            writer.writerow(
                [
                    "" if values[f] is None else values[f].isoformat() if isinstance(values[f], datetime) else values[f]
                    for f in fields
                ]
            )


def test_a_later_export_updating_a_session_flows_into_core_and_metrics(
    built: Built, make_database: Any, dbt: Any, tmp_path: Path
) -> None:
    built.engine.dispose()
    url = make_database(template=sa.make_url(built.url).database)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    [session] = rows(
        engine,
        """
        SELECT s.* FROM raw.kintell_sessions s JOIN raw.roster_volunteers v ON v.employee_email = s.volunteer_email
         WHERE s.completed_at IS NOT NULL AND s.duration_minutes < 400 ORDER BY s.session_id LIMIT 1
        """,
    )
    [company] = rows(
        engine, "SELECT company_code FROM raw.roster_volunteers WHERE employee_email = :e", e=session["volunteer_email"]
    )
    hours_before = rows(
        engine,
        MONTH_HOURS,
        c=company["company_code"],
        t=session["completed_at"],
    )[0]["volunteer_hours"]
    # a new session in the same file, and the updated one 60 minutes longer
    updated = {**session, "duration_minutes": session["duration_minutes"] + 60}
    new = {
        **session,
        "session_id": "LATE-1",
        "duration_minutes": 30,
        "completed_at": session["completed_at"] + timedelta(minutes=1),
    }
    export = tmp_path / "kintell" / "sessions_late.csv"
    session_file(export, [updated, new])
    result = load_csv_file(
        engine,
        export,
        get_entity("kintell", "sessions"),
        timezone=ZoneInfo("Europe/Oslo"),
        pseudonym_key=KEY,
        file_name="kintell/sessions_late.csv",
    )
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0), result

    dbt(url, "build")

    [core_session] = rows(engine, "SELECT * FROM core.kintell_sessions WHERE session_id = :s", s=session["session_id"])
    assert core_session["duration_minutes"] == updated["duration_minutes"]
    assert count(engine, "core.kintell_sessions") == count(built.engine, "core.kintell_sessions") + 1
    hours_after = rows(
        engine,
        MONTH_HOURS,
        c=company["company_code"],
        t=session["completed_at"],
    )[0]["volunteer_hours"]
    assert float(hours_after) == pytest.approx(float(hours_before) + 1.5)

    # the incremental build gives exactly what a build from scratch gives
    incremental = snapshot(engine)
    engine.dispose()
    scratch_url = make_database(template=sa.make_url(url).database)
    dbt(scratch_url, "build", "--full-refresh")
    scratch = sa.create_engine(scratch_url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    assert snapshot(scratch) == incremental
    scratch.dispose()


def test_every_core_record_of_a_messy_set_becomes_a_valid_event(built: Built, make_database: Any) -> None:
    """The event contracts accept whatever the core tables hold (optional fields of messy exports)."""
    from teei.events.outbox import stage_events

    built.engine.dispose()
    url = make_database(template=sa.make_url(built.url).database)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    try:
        staged = stage_events(engine)
        assert staged["kintell.rating.created"] == count(engine, "core.kintell_ratings")
        assert staged["buddy.feedback.submitted"] == count(engine, "core.buddy_feedback")
        assert staged["orchestration.journey.milestone.reached"] == count(engine, "core.journey_milestones")
        assert all(n > 0 for n in staged.values()), staged
    finally:
        engine.dispose()
