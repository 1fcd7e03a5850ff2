"""The serving snapshot: the last asset of the graph, published atomically for the dashboard."""

import math
from pathlib import Path

import dagster as dg

from elv_assets.defs.budget import RECOMMENDATION_KEY, RESPONSE_KEY
from elv_assets.defs.ml import SERVING_KEY, SERVING_NAME
from elv_assets.defs.monitoring import DQ_KEY
from elv_assets.defs.pacing import BOOKINGS_FORECAST_KEY, PACING_RISK_KEY, WEEKLY_KEY
from elv_assets.defs.publishing import OWNERS
from elv_assets.defs.resources import ElvSettings, RunWindow, Warehouse
from elv_assets.defs.scores import ADSET_BOARD_KEY, CAMPAIGN_BOARD_KEY, DRIFT_KEY, SCORES_KEY
from elv_assets.ml.store import ObjectStore, read_jsonl
from elv_assets.serving import publish
from elv_assets.warehouse import resolve_as_of

SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])
REPORT_KEY = dg.AssetKey(["ml", "run_report"])


def _clean(obj):
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _documents(context: dg.AssetExecutionContext, elv: ElvSettings) -> dict:
    store = ObjectStore(elv.artifacts_dir)

    def load(name):
        return store.load(name) if store.path(name).exists() else None

    docs: dict = {}
    bundle = load(SERVING_NAME)
    if bundle is not None:
        docs["model"] = {
            "kind": bundle.kind, "calibration": bundle.calibration_method, "trained_in_run": bundle.run_id,
            "as_of": bundle.as_of, "window_days": bundle.window_days, "lag_days": bundle.lag_days,
            "boundaries": bundle.boundaries, "test_metrics": bundle.test_metrics,
            "value_per_qualified": {"overall": bundle.values.overall, "source": bundle.values.source,
                                    "per_campaign": bundle.values.per_campaign},
        }
    evaluation = load("evaluation")
    if evaluation is not None:
        docs["evaluation"] = evaluation
    docs["promotions"] = read_jsonl(Path(elv.artifacts_dir) / "promotions.jsonl")
    bookings = load("bookings_model")
    if bookings is not None:
        docs["bookings_model"] = {
            "overall": bookings["overall"], "per_fold": bookings["per_fold"].to_dict(orient="records"),
            "importances": bookings["importances"].head(20).to_dict(orient="records"),
        }
    pacing = load("pacing_risk_model")
    if pacing is not None:
        docs["pacing_model"] = {"metrics": pacing.metrics, "calib_start": pacing.calib_start,
                                "test_start": pacing.test_start}
    checks = []
    for entry in context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.dagster_event.event_specific_data
        checks.append({"asset": ev.asset_key.to_user_string(), "check": ev.check_name, "passed": ev.passed,
                       "severity": ev.severity.value if ev.severity else None, "description": ev.description})
    docs["checks"] = checks
    return _clean(docs)


@dg.asset(
    key=SNAPSHOT_KEY,
    deps=[SCORES_KEY, CAMPAIGN_BOARD_KEY, ADSET_BOARD_KEY, DRIFT_KEY, DQ_KEY, PACING_RISK_KEY, BOOKINGS_FORECAST_KEY,
          WEEKLY_KEY, RESPONSE_KEY, RECOMMENDATION_KEY, SERVING_KEY, REPORT_KEY],
    group_name="serving",
    kinds={"parquet", "duckdb"},
    owners=OWNERS,
    description=(
        "Everything the dashboard shows, as Parquet files and JSON documents plus a manifest (as_of_date, run id, "
        "model version, tables, row counts), written to a new folder and switched in with an atomic rename of "
        "manifest.json, so the dashboard never sees half a snapshot and never opens the warehouse."
    ),
)
def snapshot(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings, run_window: RunWindow):
    docs = _documents(context, elv)
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        currency = con.execute("SELECT any_value(currency) FROM silver.ads").fetchall()[0][0]
        info = {"as_of_date": str(as_of), "run_id": context.run.run_id, "currency": currency,
                "model_version": (docs.get("model") or {}).get("trained_in_run")}
        manifest = publish(con, Path(elv.serving_dir), info, docs)
    return dg.MaterializeResult(metadata={
        "version": manifest["version"], "as_of_date": str(as_of), "serving_dir": dg.MetadataValue.path(elv.serving_dir),
        "tables": dg.MetadataValue.md("\n".join(f"- {n}: {t['rows']:,} rows" for n, t in manifest["tables"].items())),
        "not_computed": ", ".join(manifest["not_computed"]) or "none",
    })


serving_assets = [snapshot]
