"""The model bundle (everything needed to score a lead), scoring, evaluation and the promotion gate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from elv_assets.ml import metrics
from elv_assets.ml.elv import LeadValues, rank_and_decile, reasons
from elv_assets.ml.features import FeatureColumns
from elv_assets.ml.models import contributions, transform


@dataclass
class ModelBundle:
    kind: str
    pipeline: Pipeline
    calibrated: CalibratedClassifierCV
    calibration_method: str
    columns: FeatureColumns
    centre: np.ndarray | None  # the logistic model's reference lead (train means), else None
    values: LeadValues
    window_days: int
    lag_days: int
    boundaries: dict[str, str]
    run_id: str = ""
    as_of: str = ""
    test_metrics: dict = field(default_factory=dict)

    def can_score(self, df: pd.DataFrame) -> list[str]:
        """Feature columns this bundle needs that `df` lacks (empty when it can score df)."""
        return [c for c in self.columns.all if c not in df.columns]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        return transform(self.pipeline, df, self.columns)

    def probability(self, df: pd.DataFrame, Xt: np.ndarray | None = None) -> np.ndarray:
        return self.calibrated.predict_proba(self.transform(df) if Xt is None else Xt)[:, 1]


def score_frame(bundle: ModelBundle, df: pd.DataFrame, with_reasons: bool = True) -> pd.DataFrame:
    """p_qualified, ELV, rank, decile and reasons for every row of a lead-features frame."""
    Xt = bundle.transform(df)  # once: the probability and the contributions read the same matrix
    p = bundle.probability(df, Xt)
    elv = p * bundle.values.of(df["campaign_id"])
    rank, decile = rank_and_decile(elv, df["lead_id"])
    out = pd.DataFrame({"lead_id": df["lead_id"].to_numpy(), "p_qualified_14d": p, "elv": elv,
                        "rank": rank, "decile": decile}, index=df.index)
    if with_reasons:
        contrib = contributions(bundle.pipeline, df, bundle.columns, bundle.centre, Xt)
        out = out.join(reasons(contrib, df))
    return out


def campaign_rate_baseline(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Each test lead scored by its campaign's qualification rate in the train split (overall if unseen)."""
    overall = float(train["label"].mean())
    rates = train.groupby(train["campaign_id"].fillna("")).label.mean()
    return test["campaign_id"].fillna("").map(rates).fillna(overall).to_numpy(dtype=float)


def cpl_baseline(test: pd.DataFrame, campaign_cpl: dict[str, float]) -> np.ndarray | None:
    """Cheaper leads ranked first, by the campaign's CPL over the train window (None without spend)."""
    if not campaign_cpl:
        return None
    worst = max(campaign_cpl.values())
    cpl = test["campaign_id"].map(campaign_cpl).fillna(worst)
    # A ranking, not a probability: the share of leads with a higher CPL, so it lies in [0, 1].
    return (-cpl).rank(pct=True, method="average").to_numpy(dtype=float)


def evaluate(bundle: ModelBundle, train: pd.DataFrame, test: pd.DataFrame,
             campaign_cpl: dict[str, float] | None = None) -> dict:
    """Test-split metrics of the calibrated model against the business baselines; all JSON-ready."""
    y = test["label"].astype(int).to_numpy()
    p = bundle.probability(test)
    scores = {"model": p, "campaign_rate": campaign_rate_baseline(train, test)}
    cpl = cpl_baseline(test, campaign_cpl or {})
    if cpl is not None:
        scores["campaign_cpl"] = cpl
    table = metrics.compare(y, scores).set_index("name")
    # The CPL baseline is a ranking, not a probability: only its ranking metrics mean something.
    table.loc[table.index == "campaign_cpl", ["brier", "log_loss", "ece_width", "ece_mass"]] = None
    per_score = table.astype(object).where(table.notna(), None).to_dict(orient="index")
    return {
        "model": bundle.kind,
        "calibration": bundle.calibration_method,
        "n_test": int(len(test)),
        "metrics": per_score,
        "reliability_width": metrics.reliability_curve(y, p, strategy="width").to_dict(orient="list"),
        "reliability_mass": metrics.reliability_curve(y, p, strategy="mass").to_dict(orient="list"),
        "lift": metrics.lift_at(y, p).to_dict(orient="list"),
    }


def single_feature_auc(df: pd.DataFrame, y: np.ndarray, cols: FeatureColumns, train: pd.DataFrame) -> dict[str, float]:
    """How well each feature alone separates the classes on the test split (max of AUC and 1 - AUC).

    Categorical features are scored by their category's positive rate in the train split. A feature
    that alone separates almost perfectly is the usual sign of a leak (an outcome in disguise).
    """
    out = {}
    if len(set(y)) < 2:
        return out
    for c in cols.numeric:
        x = pd.to_numeric(df[c], errors="coerce")
        x = x.fillna(x.median() if x.notna().any() else 0).to_numpy(dtype=float)
        auc = roc_auc_score(y, x)
        out[c] = round(float(max(auc, 1 - auc)), 4)
    for c in cols.categorical:
        rates = train.groupby(train[c].astype(str)).label.mean()
        x = df[c].astype(str).map(rates).fillna(float(train["label"].mean())).to_numpy(dtype=float)
        auc = roc_auc_score(y, x)
        out[c] = round(float(max(auc, 1 - auc)), 4)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    new_pr_auc: float
    new_ece: float
    serving_pr_auc: float | None = None
    serving_ece: float | None = None


def promotion_decision(new: ModelBundle, serving: ModelBundle | None, test: pd.DataFrame,
                       pr_auc_tolerance: float, ece_limit: float) -> GateDecision:
    """Promote when there is no serving model, or the new one is at least as good on the current test window."""
    y = test["label"].astype(int).to_numpy()
    p_new = new.probability(test)
    new_m = metrics.classification_metrics(y, p_new)
    base = dict(new_pr_auc=new_m["pr_auc"] or 0.0, new_ece=new_m["ece_width"])
    if new_m["ece_width"] > ece_limit:
        return GateDecision(False, f"the new model's ECE {new_m['ece_width']:.4f} is above the limit {ece_limit}", **base)
    if serving is None:
        return GateDecision(True, "no model was serving", **base)
    missing = serving.can_score(test)
    if missing:
        return GateDecision(True, f"the serving model needs features that no longer exist ({', '.join(missing[:5])})",
                            **base)
    try:
        p_old = serving.probability(test)
    except ValueError as exc:  # e.g. a model saved by an older version whose preprocessing no longer fits
        return GateDecision(True, f"the serving model cannot score the current features ({str(exc)[:120]})", **base)
    old_m = metrics.classification_metrics(y, p_old)
    old = dict(serving_pr_auc=old_m["pr_auc"] or 0.0, serving_ece=old_m["ece_width"])
    if base["new_pr_auc"] >= old["serving_pr_auc"] - pr_auc_tolerance:
        return GateDecision(True, f"PR-AUC {base['new_pr_auc']:.4f} vs serving {old['serving_pr_auc']:.4f} "
                            f"(tolerance {pr_auc_tolerance}); ECE {base['new_ece']:.4f} within {ece_limit}", **base, **old)
    return GateDecision(False, f"PR-AUC {base['new_pr_auc']:.4f} is below the serving model's "
                        f"{old['serving_pr_auc']:.4f} by more than {pr_auc_tolerance}", **base, **old)
