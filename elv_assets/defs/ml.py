"""The ELV chain: labels, features, the training table, candidate models, the chosen model, the
calibrator, its evaluation, and the promotion gate that decides which model serves."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pandas as pd

from elv_assets.contracts.tables import LeadFeatures, LeadLabels, TrainingTable
from elv_assets.defs.gold import ATTRIBUTION_KEY
from elv_assets.defs.publishing import OWNERS, column_schema, gate_and_swap, publish_frame, table_metadata
from elv_assets.defs.resources import ChainSettings, ElvSettings, RunWindow, Warehouse
from elv_assets.ingest import fetch_frame
from elv_assets.ml import models as M
from elv_assets.ml.bundle import ModelBundle, evaluate, promotion_decision, single_feature_auc
from elv_assets.ml.elv import learn_values
from elv_assets.ml.features import (
    FeatureColumns,
    feature_columns,
    lead_attribute_columns,
    lead_features_select,
)
from elv_assets.ml.labels import as_of_end, labels_select
from elv_assets.ml.split import assign, boundaries
from elv_assets.ml.store import ObjectStore, append_jsonl
from elv_assets.warehouse import columns, resolve_as_of, stage

LABELS_KEY = dg.AssetKey(["gold", "lead_labels"])
FEATURES_KEY = dg.AssetKey(["gold", "lead_features"])
TRAINING_KEY = dg.AssetKey(["gold", "training_table"])
CANDIDATES_KEY = dg.AssetKey(["ml", "candidate_models"])
MODEL_KEY = dg.AssetKey(["ml", "model"])
CALIBRATOR_KEY = dg.AssetKey(["ml", "calibrator"])
EVALUATION_KEY = dg.AssetKey(["ml", "evaluation"])
SERVING_KEY = dg.AssetKey(["ml", "serving_model"])
ML_KINDS = {"scikit-learn", "lightgbm", "xgboost"}
SERVING_NAME = "serving_model"


def labelled_counts(con) -> tuple[int, int]:
    return tuple(int(v or 0) for v in con.execute(
        "SELECT count(*) FILTER (WHERE mature), count(*) FILTER (WHERE mature AND label = 1) FROM gold.lead_labels"
    ).fetchall()[0])


def too_few_labels(mature: int, positives: int, chain: ChainSettings) -> str | None:
    """None when the mature cohort is big enough to learn from, else what is missing, in words."""
    short = []
    if mature < chain.min_labelled:
        short.append(f"{mature:,} labelled leads (need {chain.min_labelled:,}: {chain.min_labelled - mature:,} more)")
    if positives < chain.min_positives:
        short.append(f"{positives:,} qualified among them (need {chain.min_positives:,}: "
                     f"{chain.min_positives - positives:,} more)")
    if not short:
        return None
    return (f"Too few mature labels to train on: {' and '.join(short)}. A lead is labelled once it is "
            f"{chain.label_window_days} days old; wait for more leads to mature or lower the minimums.")


@dg.asset(
    key=LABELS_KEY,
    deps=[ATTRIBUTION_KEY, dg.AssetKey(["silver", "outcomes"])],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "Label maturity per lead: positive when it qualified within the window (14 days by default), "
        "negative once the window has closed without qualifying, immature while it is still open. Only "
        "mature leads train and evaluate models."
    ),
    metadata={"dagster/column_schema": column_schema(LeadLabels)},
    check_specs=[
        dg.AssetCheckSpec("contract", asset=LABELS_KEY),
        dg.AssetCheckSpec("enough_labels", asset=LABELS_KEY, blocking=True,
                          description="The mature cohort is large enough to learn from."),
    ],
)
def lead_labels(context: dg.AssetExecutionContext, warehouse: Warehouse, run_window: RunWindow,
                chain: ChainSettings):
    target = "gold.lead_labels"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        staged = stage(con, target, labels_select(as_of, chain.label_window_days))
        gate = gate_and_swap(con, LeadLabels, staged, target)
        yield from gate.events()
        by_status = dict(con.execute(f"SELECT label_status, count(*) FROM {target} GROUP BY 1").fetchall())
        mature, positives = labelled_counts(con)
        problem = too_few_labels(mature, positives, chain)
        yield dg.AssetCheckResult(
            check_name="enough_labels", passed=problem is None, severity=dg.AssetCheckSeverity.ERROR,
            description=problem or f"{mature:,} mature leads, {positives:,} qualified.",
            metadata={"mature": mature, "positives": positives, "min_labelled": chain.min_labelled,
                      "min_positives": chain.min_positives},
        )
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), window_days=chain.label_window_days,
            **{f"leads/{s}": int(by_status.get(s, 0)) for s in ("positive", "negative", "immature")},
            mature_positive_rate=round(positives / mature, 4) if mature else None,
        ))


@dg.asset(
    key=FEATURES_KEY,
    deps=[ATTRIBUTION_KEY, dg.AssetKey(["silver", "leads"]), dg.AssetKey(["silver", "ads"])],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "One row per lead: its own attributes (form, country, device, ...), calendar, and its ad set's and "
        "campaign's rolling 7- and 28-day ad features ending feature_lag_days (default 1) before the day it "
        "was created, so no same-day ad data leaks in. DuckDB window SQL."
    ),
    metadata={"dagster/column_schema": column_schema(LeadFeatures)},
    check_specs=[dg.AssetCheckSpec("contract", asset=FEATURES_KEY)],
)
def lead_features(context: dg.AssetExecutionContext, warehouse: Warehouse, run_window: RunWindow,
                  chain: ChainSettings):
    target = "gold.lead_features"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        attrs = lead_attribute_columns(columns(con, "silver.leads"))
        staged = stage(con, target, lead_features_select(as_of, chain.feature_lag_days, attrs))
        gate = gate_and_swap(con, LeadFeatures, staged, target)
        yield from gate.events()
        cols = feature_columns(attrs)
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), feature_lag_days=chain.feature_lag_days,
            numeric_features=len(cols.numeric), categorical_features=len(cols.categorical),
            lead_attributes=", ".join(attrs) or "none",
        ))


class SplitConfig(dg.Config):
    train_share: float = 0.6
    calib_share: float = 0.2
    test_share: float = 0.2


@dg.asset(
    key=TRAINING_KEY,
    deps=[LABELS_KEY, FEATURES_KEY],
    group_name="gold",
    kinds={"duckdb", "pandas"},
    owners=OWNERS,
    description=(
        "The mature leads with their features, label and time split: train, calib and test by created_at "
        "(60/20/20 by default), never random. The boundaries are in the metadata."
    ),
    metadata={"dagster/column_schema": column_schema(TrainingTable)},
    check_specs=[dg.AssetCheckSpec("contract", asset=TRAINING_KEY)],
)
def training_table(context: dg.AssetExecutionContext, config: SplitConfig, warehouse: Warehouse,
                   chain: ChainSettings):
    target = "gold.training_table"
    with warehouse.get_connection() as con:
        problem = too_few_labels(*labelled_counts(con), chain)
        if problem:
            raise dg.Failure(allow_retries=False, description=problem)
        df = fetch_frame(con, "SELECT f.*, l.label FROM gold.lead_features f JOIN gold.lead_labels l USING (lead_id) "
                              "WHERE l.mature ORDER BY f.created_at, f.lead_id")
        b = boundaries(df["created_at"], (config.train_share, config.calib_share, config.test_share))
        df["split"] = assign(df["created_at"], pd.Series(True, index=df.index), b)
        gate = publish_frame(con, TrainingTable, df, target)
        yield from gate.events()
        counts = df.groupby("split").label.agg(["count", "sum"])
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, **{f"boundary/{k}": v for k, v in b.as_dict().items()},
            **{f"{s}/leads": int(counts.loc[s, "count"]) for s in counts.index},
            **{f"{s}/positives": int(counts.loc[s, "sum"]) for s in counts.index},
        ))


def _training_frames(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    with warehouse.get_connection() as con:
        df = fetch_frame(con, "SELECT * FROM gold.training_table")
    df["label"] = df["label"].astype(int)
    return {s: df[df["split"] == s].reset_index(drop=True) for s in ("train", "calib", "test")}


def _feature_columns(warehouse: Warehouse, frame: pd.DataFrame) -> FeatureColumns:
    with warehouse.get_connection() as con:
        attrs = lead_attribute_columns(columns(con, "silver.leads"))
    cols = feature_columns(attrs)
    return M.usable_columns(frame, FeatureColumns(cols.numeric, cols.categorical + ["adset_id"]))


class LogisticConfig(dg.Config):
    C: float = 0.1
    max_iter: int = 2000


class LightGBMConfig(dg.Config):
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 50
    subsample: float = 0.8
    colsample_bytree: float = 0.8


class XGBoostConfig(dg.Config):
    n_estimators: int = 300
    learning_rate: float = 0.05
    max_depth: int = 5
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8


class CandidatesConfig(dg.Config):
    seed: int = 7
    logistic: LogisticConfig = LogisticConfig()
    lightgbm: LightGBMConfig = LightGBMConfig()
    xgboost: XGBoostConfig = XGBoostConfig()


@dg.asset(
    key=CANDIDATES_KEY,
    deps=[TRAINING_KEY],
    group_name="ml",
    kinds=ML_KINDS,
    owners=OWNERS,
    description=(
        "Three candidate models fitted on the train split: a logistic regression (one-hot and scaling in a "
        "scikit-learn Pipeline), LightGBM and XGBoost; each scored by PR-AUC on the calib split."
    ),
)
def candidate_models(context: dg.AssetExecutionContext, config: CandidatesConfig, warehouse: Warehouse,
                     elv: ElvSettings):
    frames = _training_frames(warehouse)
    cols = _feature_columns(warehouse, frames["train"])
    params = {"logistic": config.logistic.model_dump(), "lightgbm": config.lightgbm.model_dump(),
              "xgboost": config.xgboost.model_dump()}
    cands = M.fit_candidates(frames["train"], frames["train"]["label"].to_numpy(), frames["calib"],
                             frames["calib"]["label"].to_numpy(), cols, params, config.seed,
                             progress=context.log.info)
    ObjectStore(elv.artifacts_dir).save("candidate_models", cands)
    return dg.MaterializeResult(metadata={
        **{f"pr_auc_calib/{c.kind}": round(c.pr_auc_calib, 4) for c in cands},
        "features": len(cols.all),
        "train_leads": len(frames["train"]),
    })


class ChoiceConfig(dg.Config):
    tie_tolerance: float = 0.002


@dg.asset(
    key=MODEL_KEY,
    deps=[CANDIDATES_KEY],
    group_name="ml",
    kinds=ML_KINDS,
    owners=OWNERS,
    description="The chosen candidate: best PR-AUC on the calib split; within the tie tolerance the simpler wins.",
)
def model(context: dg.AssetExecutionContext, config: ChoiceConfig, elv: ElvSettings):
    store = ObjectStore(elv.artifacts_dir)
    cands = store.load("candidate_models")
    chosen = M.choose(cands, config.tie_tolerance)
    store.save("model", chosen)
    table = pd.DataFrame([{"model": c.kind, "pr_auc_calib": round(c.pr_auc_calib, 4)} for c in cands])
    return dg.MaterializeResult(metadata={
        "chosen": chosen.kind, "pr_auc_calib": round(chosen.pr_auc_calib, 4),
        "candidates": dg.MetadataValue.md(table.to_markdown(index=False)),
        "params": dg.MetadataValue.json(chosen.params),
    })


class CalibratorConfig(dg.Config):
    isotonic_min_positives: int = 5000
    value_prior_strength: float = 20.0
    qualified_lead_value: float | None = None  # set to use one configured value instead of learning it


@dg.asset(
    key=CALIBRATOR_KEY,
    deps=[MODEL_KEY, dg.AssetKey(["silver", "outcomes"])],
    group_name="ml",
    kinds={"scikit-learn"},
    owners=OWNERS,
    description=(
        "Calibrates the chosen model on the calib split (CalibratedClassifierCV on a FrozenEstimator): "
        "sigmoid by default, isotonic when the calib split has enough positives. Also learns the expected "
        "value of a qualified lead per campaign, and packs both into the model bundle."
    ),
)
def calibrator(context: dg.AssetExecutionContext, config: CalibratorConfig, warehouse: Warehouse,
               elv: ElvSettings, run_window: RunWindow, chain: ChainSettings):
    store = ObjectStore(elv.artifacts_dir)
    chosen: M.Candidate = store.load("model")
    frames = _training_frames(warehouse)
    calib = frames["calib"]
    method = M.calibration_method(calib["label"].to_numpy(), config.isotonic_min_positives)
    cal = M.calibrate(chosen.pipeline, calib, calib["label"].to_numpy(), chosen.columns, method)
    centre = M.transformed_means(chosen.pipeline, frames["train"], chosen.columns) if chosen.kind == "logistic" else None
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        history = fetch_frame(con, f"""
            SELECT t.campaign_id, t.label, CASE WHEN o.won_at < {as_of_end(as_of)} THEN o.revenue END AS revenue
            FROM gold.training_table t LEFT JOIN silver.outcomes o USING (lead_id)
            WHERE t.split IN ('train', 'calib')""")
    values = learn_values(history, config.value_prior_strength, config.qualified_lead_value)
    bounds = {"first": str(frames["train"]["created_at"].min()), "calib_start": str(calib["created_at"].min()),
              "test_start": str(frames["test"]["created_at"].min()), "last": str(frames["test"]["created_at"].max())}
    bundle = ModelBundle(
        kind=chosen.kind, pipeline=chosen.pipeline, calibrated=cal, calibration_method=method,
        columns=chosen.columns, centre=centre, values=values, window_days=chain.label_window_days,
        lag_days=chain.feature_lag_days, boundaries=bounds, run_id=context.run.run_id, as_of=str(as_of),
    )
    store.save("candidate_bundle", bundle)
    return dg.MaterializeResult(metadata={
        "model": chosen.kind, "method": method, "calib_positives": int(calib["label"].sum()),
        "value_source": values.source, "value_per_qualified/overall": round(values.overall, 2),
        "values": dg.MetadataValue.md(values.table().round(2).to_markdown(index=False)) if values.per_campaign
        else "configured",
    })


class EvaluationConfig(dg.Config):
    max_ece: float = 0.05
    leakage_roc_auc: float = 0.95


@dg.asset(
    key=EVALUATION_KEY,
    deps=[CALIBRATOR_KEY],
    group_name="ml",
    kinds={"scikit-learn"},
    owners=OWNERS,
    description=(
        "The calibrated model on the held-out test split: PR-AUC, ROC-AUC, Brier, log loss, ECE (equal-width "
        "and equal-mass), reliability curve, lift and capture at the top 5/10/20 %, against the campaign's "
        "historical qualification rate and the campaign's CPL."
    ),
    check_specs=[
        dg.AssetCheckSpec("calibration", asset=EVALUATION_KEY, description="ECE on the test split is within the limit."),
        dg.AssetCheckSpec("beats_campaign_rate", asset=EVALUATION_KEY,
                          description="The model's PR-AUC beats the campaign-rate baseline on the test split."),
        dg.AssetCheckSpec("leakage_tripwire", asset=EVALUATION_KEY,
                          description="ROC-AUC is not implausibly high (which usually means a leak)."),
    ],
)
def evaluation(context: dg.AssetExecutionContext, config: EvaluationConfig, warehouse: Warehouse,
               elv: ElvSettings):
    store = ObjectStore(elv.artifacts_dir)
    bundle: ModelBundle = store.load("candidate_bundle")
    frames = _training_frames(warehouse)
    with warehouse.get_connection() as con:
        cpl = dict(con.execute(f"""
            WITH s AS (SELECT campaign_id, sum(spend) AS spend FROM silver.ads
                       WHERE date >= TIMESTAMP '{bundle.boundaries['first']}'::DATE
                         AND date < TIMESTAMP '{bundle.boundaries['calib_start']}'::DATE GROUP BY 1),
                 l AS (SELECT campaign_id, count(*) AS leads FROM gold.lead_attribution
                       WHERE created_at >= TIMESTAMP '{bundle.boundaries['first']}'::DATE
                         AND created_at < TIMESTAMP '{bundle.boundaries['calib_start']}' GROUP BY 1)
            SELECT campaign_id, s.spend / l.leads FROM s JOIN l USING (campaign_id) WHERE s.spend > 0""").fetchall())
    result = evaluate(bundle, frames["train"], frames["test"], cpl)
    y = frames["test"]["label"].to_numpy()
    result["single_feature_auc"] = single_feature_auc(frames["test"], y, bundle.columns, frames["train"])
    bundle.test_metrics = result["metrics"]["model"]
    store.save("candidate_bundle", bundle)
    store.save("evaluation", result)
    m, base = result["metrics"]["model"], result["metrics"]["campaign_rate"]

    yield dg.AssetCheckResult(
        check_name="calibration", passed=m["ece_width"] <= config.max_ece, severity=dg.AssetCheckSeverity.ERROR,
        description=f"ECE {m['ece_width']:.4f} (equal-mass {m['ece_mass']:.4f}); limit {config.max_ece}.",
        metadata={"ece_width": m["ece_width"], "ece_mass": m["ece_mass"]},
    )
    beats = (m["pr_auc"] or 0) > (base["pr_auc"] or 0)
    yield dg.AssetCheckResult(
        check_name="beats_campaign_rate", passed=beats, severity=dg.AssetCheckSeverity.ERROR,
        description=f"PR-AUC {m['pr_auc']:.4f} against the campaign-rate baseline's {base['pr_auc']:.4f}.",
        metadata={"pr_auc": m["pr_auc"], "baseline_pr_auc": base["pr_auc"]},
    )
    suspicious = [f for f, a in result["single_feature_auc"].items() if a >= 0.9]
    top = list(result["single_feature_auc"].items())[:3]
    high = (m["roc_auc"] or 0) > config.leakage_roc_auc
    yield dg.AssetCheckResult(
        check_name="leakage_tripwire", passed=not high, severity=dg.AssetCheckSeverity.WARN,
        description=(f"ROC-AUC {m['roc_auc']:.4f} is above {config.leakage_roc_auc}: check "
                     f"{', '.join(suspicious or [f for f, _ in top])} for outcome information."
                     if high else f"ROC-AUC {m['roc_auc']:.4f}; strongest single features: "
                     + ", ".join(f"{f} {a:.3f}" for f, a in top)),
        metadata={"roc_auc": m["roc_auc"], "single_feature_auc": dg.MetadataValue.json(result["single_feature_auc"])},
    )
    table = pd.DataFrame(result["metrics"]).T.reset_index(names="score")
    keep = ["score", "pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass", "lift_10", "capture_10"]
    yield dg.MaterializeResult(metadata={
        "model": bundle.kind, "calibration": bundle.calibration_method, "test_leads": result["n_test"],
        **{f"test/{k}": m[k] for k in ("pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass",
                                         "lift_10", "capture_10")},
        "baseline/campaign_rate_pr_auc": base["pr_auc"],
        "comparison": dg.MetadataValue.md(table[keep].to_markdown(index=False, floatfmt=".4f")),
        **{f"split/{k}": v for k, v in bundle.boundaries.items()},
    })


class PromotionConfig(dg.Config):
    pr_auc_tolerance: float = 0.01
    max_ece: float = 0.05


@dg.asset(
    key=SERVING_KEY,
    deps=[EVALUATION_KEY],
    group_name="ml",
    kinds={"scikit-learn"},
    owners=OWNERS,
    description=(
        "The promotion gate: the new model replaces the serving one only when it is at least as good on the "
        "current test window (PR-AUC within a tolerance, ECE within the limit); otherwise the old one keeps "
        "serving and the check says why."
    ),
    check_specs=[dg.AssetCheckSpec("promotion", asset=SERVING_KEY, description="Which model serves, and why.")],
)
def serving_model(context: dg.AssetExecutionContext, config: PromotionConfig, warehouse: Warehouse,
                  elv: ElvSettings):
    store = ObjectStore(elv.artifacts_dir)
    new: ModelBundle = store.load("candidate_bundle")
    serving = store.load(SERVING_NAME) if store.path(SERVING_NAME).exists() else None
    test = _training_frames(warehouse)["test"]
    decision = promotion_decision(new, serving, test, config.pr_auc_tolerance, config.max_ece)
    if decision.promote:
        store.save(SERVING_NAME, new)
    record = {**decision.__dict__, "run_id": context.run.run_id, "model": new.kind, "as_of": new.as_of,
              "decided_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    store.save("promotion", record)
    append_jsonl(Path(elv.artifacts_dir) / "promotions.jsonl", record)  # the promotion history
    serving_now = new if decision.promote else serving
    yield dg.AssetCheckResult(
        check_name="promotion", passed=decision.promote or serving is not None,
        severity=dg.AssetCheckSeverity.WARN,
        description=("Promoted: " if decision.promote else "Kept the serving model: ") + decision.reason,
        metadata={k: v for k, v in decision.__dict__.items() if v is not None and k != "reason"},
    )
    if serving_now is None:
        raise dg.Failure(allow_retries=False, description=f"No model can serve: {decision.reason}")
    yield dg.MaterializeResult(metadata={
        "promoted": decision.promote, "reason": decision.reason,
        "serving/model": serving_now.kind,
        "serving/trained_in_run": serving_now.run_id,
        "serving/as_of": serving_now.as_of,
        "serving/test_metrics": dg.MetadataValue.json(json.loads(json.dumps(serving_now.test_metrics, default=float))),
    })


ml_assets = [lead_labels, lead_features, training_table, candidate_models, model, calibrator, evaluation,
             serving_model]
