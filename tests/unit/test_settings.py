"""Settings: development works with nothing configured; production refuses placeholders by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from teei.platform.roles import API_READER_ROLE
from teei.platform.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TEEI_") or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_development_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.env == "development"
    assert settings.postgres_url == "postgresql://teei:teei@127.0.0.1:5433/teei"
    assert settings.nats_server_url == "nats://127.0.0.1:4222"
    assert settings.landing_path == tmp_path / ".teei" / "landing"
    assert settings.dagster_home_path == tmp_path / ".teei" / "dagster"
    assert settings.timezone == "Europe/Oslo"
    assert settings.api_db_role == API_READER_ROLE


def test_an_empty_api_db_role_means_the_database_user_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEEI_API_DB_ROLE", "")
    assert load_settings().api_db_role is None
    monkeypatch.setenv("TEEI_API_DB_ROLE", "reporting_reader")
    assert load_settings().api_db_role == "reporting_reader"


def test_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TEEI_TIMEZONE=UTC\nTEEI_NATS_URL=nats://10.0.0.9:4222\n")
    settings = load_settings()
    assert settings.timezone == "UTC"
    assert settings.nats_server_url == "nats://10.0.0.9:4222"
    assert not settings.uses_embedded_nats


def test_production_with_placeholder_secrets_refuses_naming_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEEI_ENV", "production")
    monkeypatch.setenv("TEEI_DATABASE_URL", "postgresql://u:p@db:5432/teei")
    monkeypatch.setenv("TEEI_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("TEEI_WEBHOOK_SECRET", "a-real-webhook-secret-value")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert "TEEI_PSEUDONYM_KEY" in message
    assert "TEEI_JWT_SECRET" in message
    assert "TEEI_WEBHOOK_SECRET" not in message


def production_environment(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    """A production environment with real-looking secrets, `overrides` applied."""
    for name, value in {
        "TEEI_ENV": "production",
        "TEEI_DATABASE_URL": "postgresql://u:p@db:5432/teei",
        "TEEI_NATS_URL": "nats://nats:4222",
        "TEEI_PSEUDONYM_KEY": "k" * 32,
        "TEEI_WEBHOOK_SECRET": "w" * 32,
        "TEEI_JWT_SECRET": "j" * 32,
        **overrides,
    }.items():
        monkeypatch.setenv(name, value)


def test_production_with_real_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    production_environment(monkeypatch)
    assert load_settings().env == "production"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TEEI_TIMEZONE", "Mars/Olympus"),
        ("TEEI_DATABASE_URL", "mysql://x"),
        ("TEEI_POSTGRES_PORT", "99999"),
        ("TEEI_API_RATE_LIMIT_STORAGE", "memcached://localhost:11211"),  # no client for it is installed
    ],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_production_refuses_a_short_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    production_environment(monkeypatch, TEEI_JWT_SECRET="too-short-secret")
    with pytest.raises(SettingsError, match="TEEI_JWT_SECRET is shorter than 32 bytes"):
        load_settings()
