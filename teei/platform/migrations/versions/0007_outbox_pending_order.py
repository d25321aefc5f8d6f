"""Index the outbox's pending rows in the order they are published.

Publishers read `WHERE sent_at IS NULL ORDER BY created_at, event_id LIMIT n`. Indexed on
`created_at` alone, every batch sorted all pending rows of the same `created_at` (a whole derivation
shares one), so publishing 100,000 rows slowed quadratically; with `event_id` in the index a batch
reads just its rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ops.event_outbox_pending_idx")
    op.execute("CREATE INDEX event_outbox_pending_idx ON ops.event_outbox (created_at, event_id) WHERE sent_at IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ops.event_outbox_pending_idx")
    op.execute("CREATE INDEX event_outbox_pending_idx ON ops.event_outbox (created_at) WHERE sent_at IS NULL")
