"""Why a load failed, and an operator's release of a file that failed.

`failure` tells a fault of the file (`file`: undecodable, no header, missing columns — the same bytes
fail again, so they are not retried until they change or an operator releases them) from a fault of a
service (`service`: the database or another service was lost mid-load — retried by the next run).
`released_at` is set by `teei retry --load ID`: the next run loads those bytes again.
`backend_pid` and `backend_started_at` name the database session doing a `running` load, which is
committed before the load's own transaction: a load whose session is gone (the database restarted, the
process was killed) is marked `failed` (`service`) by the next load of its entity.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE ops.loads
            ADD COLUMN failure text check (failure in ('file', 'service')),
            ADD COLUMN released_at timestamptz,
            ADD COLUMN backend_pid integer,
            ADD COLUMN backend_started_at timestamptz,
            ADD CONSTRAINT loads_failure_only_when_failed check (failure is null or status = 'failed')
        """
    )
    op.execute(
        "CREATE INDEX loads_held_idx ON ops.loads (source, entity, file_sha256) "
        "WHERE status = 'failed' AND failure = 'file' AND released_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ops.loads_held_idx")
    op.execute(
        "ALTER TABLE ops.loads DROP CONSTRAINT loads_failure_only_when_failed, "
        "DROP COLUMN backend_started_at, DROP COLUMN backend_pid, DROP COLUMN released_at, DROP COLUMN failure"
    )
