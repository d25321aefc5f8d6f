"""The one database engine factory.

Everything that talks to PostgreSQL (loader, migrations, API, CLI, Dagster resources) gets its
engine here, so driver, pool and URL handling are decided in one place.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from teei.platform.settings import Settings, get_settings


def sqlalchemy_url(postgres_url: str) -> URL:
    """`postgresql://…` as a SQLAlchemy URL on the psycopg 3 driver."""
    url = make_url(postgres_url)
    return url.set(drivername="postgresql+psycopg")


KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def create_db_engine(
    postgres_url: str, *, pool_size: int = 5, application_name: str = "teei", role: str | None = None
) -> sa.Engine:
    """A new engine for `postgres_url` (psycopg 3, pre-ping, named connections).

    With `role` (one of `teei.platform.roles`), every new connection runs `SET ROLE role` first, so the
    engine has only that role's privileges (the URL's user must be a member of it) without a login
    or password of its own. A guard against mistakes, not against hostile SQL: a session may
    `RESET ROLE`.
    """
    engine = sa.create_engine(
        sqlalchemy_url(postgres_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # A server that vanished (a network cut, a host gone) is noticed within about 30 s instead of
        # never: TCP keepalives on an idle connection, and a bound on unacknowledged sends.
        connect_args={"application_name": application_name, "connect_timeout": 5, **KEEPALIVES},
    )
    if role:
        set_role = sql.SQL("SET ROLE {}").format(sql.Identifier(role))

        @event.listens_for(engine, "connect")
        def _set_role(dbapi_connection: Any, connection_record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(set_role)
            # Committed, or the first rollback on the connection would undo the SET.
            dbapi_connection.commit()

    return engine


@functools.cache
def _cached_engine(postgres_url: str, application_name: str, role: str | None) -> sa.Engine:
    return create_db_engine(postgres_url, application_name=application_name, role=role)


def get_engine(
    settings: Settings | None = None, *, application_name: str = "teei", role: str | None = None
) -> sa.Engine:
    """The process-wide engine for the configured database (created on first use, never at import)."""
    settings = settings or get_settings()
    return _cached_engine(settings.postgres_url, application_name, role)


def with_database(postgres_url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(postgres_url).set(database=database).render_as_string(hide_password=False)
