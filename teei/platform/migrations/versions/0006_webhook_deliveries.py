"""Webhook deliveries: which delivery ids were loaded, so a retried delivery loads nothing twice.

`POST /v1/webhooks/kintell/{sessions|ratings}` records each delivery it loaded, with the load
(`ops.loads`) and the events it put in the outbox; a delivery id seen before answers with that load.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ops.webhook_deliveries (
            delivery_id     text        primary key,
            source          text        not null,
            entity          text        not null,
            load_id         bigint      not null references ops.loads (load_id),
            events_staged   integer     not null default 0,
            correlation_id  text,
            received_at     timestamptz not null default now()
        )
        """
    )
    op.execute("CREATE INDEX webhook_deliveries_received_at_idx ON ops.webhook_deliveries (received_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ops.webhook_deliveries")
