"""Database roles: the API's role reads `core` only; `pii` is readable through the PII reader only."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import mint_token
from teei.devtools.services import EmbeddedPostgres
from teei.platform.database import create_db_engine, with_database
from teei.platform.migrate import alembic_config, current_revision, head_revision, migrate
from teei.platform.roles import API_READER_ROLE, PII_READER_ROLE

pytestmark = pytest.mark.integration

USER_ID = "a" * 64
_extra_databases = itertools.count(1)

# Tables the owner creates as dbt would (CREATE TABLE … AS, after the migrations ran).
DBT_LIKE_TABLES = {
    "core.user_facts": f"SELECT '{USER_ID}'::text AS user_id, 3 AS sessions",
    "pii.person_emails": f"SELECT '{USER_ID}'::text AS user_id, 'anna@example.org'::text AS email",
    "staging.stg_people": f"SELECT '{USER_ID}'::text AS user_id, 'anna@example.org'::text AS email",
}
# What the API role must never read: identities, the raw layer with its emails, bookkeeping, staging.
REFUSED_TO_THE_API = [
    "pii.person_emails",
    "raw.kintell_sessions",
    "raw.roster_volunteers",
    "ops.loads",
    "ops.quarantine",
    "ops.external_id_links",
    "staging.stg_people",
]

EngineAs = Callable[[str | None], sa.Engine]


def build_like_dbt(engine: sa.Engine) -> None:
    with engine.begin() as db:
        for table, select in DBT_LIKE_TABLES.items():
            db.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            db.execute(sa.text(f"CREATE TABLE {table} AS {select}"))


def select_all(engine: sa.Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(f"SELECT * FROM {table}")).mappings()]


def assert_permission_denied(engine: sa.Engine, table: str) -> None:
    with pytest.raises(sa.exc.ProgrammingError) as refused:
        select_all(engine, table)
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), refused.value


@pytest.fixture
def engine_as(database_url: str) -> Iterator[EngineAs]:
    """Engines on this test's database that act as a role (None: the owner itself)."""
    engines: list[sa.Engine] = []

    def make(role: str | None) -> sa.Engine:
        engines.append(create_db_engine(database_url, pool_size=1, application_name="teei-tests", role=role))
        return engines[-1]

    yield make
    for made in engines:
        made.dispose()


@pytest.fixture
def dbt_built(engine: sa.Engine) -> None:
    build_like_dbt(engine)


@pytest.mark.usefixtures("dbt_built")
def test_the_api_role_reads_core_even_after_dbt_recreates_a_table(engine: sa.Engine, engine_as: EngineAs) -> None:
    api = engine_as(API_READER_ROLE)
    assert select_all(api, "core.user_facts") == [{"user_id": USER_ID, "sessions": 3}]
    assert select_all(api, "core.outcome_scores") == []

    build_like_dbt(engine)  # dbt drops and recreates its tables on every build

    assert select_all(api, "core.user_facts") == [{"user_id": USER_ID, "sessions": 3}]
    with api.connect() as db:
        assert db.execute(sa.text("SELECT current_user")).scalar_one() == API_READER_ROLE


@pytest.mark.usefixtures("dbt_built")
@pytest.mark.parametrize("table", REFUSED_TO_THE_API)
def test_the_api_role_is_refused_everything_outside_core(engine_as: EngineAs, table: str) -> None:
    assert_permission_denied(engine_as(API_READER_ROLE), table)


@pytest.mark.usefixtures("dbt_built")
def test_only_the_pii_reader_reads_identities(engine_as: EngineAs) -> None:
    pii_reader = engine_as(PII_READER_ROLE)
    assert select_all(pii_reader, "pii.person_emails") == [{"user_id": USER_ID, "email": "anna@example.org"}]
    assert_permission_denied(pii_reader, "raw.kintell_sessions")


def test_the_api_serves_health_and_profiles_under_its_role(teei_env: Any, engine: sa.Engine) -> None:
    with engine.begin() as db:
        # Core tables as dbt builds them (the columns the profile list reads), and Dagster's run storage.
        db.execute(
            sa.text(
                f"""
                CREATE TABLE core.users AS
                SELECT '{USER_ID}'::text AS user_id, true AS is_participant, false AS is_volunteer,
                       NULL::text AS company_id
                """
            )
        )
        db.execute(
            sa.text(
                f"""
                CREATE TABLE core.participant_journey AS
                SELECT '{USER_ID}'::text AS user_id, false AS is_buddy_matched,
                       true AS has_completed_language_session, false AS has_completed_mentorship_session,
                       false AS has_completed_course, false AS has_credential
                """
            )
        )
        db.execute(sa.text("CREATE TABLE public.runs (id bigint)"))
    assert teei_env.settings.api_db_role == API_READER_ROLE
    admin = {"Authorization": f"Bearer {mint_token(teei_env.settings, role='admin')}"}

    with TestClient(create_app(teei_env.settings)) as client:
        state: Any = client.app.state  # type: ignore[attr-defined]
        for read_engine, role in ((state.engine, API_READER_ROLE), (state.pii_engine, PII_READER_ROLE)):
            with read_engine.connect() as db:
                assert db.execute(sa.text("SELECT current_user")).scalar_one() == role
        health = client.get("/health")
        ready = client.get("/health/ready")
        profiles = client.get("/v1/profiles", headers=admin)

    assert health.json() == {"status": "ok"}
    checks = ready.json()["checks"]
    assert checks["postgres"]["healthy"] is True
    assert checks["dagster_storage"]["healthy"] is True, checks
    assert profiles.status_code == 200, profiles.text
    [person] = profiles.json()["items"]
    assert person["user_id"] == USER_ID and person["journey_flags"]["has_completed_language_session"] is True


@pytest.fixture
def fresh_database(postgres_server: EmbeddedPostgres) -> Iterator[str]:
    """An empty database (not a copy of the migrated template) in the session's cluster."""
    name = f"fresh_{next(_extra_databases)}"
    admin_url = with_database(postgres_server.url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield with_database(postgres_server.url, name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_roles_work(url: str) -> None:
    owner = create_db_engine(url, pool_size=1)
    api = create_db_engine(url, pool_size=1, role=API_READER_ROLE)
    try:
        build_like_dbt(owner)
        assert select_all(api, "core.user_facts") == [{"user_id": USER_ID, "sessions": 3}]
        assert_permission_denied(api, "pii.person_emails")
    finally:
        api.dispose()
        owner.dispose()


def test_a_second_database_of_the_cluster_migrates_with_the_roles_already_there(fresh_database: str) -> None:
    # The session's template database created the roles; this cluster already has them.
    migrate(fresh_database)
    migrate(fresh_database)  # and again: nothing changes
    assert current_revision(fresh_database) == head_revision()
    _check_roles_work(fresh_database)


def test_downgrade_then_upgrade_and_reset_keep_the_roles_working(fresh_database: str) -> None:
    migrate(fresh_database)
    command.downgrade(alembic_config(fresh_database), "0002")
    owner = create_db_engine(fresh_database, pool_size=1)
    try:
        with owner.connect() as db:
            assert db.execute(sa.text("SELECT to_regclass('core.outcome_scores')")).scalar_one() is None
        migrate(fresh_database)
        _check_roles_work(fresh_database)

        # `teei db reset`: drop every project schema, migrate again.
        with owner.begin() as db:
            for schema in ("raw", "ops", "staging", "core", "pii"):
                db.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        owner.dispose()
    migrate(fresh_database)
    _check_roles_work(fresh_database)
