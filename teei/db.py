"""The one database engine factory.

Everything that talks to PostgreSQL (loader, migrations, API, CLI, Dagster resources) gets its
engine here, so driver, pool and URL handling are decided in one place.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from teei.settings import Settings, get_settings


def sqlalchemy_url(postgres_url: str) -> URL:
    """`postgresql://…` as a SQLAlchemy URL on the psycopg 3 driver."""
    url = make_url(postgres_url)
    return url.set(drivername="postgresql+psycopg")


def create_db_engine(postgres_url: str, *, pool_size: int = 5, application_name: str = "teei") -> sa.Engine:
    """A new engine for `postgres_url` (psycopg 3, pre-ping, named connections)."""
    return sa.create_engine(
        sqlalchemy_url(postgres_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": application_name, "connect_timeout": 5},
    )


@functools.cache
def _cached_engine(postgres_url: str, application_name: str) -> sa.Engine:
    return create_db_engine(postgres_url, application_name=application_name)


def get_engine(settings: Settings | None = None, *, application_name: str = "teei") -> sa.Engine:
    """The process-wide engine for the configured database (created on first use, never at import)."""
    settings = settings or get_settings()
    return _cached_engine(settings.postgres_url, application_name)


def with_database(postgres_url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(postgres_url).set(database=database).render_as_string(hide_password=False)
