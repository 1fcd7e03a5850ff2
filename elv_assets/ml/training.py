"""The lead model's training steps as builds: the leakage guard, candidates, the choice, the value model,
calibration, evaluation and the promotion gate (with the refit of the promoted recipe on every mature lead).

Each step is one asset and keeps its result in the artefact store under its own key; a later step reads
the earlier ones it declares, never overwrites them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from elv_assets.build import Build, Built, Check, Refused
from elv_assets.lakehouse.files import PROMOTIONS, SERVING_MODEL_KEY, ArtifactStore, append_jsonl, read_jsonl
from elv_assets.lakehouse.ingest import sql_str
from elv_assets.ml import models as M
from elv_assets.ml.bundle import (
    TEST_PREDICTIONS,
    ModelBundle,
    evaluate,
    held_out_bundle,
    promotion_decision,
    refit_for_serving,
    single_feature_auc,
)
from elv_assets.ml.features import FeatureColumns, attributes_in, feature_columns
from elv_assets.ml.labels import require_labels
from elv_assets.ml.sampling import fit_cap, judge_cap, sample_share, sample_where
from elv_assets.ml.screening import FeatureScreen, ScreenLimits, screen
from elv_assets.ml.selection import choose
from elv_assets.ml.value import NO_REVENUE, ValueModel, fit_value_model, realised_values_select

SCREEN_KEY = "ml/feature_screen"
CANDIDATES_KEY = "ml/candidate_models"
MODEL_KEY = "ml/model"
VALUE_KEY = "ml/value_model"
CALIBRATOR_KEY = "ml/calibrator"
EVALUATION_KEY = "ml/evaluation"
SPLITS = ("train", "calib", "test")


def training_frames(b: Build, splits: tuple[str, ...] = SPLITS, sampled: tuple[str, ...] = ()
                    ) -> dict[str, pd.DataFrame]:
    """gold.training_table by split, each in created_at order (the time-ordered steps rely on it). The splits in
    `sampled` are read as one time-stratified sample of at most `fit_leads` leads between them (ml/sampling.py):
    what a fit learns from. Each other split is read whole up to `judge_leads` leads, and as a time-stratified
    sample of that many past it (the same leads in every step that judges on it)."""
    counts = dict(b.con.execute("SELECT split, count(*) FROM gold.training_table GROUP BY 1").fetchall())
    available = sum(counts.get(s, 0) for s in sampled)
    share = sample_share(available, fit_cap(b.chain))
    conditions = []
    if sampled:  # one sample for every step, whatever its seed
        conditions.append(f"(split IN ({', '.join(map(sql_str, sampled))}) AND {sample_where(share)})")
    judged = {s: sample_share(counts.get(s, 0), judge_cap(b.chain)) for s in splits if s not in sampled}
    conditions += [f"(split = {sql_str(s)} AND {sample_where(judged_share)})" for s, judged_share in judged.items()]
    df = b.fetch(f"SELECT * FROM gold.training_table WHERE {' OR '.join(conditions)} ORDER BY created_at, lead_id")
    df["label"] = df["label"].astype(int)
    if share < 1:
        b.log(f"fitting on a time-stratified sample of {share:.1%} of the {', '.join(sampled)} leads "
              f"({int(df['split'].isin(sampled).sum()):,} of {available:,})")
    for s, judged_share in judged.items():
        if judged_share < 1:
            b.log(f"judging on a time-stratified sample of the {s} split: {int((df['split'] == s).sum()):,} of "
                  f"{counts[s]:,} leads (judge_leads, ELV_JUDGE_LEADS)")
    return {s: df[df["split"] == s].reset_index(drop=True) for s in splits}


def model_columns(frame: pd.DataFrame) -> FeatureColumns:
    """The features a model can use: the table's attributes, calendar, context and ad features, minus those that
    carry no information (all blank, or one value)."""
    cols = feature_columns(attributes_in(frame))
    return M.usable_columns(frame, FeatureColumns(cols.numeric, cols.categorical + ["adset_id"]))


def promotion_history(artifacts_dir: Path | str) -> list[dict]:
    """Every promotion decision, oldest first: the history the report and the dashboard show."""
    return read_jsonl(ArtifactStore(artifacts_dir).beside(SERVING_MODEL_KEY, PROMOTIONS))


def last_promotion(artifacts_dir: Path | str) -> dict:
    history = promotion_history(artifacts_dir)
    return history[-1] if history else {}


def build_feature_screen(b: Build) -> Built:
    """The leakage guard over the lead's own columns (see ml/screening.py); strict mode stops the run."""
    require_labels(b)
    train = training_frames(b, ("train",), sampled=("train",))["train"]
    kinds = attributes_in(train)
    leads = b.con.execute("SELECT count(*) FROM gold.lead_features").fetchall()[0][0]
    ages = b.fetch("SELECT f.*, l.mature FROM gold.lead_features f JOIN gold.lead_labels l USING (lead_id) "
                   f"WHERE {sample_where(sample_share(leads, fit_cap(b.chain)), column='f.lead_id')}")
    cfg = b.config
    limits = ScreenLimits(cfg.max_single_auc, cfg.min_fill_ratio, cfg.min_fill_difference, cfg.min_fill_gap,
                          cfg.max_age_psi)
    result = screen(train, train["label"].to_numpy(), kinds.features, kinds.numeric,
                    ages[ages["mature"]], ages[~ages["mature"]], limits,
                    include=list(b.features.include), exclude=list(b.features.exclude))
    if result.excluded and b.features.strict:
        raise Refused("The leakage guard found lead columns that look filled in after contact (features.strict is "
                      f"on, so the run stops): {result.summary()} Drop them from leads.csv, or list them in "
                      "features.include (ELV_FEATURES_INCLUDE) if they are known when the lead is created.")
    for col, reasons in result.excluded.items():
        b.warn(f"left out lead column {col!r}: {'; '.join(reasons)}")
    check = Check("leakage_guard", passed=not result.excluded, description=result.summary(),
                  metadata={"left_out": list(result.excluded), "screened": len(result.screened)})
    return Built(artifact=result, checks=[check], metadata={
        "left_out": ", ".join(result.excluded) or "none", "screened": result.table})


