"""raw tables for every other source entity: Kintell ratings, Buddy, upskilling and rosters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Lineage columns every raw table carries (docs/architecture.md); the same as in 0001.
LINEAGE = """
        load_id               bigint      not null references ops.loads (load_id),
        source_file           text        not null,
        source_row_number     integer     not null,
        row_hash              text        not null,
        loaded_at             timestamptz not null default now()"""

# Columns per table: the record's fields (a pseudonymous user id after each email that identifies
# a person), extra source columns in `metadata`, lineage, and the natural key as primary key.
TABLES = {
    "kintell_ratings": """
        rating_id             text not null,
        session_id            text not null,
        from_role             text not null,
        rating                numeric(5, 4) not null,
        feedback_text         text,
        created_at            timestamptz,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (rating_id)
    """,
    "buddy_matches": """
        match_id              text not null,
        participant_email     text not null,
        participant_user_id   text not null,
        buddy_email           text not null,
        buddy_user_id         text not null,
        matched_at            timestamptz not null,
        status                text,
        ended_at              timestamptz,
        language              text,
        interests             jsonb,
        location              text,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (match_id)
    """,
    "buddy_events": """
        event_id              text not null,
        match_id              text not null,
        event_type            text not null,
        event_date            timestamptz not null,
        description           text,
        location              text,
        attendees             integer,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (event_id)
    """,
    "buddy_checkins": """
        checkin_id            text not null,
        match_id              text not null,
        checkin_date          timestamptz not null,
        mood                  text,
        notes                 text,
        question_responses    jsonb,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (checkin_id)
    """,
    "buddy_feedback": """
        feedback_id           text not null,
        match_id              text not null,
        from_role             text not null,
        rating                numeric(5, 4) not null,
        feedback_text         text,
        submitted_at          timestamptz,
        communication         numeric(5, 4),
        helpfulness           numeric(5, 4),
        engagement            numeric(5, 4),
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (feedback_id)
    """,
    "upskilling_progress": """
        provider              text not null,
        user_email            text not null,
        user_id               text not null,
        course_id             text not null,
        course_name           text,
        status                text not null,
        progress_percent      numeric(7, 2),
        started_at            timestamptz,
        completed_at          timestamptz,
        final_score           numeric(7, 2),
        credential_ref        text,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (provider, user_email, course_id)
    """,
    "upskilling_credentials": """
        credential_id         text not null,
        user_email            text not null,
        user_id               text not null,
        provider              text not null,
        course_id             text,
        credential_type       text not null,
        issued_at             timestamptz not null,
        expires_at            timestamptz,
        url                   text,
        verification_code     text,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (credential_id)
    """,
    "roster_companies": """
        company_code          text not null,
        company_name          text not null,
        industry              text,
        country               text,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (company_code)
    """,
    "roster_volunteers": """
        employee_email        text not null,
        user_id               text not null,
        company_code          text not null,
        joined_at             timestamptz,
        metadata              jsonb not null default '{{}}'::jsonb,
        {lineage},
        primary key (employee_email)
    """,
}


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE raw.{table} ({columns.format(lineage=LINEAGE)})")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE raw.{table}")
