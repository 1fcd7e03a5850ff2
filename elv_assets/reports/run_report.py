"""One folder of artifacts per run: the serving model, metrics, metadata, a model card, a data card and
an HTML report with Plotly charts.

    runs/plotly.min.js          written once, shared by every report (so each report stays small)
    runs/<run_id>/model.joblib  a copy of the serving model
                  metrics.json  test metrics against the baselines, split boundaries, promotion, drift
                  metadata.json git commit, schema version, as_of, windows, join match rates, inputs' sha256
                  MODEL_CARD.md, DATA_CARD.md, report.html

Everything here takes plain DataFrames and dicts (`RunReportInputs`); `build_run_report` collects them from
the warehouse and the artefact store for the ml/run_report asset.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import plotly.offline

from elv_assets.build import Build, Built, Skip
from elv_assets.lakehouse.files import SERVING_MODEL_KEY, atomic_write
from elv_assets.lakehouse.warehouse import columns, table_exists
from elv_assets.ml.leaderboards import MIN_ADSET_KEY_SHARE, WINDOW_DAYS, adset_keys_missing
from elv_assets.ml.training import (
    CANDIDATES_KEY,
    EVALUATION_KEY,
    MODEL_KEY,
    SCREEN_KEY,
    VALUE_KEY,
    last_promotion,
)
from elv_assets.reports.cards import data_card, model_card
from elv_assets.reports.html import report_html
from elv_assets.reports.inputs import (
    PLOTLY_JS,
    InputSummary,
    RunReportInputs,
    json_clean,
    metadata_document,
    metrics_document,
)
from elv_assets.reports.text import metrics_table


def write_run_artifacts(run_dir: Path, inputs: RunReportInputs, metrics: dict | None = None) -> dict[str, Path]:
    """Write every artifact of one run into run_dir (and plotly.min.js beside it, once); returns their paths.

    `metrics` is `metrics_document(inputs)` when the caller already has it (it is what metrics.json holds).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics = metrics_document(inputs) if metrics is None else metrics
    summary = InputSummary(inputs)
    return {
        "model": copy_model(run_dir, inputs),
        "metrics": write_json(run_dir / "metrics.json", metrics),
        "metadata": write_json(run_dir / "metadata.json", metadata_document(inputs, metrics, summary)),
        "model_card": write_text(run_dir / "MODEL_CARD.md", model_card(inputs, metrics, summary)),
        "data_card": write_text(run_dir / "DATA_CARD.md", data_card(inputs, summary)),
        "plotly_js": ensure_plotly_js(run_dir.parent),
        "report": write_text(run_dir / "report.html", report_html(inputs, metrics, summary)),
    }


# --- files ------------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> Path:
    """Write through a temporary file and a rename, so a reader never sees half a file."""
    return atomic_write(path, text, mode=0o644)  # readable by all: reports are for reading


def write_json(path: Path, doc: dict) -> Path:
    return write_text(path, json.dumps(json_clean(doc), indent=2, allow_nan=False) + "\n")


def copy_model(run_dir: Path, inputs: RunReportInputs) -> Path:
    target = run_dir / "model.joblib"
    shutil.copyfile(inputs.serving_model_path, target)
    return target


def ensure_plotly_js(runs_dir: Path) -> Path:
    """plotly.min.js once per runs/ folder; reports load it as ../plotly.min.js, so they work offline.

    Rewritten only when missing or from another Plotly version (its first line names the version).
    """
    path = Path(runs_dir) / PLOTLY_JS
    js = plotly.offline.get_plotlyjs()
    head = js[:200]
    if not path.exists() or path.open(encoding="utf-8", errors="replace").read(len(head)) != head:
        write_text(path, js)
    return path


# --- the asset -----------------------------------------------------------------------------------------

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