def screened_columns(b: Build, frame: pd.DataFrame) -> tuple[FeatureColumns, dict[str, list[str]]]:
    """The model's features after the leakage guard, and what it left out (with reasons)."""
    screened: FeatureScreen = b.load(SCREEN_KEY)
    return model_columns(frame).without(list(screened.excluded)), screened.excluded


def build_candidate_models(b: Build) -> Built:
    require_labels(b)
    frames = training_frames(b, ("train", "calib"), sampled=("train",))
    train_leads = b.con.execute("SELECT count(*) FROM gold.training_table WHERE split = 'train'").fetchall()[0][0]
    cols, excluded = screened_columns(b, frames["train"])
    cands = M.fit_candidates(frames["train"], frames["train"]["label"].to_numpy(), frames["calib"],
                             frames["calib"]["label"].to_numpy(), cols, b.config.seed,
                             kinds=tuple(b.config.kinds), progress=b.log)
    search = pd.DataFrame([{"model": c.kind, **row} for c in cands for row in c.search])
    return Built(artifact=cands, metadata={
        **{f"pr_auc_calib/{c.kind}": round(c.pr_auc_calib, 4) for c in cands},
        "features": len(cols.all), "train_leads": train_leads, "fitted_on_leads": len(frames["train"]),
        "judged_on_calib_leads": len(frames["calib"]),
        "left_out": ", ".join(excluded) or "none",
        "settings_tried": search,
    })


def build_model(b: Build) -> Built:
    require_labels(b)
    cands = b.load(CANDIDATES_KEY)
    calib = training_frames(b, ("calib",))["calib"]
    choice = choose(cands, calib["label"].to_numpy(), b.config.seed)
    return Built(artifact={"chosen": choice.chosen, "reason": choice.reason, "table": choice.table}, metadata={
        "chosen": choice.chosen.kind, "best": choice.best.kind, "reason": choice.reason,
        "candidates": pd.DataFrame(choice.table), "params": choice.chosen.recipe.params})


