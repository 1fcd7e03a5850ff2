"""The run report: the serving model, metrics, metadata, model and data cards and an HTML report per run."""

from pathlib import Path

import dagster as dg
import pandas as pd

from elv_assets.defs.ml import SERVING_KEY, SERVING_NAME
from elv_assets.defs.monitoring import DQ_KEY
from elv_assets.defs.publishing import OWNERS
from elv_assets.defs.resources import ChainSettings, ElvSettings, RunWindow, Warehouse
from elv_assets.defs.scores import (
    ADSET_BOARD_KEY,
    CAMPAIGN_BOARD_KEY,
    DRIFT_KEY,
    SCORES_KEY,
    LeaderboardConfig,
)
from elv_assets.ingest import fetch_frame
from elv_assets.ml.bundle import ModelBundle
from elv_assets.ml.leaderboards import adset_keys_missing
from elv_assets.ml.report import RunReportInputs, metrics_document, metrics_table, write_run_artifacts
from elv_assets.ml.store import ObjectStore
from elv_assets.warehouse import columns, resolve_as_of, table_exists

RUN_REPORT_KEY = dg.AssetKey(["ml", "run_report"])
# The column that dates each silver table's rows, for the data card's date ranges.
DATE_COLUMNS = {"ads": "date", "adsets": "start_date", "conversions": "date", "leads": "created_at",
                "outcomes": "qualified_at", "mapping": None}


def _tables(con) -> pd.DataFrame:
    rows = []
    for name, date_col in DATE_COLUMNS.items():
        table = f"silver.{name}"
        if not table_exists(con, table):
            continue
        if date_col not in columns(con, table):
            date_col = None
        span = f"min({date_col}), max({date_col})" if date_col else "NULL, NULL"
        n, first, last = con.execute(f"SELECT count(*), {span} FROM {table}").fetchone()
        rows.append({"table": table, "rows": int(n), "date_column": date_col,
                     "first": None if first is None else str(first), "last": None if last is None else str(last)})
    return pd.DataFrame(rows, columns=["table", "rows", "date_column", "first", "last"])


def _adset_disabled_reason(context: dg.AssetExecutionContext, con) -> str | None:
    """What the ad-set leaderboard's last materialisation said, else the reason recomputed with defaults."""
    event = context.instance.get_latest_materialization_event(ADSET_BOARD_KEY)
    mat = event.asset_materialization if event is not None else None
    if mat is not None and "disabled_reason" in mat.metadata:
        return str(mat.metadata["disabled_reason"].value) or None
    return adset_keys_missing(con, LeaderboardConfig().min_adset_key_share)


def _collect(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings, run_window: RunWindow,
             chain: ChainSettings) -> RunReportInputs:
    store = ObjectStore(elv.artifacts_dir)
    bundle: ModelBundle = store.load(SERVING_NAME)
    candidates = store.load("candidate_models")
    cands = pd.DataFrame([{"kind": c.kind, "pr_auc_calib": round(c.pr_auc_calib, 4), "params": c.params}
                          for c in candidates], columns=["kind", "pr_auc_calib", "params"])
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        campaign_board = fetch_frame(con, "SELECT * FROM gold.campaign_leaderboard")
        adset_board = fetch_frame(con, "SELECT * FROM gold.adset_leaderboard")
        board = campaign_board if len(campaign_board) else adset_board
        window = (int((pd.Timestamp(board["window_end"].iloc[0]) - pd.Timestamp(board["window_start"].iloc[0])).days)
                  + 1) if len(board) else LeaderboardConfig().window_days
        currencies = [r[0] for r in con.execute(
            "SELECT DISTINCT currency FROM silver.ads WHERE currency IS NOT NULL ORDER BY 1").fetchall()]
        inputs = RunReportInputs(
            run_id=context.run.run_id,
            as_of=str(as_of),
            serving_model_path=store.path(SERVING_NAME),
            evaluation=store.load("evaluation"),
            model={
                "kind": bundle.kind, "calibration_method": bundle.calibration_method,
                "n_numeric": len(bundle.columns.numeric), "n_categorical": len(bundle.columns.categorical),
                "n_ad_features": sum(c.startswith(("adset_", "campaign_")) and not c.endswith("_id")
                                     for c in bundle.columns.numeric),
                "trained_in_run": bundle.run_id, "trained_as_of": bundle.as_of,
                "window_days": bundle.window_days, "lag_days": bundle.lag_days,
                "boundaries": bundle.boundaries, "value_source": bundle.values.source,
                "value_overall": bundle.values.overall,
            },
            promotion=store.load("promotion"),
            windows={"label_window_days": chain.label_window_days, "feature_lag_days": chain.feature_lag_days,
                     "leaderboard_window_days": window},
            attribution=fetch_frame(con, "SELECT join_method, count(*) AS leads FROM gold.lead_attribution "
                                         "GROUP BY 1 ORDER BY 2 DESC"),
            labels=fetch_frame(con, "SELECT label_status, mature, count(*) AS leads FROM gold.lead_labels "
                                    "GROUP BY ALL ORDER BY ALL"),
            splits=fetch_frame(con, """
                SELECT split, count(*) AS leads, sum(label)::BIGINT AS positives,
                       min(created_at) AS first, max(created_at) AS last
                FROM gold.training_table GROUP BY 1
                ORDER BY CASE split WHEN 'train' THEN 1 WHEN 'calib' THEN 2 ELSE 3 END"""),
            campaign_board=campaign_board,
            adset_board=adset_board,
            drift=fetch_frame(con, "SELECT * FROM monitoring.feature_drift ORDER BY psi DESC"),
            data_quality=fetch_frame(con, "SELECT * FROM monitoring.data_quality_report"),
            tables=_tables(con),
            candidates=cands,
            adset_disabled_reason=None if len(adset_board) else _adset_disabled_reason(context, con),
            currency=", ".join(currencies) or None,
            data_dir=Path(elv.data_dir),
        )
    return inputs


@dg.asset(
    key=RUN_REPORT_KEY,
    deps=[SCORES_KEY, CAMPAIGN_BOARD_KEY, ADSET_BOARD_KEY, DRIFT_KEY, SERVING_KEY, DQ_KEY],
    group_name="ml",
    kinds={"html", "plotly"},
    owners=OWNERS,
    description=(
        "Everything about one run in artifacts/runs/<run_id>/: a copy of the serving model, metrics.json (test "
        "metrics against the baselines, split boundaries, promotion, drift), metadata.json (git commit, as_of, "
        "windows, join match rates, sha256 of every input CSV), MODEL_CARD.md, DATA_CARD.md, and report.html "
        "with Plotly lift and calibration charts, the leaderboards and the drift table; it opens offline."
    ),
)
def run_report(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings, run_window: RunWindow,
               chain: ChainSettings) -> dg.MaterializeResult:
    inputs = _collect(context, warehouse, elv, run_window, chain)
    run_dir = Path(elv.artifacts_dir) / "runs" / context.run.run_id
    doc = metrics_document(inputs)  # the metadata shows the same figures as metrics.json
    paths = write_run_artifacts(run_dir, inputs, doc)
    table = metrics_table(doc)[["score", "pr_auc", "roc_auc", "brier", "ece_width", "lift_10", "capture_10"]]
    return dg.MaterializeResult(metadata={
        **{f"path/{name}": dg.MetadataValue.path(str(p)) for name, p in paths.items()},
        "run_dir": dg.MetadataValue.path(str(run_dir)),
        "as_of_date": inputs.as_of,
        **{k: v for k, v in doc["headline"].items() if v is not None},
        "comparison": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".4f", missingval="n/a")),
    })


report_assets = [run_report]
