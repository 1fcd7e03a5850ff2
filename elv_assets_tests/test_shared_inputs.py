"""Scoring prepares the leads' fields once for the classifier and both value models (models.prepare_for, text as
pandas categoricals); each model's input must be exactly what it computes from the leads on its own."""

import numpy as np
import pandas as pd
import pytest

from elv_assets.ml import models as M
from elv_assets.ml.features import FeatureColumns

TREE_COLS = FeatureColumns(["pages", "spend"], ["campaign_id", "job_level"])
LINEAR_COLS = FeatureColumns(["pages"], ["job_level", "country"])  # overlapping, and a column only it reads


def _leads(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pages = rng.gamma(2.0, 2.0, n)
    pages[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({"pages": pages, "spend": rng.normal(50, 20, n),
                       "campaign_id": rng.choice([f"c{i}" for i in range(30)], n),
                       "job_level": rng.choice(["entry", "manager", "director", None], n),
                       "country": rng.choice(["UK", "DE", "FR", None], n)})
    df["label"] = (rng.random(n) < 0.2 + 0.3 * (df["job_level"] == "director")).astype(int)
    return df


@pytest.mark.parametrize("kind, cols", [("xgboost", TREE_COLS), ("logistic", LINEAR_COLS)])
def test_the_shared_prepared_frame_gives_each_model_its_own_input(kind, cols):
    train = _leads(3000, 1)
    _, pipe, _ = M.fit_kind(kind, train, train["label"].to_numpy(), cols, 7)
    scored = _leads(2000, 2)
    scored.loc[:15, "campaign_id"] = "a campaign never seen"
    scored.loc[16:30, "country"] = "a country never seen"
    ready = M.prepare_for(scored, TREE_COLS, LINEAR_COLS)
    assert isinstance(ready["job_level"].dtype, pd.CategoricalDtype)
    own, shared = M.transform(pipe, scored, cols), M.transform(pipe, scored, cols, ready)
    if isinstance(own, pd.DataFrame):
        pd.testing.assert_frame_equal(shared, own)
    else:
        assert (own != shared).nnz == 0 and own.shape == shared.shape
