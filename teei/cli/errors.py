"""What an operator sees when a service is unreachable or lost: one line naming it, never a traceback."""

from __future__ import annotations

import psycopg
import psycopg2
import sqlalchemy.exc
from dagster_postgres.utils import DagsterPostgresException
from nats import errors as nats_errors
from sqlalchemy.engine import make_url

# Lost or refused connections, as the drivers raise them; anything else is a defect and keeps its traceback.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    # Dagster's own storage (dagster-postgres) talks through psycopg2.
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    DagsterPostgresException,  # its storage giving up after its own retries
)
NATS_ERRORS: tuple[type[BaseException], ...] = (
    nats_errors.NoServersError,
    nats_errors.ConnectionClosedError,
    nats_errors.StaleConnectionError,
    nats_errors.TimeoutError,
)


def first_line(text: str) -> str:
    """The first non-empty line of a driver's message (the rest is context an operator does not need)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def operator_message(exc: BaseException, *, postgres_url: str | None = None, nats_url: str | None = None) -> str | None:
    """One line for a service that is unreachable or was lost, or None when `exc` is not such an error."""
    if isinstance(exc, DATABASE_ERRORS):
        detail = first_line(str(getattr(exc, "orig", None) or exc))
        where = ""
        if postgres_url:
            url = make_url(postgres_url)
            where = f" at {url.host or 'localhost'}:{url.port or 5432}"
        return f"lost the database{where} ({detail}); is it running? `teei services status` tells"
    if isinstance(exc, NATS_ERRORS):
        where = f" at {nats_url}" if nats_url else ""
        return f"lost NATS{where} ({type(exc).__name__}); is it running? `teei services status` tells"
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"a service stopped answering ({type(exc).__name__}: {first_line(str(exc))})"
    return None
