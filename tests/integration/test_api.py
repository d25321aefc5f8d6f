"""The HTTP API: health, readiness naming what is down, and problem+json for every error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import mint_token
from teei.devtools.services import free_port

pytestmark = pytest.mark.integration

UNKNOWN_USER = "0" * 64


@pytest.fixture
def client(teei_env: Any) -> Iterator[TestClient]:
    with TestClient(create_app(teei_env.settings)) as client:
        yield client


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


def test_health_answers_without_touching_dependencies(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_readiness_names_what_is_down(teei_env: Any) -> None:
    # Dagster has never run against this database, and NATS points at a port nobody listens on.
    settings = teei_env.settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    with TestClient(create_app(settings)) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["postgres"]["healthy"] is True
    assert checks["nats"]["healthy"] is False
    assert checks["dagster_storage"]["healthy"] is False


def admin(teei_env: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(teei_env.settings, role='admin')}"}


def test_profiles_before_the_first_pipeline_run_answer_503_saying_so(client: TestClient, teei_env: Any) -> None:
    body = assert_problem(client.get(f"/v1/profiles/{UNKNOWN_USER}", headers=admin(teei_env)), 503)
    assert "run the pipeline" in body["detail"]


def test_a_malformed_user_id_is_a_422_problem_naming_the_parameter(client: TestClient, teei_env: Any) -> None:
    body = assert_problem(client.get("/v1/profiles/anna@example.org", headers=admin(teei_env)), 422)
    assert body["errors"][0]["location"] == "path.user_id"


def test_profiles_need_a_token(client: TestClient) -> None:
    assert_problem(client.get(f"/v1/profiles/{UNKNOWN_USER}"), 401)


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/health",
        "/health/ready",
        "/v1/profiles",
        "/v1/profiles/{user_id}",
        "/v1/profiles/{user_id}/flags",
        "/v1/profiles/mappings",
        "/v1/companies/{company_id}/metrics",
        "/v1/webhooks/kintell/sessions",
        "/v1/webhooks/kintell/ratings",
        "/v1/imports/{source}/{entity}",
    } <= set(paths)


ASSET_URL = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']|spec-url\s*=\s*["']([^"']+)["']"""
)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_work_offline_every_asset_served_by_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = {next(group for group in found if group) for found in ASSET_URL.findall(response.text)}
    assert urls, response.text
    # Same origin only: no CDN, no other host (a blank page offline was the fault).
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    scripts = [url for url in urls if url.endswith(".js")]
    assert scripts
    for url in urls - {"/openapi.json"}:
        asset = client.get(url)
        assert asset.status_code == 200, url
        kind = {"js": "javascript", "css": "text/css", "png": "image/png"}[url.rsplit(".", 1)[-1]]
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000
    if page == "/docs":
        assert any(url.endswith(".css") for url in urls)
        assert "/openapi.json" in urls


def test_a_missing_docs_asset_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/docs/static/no-such-file.js"), 404)
