"""The compiled tree evaluator (elv_assets/ml/trees.py) gives XGBoost's own log-odds and approximate
contributions, and the library scores whenever it would not."""

import numpy as np
import pandas as pd
import pytest
from xgboost import DMatrix

from elv_assets.ml import models as M
from elv_assets.ml import trees
from elv_assets.ml.features import FeatureColumns


def _leads(n: int, seed: int) -> pd.DataFrame:
    """Numbers with gaps, a wide category (partition splits) and a narrow one, and a label that needs them all."""
    rng = np.random.default_rng(seed)
    pages = rng.gamma(2.0, 2.0, n)
    pages[rng.random(n) < 0.15] = np.nan  # missing values take each split's default direction
    df = pd.DataFrame({"lead_id": [f"L{i:06d}" for i in range(n)], "pages": pages, "spend": rng.normal(50, 20, n),
                       "campaign_id": rng.choice([f"c{i}" for i in range(60)], n),
                       "job_level": rng.choice(["entry", "manager", "director", None], n)})
    campaign_effect = dict(zip([f"c{i}" for i in range(60)], rng.normal(0, 1, 60), strict=True))
    logit = (-1.0 + 0.4 * np.sin(np.nan_to_num(pages, nan=3.0)) + df["campaign_id"].map(campaign_effect)
             + (df["job_level"] == "director") * 1.2 + 0.01 * (df["spend"] - 50))
    df["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


COLS = FeatureColumns(["pages", "spend"], ["campaign_id", "job_level"])


@pytest.fixture(scope="module")
def xgb():
    train = _leads(6000, 1)
    recipe, pipe, _ = M.fit_kind("xgboost", train, train["label"].to_numpy(), COLS, 7)
    return recipe, pipe


def test_the_evaluator_gives_xgboosts_log_odds_and_contributions(xgb):
    recipe, pipe = xgb
    booster = pipe.named_steps["model"].get_booster()
    scored = _leads(3000, 2)
    scored.loc[:20, "campaign_id"] = "a campaign never seen"  # "other" at scoring time
    Xt = M.transform(pipe, scored, recipe.columns)
    table = trees.TreeTable.from_xgboost(booster)
    assert (table.cat_start >= 0).any()  # the wide category is split on by sets, not only numbers
    full = table.contributions(trees.as_matrix(Xt))
    contrib, bias, margin = full[:, :-1], full[:, -1], full.sum(axis=1)
    theirs = booster.predict(DMatrix(Xt, enable_categorical=True), pred_contribs=True, approx_contribs=True)
    np.testing.assert_allclose(contrib, theirs[:, :-1], atol=1e-4)
    np.testing.assert_allclose(bias, theirs[:, -1], atol=1e-4)
    np.testing.assert_allclose(margin, booster.predict(DMatrix(Xt, enable_categorical=True), output_margin=True),
                               atol=1e-4)
    assert table.agrees(booster, Xt)


def test_scoring_uses_the_evaluator_on_large_frames_and_matches_the_library(xgb, monkeypatch):
    recipe, pipe = xgb
    model = pipe.named_steps["model"]
    scored = _leads(4000, 3)
    library_contrib, library_margin = M.contributions_and_margin(pipe, scored, recipe.columns)  # below MIN_ROWS
    assert model not in trees._TABLES
    monkeypatch.setattr(trees, "MIN_ROWS", 1000)
    contrib, margin = M.contributions_and_margin(pipe, scored, recipe.columns)
    assert trees._TABLES[model] is not None  # the compiled path scored
    np.testing.assert_allclose(contrib.to_numpy(), library_contrib.to_numpy(), atol=1e-4)
    np.testing.assert_allclose(margin, library_margin, atol=1e-4)


def test_a_table_that_disagrees_with_xgboost_is_never_used(xgb, monkeypatch):
    recipe, pipe = xgb
    scored = _leads(4000, 4)
    built = trees.TreeTable.from_xgboost

    def off_by_a_little(booster):
        table = built(booster)
        table.value[table.left < 0] += 0.01  # every leaf shifted: the log-odds no longer XGBoost's
        return table

    refit = pipe.named_steps["model"].__class__(**pipe.named_steps["model"].get_params())
    Xt = M.transform(pipe, scored, recipe.columns)
    refit.fit(Xt, scored["label"])  # a model the cache has not seen
    monkeypatch.setattr(trees.TreeTable, "from_xgboost", staticmethod(off_by_a_little))
    monkeypatch.setattr(trees, "MIN_ROWS", 1000)
    with pytest.warns(UserWarning, match="disagrees with XGBoost"):
        assert trees.fast_contributions(refit, Xt) is None
    assert trees._TABLES[refit] is None  # remembered: the library scores this model from now on


def test_lightgbm_keeps_the_librarys_exact_contributions(monkeypatch):
    train = _leads(3000, 5)
    recipe, pipe, _ = M.fit_kind("lightgbm", train, train["label"].to_numpy(), COLS, 7)
    monkeypatch.setattr(trees, "MIN_ROWS", 10)
    assert trees.fast_contributions(pipe.named_steps["model"], M.transform(pipe, train, recipe.columns)) is None
