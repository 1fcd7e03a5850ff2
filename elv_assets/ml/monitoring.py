"""Watching the serving model: the drift of its most important features between training and the last days."""

from __future__ import annotations

from elv_assets.build import Build, Built, Check, Skip
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.ml.bundle import ModelBundle
from elv_assets.ml.drift import drift_report
from elv_assets.ml.models import contributions, importance
from elv_assets.ml.sampling import judge_cap, sample_share, sample_where

IMPORTANCE_LEADS = 20_000  # training leads whose contributions rank the features


def build_feature_drift(b: Build) -> Built:
    """PSI of the serving model's most important features: its training window against the last days of leads."""
    if not b.has(SERVING_MODEL_KEY):
        raise Skip(b.skipped_because(SERVING_MODEL_KEY)
                   or "No serving model yet: drift is measured on the features a serving model relies on.")
    bundle: ModelBundle = b.load(SERVING_MODEL_KEY)
    cfg = b.config
    reference_leads = b.con.execute("SELECT count(*) FROM gold.training_table WHERE split = 'train'").fetchall()[0][0]
    window = f"created_at >= DATE '{b.as_of}' - INTERVAL {cfg.current_days - 1} DAY"
    current_leads = b.con.execute(f"SELECT count(*) FROM gold.lead_features WHERE {window}").fetchall()[0][0]
    if not reference_leads or not current_leads:
        raise Skip("No training leads or no leads in the current window to compare.")
    # which features matter: the model's contributions on a fixed sample of the training leads; then only those
    # columns of every training lead are read (at 1M leads the whole table was most of this step's time)
    sample = b.fetch("SELECT * FROM gold.training_table WHERE split = 'train' AND "
                     f"{sample_where(sample_share(reference_leads, IMPORTANCE_LEADS))} ORDER BY created_at, lead_id")
    ranked = importance(contributions(bundle.pipeline, sample, bundle.columns, bundle.centre))
    features = list(ranked.index[: cfg.features])
    columns = ", ".join(f'"{f}"' for f in features)
    # the reference: every training lead up to judge_leads, a time-stratified sample of that many past it
    share = sample_share(reference_leads, judge_cap(b.chain))
    reference = b.fetch(f"SELECT {columns} FROM gold.training_table WHERE split = 'train' AND {sample_where(share)}")
    current = b.fetch(f"SELECT {columns} FROM gold.lead_features WHERE {window}")
    report = drift_report(reference, current, features, bins=cfg.bins)
    report["importance"] = [round(float(ranked[f]), 6) for f in report["feature"]]
    b.stage_frame(report)
    worst = report.sort_values("psi", ascending=False).iloc[0]
    band = worst["band"]
    check = Check("drift", passed=band == "stable", severity="error" if band == "major" else "warn",
                  description=f"Largest PSI: {worst['feature']} {worst['psi']:.3f} ({band}); biggest shift in "
                              f"{worst['biggest_shift']}.",
                  metadata={"max_psi": float(worst["psi"])})
    return Built(checks=[check], metadata={
        "reference_leads": len(reference), "training_leads": reference_leads, "current_leads": len(current),
        "max_psi": round(float(worst["psi"]), 4), "worst_feature": str(worst["feature"]),
    })
