"""Running the real asset graph in-process against a temporary warehouse."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd

from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.jobs import LAKEHOUSE_SELECTION
from elv_assets.defs.resources import build_resources
from elv_assets.settings import Settings


def materialize_all(settings: Settings, selection: str | None = LAKEHOUSE_SELECTION, run_config: dict | None = None):
    """The lakehouse by default (tiny worlds are far too small to train on); pass selection="*" for all."""
    return dg.materialize(
        ALL_ASSETS,
        resources=build_resources(settings),
        selection=dg.AssetSelection.from_string(selection) if selection and selection != "*" else None,
        run_config=run_config,
        raise_on_error=False,
    )


def query(settings: Settings, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def check_results(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """(asset key, check name) -> its evaluation in this run."""
    out = {}
    for ev in result.get_asset_check_evaluations():
        out[(ev.asset_key.to_user_string(), ev.check_name)] = ev
    return out
