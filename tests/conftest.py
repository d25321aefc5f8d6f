"""Shared test services: one real PostgreSQL and one real NATS per test session, in a temporary
folder on free ports (never the user's `.teei`), and a fresh migrated database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import sqlalchemy as sa

from teei.devtools.services import EmbeddedNats, EmbeddedPostgres, free_port
from teei.platform.database import create_db_engine, with_database
from teei.platform.migrate import migrate
from teei.platform.settings import Settings, get_settings

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


@pytest.fixture(scope="session")
def redis_url(services_home: Path) -> Iterator[str]:
    """A real redis-server (Debian's package, which `make install` installs when it can) on a free
    loopback port, its folder under the session's; nothing is persisted. Skips when it is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make install` installs Debian's package as root)")
    folder = services_home / "redis"
    folder.mkdir()
    port = free_port()
    arguments = ["--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder), "--save", "", "--appendonly", "no"]
    with (folder / "redis-server.log").open("ab") as log:
        process = subprocess.Popen([binary, *arguments], stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"redis-server did not start: {(folder / 'redis-server.log').read_text()}") from None
            time.sleep(0.05)
    client.close()
    yield url
    process.terminate()
    process.wait(timeout=10)


def copy_database(server_url: str, template: str = TEMPLATE_DATABASE) -> str:
    """A new database copied from `template` (by default: empty and migrated); returns its URL.

    The template must have no open connections (dispose engines on it first)."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(server_url, name)


def drop_database(database_url: str) -> None:
    name = sa.make_url(database_url).database
    with psycopg.connect(with_database(database_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def make_database(postgres_server: EmbeddedPostgres) -> Iterator[Callable[..., str]]:
    """`make_database(template=...)`: a database shared by several tests (a module's built data set,
    or a copy of one to change); all are dropped at the end of the session."""
    made: list[str] = []

    def make(template: str = TEMPLATE_DATABASE) -> str:
        made.append(copy_database(postgres_server.url, template))
        return made[-1]

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture(scope="session")
def load_exports() -> Callable[..., dict[str, Any]]:
    """`load_exports(engine, folder, manifest)`: every file of a generated export set through the real
    loader, in the manifest's order (the order `teei run` loads them); returns the LoadResult per file."""
    from zoneinfo import ZoneInfo

    from connectors.registry import get_entity
    from teei.ingest.loader import load_csv_file

    def load(engine: sa.Engine, folder: Path, manifest: Any, *, pseudonym_key: str = "test-key") -> dict[str, Any]:
        results = {}
        for relative, expected in manifest.files.items():
            spec = get_entity(expected.source, expected.entity)
            results[relative] = load_csv_file(
                engine,
                folder / relative,
                spec,
                timezone=ZoneInfo("Europe/Oslo"),
                pseudonym_key=pseudonym_key,
                file_name=relative,
            )
            assert results[relative].error is None, f"{relative}: {results[relative].error}"
        return results

    return load


@pytest.fixture
def database_url(postgres_server: EmbeddedPostgres) -> Iterator[str]:
    """A fresh database for this test, already migrated."""
    url = copy_database(postgres_server.url)
    yield url
    drop_database(url)


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

    from teei.events import nats_client

    async def delete_streams() -> None:
        async with nats_client.connect(nats_server.url) as connection:
            js = connection.jetstream()
            for info in await js.streams_info():
                assert info.config.name
                await js.delete_stream(info.config.name)

    asyncio.run(delete_streams())
    yield nats_server.url


DBT_PROJECT_DIR = Path(__file__).parents[1] / "dbt_project"
DbtRun = Callable[..., Any]


@pytest.fixture(scope="session")
def dbt(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """`dbt(database_url, "build", ...)`: dbt in-process against one test database.

    The project is parsed once per session; every call reuses that manifest, so no call re-parses.
    Returns the dbtRunnerResult; a failed invocation raises with dbt's own message.
    """
    from dbt.cli.main import dbtRunner

    from orchestration.defs.dbt import dbt_environment

    work = tmp_path_factory.mktemp("dbt")
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    common += ["--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--quiet"]
    parsed = dbtRunner().invoke(["parse", *common])
    assert parsed.success, parsed.exception
    manifest: Any = parsed.result
    runner = dbtRunner(manifest=manifest)
    parsed_for = manifest.nodes[next(iter(manifest.nodes))].database

    def point_at(database: str) -> None:
        # The parsed manifest names the database it was parsed for in every relation; each test has its own.
        nonlocal parsed_for
        for node in [*manifest.nodes.values(), *manifest.sources.values()]:
            node.database = database
            if getattr(node, "relation_name", None):
                node.relation_name = node.relation_name.replace(f'"{parsed_for}".', f'"{database}".', 1)
        parsed_for = database

    def run(database_url: str, command: str, *args: str, expect_success: bool = True) -> Any:
        point_at(str(sa.make_url(database_url).database))
        saved = {name: os.environ.get(name) for name in dbt_environment(database_url)}
        os.environ.update(dbt_environment(database_url))
        try:
            result = runner.invoke([command, *common, *args])
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if expect_success and not result.success:
            outcomes: Any = result.result or []
            failures = [
                f"{r.node.unique_id}: {r.status} {r.message}" for r in outcomes if str(r.status) in {"error", "fail"}
            ]
            raise AssertionError(f"dbt {command} failed: {result.exception or ''} {failures}")
        return result

    return run
