"""Typed dependencies of the routers: settings and a database connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from teei.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def app_engine(request: Request) -> sa.Engine:
    """The engine the app created at start-up (teei.db.create_db_engine)."""
    engine: sa.Engine = request.app.state.engine
    return engine


def get_connection(engine: Annotated[sa.Engine, Depends(app_engine)]) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        yield connection


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[sa.Engine, Depends(app_engine)]
ConnectionDep = Annotated[sa.Connection, Depends(get_connection)]
