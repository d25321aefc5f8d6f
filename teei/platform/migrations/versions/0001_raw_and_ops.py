"""raw and ops schemas: load bookkeeping, quarantine, event outbox and raw.kintell_sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Lineage columns every raw table carries.
LINEAGE = """
    load_id            bigint      not null references ops.loads (load_id),
    source_file        text        not null,
    source_row_number  integer     not null,
    row_hash           text        not null,
    loaded_at          timestamptz not null default now()
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS raw")
    op.execute("CREATE SCHEMA IF NOT EXISTS ops")
    op.execute(
        """
        CREATE TABLE ops.loads (
            load_id           bigint generated always as identity primary key,
            source            text        not null,
            entity            text        not null,
            file_name         text        not null,
            file_sha256       text        not null,
            rows_in           integer     not null default 0,
            rows_loaded       integer     not null default 0,
            rows_quarantined  integer     not null default 0,
            rows_duplicate    integer     not null default 0,
            status            text        not null
                check (status in ('running', 'succeeded', 'failed', 'skipped')),
            started_at        timestamptz not null default now(),
            finished_at       timestamptz,
            error             text,
            constraint loads_rows_add_up check (
                status <> 'succeeded'
                or rows_in = rows_loaded + rows_quarantined + rows_duplicate
            )
        )
        """
    )
    op.execute(
        "CREATE INDEX loads_file_sha256_idx ON ops.loads (source, entity, file_sha256) WHERE status = 'succeeded'"
    )
    op.execute(
        """
        CREATE TABLE ops.quarantine (
            load_id            bigint  not null references ops.loads (load_id),
            source_row_number  integer not null,
            raw_record         jsonb   not null,
            reasons            jsonb   not null,
            primary key (load_id, source_row_number)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE ops.event_outbox (
            event_id        uuid        primary key,
            type            text        not null,
            subject         text        not null,
            natural_key     text        not null,
            payload         jsonb       not null,
            correlation_id  text,
            created_at      timestamptz not null default now(),
            sent_at         timestamptz,
            attempts        integer     not null default 0,
            last_error      text
        )
        """
    )
    op.execute("CREATE INDEX event_outbox_pending_idx ON ops.event_outbox (created_at) WHERE sent_at IS NULL")
    op.execute(
        f"""
        CREATE TABLE raw.kintell_sessions (
            session_id           text primary key,
            session_type         text not null,
            participant_email    text not null,
            participant_user_id  text not null,
            volunteer_email      text not null,
            volunteer_user_id    text not null,
            scheduled_at         timestamptz,
            started_at           timestamptz,
            completed_at         timestamptz,
            duration_minutes     integer,
            rating               numeric(5, 4),
            feedback_text        text,
            language_level       text,
            topics               jsonb,
            metadata             jsonb not null default '{{}}'::jsonb,
            {LINEAGE}
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS raw.kintell_sessions")
    op.execute("DROP TABLE IF EXISTS ops.event_outbox")
    op.execute("DROP TABLE IF EXISTS ops.quarantine")
    op.execute("DROP TABLE IF EXISTS ops.loads")
