"""Dagster definitions, one module per domain: each asset declared once (`declare.py` makes the asset)."""

import datetime as dt

import dagster as dg

from elv_assets.defs.budget import budget_assets
from elv_assets.defs.elv import elv_assets
from elv_assets.defs.exports import export_assets
from elv_assets.defs.lakehouse import lakehouse_assets
from elv_assets.defs.monitoring import monitoring_assets
from elv_assets.defs.pacing import pacing_assets
from elv_assets.defs.serving import serving_assets
from elv_assets.lakehouse.serving import SERVED_TABLE_KEYS

# The tables the dashboard shows are refreshed every morning: stale after a missed day (warn), failed after two.
DASHBOARD_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=50),
                                                    warn_window=dt.timedelta(hours=26))


def with_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting policy, applied once: freshness on every table the serving snapshot publishes."""
    if spec.key.to_user_string() in SERVED_TABLE_KEYS and spec.key.path[0] in ("gold", "monitoring"):
        return dg.apply_freshness_policy(spec, DASHBOARD_FRESHNESS)
    return spec


ALL_ASSETS = list(dg.map_asset_specs(
    with_policies, [*lakehouse_assets, *elv_assets, *monitoring_assets, *pacing_assets, *budget_assets, *serving_assets,
                     *export_assets]))
