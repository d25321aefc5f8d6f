"""The HTTP API, built by a factory: nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.auth import TokenVerifier
from api.correlation import add_correlation_to_log_format, install_correlation_ids, install_log_record_correlation
from api.docs_pages import install_docs_pages
from api.problems import install_problem_handlers
from api.ratelimit import RateLimiter
from api.routers import companies, health, imports, profiles, webhooks
from teei.platform.database import create_db_engine
from teei.platform.roles import PII_READER_ROLE
from teei.platform.settings import Settings, get_settings

DESCRIPTION = """
Participant profiles, company metrics, Kintell webhooks, CSV uploads and health of the TEEI platform.

**Authentication**: `Authorization: Bearer <JWT>` (HS256 with `TEEI_JWT_SECRET`, or RS256/ES256 with
`TEEI_JWT_PUBLIC_KEY`), with `exp`, `aud` and `iss`; `teei token --role admin` mints a development token.
Roles: `admin` (everything), `company_user` (their company's people and metrics, never an email or a
name), `participant` (only themself). Anything outside the caller's tenancy answers 404.

**Errors** are RFC 9457 `application/problem+json`. **Rate limit** per caller: 429 with `Retry-After`.
Send `X-Correlation-ID` to trace a request through logs and the events it causes; it is returned on
every response (a new one when none was sent).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (default: the process settings from TEEI_* and `.env`)."""
    settings = settings or get_settings()
    install_log_record_correlation()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        add_correlation_to_log_format()
        url = settings.postgres_url
        # Ordinary reads run as the API role (`core` only); identities only through the pii role, on
        # admin paths; the few write paths with the URL's own user (see api.deps). The read engines
        # run in autocommit: every read is one statement (or independent ones), and BEGIN/ROLLBACK
        # around each would more than double a profile's time (measured: 1.9 ms against 0.8 ms).
        reader = create_db_engine(url, application_name="teei-api", role=settings.api_db_role)
        pii = create_db_engine(url, pool_size=2, application_name="teei-api-pii", role=PII_READER_ROLE)
        writer = create_db_engine(url, pool_size=2, application_name="teei-api-writer")
        app.state.engine = reader.execution_options(isolation_level="AUTOCOMMIT")
        app.state.pii_engine = pii.execution_options(isolation_level="AUTOCOMMIT")
        app.state.writer_engine = writer
        try:
            yield
        finally:
            for engine in (reader, pii, writer):
                engine.dispose()

    app = FastAPI(
        title="TEEI impact data platform",
        version="0.2.0",
        summary="Participant profiles, company metrics, webhooks, uploads and health of the TEEI platform.",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by install_docs_pages from the app itself: FastAPI's pages need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Checked at creation, so a bad key stops start-up instead of failing every request.
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    app.state.rate_limiter = RateLimiter(settings)
    install_problem_handlers(app)
    install_docs_pages(app)
    install_correlation_ids(app)
    app.include_router(health.router)
    app.include_router(profiles.router)
    app.include_router(companies.router)
    app.include_router(webhooks.router)
    app.include_router(imports.router)
    # Seams for later routers: safety reviews (`/v1/safety/reviews`), the company report and erasure.
    return app
