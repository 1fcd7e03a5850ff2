"""The lead model's training steps as builds: candidates, the choice, calibration, evaluation, promotion.

Each step is one asset and keeps its result in the artefact store under its own key; a later step reads
the earlier ones it declares, never overwrites them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from elv_assets.build import Build, Built, Check
from elv_assets.lakehouse.files import PROMOTIONS, SERVING_MODEL_KEY, ArtifactStore, append_jsonl, read_jsonl
from elv_assets.ml import models as M
from elv_assets.ml.bundle import ModelBundle, evaluate, promotion_decision, single_feature_auc
from elv_assets.ml.elv import learn_values
from elv_assets.ml.features import FeatureColumns, attributes_in, feature_columns
from elv_assets.ml.labels import as_of_end, require_labels

CANDIDATES_KEY = "ml/candidate_models"
MODEL_KEY = "ml/model"
CALIBRATOR_KEY = "ml/calibrator"
EVALUATION_KEY = "ml/evaluation"
SPLITS = ("train", "calib", "test")


def training_frames(b: Build) -> dict[str, pd.DataFrame]:
    """gold.training_table by split."""
    df = b.fetch("SELECT * FROM gold.training_table")
    df["label"] = df["label"].astype(int)
    return {s: df[df["split"] == s].reset_index(drop=True) for s in SPLITS}


def model_columns(frame: pd.DataFrame) -> FeatureColumns:
    """The features a model can use: the table's attributes, calendar, context and ad features, minus all-blank ones."""
    cols = feature_columns(attributes_in(list(frame.columns)))
    return M.usable_columns(frame, FeatureColumns(cols.numeric, cols.categorical + ["adset_id"]))


def promotion_history(artifacts_dir: Path | str) -> list[dict]:
    """Every promotion decision, oldest first: the history the report and the dashboard show."""
    return read_jsonl(ArtifactStore(artifacts_dir).beside(SERVING_MODEL_KEY, PROMOTIONS))


def last_promotion(artifacts_dir: Path | str) -> dict:
    history = promotion_history(artifacts_dir)
    return history[-1] if history else {}


def build_candidate_models(b: Build) -> Built:
    require_labels(b)
    frames = training_frames(b)
    cols = model_columns(frames["train"])
    c = b.config
    params = {"logistic": c.logistic.model_dump(), "lightgbm": c.lightgbm.model_dump(), "xgboost": c.xgboost.model_dump()}
    cands = M.fit_candidates(frames["train"], frames["train"]["label"].to_numpy(), frames["calib"],
                             frames["calib"]["label"].to_numpy(), cols, params, c.seed, progress=b.log)
    return Built(artifact=cands, metadata={
        **{f"pr_auc_calib/{cand.kind}": round(cand.pr_auc_calib, 4) for cand in cands},
        "features": len(cols.all), "train_leads": len(frames["train"]),
    })


def build_model(b: Build) -> Built:
    require_labels(b)
    cands = b.load(CANDIDATES_KEY)
    chosen = M.choose(cands, b.config.tie_tolerance)
    table = pd.DataFrame([{"model": c.kind, "pr_auc_calib": round(c.pr_auc_calib, 4)} for c in cands])
    return Built(artifact=chosen, metadata={"chosen": chosen.kind, "pr_auc_calib": round(chosen.pr_auc_calib, 4),
                                            "candidates": table, "params": chosen.params})


def build_calibrator(b: Build) -> Built:
    """The chosen model calibrated on the calib split, with the value of a qualified lead, as one bundle."""
    require_labels(b)
    chosen: M.Candidate = b.load(MODEL_KEY)
    frames = training_frames(b)
    calib = frames["calib"]
    method = M.calibration_method(calib["label"].to_numpy(), b.config.isotonic_min_positives)
    cal = M.calibrate(chosen.pipeline, calib, calib["label"].to_numpy(), chosen.columns, method)
    centre = M.transformed_means(chosen.pipeline, frames["train"], chosen.columns) if chosen.kind == "logistic" else None
    history = b.fetch(f"""
        SELECT t.campaign_id, t.label, CASE WHEN o.won_at < {as_of_end(b.as_of)} THEN o.revenue END AS revenue
        FROM gold.training_table t LEFT JOIN silver.outcomes o USING (lead_id)
        WHERE t.split IN ('train', 'calib')""")
    values = learn_values(history, b.config.value_prior_strength, b.config.qualified_lead_value)
    bounds = {"first": str(frames["train"]["created_at"].min()), "calib_start": str(calib["created_at"].min()),
              "test_start": str(frames["test"]["created_at"].min()), "last": str(frames["test"]["created_at"].max())}
    bundle = ModelBundle(
        kind=chosen.kind, pipeline=chosen.pipeline, calibrated=cal, calibration_method=method,
        columns=chosen.columns, centre=centre, values=values, window_days=b.chain.label_window_days,
        lag_days=b.chain.feature_lag_days, boundaries=bounds, run_id=b.run_id, as_of=str(b.as_of),
    )
    return Built(artifact=bundle, metadata={
        "model": chosen.kind, "method": method, "calib_positives": int(calib["label"].sum()),
        "value_source": values.source, "value_per_qualified/overall": round(values.overall, 2),
        "values": values.table().round(2) if values.per_campaign else "configured",
    })


