"""The code location: every asset, check, job, schedule and resource in one Definitions object."""

import dagster as dg

from elv_assets.defs.bronze import bronze_assets
from elv_assets.defs.budget import budget_assets
from elv_assets.defs.gold import gold_assets
from elv_assets.defs.jobs import jobs, schedules, sensors
from elv_assets.defs.ml import ml_assets
from elv_assets.defs.monitoring import monitoring_assets
from elv_assets.defs.pacing import pacing_assets
from elv_assets.defs.report import report_assets
from elv_assets.defs.resources import build_resources
from elv_assets.defs.scores import score_assets
from elv_assets.defs.serving import serving_assets
from elv_assets.defs.silver import silver_assets

ALL_ASSETS = [*bronze_assets, *silver_assets, *gold_assets, *ml_assets, *score_assets, *budget_assets,
              *pacing_assets, *monitoring_assets, *report_assets, *serving_assets]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources=build_resources(),
    executor=dg.in_process_executor,
)
