"""ops.dbt_builds and an index on every raw table's loaded_at: what incremental dbt builds read by.

ops.dbt_builds has one row per `dbt build`, written by the dbt project's on-run-start/-end hooks. A
build tests the rows changed since the last successful build (dbt_project/macros/test_scope.sql); a
full refresh and the nightly run test every row. Incremental models and those tests select raw records
by `loaded_at`, so each raw table gets an index on it (all rows of one load share the value, so the
deduplicated b-tree stays small).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

RAW_TABLES = (
    "kintell_sessions",
    "kintell_ratings",
    "buddy_matches",
    "buddy_events",
    "buddy_checkins",
    "buddy_feedback",
    "upskilling_progress",
    "upskilling_credentials",
    "roster_companies",
    "roster_volunteers",
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ops.dbt_builds (
            invocation_id  text primary key,
            command        text not null,
            started_at     timestamptz not null default now(),
            finished_at    timestamptz,
            succeeded      boolean,
            tests_all_rows boolean not null default true
        )
        """
    )
    for table in RAW_TABLES:
        op.execute(f"CREATE INDEX {table}_loaded_at ON raw.{table} (loaded_at)")


def downgrade() -> None:
    for table in RAW_TABLES:
        op.execute(f"DROP INDEX raw.{table}_loaded_at")
    op.execute("DROP TABLE ops.dbt_builds")
