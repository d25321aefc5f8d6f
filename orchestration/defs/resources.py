"""The resources every asset and sensor asks for by name: `platform` (settings, engine) and `dbt`."""

import dagster as dg

from orchestration.defs.dbt import dbt_resource
from orchestration.resources import PlatformResource

defs = dg.Definitions(resources={"platform": PlatformResource(), "dbt": dbt_resource})
