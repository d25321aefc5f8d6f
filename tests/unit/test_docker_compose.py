"""docker-compose.yml cannot run here (no container engine); its structure is checked instead."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_long_running_service_has_a_health_check() -> None:
    long_running = {name for name, service in SERVICES.items() if service.get("restart") != "no"}
    assert long_running >= {
        "postgres",
        "nats",
        "pgadmin",
        "dagster-webserver",
        "dagster-daemon",
        "dagster-user-code",
        "api",
    }
    missing = sorted(name for name in long_running if "healthcheck" not in SERVICES[name])
    assert missing == []


def test_postgres_has_pgvector_and_nats_has_jetstream_and_monitoring() -> None:
    assert "pgvector" in SERVICES["postgres"]["image"]
    command = SERVICES["nats"]["command"]
    assert "-js" in command
    assert "-m" in command
    assert "8222" in command[command.index("-m") + 1]


def test_application_services_wait_for_healthy_dependencies_and_share_settings() -> None:
    for name in ("api", "dagster-daemon", "dagster-user-code", "migrate"):
        service = SERVICES[name]
        env = service["environment"]
        assert env["TEEI_DATABASE_URL"].startswith("postgresql://")
        assert env["TEEI_NATS_URL"] == "nats://nats:4222"
        depends = service["depends_on"]
        assert all(condition["condition"] == "service_healthy" for condition in depends.values()), name
