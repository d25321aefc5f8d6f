"""Versioned migrations of the `raw` and `ops` schemas (Alembic), run by `teei db migrate`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from teei.platform.packaged_files import MIGRATIONS_DIR


def alembic_config(postgres_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Not `sqlalchemy.url`, and `%` doubled: Alembic's config interpolates `%` (passwords may hold it).
    config.set_main_option("teei.postgres_url", postgres_url.replace("%", "%%"))
    return config


def migrate(postgres_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; running it again changes nothing."""
    command.upgrade(alembic_config(postgres_url), revision)


def current_revision(postgres_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from teei.platform.database import create_db_engine

    engine = create_db_engine(postgres_url, pool_size=1)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table_schema": "ops"})
            return context.get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration this code carries (what `migrate` brings a database to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    assert head is not None
    return head
