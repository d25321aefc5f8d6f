"""Alembic environment: migrations own the `raw` and `ops` schemas (dbt owns the rest)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from teei.platform.database import create_db_engine

config = context.config
VERSION_SCHEMA = "ops"


def run_migrations_online() -> None:
    url = config.get_main_option("teei.postgres_url")
    if not url:
        raise RuntimeError("teei.postgres_url is not set on the Alembic config; use `teei db migrate`")
    engine = create_db_engine(url, pool_size=1, application_name="teei-migrate")
    try:
        with engine.connect() as connection:
            # The version table lives in ops, which must exist before Alembic looks for it.
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA}"))
            connection.commit()
            context.configure(
                connection=connection,
                version_table_schema=VERSION_SCHEMA,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run `teei db migrate`")
run_migrations_online()