def collect_inputs(b: Build) -> RunReportInputs:
    """Everything the report shows, read once from the warehouse and the artefact store."""
    bundle = b.load(SERVING_MODEL_KEY)
    cands = pd.DataFrame([{"kind": c.kind, "pr_auc_calib": round(c.pr_auc_calib, 4), "params": c.recipe.params}
                          for c in b.load(CANDIDATES_KEY)], columns=["kind", "pr_auc_calib", "params"])
    chosen = b.load(MODEL_KEY)
    screened = b.load(SCREEN_KEY)
    value = b.load(VALUE_KEY)
    con = b.con
    campaign_board = b.fetch("SELECT * FROM gold.campaign_leaderboard")
    adset_board = b.fetch("SELECT * FROM gold.adset_leaderboard")
    board = campaign_board if len(campaign_board) else adset_board
    window = (int((pd.Timestamp(board["window_end"].iloc[0]) - pd.Timestamp(board["window_start"].iloc[0])).days)
              + 1) if len(board) else WINDOW_DAYS
    currencies = [r[0] for r in con.execute(
        "SELECT DISTINCT currency FROM silver.ads WHERE currency IS NOT NULL ORDER BY 1").fetchall()]
    adset_skipped = (b.run_facts("skipped") or {}).get("gold/adset_leaderboard")
    return RunReportInputs(
        run_id=b.run_id,
        as_of=str(b.as_of),
        serving_model_path=b.artifact_path(SERVING_MODEL_KEY),
        evaluation=b.load(EVALUATION_KEY),
        model={
            "kind": bundle.kind, "calibration_method": bundle.calibration_method,
            "n_numeric": len(bundle.columns.numeric), "n_categorical": len(bundle.columns.categorical),
            "n_ad_features": sum(c.startswith(("adset_", "campaign_")) and not c.endswith("_id")
                                 for c in bundle.columns.numeric),
            "trained_in_run": bundle.run_id, "trained_as_of": bundle.as_of,
            "window_days": bundle.window_days, "lag_days": bundle.lag_days,
            "boundaries": bundle.boundaries, "value_source": bundle.value.source,
            "value_overall": bundle.value.overall, "trained_on": bundle.trained_on,
            "trained_until": bundle.trained_until,
            "served_trees": getattr(bundle.pipeline.named_steps["model"], "n_estimators", None)
            if bundle.kind in ("lightgbm", "xgboost") else None,
        },
        choice={"reason": chosen["reason"], "table": pd.DataFrame(chosen["table"])},
        screen=screened.table,
        value={"source": value["served"].source, "value_window_days": value["value_window_days"],
               "wins_within_window": value["wins_within_window"], "held_out_leads": value["held_out_leads"],
               "deciles": value.get("deciles", pd.DataFrame()), "by_campaign": value.get("by_campaign", pd.DataFrame()),
               "learned_from": value["served"].learned_from},
        promotion=last_promotion(b.paths.artifacts_dir),
        windows={"label_window_days": b.chain.label_window_days, "feature_lag_days": b.chain.feature_lag_days,
                 "leaderboard_window_days": window},
        attribution=b.fetch("SELECT join_method, count(*) AS leads FROM gold.lead_attribution GROUP BY 1 ORDER BY 2 DESC"),
        labels=b.fetch("SELECT label_status, mature, count(*) AS leads FROM gold.lead_labels GROUP BY ALL ORDER BY ALL"),
        splits=b.fetch("""
            SELECT split, count(*) AS leads, sum(label)::BIGINT AS positives,
                   min(created_at) AS first, max(created_at) AS last
            FROM gold.training_table GROUP BY 1
            ORDER BY CASE split WHEN 'train' THEN 1 WHEN 'calib' THEN 2 ELSE 3 END"""),
        campaign_board=campaign_board,
        adset_board=adset_board,
        drift=b.fetch("SELECT * FROM monitoring.feature_drift ORDER BY psi DESC"),
        data_quality=b.fetch("SELECT * FROM monitoring.data_quality_report"),
        tables=_tables(con),
        candidates=cands,
        adset_disabled_reason=None if len(adset_board) else (
            adset_skipped or adset_keys_missing(con, MIN_ADSET_KEY_SHARE)),
        currency=", ".join(currencies) or None,
        data_dir=Path(b.paths.data_dir),
    )


def build_run_report(b: Build) -> Built:
    """report.html, the model and data cards, metrics.json and metadata.json of this run, under runs/<run_id>/;
    the artefact is metrics.json's document."""
    if not b.has(SERVING_MODEL_KEY) or not b.has(EVALUATION_KEY):
        raise Skip(b.skipped_because(SERVING_MODEL_KEY)
                   or "No serving model or evaluation yet: the report describes a trained model.")
    inputs = collect_inputs(b)
    run_dir = Path(b.paths.artifacts_dir) / "runs" / b.run_id
    doc = metrics_document(inputs)
    paths = write_run_artifacts(run_dir, inputs, doc)
    table = metrics_table(doc)[["score", "pr_auc", "roc_auc", "brier", "ece_width", "lift_10", "capture_10"]]
    return Built(artifact=doc, metadata={
        **{f"path/{name}": p for name, p in paths.items()},
        "run_dir": run_dir,
        **{k: v for k, v in doc["headline"].items() if v is not None},
        "comparison": table.round(4),
    })
