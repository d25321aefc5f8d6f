"""Shared test services: one real PostgreSQL and one real NATS per test session, in a temporary
folder on free ports (never the user's `.teei`), and a fresh migrated database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from teei.db import create_db_engine, with_database
from teei.migrate import migrate
from teei.services import EmbeddedNats, EmbeddedPostgres, free_port
from teei.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE_DATABASE = "teei_template"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def services_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="teei-tests-"))
    # Ours, made just now: traversable so an unprivileged PostgreSQL user (when we are root) reaches its folders.
    home.chmod(0o711)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(services_home: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(services_home, free_port())
    server.start()
    # Migrated once into a template; each test's database is a cheap copy of it.
    with psycopg.connect(with_database(server.url, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    migrate(with_database(server.url, TEMPLATE_DATABASE))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(services_home: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(services_home, free_port(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres_server: EmbeddedPostgres) -> Iterator[str]:
    """A fresh database for this test, already migrated."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin_url = with_database(postgres_server.url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    yield with_database(postgres_server.url, name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(database_url, application_name="teei-tests")
    yield engine
    engine.dispose()


@dataclass
class TeeiEnv:
    """Settings of one test: its own database, the session's NATS, its own landing folder and DAGSTER_HOME."""

    settings: Settings
    engine: sa.Engine
    landing: Path


@pytest.fixture
def teei_env(
    database_url: str,
    engine: sa.Engine,
    nats_server: EmbeddedNats,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TeeiEnv]:
    """Every TEEI_* setting pointed at this test's services, as a user's `.env` would."""
    landing = tmp_path / "landing"
    landing.mkdir()
    environment = {
        "TEEI_HOME": str(tmp_path / "home"),
        "TEEI_DATABASE_URL": database_url,
        "TEEI_NATS_URL": nats_server.url,
        "TEEI_LANDING_DIR": str(landing),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "TEEI_PSEUDONYM_KEY": "test-pseudonym-key",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env of the developer's
    get_settings.cache_clear()
    yield TeeiEnv(settings=get_settings(), engine=engine, landing=landing)
    get_settings.cache_clear()


@pytest.fixture
def jetstream_clean(nats_server: EmbeddedNats) -> Iterator[str]:
    """The session's NATS with no streams left by an earlier test."""
    import asyncio

    from teei import nats_client

    async def delete_streams() -> None:
        async with nats_client.connect(nats_server.url) as connection:
            js = connection.jetstream()
            for info in await js.streams_info():
                assert info.config.name
                await js.delete_stream(info.config.name)

    asyncio.run(delete_streams())
    yield nats_server.url
