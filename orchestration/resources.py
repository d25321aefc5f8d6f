"""Dagster resources: the platform's settings, database engine and NATS URL, read at run time."""

import dagster as dg
import sqlalchemy as sa

from teei.platform.database import get_engine
from teei.platform.settings import Settings, get_settings


class PlatformResource(dg.ConfigurableResource):
    """The platform's settings (TEEI_* environment) with optional overrides, e.g. for tests."""

    database_url: str | None = None
    nats_url: str | None = None
    landing_dir: str | None = None

    def settings(self) -> Settings:
        overrides = {
            name: value
            for name, value in (
                ("database_url", self.database_url),
                ("nats_url", self.nats_url),
                ("landing_dir", self.landing_dir),
            )
            if value is not None
        }
        settings = get_settings()
        return settings.model_copy(update=overrides) if overrides else settings

    def engine(self) -> sa.Engine:
        return get_engine(self.settings(), application_name="teei-dagster")