def value_deciles(model: ValueModel, leads: pd.DataFrame, band_se: float) -> pd.DataFrame:
    """Held-out value check: per decile of predicted E[value | qualified], the mean predicted and realised value,
    and whether realised lies within `band_se` standard errors of its mean of predicted. The standard error is the
    larger of the sample's (std / sqrt(n)) and the model's own (its per-lead variance summed): with a handful of
    wins in a decile the sample's spread says little about how far a heavy-tailed mean can fall."""
    variance = model.variance(leads)
    frame = leads.assign(predicted=model.expected(leads), variance=0.0 if variance is None else variance)
    frame["decile"] = pd.qcut(frame["predicted"].rank(method="first"), 10, labels=False) + 1
    rows = []
    for d, g in frame.groupby("decile"):
        sample_se = float(g["realised_value"].std(ddof=1) / np.sqrt(len(g))) if len(g) > 1 else float("nan")
        model_se = float(np.sqrt(g["variance"].sum()) / len(g))
        se = max(sample_se, model_se)
        predicted, realised = float(g["predicted"].mean()), float(g["realised_value"].mean())
        rows.append({"decile": int(d), "leads": len(g), "won": int((g["realised_value"] > 0).sum()),
                     "predicted": round(predicted, 2), "realised": round(realised, 2), "se": round(se, 2),
                     "within_band": bool(abs(realised - predicted) <= band_se * se)})
    return pd.DataFrame(rows)


def value_by_campaign(model: ValueModel, leads: pd.DataFrame) -> pd.DataFrame:
    frame = leads.assign(predicted=model.expected(leads), campaign=leads["campaign_id"].fillna("(unattributed)"))
    out = frame.groupby("campaign").agg(qualified=("lead_id", "size"), won=("realised_value", lambda v: int((v > 0).sum())),
                                        predicted=("predicted", "sum"), realised=("realised_value", "sum"))
    return out.reset_index().sort_values("predicted", ascending=False).round(2)


def build_value_model(b: Build) -> Built:
    """E[value | qualified, lead]: a held-out version (train split) checked on later qualified leads whose value
    window has closed, and the version that serves (every closed window)."""
    require_labels(b)
    cfg = b.config
    closed_sql = realised_values_select(b.as_of, b.chain.label_window_days, cfg.value_window_days)
    n_train, n_later, within = b.con.execute(f"""
        SELECT count(*) FILTER (split = 'train'), count(*) FILTER (split <> 'train'),
               avg(CAST(won_within_window AS DOUBLE)) FILTER (won_on_record)
        FROM ({closed_sql})""").fetchall()[0]

    def closed(where: str) -> pd.DataFrame:
        return b.fetch(f"SELECT * FROM ({closed_sql}) WHERE {where} ORDER BY created_at, lead_id")

    cols, _ = screened_columns(b, training_frames(b, ("train",), sampled=("train",))["train"])
    # Fitted on at most `fit_leads` qualified leads each, checked on at most `judge_leads` later ones: time-
    # stratified samples past them (ml/sampling.py).
    cap = fit_cap(b.chain)
    held_out = fit_value_model(closed(f"split = 'train' AND {sample_where(sample_share(n_train, cap))}"), cols,
                               cfg.qualified_lead_value, cfg.min_wins, cfg.seed)
    served = fit_value_model(closed(sample_where(sample_share(n_train + n_later, cap))), cols,
                             cfg.qualified_lead_value, cfg.min_wins, cfg.seed)
    later = closed(f"split <> 'train' AND {sample_where(sample_share(n_later, judge_cap(b.chain)))}")
    if len(later) < n_later:
        b.log(f"checking the value model on a time-stratified sample of {len(later):,} of the {n_later:,} later "
              "qualified leads (judge_leads, ELV_JUDGE_LEADS)")
    within = None if within is None else float(within)
    checks, extra = [], {}
    if served.source == NO_REVENUE:
        b.warn(f"no won revenue among the {n_train + n_later:,} qualified leads whose {cfg.value_window_days}-day "
               "value window has closed: every qualified lead counts as 1, so ELV is the expected number of qualified "
               "leads, not money. Add won_at and revenue to outcomes.csv, or set qualified_lead_value.")
    if len(later) >= 10 * cfg.min_leads_per_decile and held_out.source not in ("configured", NO_REVENUE):
        deciles = value_deciles(held_out, later, cfg.band_se)
        outside = deciles.loc[~deciles["within_band"], "decile"].tolist()
        checks.append(Check(
            "value_calibration", passed=not outside,
            description=(f"Realised value within {cfg.band_se:g} standard errors of predicted in every decile of "
                         f"{len(later):,} held-out qualified leads." if not outside else
                         f"Realised value outside {cfg.band_se:g} standard errors of predicted in decile(s) "
                         f"{', '.join(map(str, outside))} of {len(later):,} held-out qualified leads."),
            metadata={"deciles": deciles}))
        extra = {"deciles": deciles, "by_campaign": value_by_campaign(held_out, later)}
    else:
        checks.append(Check("value_calibration", passed=True, description=(
            "Not checked: " + ("the value is configured." if held_out.source == "configured" else
                               "no won revenue on record." if held_out.source == NO_REVENUE else
                               f"only {len(later):,} held-out qualified leads with a closed value window "
                               f"(need {10 * cfg.min_leads_per_decile:,}).")),
                            metadata={}))
    artifact = {"held_out": held_out, "served": served, "value_window_days": cfg.value_window_days,
                "wins_within_window": within, "held_out_leads": int(len(later)),
                "later_qualified_leads": int(n_later), **extra}
    return Built(artifact=artifact, checks=checks, metadata={
        "source": served.source, "value_window_days": cfg.value_window_days,
        "wins_within_window": None if within is None else round(within, 4),
        "qualified_leads_learned_from": served.learned_from.get("qualified"),
        "wins_learned_from": served.learned_from.get("won"),
        "mean_value_if_qualified": round(served.overall, 2),
        **({"deciles": extra["deciles"], "by_campaign": extra["by_campaign"].head(20)} if extra else {}),
    })