def _campaign_cpl(b: Build, bounds: dict[str, str]) -> dict[str, float]:
    """Each campaign's cost per lead over the train window (the CPL baseline ranks by it)."""
    return dict(b.con.execute(f"""
        WITH s AS (SELECT campaign_id, sum(spend) AS spend FROM silver.ads
                   WHERE date >= TIMESTAMP '{bounds['first']}'::DATE
                     AND date < TIMESTAMP '{bounds['calib_start']}'::DATE GROUP BY 1),
             l AS (SELECT campaign_id, count(*) AS leads FROM gold.lead_attribution
                   WHERE created_at >= TIMESTAMP '{bounds['first']}'::DATE
                     AND created_at < TIMESTAMP '{bounds['calib_start']}' GROUP BY 1)
        SELECT campaign_id, s.spend / l.leads FROM s JOIN l USING (campaign_id) WHERE s.spend > 0""").fetchall())


def build_evaluation(b: Build) -> Built:
    """The calibrated model on the held-out test split against the business baselines, and its checks."""
    require_labels(b)
    bundle: ModelBundle = b.load(CALIBRATOR_KEY)
    frames = training_frames(b)
    result = evaluate(bundle, frames["train"], frames["test"], _campaign_cpl(b, bundle.boundaries))
    y = frames["test"]["label"].to_numpy()
    result["single_feature_auc"] = single_feature_auc(frames["test"], y, bundle.columns, frames["train"])
    m, base = result["metrics"]["model"], result["metrics"]["campaign_rate"]
    cfg = b.config
    calibration = Check(
        "calibration", passed=m["ece_width"] <= cfg.max_ece, severity="error",
        description=f"ECE {m['ece_width']:.4f} (equal-mass {m['ece_mass']:.4f}); limit {cfg.max_ece}.",
        metadata={"ece_width": m["ece_width"], "ece_mass": m["ece_mass"]})
    beats = Check(
        "beats_campaign_rate", passed=(m["pr_auc"] or 0) > (base["pr_auc"] or 0), severity="error",
        description=f"PR-AUC {m['pr_auc']:.4f} against the campaign-rate baseline's {base['pr_auc']:.4f}.",
        metadata={"pr_auc": m["pr_auc"], "baseline_pr_auc": base["pr_auc"]})
    suspicious = [f for f, a in result["single_feature_auc"].items() if a >= 0.9]
    top = list(result["single_feature_auc"].items())[:3]
    high = (m["roc_auc"] or 0) > cfg.leakage_roc_auc
    tripwire = Check(
        "leakage_tripwire", passed=not high,
        description=(f"ROC-AUC {m['roc_auc']:.4f} is above {cfg.leakage_roc_auc}: check "
                     f"{', '.join(suspicious or [f for f, _ in top])} for outcome information."
                     if high else f"ROC-AUC {m['roc_auc']:.4f}; strongest single features: "
                     + ", ".join(f"{f} {a:.3f}" for f, a in top)),
        metadata={"roc_auc": m["roc_auc"], "single_feature_auc": result["single_feature_auc"]})
    table = pd.DataFrame(result["metrics"]).T.reset_index(names="score")
    keep = ["score", "pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass", "lift_10", "capture_10"]
    return Built(artifact=result, checks=[calibration, beats, tripwire], metadata={
        "model": bundle.kind, "calibration": bundle.calibration_method, "test_leads": result["n_test"],
        **{f"test/{k}": m[k] for k in ("pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass",
                                         "lift_10", "capture_10")},
        "baseline/campaign_rate_pr_auc": base["pr_auc"],
        "comparison": table[keep].round(4),
        **{f"split/{k}": v for k, v in bundle.boundaries.items()},
    })


def build_serving_model(b: Build) -> Built:
    """The promotion gate: the calibrated model replaces the serving one only when it is at least as good on the
    current test window; every decision is appended to the promotion history."""
    require_labels(b)
    new: ModelBundle = b.load(CALIBRATOR_KEY)
    new.test_metrics = b.load(EVALUATION_KEY)["metrics"]["model"]
    serving = b.load(SERVING_MODEL_KEY) if b.has(SERVING_MODEL_KEY) else None
    test = training_frames(b)["test"]
    decision = promotion_decision(new, serving, test, b.config.pr_auc_tolerance, b.config.max_ece)
    record = {**decision.__dict__, "run_id": b.run_id, "model": new.kind, "as_of": new.as_of,
              "decided_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    append_jsonl(ArtifactStore(b.paths.artifacts_dir).beside(SERVING_MODEL_KEY, PROMOTIONS), record)
    serving_now = new if decision.promote else serving
    said = "Promoted: " if decision.promote else ("Kept the serving model: " if serving else "No model can serve: ")
    check = Check(
        "promotion", passed=serving_now is not None, severity="warn" if serving_now is not None else "error",
        description=said + decision.reason,
        metadata={k: v for k, v in decision.__dict__.items() if v is not None and k != "reason"})
    if serving_now is None:
        return Built(checks=[check], metadata={"promoted": False, "reason": decision.reason, "serving/model": "none"})
    return Built(artifact=new if decision.promote else None, checks=[check], metadata={
        "promoted": decision.promote, "reason": decision.reason, "serving/model": serving_now.kind,
        "serving/trained_in_run": serving_now.run_id, "serving/as_of": serving_now.as_of,
        "serving/test_metrics": {k: (float(v) if v is not None else None) for k, v in serving_now.test_metrics.items()},
    })
