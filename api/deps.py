"""Typed dependencies of the routers: settings, the database engines, the caller's correlation id.

Trivial dependencies are `async def`: FastAPI would run a plain `def` one in the thread pool.

Three engines, each for one kind of work:
- `app_engine` (reads): `SET ROLE teei_api_reader`, which selects from `core` and nothing else;
- `pii_engine` (admin identity lookups only): `SET ROLE teei_pii_reader`, the one role that reads `pii`;
- `writer_engine` (the few write paths: webhook loads, journey flags, id links): the URL's own user,
  because those paths call the platform's one loader, outbox and journey functions, which need the
  rights the pipeline has (staging tables in `ops`, `raw` upserts, the dbt-owned journey table).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from api.correlation import current_correlation_id, new_correlation_id
from teei.platform.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def app_engine(request: Request) -> sa.Engine:
    """The read engine the app created at start-up (role teei_api_reader: `core` only)."""
    engine: sa.Engine = request.app.state.engine
    return engine


async def pii_engine(request: Request) -> sa.Engine:
    """The engine that may read `pii` (role teei_pii_reader); used only on admin paths."""
    engine: sa.Engine = request.app.state.pii_engine
    return engine


async def writer_engine(request: Request) -> sa.Engine:
    """The engine of the write paths (the URL's user; see the module doc)."""
    engine: sa.Engine = request.app.state.writer_engine
    return engine


def get_connection(engine: Annotated[sa.Engine, Depends(app_engine)]) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        yield connection


async def request_correlation_id() -> str:
    """This request's X-Correlation-ID (set by the middleware), for the events it causes."""
    return current_correlation_id() or new_correlation_id()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[sa.Engine, Depends(app_engine)]
PiiEngineDep = Annotated[sa.Engine, Depends(pii_engine)]
WriterEngineDep = Annotated[sa.Engine, Depends(writer_engine)]
ConnectionDep = Annotated[sa.Connection, Depends(get_connection)]
CorrelationIdDep = Annotated[str, Depends(request_correlation_id)]