def build_calibrator(b: Build) -> Built:
    """The chosen recipe (fitted on the train split) calibrated on the calib split, with the held-out value model:
    the challenger the evaluation and the gate judge."""
    require_labels(b)
    chosen: M.Candidate = b.load(MODEL_KEY)["chosen"]
    value = b.load(VALUE_KEY)["held_out"]
    frames = training_frames(b, ("train", "calib"), sampled=("train",))
    screened: FeatureScreen = b.load(SCREEN_KEY)
    train, calib = frames["train"], frames["calib"]
    first, test_start, last = b.con.execute(
        "SELECT min(created_at), min(created_at) FILTER (split = 'test'), max(created_at) FROM gold.training_table"
    ).fetchall()[0]
    bounds = {"first": str(pd.Timestamp(first)), "calib_start": str(calib["created_at"].min()),
              "test_start": str(pd.Timestamp(test_start)), "last": str(pd.Timestamp(last))}
    # The candidate step's raw probabilities on the calib split, not computed again.
    bundle = held_out_bundle(chosen.recipe, chosen.pipeline, train, calib, value, b.chain,
                             b.config.method, b.config.recency_half_life_days, calib_raw=chosen.calib_raw,
                             boundaries=bounds, run_id=b.run_id, as_of=str(b.as_of),
                             excluded_features=dict(screened.excluded))
    return Built(artifact=bundle, metadata={
        "model": chosen.kind, "method": bundle.calibration_method, "calib_positives": int(calib["label"].sum()),
        "value_source": value.source,
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
    """The calibrated challenger on the held-out test split against the business baselines, and its checks."""
    require_labels(b)
    bundle: ModelBundle = b.load(CALIBRATOR_KEY)
    frames = training_frames(b, ("train", "test"), sampled=("train",))
    result = evaluate(bundle, frames["train"], frames["test"], _campaign_cpl(b, bundle.boundaries))
    y = frames["test"]["label"].to_numpy()
    result["single_feature_auc"] = single_feature_auc(frames["test"], y, bundle.columns, frames["train"])
    result["excluded_features"] = bundle.excluded_features
    m, base = result["metrics"]["model"], result["metrics"]["campaign_rate"]
    cfg = b.config
    calibration = Check(
        "calibration", passed=m["ece_mass"] <= cfg.max_ece, severity="error",
        description=f"ECE {m['ece_mass']:.4f} (equal-mass; equal-width {m['ece_width']:.4f}); limit {cfg.max_ece}.",
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
        "test_split_leads": b.con.execute("SELECT count(*) FROM gold.training_table WHERE split = 'test'"
                                          ).fetchall()[0][0],
        **{f"test/{k}": m[k] for k in ("pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass",
                                         "lift_10", "capture_10")},
        "baseline/campaign_rate_pr_auc": base["pr_auc"],
        "comparison": table[keep].round(4),
        **{f"split/{k}": v for k, v in bundle.boundaries.items()},
    })


def build_serving_model(b: Build) -> Built:
    """The promotion gate (noise-aware, see bundle.promotion_decision); a promoted recipe is refitted on every
    mature lead and calibrated by time-ordered cross-fitting before it serves. Every decision is appended to the
    promotion history."""
    require_labels(b)
    new: ModelBundle = b.load(CALIBRATOR_KEY)
    evaluation = b.load(EVALUATION_KEY)
    new.test_metrics = evaluation["metrics"]["model"]
    serving = b.load(SERVING_MODEL_KEY) if b.has(SERVING_MODEL_KEY) else None
    frames = training_frames(b, ("train", "calib", "test"), sampled=("train",))
    cfg = b.config
    scored = evaluation.get(TEST_PREDICTIONS)  # the evaluation's probabilities, when they are for these leads
    same = scored is not None and np.array_equal(scored["lead_id"].to_numpy(), frames["test"]["lead_id"].to_numpy())
    decision = promotion_decision(new, serving, frames["train"], frames["calib"], frames["test"], b.chain,
                                  cfg.max_ece, cfg.ece_margin, cfg.calibration, cfg.seed, cfg.recency_half_life_days,
                                  p_new=scored["p"].to_numpy() if same else None)
    record = {**decision.record(), "run_id": b.run_id, "model": new.kind, "as_of": new.as_of,
              "decided_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    append_jsonl(ArtifactStore(b.paths.artifacts_dir).beside(SERVING_MODEL_KEY, PROMOTIONS), record)
    promoted = None
    if decision.promote:
        mature = training_frames(b, SPLITS, sampled=SPLITS)
        mature = pd.concat([mature[s] for s in SPLITS], ignore_index=True)
        b.log(f"refitting {new.kind} on {len(mature):,} mature leads")
        promoted = refit_for_serving(new, mature, b.load(VALUE_KEY)["served"], cfg.seed, cfg.calibration_blocks,
                                     cfg.calibration, cfg.recency_half_life_days)
        # a sample: the leads it never saw are scored by it, not as if it had learned them
        if len(mature) < b.con.execute("SELECT count(*) FROM gold.training_table").fetchall()[0][0]:
            promoted.learned_ids = mature["lead_id"].to_numpy()
    serving_now = promoted or serving
    said = "Promoted: " if decision.promote else ("Kept the serving model: " if serving else "No model can serve: ")
    check = Check("promotion", passed=serving_now is not None, severity="warn" if serving_now is not None else "error",
                  description=said + decision.reason, metadata={"promote": decision.promote})
    if serving_now is None:
        return Built(checks=[check], metadata={"promoted": False, "reason": decision.reason, "serving/model": "none"})
    return Built(artifact=promoted, checks=[check], metadata={
        "promoted": decision.promote, "reason": decision.reason, "serving/model": serving_now.kind,
        "serving/trained_on": serving_now.trained_on, "serving/trained_until": serving_now.trained_until,
        "serving/trained_in_run": serving_now.run_id, "serving/as_of": serving_now.as_of,
        "serving/held_out_test_metrics": {k: (float(v) if v is not None else None)
                                          for k, v in serving_now.test_metrics.items()},
        "gate": record,
    })
