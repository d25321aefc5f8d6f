"""Files the code needs at run time, found through the installed packages, so a wheel works from anywhere."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(package: str) -> Path:
    """The folder of an installed package (every package here is installed unzipped, as wheels are)."""
    return Path(str(files(package)))


DBT_PROJECT_DIR = package_dir("dbt_project")
MIGRATIONS_DIR = package_dir("teei.platform.migrations")
