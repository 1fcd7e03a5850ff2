"""The code location: every asset, check, job, schedule and resource in one Definitions object."""

import dagster as dg

from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.jobs import jobs, schedules, sensors
from elv_assets.defs.resources import build_resources

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources=build_resources(),
    executor=dg.in_process_executor,
)
