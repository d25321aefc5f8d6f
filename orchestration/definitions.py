"""The Dagster code location: every module of `orchestration/defs/` (ingest, dbt, events, pipeline, sensors)."""

import dagster as dg

from teei.platform.packaged_files import package_dir


@dg.definitions
def defs() -> dg.Definitions:
    # orchestration/dg.toml names the defs module; a new file in defs/ is picked up without editing this.
    return dg.load_from_defs_folder(path_within_project=package_dir("orchestration"))
