"""The model bundle (everything needed to score a lead), scoring, evaluation and the promotion gate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from elv_assets.ml import metrics
from elv_assets.ml.calibration import Calibrator, cross_fitted, recency_weights
from elv_assets.ml.elv import rank_and_decile, reasons
from elv_assets.ml.features import FeatureColumns
from elv_assets.ml.models import (
    Recipe,
    contributions_and_margin,
    fit_recipe,
    prepare_for,
    raw_probability,
    transform,
    transformed_means,
)
from elv_assets.ml.selection import PairedDifference, paired_bootstrap
from elv_assets.ml.value import ValueModel, value_reasons

TEST_PREDICTIONS = "test_predictions"  # the evaluation's probabilities per test lead (not for reports)
HELD_OUT = "train split"  # a bundle fitted on the train split: what is evaluated and compared
ALL_MATURE = "all mature leads"  # the recipe refitted on every mature lead: what serves


@dataclass
class ModelBundle:
    recipe: Recipe
    pipeline: Pipeline
    calibrator: Calibrator
    centre: np.ndarray | None  # the linear models' reference lead (train means), else None
    value: ValueModel
    window_days: int
    lag_days: int
    boundaries: dict[str, str]  # first, calib_start, test_start, last: the splits it was evaluated on
    trained_on: str = HELD_OUT
    trained_until: str = ""  # the newest created_at it learned from
    run_id: str = ""
    as_of: str = ""
    test_metrics: dict = field(default_factory=dict)  # held-out, measured on the version fitted on the train split
    excluded_features: dict[str, list[str]] = field(default_factory=dict)  # the leakage guard's, with reasons
    # The mature leads a refitted model learned from, with their cross-fitted (out-of-sample) probabilities.
    out_of_fold_ids: np.ndarray | None = None
    out_of_fold_p: np.ndarray | None = None
    # When the refit read a sample of the mature leads (ml/sampling.py): the ids it learned from; None: all of them.
    learned_ids: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return self.recipe.kind

    @property
    def columns(self) -> FeatureColumns:
        return self.recipe.columns

    @property
    def calibration_method(self) -> str:
        return self.calibrator.method

    def can_score(self, df: pd.DataFrame) -> list[str]:
        """Feature columns this bundle needs that `df` lacks (empty when it can score df)."""
        return [c for c in self.columns.all if c not in df.columns]

    def transform(self, df: pd.DataFrame, ready: pd.DataFrame | None = None):
        return transform(self.pipeline, df, self.columns, ready)

    def probability(self, df: pd.DataFrame, Xt=None) -> np.ndarray:
        model = self.pipeline.named_steps["model"]
        raw = model.predict_proba(self.transform(df) if Xt is None else Xt)[:, 1]
        return self.calibrator(raw)


SCORED_BY = ("serving model", "out of fold", "in sample")


SCORE_CHUNK = 200_000  # leads scored at a time: the model inputs and contributions of a million leads are gigabytes


def score_frame(bundle: ModelBundle, df: pd.DataFrame, with_reasons: bool = True,
                learned_from: pd.Series | None = None) -> pd.DataFrame:
    """p_qualified, the value of a qualified lead, ELV, rank, decile and reasons for every row of a lead-features
    frame. `learned_from` (the pipeline's, per row: did the serving model learn from this lead?) switches those
    leads to their out-of-fold probability, so no lead is scored by a model that learned from it. Scored
    SCORE_CHUNK leads at a time (memory stays that of one chunk), ranked over all of them."""
    parts = [_score_rows(bundle, df.iloc[i:i + SCORE_CHUNK], with_reasons,
                         None if learned_from is None else learned_from.iloc[i:i + SCORE_CHUNK])
             for i in range(0, max(len(df), 1), SCORE_CHUNK)]
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    rank, decile = rank_and_decile(out["elv"].to_numpy(), df["lead_id"])
    out.insert(4, "rank", rank)
    out.insert(5, "decile", decile)
    return out


def _score_rows(bundle: ModelBundle, df: pd.DataFrame, with_reasons: bool,
                learned_from: pd.Series | None) -> pd.DataFrame:
    # the leads' fields typed once for the classifier and both value models; the classifier's input once, for the
    # probability and the contributions
    ready = prepare_for(df, bundle.columns, bundle.value.columns if bundle.value.source == "learned" else None)
    Xt = bundle.transform(df, ready)
    contrib = None
    if with_reasons:  # the contributions sum to the log-odds: the probability comes with them
        contrib, margin = contributions_and_margin(bundle.pipeline, df, bundle.columns, bundle.centre, Xt)
        p = bundle.calibrator(1.0 / (1.0 + np.exp(-margin)))
    else:
        p = bundle.probability(df, Xt)
    source = np.full(len(df), SCORED_BY[0], dtype=object)
    if learned_from is not None and bundle.out_of_fold_ids is not None:
        oof = pd.Series(bundle.out_of_fold_p, index=bundle.out_of_fold_ids)
        learned = learned_from.to_numpy(dtype=bool)
        mapped = df["lead_id"].map(oof).to_numpy(dtype=float)
        use = learned & ~np.isnan(mapped)
        p = np.where(use, mapped, p)
        source = np.where(use, SCORED_BY[1], np.where(learned, SCORED_BY[2], SCORED_BY[0]))
    value_inputs = bundle.value.inputs(df, ready)  # shared by the value and its reason
    value = bundle.value.expected(df, value_inputs)
    out = pd.DataFrame({"lead_id": df["lead_id"].to_numpy(), "p_qualified_14d": p,
                        "expected_value_if_qualified": value, "elv": p * value, "scored_by": source}, index=df.index)
    if with_reasons:
        out = out.join(reasons(contrib, df))
        out["value_reason"] = value_reasons(bundle.value, df, value_inputs)
    return out


def held_out_bundle(recipe: Recipe, pipeline: Pipeline, train: pd.DataFrame, calib: pd.DataFrame,
                    value: ValueModel, chain, method: str = "sigmoid", half_life_days: float | None = None,
                    calib_raw: np.ndarray | None = None, **stamp) -> ModelBundle:
    """A recipe fitted on the train split, calibrated on the calib split (newer leads weighing more when
    `half_life_days` is set): the version that is evaluated. `calib_raw`: the pipeline's raw probabilities on
    `calib` when already computed (the candidate step's), so they are not computed twice."""
    y_calib = calib["label"].to_numpy()
    raw = raw_probability(pipeline, calib, recipe.columns) if calib_raw is None else calib_raw
    if len(raw) != len(calib):
        raise ValueError(f"{len(raw):,} raw probabilities for {len(calib):,} calib leads")
    calibrator = Calibrator.fit(raw, y_calib, method, recency_weights(calib["created_at"], half_life_days))
    return ModelBundle(recipe, pipeline, calibrator, transformed_means(pipeline, train, recipe.columns), value,
                       chain.label_window_days, chain.feature_lag_days, trained_until=str(train["created_at"].max()),
                       **stamp)


def refit_for_serving(held_out: ModelBundle, mature: pd.DataFrame, value: ValueModel, seed: int = 0,
                      blocks: int = 4, method: str = "sigmoid", half_life_days: float | None = None) -> ModelBundle:
    """The chosen recipe refitted on every mature lead (sorted by created_at), so the newest weeks teach it too,
    and calibrated by time-ordered cross-fitting (ml/calibration.py). Its held-out figures stay those of the
    version fitted on the train split."""
    recipe = held_out.recipe
    y = mature["label"].to_numpy()
    rows, oof = cross_fitted(mature, y, lambda f, yy: fit_recipe(recipe, f, yy, seed),
                             lambda m, f: raw_probability(m, f, recipe.columns), blocks)
    calibrator = Calibrator.fit(oof, y[rows], method,
                                recency_weights(mature["created_at"].iloc[rows], half_life_days))
    pipeline = fit_recipe(recipe, mature, y, seed)
    return ModelBundle(recipe, pipeline, calibrator, transformed_means(pipeline, mature, recipe.columns), value,
                       held_out.window_days, held_out.lag_days, held_out.boundaries, ALL_MATURE,
                       str(mature["created_at"].max()), held_out.run_id, held_out.as_of, held_out.test_metrics,
                       held_out.excluded_features, mature["lead_id"].to_numpy()[rows], calibrator(oof))


# --- evaluation -----------------------------------------------------------------------------------------


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
        TEST_PREDICTIONS: pd.DataFrame({"lead_id": test["lead_id"].to_numpy(), "p": p}),  # the gate reads these
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


# --- the promotion gate ---------------------------------------------------------------------------------


@dataclass
class GateDecision:
    promote: bool
    reason: str
    new: dict  # pr_auc, log_loss, ece_mass of the challenger on the test split
    serving: dict | None = None  # the same for the serving model, however it was evaluated
    serving_evaluated_as: str | None = None
    log_loss_difference: PairedDifference | None = None  # challenger - serving, paired bootstrap
    pr_auc_difference: PairedDifference | None = None
    baseline: dict = field(default_factory=dict)  # the campaign-rate baseline on the same leads

    def record(self) -> dict:
        """JSON-ready, for the promotion history."""
        out = {"promote": self.promote, "reason": self.reason, "new": self.new, "serving": self.serving,
               "serving_evaluated_as": self.serving_evaluated_as, "baseline": self.baseline}
        for name in ("log_loss_difference", "pr_auc_difference"):
            d = getattr(self, name)
            out[name] = None if d is None else {k: round(v, 6) for k, v in d.__dict__.items()}
        return out


def _figures(y: np.ndarray, p: np.ndarray) -> dict:
    m = metrics.classification_metrics(y, p)
    return {k: m[k] for k in ("pr_auc", "log_loss", "ece_mass")}


def serving_on_test(serving: ModelBundle, train: pd.DataFrame, calib: pd.DataFrame, test: pd.DataFrame, chain,
                    method: str = "sigmoid", seed: int = 0, half_life_days: float | None = None
                    ) -> tuple[np.ndarray, str]:
    """The serving model's probabilities on the test leads, and how they were obtained: as it serves when it
    never saw those leads and its windows match the chain's; else its recipe refitted on the current train split
    and calibrated on the calib split, so both models are judged out of sample on the same labels."""
    test_start = str(test["created_at"].min())
    same_windows = (serving.window_days, serving.lag_days) == (chain.label_window_days, chain.feature_lag_days)
    if serving.trained_until and serving.trained_until < test_start and same_windows:
        return serving.probability(test), "as it serves, since its training ended before the test window"
    pipeline = fit_recipe(serving.recipe, train, train["label"].to_numpy(), seed)
    refit = held_out_bundle(serving.recipe, pipeline, train, calib, serving.value, chain, method, half_life_days,
                            boundaries=serving.boundaries)
    why = "its label window or feature lag differ from the chain's" if not same_windows else \
        "it had learned from leads of the test window"
    return refit.probability(test), f"by its recipe refitted on the current train split, since {why}"


def promotion_decision(new: ModelBundle, serving: ModelBundle | None, train: pd.DataFrame, calib: pd.DataFrame,
                       test: pd.DataFrame, chain, max_ece: float, ece_margin: float,
                       method: str = "sigmoid", seed: int = 0, half_life_days: float | None = None,
                       p_new: np.ndarray | None = None) -> GateDecision:
    """Promote the challenger unless it is worse beyond the noise on the same test leads (paired bootstrap of log
    loss and PR-AUC), less calibrated than the serving model by more than `ece_margin`, above `max_ece`, or no
    better than the campaign-rate baseline. Every refusal says why. `p_new`: the challenger's probabilities on
    `test` when the evaluation already computed them."""
    y = test["label"].astype(int).to_numpy()
    p_new = new.probability(test) if p_new is None else np.asarray(p_new, dtype=float)
    if len(p_new) != len(y):
        raise ValueError(f"{len(p_new):,} probabilities for {len(y):,} test leads")
    new_fig = _figures(y, p_new)
    base_fig = _figures(y, campaign_rate_baseline(train, test))
    refusals = []
    if new_fig["ece_mass"] > max_ece:
        refusals.append(f"its calibration error (ECE {new_fig['ece_mass']:.4f}) is above the limit {max_ece}")
    worse_than_base = [f"{name} {new_fig[key]:.4f} against its {base_fig[key]:.4f}" for key, name, better in (
        ("pr_auc", "PR-AUC", new_fig["pr_auc"] > base_fig["pr_auc"]),
        ("log_loss", "log loss", new_fig["log_loss"] < base_fig["log_loss"])) if not better]
    if worse_than_base:
        refusals.append("it does not beat the campaign-rate baseline on " + " and ".join(worse_than_base))
    decision = GateDecision(False, "", new_fig, baseline=base_fig)
    if serving is None:
        decision.promote = not refusals
        decision.reason = "no model was serving" if not refusals else "; ".join(refusals)
        return decision
    missing = serving.can_score(test)
    if missing:
        decision.promote = not refusals
        decision.reason = "; ".join(refusals) or \
            f"the serving model needs features that no longer exist ({', '.join(missing[:5])})"
        return decision
    p_old, how = serving_on_test(serving, train, calib, test, chain, method, seed, half_life_days)
    old_fig = _figures(y, p_old)
    ll = paired_bootstrap(y, p_new, p_old, "log_loss", seed=seed)
    pr = paired_bootstrap(y, p_new, p_old, "pr_auc", seed=seed)
    decision.serving, decision.serving_evaluated_as = old_fig, how
    decision.log_loss_difference, decision.pr_auc_difference = ll, pr
    if ll.p05 > 0:
        refusals.append(f"its log loss is worse beyond the noise ({new_fig['log_loss']:.4f} vs {old_fig['log_loss']:.4f}; "
                        f"the difference stays above 0 in 95 % of resamples)")
    if pr.p95 < 0:
        refusals.append(f"its PR-AUC is worse beyond the noise ({new_fig['pr_auc']:.4f} vs {old_fig['pr_auc']:.4f})")
    if new_fig["ece_mass"] > old_fig["ece_mass"] + ece_margin:
        refusals.append(f"it is less well calibrated (ECE {new_fig['ece_mass']:.4f} vs the serving model's "
                        f"{old_fig['ece_mass']:.4f}, margin {ece_margin})")
    decision.promote = not refusals
    decision.reason = "; ".join(refusals) if refusals else (
        f"not worse beyond the noise on the same {len(y):,} test leads: log loss {new_fig['log_loss']:.4f} vs "
        f"{old_fig['log_loss']:.4f}, PR-AUC {new_fig['pr_auc']:.4f} vs {old_fig['pr_auc']:.4f}, the serving model "
        f"judged {how}; calibrated (ECE {new_fig['ece_mass']:.4f}) and better than the campaign-rate baseline")
    return decision
