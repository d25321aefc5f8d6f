"""dbt models as Dagster assets: `dbt build` runs models and their tests inside the asset."""

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from sqlalchemy.engine import make_url

from orchestration.resources import PlatformResource
from teei.platform.packaged_files import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Parses only under `dagster dev`; everywhere else the manifest is built ahead (`make manifest`).
dbt_project.prepare_if_dev()


def dbt_environment(postgres_url: str) -> dict[str, str]:
    """The TEEI_DBT_* variables dbt_project/profiles.yml reads, derived from the database URL."""
    url = make_url(postgres_url)
    return {
        "TEEI_DBT_HOST": url.host or "127.0.0.1",
        "TEEI_DBT_PORT": str(url.port or 5432),
        "TEEI_DBT_USER": url.username or "",
        "TEEI_DBT_PASSWORD": url.password or "",
        "TEEI_DBT_DBNAME": url.database or "",
        "TEEI_DBT_SSLMODE": str(url.query.get("sslmode", "prefer")),
    }


class TeeiDbtTranslator(DagsterDbtTranslator):
    """Models are keyed `<schema>/<model>` and grouped by layer; sources keep their Dagster asset key."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


# A run with this tag tests every row (the nightly run); other builds test the rows changed since the
# last successful build (dbt_project/macros/test_scope.sql).
TEST_ALL_ROWS_TAG = "teei/dbt-test-all-rows"


def dbt_build_args(run_tags: Mapping[str, str]) -> list[str]:
    # A run of some models (a landing sensor's) runs only the tests whose every model it builds: a
    # relationship test to a model outside the run could read a table no run has built yet.
    args = ["build", "--indirect-selection", "cautious"]
    if run_tags.get(TEST_ALL_ROWS_TAG) == "true":
        args += ["--vars", '{"test_all_rows": true}']
    return args


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=TeeiDbtTranslator())
def teei_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource
) -> Iterator[Any]:
    os.environ.update(dbt_environment(platform.settings().postgres_url))
    yield from dbt.cli(dbt_build_args(context.run.tags), context=context).stream()


# The dbt of this environment, found without relying on PATH (the venv need not be activated).
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
dbt_resource = DbtCliResource(
    project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else "dbt"
)
