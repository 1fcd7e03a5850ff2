"""Choosing, calibrating and promoting models by what the data can tell apart, on small worlds with a known law."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from elv_assets.ml.bundle import HELD_OUT, held_out_bundle, promotion_decision, refit_for_serving
from elv_assets.ml.calibration import Calibrator, cross_fitted
from elv_assets.ml.features import FeatureColumns
from elv_assets.ml.metrics import classification_metrics
from elv_assets.ml.models import SEARCH, Candidate, Recipe, fit_kind, fit_recipe, raw_probability
from elv_assets.ml.selection import choose, paired_bootstrap
from elv_assets.ml.value import ValueModel

CHAIN = SimpleNamespace(label_window_days=14, feature_lag_days=1)
COLS = FeatureColumns(["pages"], ["form", "campaign_id"])


def world(n: int, seed: int, start: str = "2026-01-01") -> pd.DataFrame:
    """Leads whose chance of qualifying is a known logistic law of a form and a number of pages viewed."""
    rng = np.random.default_rng(seed)
    form = rng.choice(["short", "long", "calculator"], n)
    pages = rng.poisson(5, n).astype(float)
    campaign = rng.choice(["c1", "c2", "c3"], n)
    z = -1.6 + np.select([form == "long", form == "calculator"], [0.8, 1.2], 0.0) + 0.12 * pages
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    created = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, 120 * 24 * 60, n)), unit="min")
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": created, "form": form,
                         "pages": pages, "campaign_id": campaign, "label": y})


def candidate(kind: str, p: np.ndarray, y: np.ndarray) -> Candidate:
    from sklearn.metrics import average_precision_score

    return Candidate(Recipe(kind, {}, COLS), None, p, float(average_precision_score(y, p)), 0.0)


def test_a_simpler_model_within_the_noise_wins_and_a_clearly_better_one_does_not():
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.2).astype(int)
    signal = y + rng.normal(0, 1.0, 3000)
    plain = 1 / (1 + np.exp(-signal))
    nearly = 1 / (1 + np.exp(-(signal + rng.normal(0, 0.05, 3000))))  # the same ranking, up to noise
    much_better = 1 / (1 + np.exp(-(3 * y + rng.normal(0, 1.0, 3000))))
    close = choose([candidate("logistic_plain", plain, y), candidate("lightgbm", nearly, y)], y)
    assert close.chosen.kind == "logistic_plain" and "within one standard error" in close.reason
    clear = choose([candidate("logistic_plain", plain, y), candidate("lightgbm", much_better, y)], y)
    assert clear.chosen.kind == "lightgbm" and clear.best.kind == "lightgbm"
    row = next(r for r in clear.table if r["model"] == "logistic_plain")
    assert row["pr_auc_vs_best"] < -3 * row["se"] and not row["within_one_se"]
    # the two boosters are equally complex: the better of them wins even within the noise
    boosters = choose([candidate("lightgbm", plain, y), candidate("xgboost", nearly, y)], y)
    better = max(boosters.table, key=lambda r: r["pr_auc_calib"])["model"]
    assert boosters.chosen.kind == better == boosters.best.kind


def test_the_paired_bootstrap_of_a_model_against_itself_is_zero():
    y = np.array([0, 1] * 100)
    p = np.linspace(0.1, 0.9, 200)
    diff = paired_bootstrap(y, p, p, "log_loss")
    assert diff.observed == 0 and diff.se == 0
    with pytest.raises(ValueError, match="pr_auc or log_loss"):
        paired_bootstrap(y, p, p, "auc")


def test_a_sigmoid_calibrator_fixes_probabilities_that_are_too_high():
    rng = np.random.default_rng(2)
    true = rng.uniform(0.05, 0.5, 20000)
    y = (rng.random(20000) < true).astype(int)
    inflated = np.clip(true * 1.6, 0, 0.99)
    fixed = Calibrator.fit(inflated, y)(inflated)
    assert classification_metrics(y, inflated)["ece_mass"] > 0.08
    assert classification_metrics(y, fixed)["ece_mass"] < 0.02


def test_cross_fitting_scores_each_block_with_a_model_of_the_blocks_before():
    frame = pd.DataFrame({"t": np.arange(40)})
    seen = []

    def fit(f, y):
        seen.append(int(f["t"].max()))
        return int(f["t"].max())

    rows, preds = cross_fitted(frame, np.arange(40) % 2, fit, lambda m, f: np.full(len(f), m), blocks=4)
    assert seen == [9, 19, 29] and rows.tolist() == list(range(10, 40))
    assert preds[0] == 9 and preds[-1] == 29  # the newest block by the model of the three before it


def _splits(seed: int = 3) -> dict[str, pd.DataFrame]:
    df = world(6000, seed)
    return {"train": df.iloc[:3600].reset_index(drop=True), "calib": df.iloc[3600:4800].reset_index(drop=True),
            "test": df.iloc[4800:].reset_index(drop=True)}


def _held_out(frames, kind="logistic", seed=0):
    recipe, pipe, _ = fit_kind(kind, frames["train"], frames["train"]["label"].to_numpy(), COLS, seed)
    return held_out_bundle(recipe, pipe, frames["train"], frames["calib"], ValueModel("configured", 100.0), CHAIN,
                           boundaries={"test_start": str(frames["test"]["created_at"].min())})


def test_the_gate_refuses_a_worse_calibrated_challenger_with_the_same_ranking():
    frames = _splits()
    serving = _held_out(frames)
    planted = _held_out(frames)
    planted.calibrator = Calibrator("sigmoid", slope=1.0, intercept=0.9)  # the same ranking, every p inflated
    decision = promotion_decision(planted, serving, frames["train"], frames["calib"], frames["test"], CHAIN,
                                  max_ece=0.2, ece_margin=0.01)
    assert not decision.promote
    assert "less well calibrated" in decision.reason and "log loss is worse beyond the noise" in decision.reason
    assert decision.serving_evaluated_as.startswith("as it serves")  # it never saw the test window

    again = promotion_decision(_held_out(frames), serving, frames["train"], frames["calib"], frames["test"], CHAIN,
                               max_ece=0.2, ece_margin=0.01)
    assert again.promote and again.reason.startswith("not worse beyond the noise")


def _refitted(bundle, cols: FeatureColumns, frames):
    """The bundle with a logistic recipe on other columns, fitted on the train split and calibrated on calib."""
    bundle.recipe = Recipe("logistic", {}, cols)
    bundle.pipeline = fit_recipe(bundle.recipe, frames["train"], frames["train"]["label"].to_numpy())
    bundle.centre = None
    bundle.calibrator = Calibrator.fit(raw_probability(bundle.pipeline, frames["calib"], cols),
                                       frames["calib"]["label"].to_numpy())
    return bundle


def test_the_gate_keeps_a_clearly_better_serving_model_and_replaces_one_whose_features_are_gone():
    frames = _splits()
    serving = _held_out(frames)
    blind = _refitted(_held_out(frames), FeatureColumns([], ["campaign_id"]), frames)  # no signal in campaign
    worse = promotion_decision(blind, serving, frames["train"], frames["calib"], frames["test"], CHAIN,
                               max_ece=0.2, ece_margin=0.01)
    assert not worse.promote and "worse beyond the noise" in worse.reason
    assert worse.pr_auc_difference.p95 < 0 and worse.serving["pr_auc"] > worse.new["pr_auc"]
    # a serving model that needs a column the data no longer has is replaced by a sound challenger
    gone = {k: f.drop(columns="pages") for k, f in frames.items()}
    form_only = _refitted(_held_out(frames), FeatureColumns([], ["form", "campaign_id"]), gone)
    stale = promotion_decision(form_only, serving, gone["train"], gone["calib"], gone["test"], CHAIN,
                               max_ece=0.2, ece_margin=0.01)
    assert stale.promote and "needs features that no longer exist (pages)" in stale.reason


def test_a_serving_model_that_saw_the_test_window_is_judged_by_its_recipe_refitted():
    frames = _splits()
    held = _held_out(frames)
    mature = pd.concat(frames.values(), ignore_index=True)
    served = refit_for_serving(held, mature, held.value, blocks=3)
    assert served.trained_on != HELD_OUT and served.trained_until == str(mature["created_at"].max())
    decision = promotion_decision(_held_out(frames), served, frames["train"], frames["calib"], frames["test"],
                                  CHAIN, max_ece=0.2, ece_margin=0.01)
    assert "refitted on the current train split, since it had learned from leads of the test window" in \
        decision.serving_evaluated_as
    assert decision.promote


def test_a_challenger_no_better_than_the_campaign_rate_is_refused_even_with_nothing_serving():
    frames = _splits()
    blind = _refitted(_held_out(frames), FeatureColumns([], ["campaign_id"]), frames)  # no signal in campaign
    decision = promotion_decision(blind, None, frames["train"], frames["calib"], frames["test"], CHAIN,
                                  max_ece=0.2, ece_margin=0.01)
    assert not decision.promote and "does not beat the campaign-rate baseline on PR-AUC" in decision.reason


def test_trees_stop_early_on_the_most_recent_slice_and_keep_that_many_trees():
    frames = _splits()
    recipe, pipe, tried = fit_kind("lightgbm", frames["train"], frames["train"]["label"].to_numpy(), COLS)
    assert len(tried) == len(SEARCH["lightgbm"]) and all(0 < t["n_estimators"] < 2000 for t in tried)
    assert recipe.params["n_estimators"] == min(tried, key=lambda t: t["validation_log_loss"])["n_estimators"]
    assert pipe.named_steps["model"].n_estimators == recipe.params["n_estimators"]
