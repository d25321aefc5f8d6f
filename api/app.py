"""The HTTP API, built by a factory: nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.problems import install_problem_handlers
from api.routers import health, profiles
from teei.db import create_db_engine
from teei.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (default: the process settings from TEEI_* and `.env`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Ordinary reads run as the API role (`core` only); the admin paths that need identities
        # will get their own engine with teei.db_roles.PII_READER_ROLE.
        app.state.engine = create_db_engine(
            settings.postgres_url, application_name="teei-api", role=settings.api_db_role
        )
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="TEEI impact data platform",
        version="0.1.0",
        summary="Participant profiles, company metrics and health of the TEEI platform.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(profiles.router)
    # Seams for later routers: companies/metrics, webhooks, imports, safety reviews, reports.
    return app
