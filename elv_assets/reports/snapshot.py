"""The serving snapshot's build: every table the dashboard shows and the documents about the models, published
atomically (lakehouse/serving.py) for the dashboard, which never opens the warehouse."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from elv_assets.build import Build, Built
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.lakehouse.serving import SERVED_TABLE_KEYS, SERVING_TABLES, publish
from elv_assets.ml.bundle import TEST_PREDICTIONS
from elv_assets.ml.forecasting import BOOKINGS_MODEL_KEY, PACING_MODEL_KEY
from elv_assets.ml.training import EVALUATION_KEY, VALUE_KEY, promotion_history

RUN_REPORT_KEY = "ml/run_report"
# What the snapshot reads besides the served tables: the models and the report its documents describe.
SNAPSHOT_ARTIFACTS = (SERVING_MODEL_KEY, EVALUATION_KEY, VALUE_KEY, BOOKINGS_MODEL_KEY, PACING_MODEL_KEY,
                      RUN_REPORT_KEY)
SNAPSHOT_READS = (*SERVED_TABLE_KEYS, *SNAPSHOT_ARTIFACTS)


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


def snapshot_documents(b: Build) -> dict:
    """The model, its evaluation and promotions, the bookings and pacing models, and this run's checks."""
    def load(key):
        return b.load(key) if b.has(key) else None

    docs: dict = {}
    bundle = load(SERVING_MODEL_KEY)
    if bundle is not None:
        docs["model"] = {
            "kind": bundle.kind, "calibration": bundle.calibration_method, "trained_in_run": bundle.run_id,
            "as_of": bundle.as_of, "window_days": bundle.window_days, "lag_days": bundle.lag_days,
            "boundaries": bundle.boundaries, "test_metrics": bundle.test_metrics,
            "trained_on": bundle.trained_on, "trained_until": bundle.trained_until,
            "value_per_qualified": {"overall": bundle.value.overall, "source": bundle.value.source,
                                    "per_campaign": bundle.value.per_campaign,
                                    "learned_from": bundle.value.learned_from},
            "excluded_features": bundle.excluded_features,
        }
    evaluation = load(EVALUATION_KEY)
    if evaluation is not None:
        docs["evaluation"] = {k: v for k, v in evaluation.items() if k != TEST_PREDICTIONS}
    value = load(VALUE_KEY)
    if value is not None:
        docs["value_check"] = {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v)
                               for k, v in value.items() if k not in ("held_out", "served")}
    docs["promotions"] = promotion_history(b.paths.artifacts_dir)
    bookings = load(BOOKINGS_MODEL_KEY)
    if bookings is not None:
        docs["bookings_model"] = {
            "overall": bookings["overall"], "per_fold": bookings["per_fold"].to_dict(orient="records"),
            "importances": bookings["importances"].head(20).to_dict(orient="records"),
        }
    pacing = load(PACING_MODEL_KEY)
    if pacing is not None:
        docs["pacing_model"] = {"metrics": pacing.metrics, "calib_start": pacing.calib_start,
                                "test_start": pacing.test_start}
    report = load(RUN_REPORT_KEY)
    if report is not None:
        docs["run_report"] = {"run_id": report.get("run_id"), "headline": report.get("headline", {})}
    docs["checks"] = b.run_facts("checks") or []
    docs["skipped"] = b.run_facts("skipped") or {}
    return _clean(docs)


def build_snapshot(b: Build) -> Built:
    docs = snapshot_documents(b)
    currency = b.con.execute("SELECT any_value(currency) FROM silver.ads").fetchall()[0][0]
    info = {"as_of_date": str(b.as_of), "run_id": b.run_id, "currency": currency,
            "model_version": (docs.get("model") or {}).get("trained_in_run")}
    manifest = publish(b.con, Path(b.paths.serving_dir), info, docs)
    return Built(metadata={
        "version": manifest["version"], "serving_dir": Path(b.paths.serving_dir),
        "tables": "\n".join(f"- {n}: {t['rows']:,} rows" for n, t in manifest["tables"].items()),
        "not_computed": ", ".join(manifest["not_computed"]) or "none",
        "served_from": {name: key for name, (key, _) in SERVING_TABLES.items()},
    })
