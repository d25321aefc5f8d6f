"""Journey flag overrides, and the watermarks of event derivation.

`ops.journey_flag_overrides` holds journey flags set outside a dbt build: by the event consumer
(`teei consume`, from an event) or by an admin (`PUT /v1/profiles/{user_id}/flags`). The
`core.participant_journey` model applies them over what it computes, so the next build keeps them.

`ops.event_derivations` remembers, per event type and version, up to which `dbt_updated_at` of its
core table events have been derived, so a derivation reads only the records a build rewrote.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ops.journey_flag_overrides (
            user_id          text        not null,
            flag             text        not null,
            value            boolean     not null,
            source           text        not null check (source in ('event', 'admin')),
            set_by           text        not null,
            source_event_id  uuid,
            correlation_id   text,
            set_at           timestamptz not null default now(),
            primary key (user_id, flag)
        )
        """
    )
    op.execute("CREATE INDEX journey_flag_overrides_set_at_idx ON ops.journey_flag_overrides (set_at)")
    op.execute(
        """
        CREATE TABLE ops.event_derivations (
            type             text        not null,
            version          integer     not null,
            derived_through  timestamptz not null,
            derived_at       timestamptz not null default now(),
            primary key (type, version)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ops.event_derivations")
    op.execute("DROP TABLE IF EXISTS ops.journey_flag_overrides")
