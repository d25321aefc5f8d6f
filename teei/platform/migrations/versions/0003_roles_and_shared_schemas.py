"""Shared schemas, the restricted database roles, core.outcome_scores and ops.external_id_links.

`staging`, `core` and `pii` are created here so their privileges exist before dbt builds into them
(as the same user). Two NOLOGIN roles, granted to the migrating user so it can `SET ROLE` to them:
`teei_pii_reader`, the only role that reads `pii` (emails, names), and `teei_api_reader`, which
reads `core` and nothing else. dbt drops and recreates its tables on every build, so the grants are
default privileges of the migrating user, which apply to every table it creates later.

Roles belong to the cluster, not to a database: this runs in many databases of one cluster (tests
copy a migrated template; `teei db reset` runs it again), so every statement is idempotent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from teei.platform.roles import API_READER_ROLE, PII_READER_ROLE

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SHARED_SCHEMAS = ("staging", "core", "pii")
ROLES = (PII_READER_ROLE, API_READER_ROLE)

# Outcome dimensions of the Q2Q taxonomy and the systems whose ids can be linked to a user.
DIMENSIONS = ("confidence", "belonging", "lang_level_proxy", "job_readiness", "well_being")
LINKED_SYSTEMS = ("kintell", "buddy", "discord", "ecornell", "itslearning")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _create_role_granted_to_current_user(role: str) -> str:
    # CREATE ROLE has no IF NOT EXISTS; a concurrent migration of another database may win the race.
    # GRANT is repeated on every run (a notice when already granted): a user who only holds the
    # role's ADMIN option (PostgreSQL 16+ CREATEROLE) still needs the membership that allows SET ROLE.
    # A user without the right to grant, but who is already a member (a DBA set it up), goes on.
    return f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
                BEGIN
                    CREATE ROLE {role} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END;
            END IF;
            BEGIN
                GRANT {role} TO CURRENT_USER;
            EXCEPTION WHEN insufficient_privilege THEN
                IF NOT pg_catalog.pg_has_role(CURRENT_USER, '{role}', 'MEMBER') THEN
                    RAISE EXCEPTION 'role % cannot be granted to %: a superuser (or a role with '
                        'CREATEROLE) must create it and grant it to % first', '{role}', CURRENT_USER, CURRENT_USER;
                END IF;
            END;
        END
        $$
    """


def upgrade() -> None:
    for schema in SHARED_SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for role in ROLES:
        op.execute(_create_role_granted_to_current_user(role))

    # pii: the PII reader only. Tables already there (dbt ran before this migration) and every
    # table the current user creates from now on.
    op.execute("REVOKE ALL ON SCHEMA pii FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA pii TO {PII_READER_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA pii FROM PUBLIC, {API_READER_ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA pii TO {PII_READER_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA pii GRANT SELECT ON TABLES TO {PII_READER_ROLE}")

    # core: readable by the API role, which gets nothing on raw, ops, staging or pii.
    op.execute(f"GRANT USAGE ON SCHEMA core TO {API_READER_ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA core TO {API_READER_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA core GRANT SELECT ON TABLES TO {API_READER_ROLE}")

    # Written by the Q2Q asset (not dbt), read by dbt as a source; empty until Q2Q lands.
    op.execute(
        f"""
        CREATE TABLE core.outcome_scores (
            score_id       uuid          not null default gen_random_uuid() unique,
            source_table   text          not null,
            source_id      text          not null,
            user_id        text          not null,
            dimension      text          not null check (dimension in ({_sql_list(DIMENSIONS)})),
            score          numeric(5, 4) not null check (score between 0 and 1),
            confidence     numeric(5, 4) check (confidence between 0 and 1),
            model_id       text          not null,
            model_version  text          not null,
            text_sha256    text,
            scored_at      timestamptz   not null default now(),
            primary key (source_table, source_id, dimension, model_id)
        )
        """
    )
    op.execute("CREATE INDEX outcome_scores_user_idx ON core.outcome_scores (user_id, dimension, scored_at DESC)")

    # External ids an operator linked to a user (POST /v1/profiles/mappings); dbt publishes them
    # in core.external_id_mappings. One user per external id: linking it again elsewhere is a conflict.
    op.execute(
        f"""
        CREATE TABLE ops.external_id_links (
            user_id      text        not null,
            system       text        not null check (system in ({_sql_list(LINKED_SYSTEMS)})),
            external_id  text        not null,
            linked_at    timestamptz not null default now(),
            linked_by    text,
            primary key (system, external_id)
        )
        """
    )
    op.execute("CREATE INDEX external_id_links_user_idx ON ops.external_id_links (user_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ops.external_id_links")
    op.execute("DROP TABLE IF EXISTS core.outcome_scores")
    # This database stops granting anything to the roles. The roles themselves stay: they belong to
    # the cluster, and other databases of it may still use them (DROP ROLE would fail there).
    # The schemas stay too: dbt builds into them and would create them again.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA core REVOKE SELECT ON TABLES FROM {API_READER_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA core FROM {API_READER_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA core FROM {API_READER_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA pii REVOKE SELECT ON TABLES FROM {PII_READER_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA pii FROM {PII_READER_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA pii FROM {PII_READER_ROLE}")
