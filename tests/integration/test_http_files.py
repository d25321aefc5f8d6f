"""The `.http` files of docs/http/, sent by httpyac to a real API server over a small built data set.

They are the requests a developer clicks through in an editor; sending every one of them here, with
its asserted status, keeps them from drifting away from the API. httpyac comes from the npm registry
into `tools/httpyac/node_modules/` (`make install`); without npm this test is skipped and says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from api_fixtures import WEBHOOK_SECRET, api_settings, build_dataset, token
from dagster_postgres.run_storage import PostgresRunStorage

from api.app import create_app
from teei.devtools.services import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
HTTP_FILES = ROOT / "docs" / "http"
# Where `make install` puts it (`npm ci --prefix tools/httpyac`); one on the PATH is used otherwise.
PROJECT_HTTPYAC = ROOT / "tools" / "httpyac" / "node_modules" / ".bin" / "httpyac"


def httpyac_binary() -> str:
    if PROJECT_HTTPYAC.exists():
        return str(PROJECT_HTTPYAC)
    found = shutil.which("httpyac")
    if found is None:
        pytest.skip("httpyac is not installed: `make install` installs it with npm (Node.js and npm are needed)")
    return found


@pytest.fixture(scope="module")
def served(
    make_database: Any, load_exports: Any, dbt: Any, nats_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A uvicorn server (in a thread of this process, so coverage sees the API) over one small data set,
    with Dagster's real run storage so readiness answers 200; yields the httpyac variables."""
    url = make_database()
    build_dataset(url, load_exports, dbt, tmp_path_factory.mktemp("http-exports"), scale=12, seed=5)
    PostgresRunStorage(url).dispose()  # creates Dagster's tables, as `make up` does on first start
    settings = api_settings(url, nats_server.url, tmp_path_factory.mktemp("http-home"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="http-files-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    yield {
        "host": f"http://127.0.0.1:{port}",
        "token": token(settings, "admin"),
        "webhook_secret": WEBHOOK_SECRET,
    }
    server.should_exit = True
    thread.join(timeout=15)


def send(http_file: Path, variables: dict[str, str]) -> dict[str, Any]:
    """Every request of one file, in order; httpyac's JSON report."""
    arguments = [httpyac_binary(), "send", http_file.name, "--all", "--json", "--no-color"]
    for name, value in variables.items():
        arguments += ["--var", f"{name}={value}"]
    # No `--env`: the editor environment of http-client.env.json is not read, only these variables.
    sent = subprocess.run(arguments, cwd=HTTP_FILES, capture_output=True, text=True, timeout=180)
    try:
        report: dict[str, Any] = json.loads(sent.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"httpyac exited {sent.returncode}: {sent.stdout}\n{sent.stderr}") from None
    report["returncode"] = sent.returncode
    return report


def why(result: dict[str, Any]) -> str:
    return str(result.get("error", {}).get("displayMessage", ""))


def failures(report: dict[str, Any]) -> list[str]:
    """One line per assertion that did not pass, naming the request (its comment) and why."""
    return [
        f"line {request['line']} {request['title']!r}: {result['message']} {why(result)}"
        for request in report["requests"]
        for result in request["testResults"]
        if result["status"] != "SUCCESS"
    ]


HTTP_FILE_NAMES = sorted(path.name for path in HTTP_FILES.glob("*.http"))


def test_there_is_a_file_per_resource() -> None:
    assert HTTP_FILE_NAMES == ["companies.http", "health.http", "imports.http", "profiles.http", "webhooks.http"]


@pytest.mark.parametrize("name", HTTP_FILE_NAMES)
def test_every_request_of_the_file_answers_as_it_asserts(served: dict[str, str], name: str) -> None:
    http_file = HTTP_FILES / name
    report = send(http_file, served)

    assert not failures(report), "\n".join(failures(report))
    assert report["returncode"] == 0, report["summary"]
    regions = http_file.read_text().count("\n###")
    summary = report["summary"]
    assert summary["totalRequests"] == summary["successRequests"] == regions, summary
    for request in report["requests"]:
        # Each request says which status it expects, so a changed answer fails here, not silently.
        assert any(result["message"].startswith("status ==") for result in request["testResults"]), request["title"]
