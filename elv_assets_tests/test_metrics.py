"""Held-out metrics of elv_assets.ml.metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from elv_assets.ml.metrics import (
    METRIC_KEYS,
    classification_metrics,
    compare,
    ece,
    lift_at,
    reliability_curve,
)


def test_ece_width_hand_example():
    # bins 1 (p=0.1) and 9 (p=0.9), two rows each:
    # 0.5 * |0.5 - 0.1| + 0.5 * |1.0 - 0.9| = 0.2 + 0.05 = 0.25
    assert ece([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]) == pytest.approx(0.25)


def test_reliability_curve_matches_ece_bins():
    curve = reliability_curve([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9])
    assert list(curve.columns) == ["bin", "p_mean", "y_rate", "n"]
    assert curve["bin"].tolist() == [1, 9]
    assert curve["n"].tolist() == [2, 2]
    assert curve["p_mean"].tolist() == pytest.approx([0.1, 0.9])
    assert curve["y_rate"].tolist() == pytest.approx([0.5, 1.0])


def test_width_bin_edges():
    # [i/10, (i+1)/10): 0.0 -> bin 0, 0.3 starts bin 3, 0.29 is still bin 2, 1.0 joins the last bin 9.
    curve = reliability_curve([0, 0, 0, 1], [0.0, 0.3, 0.29, 1.0])
    assert curve["bin"].tolist() == [0, 2, 3, 9]
    assert curve["n"].tolist() == [1, 1, 1, 1]


def test_ece_mass_hand_example():
    # Sorted by p: (0.1,y0) (0.2,y0) (0.3,y1) | (0.4,y0) (0.5,y1)  -> array_split of 5 rows into 2: 3 + 2.
    # group 0: p_mean 0.2, y_rate 1/3 -> gap 0.1333..; group 1: p_mean 0.45, y_rate 0.5 -> gap 0.05
    # ECE = 3/5 * (2/15) + 2/5 * 0.05 = 0.08 + 0.02 = 0.10
    p = [0.5, 0.1, 0.4, 0.2, 0.3]
    y = [1, 0, 0, 0, 1]
    assert ece(y, p, bins=2, strategy="mass") == pytest.approx(0.10)
    curve = reliability_curve(y, p, bins=2, strategy="mass")
    assert curve["n"].tolist() == [3, 2]
    assert curve["p_mean"].tolist() == pytest.approx([0.2, 0.45])
    # Equal width on the same rows: bins 1..5 hold one row each ->
    # (|0-.1| + |0-.2| + |1-.3| + |0-.4| + |1-.5|) / 5 = (0.1 + 0.2 + 0.7 + 0.4 + 0.5) / 5 = 0.38
    assert ece(y, p, bins=10, strategy="width") == pytest.approx(0.38)


def test_ece_mass_ties_split_in_input_order():
    # All p tie at 0.5; the stable sort keeps input order, so the groups are rows {0,1} (y=1,1) and
    # {2,3} (y=0,0): 0.5 * |1 - 0.5| + 0.5 * |0 - 0.5| = 0.5. (Equal width: one bin, |0.5-0.5| = 0.)
    y = [1, 1, 0, 0]
    p = [0.5, 0.5, 0.5, 0.5]
    assert ece(y, p, bins=2, strategy="mass") == pytest.approx(0.5)
    assert ece(y, p, bins=2, strategy="width") == pytest.approx(0.0)


def test_mass_with_fewer_rows_than_bins_skips_empty_bins():
    curve = reliability_curve([0, 1], [0.2, 0.8], bins=10, strategy="mass")
    assert curve["n"].tolist() == [1, 1]
    # (|0-0.2| + |1-0.8|) / 2 = 0.2
    assert ece([0, 1], [0.2, 0.8], bins=10, strategy="mass") == pytest.approx(0.2)


@pytest.fixture(scope="module")
def calibrated():
    rng = np.random.default_rng(20240601)
    p = rng.uniform(0.0, 1.0, 200_000)
    y = rng.binomial(1, p)
    return y, p


@pytest.mark.parametrize("strategy", ["width", "mass"])
def test_calibrated_sample_has_small_ece(calibrated, strategy):
    y, p = calibrated
    assert ece(y, p, strategy=strategy) < 0.01


@pytest.mark.parametrize("strategy", ["width", "mass"])
def test_shifted_probabilities_have_ece_near_0_1(calibrated, strategy):
    # p + 0.1 overstates by 0.1 wherever p < 0.9 (90 % of rows); for p >= 0.9 it is clipped to 1, whose
    # gap averages 0.05 over 10 % of rows. Width bins: 0.8 * 0.1 from bins 1..8, and the last bin mixes
    # p in [0.8, 0.9) and [0.9, 1]: p_mean (0.95 + 1) / 2 = 0.975, y_rate (0.85 + 0.95) / 2 = 0.9, so
    # 0.2 * 0.075 = 0.015; ECE ≈ 0.08 + 0.015 = 0.095 (mass bins give about the same).
    y, p = calibrated
    shifted = np.clip(p + 0.1, 0.0, 1.0)
    assert ece(y, shifted, strategy=strategy) == pytest.approx(0.095, abs=0.01)


def test_ece_rejects_bad_input():
    with pytest.raises(ValueError, match="strategy"):
        ece([0, 1], [0.1, 0.9], strategy="quantile")
    with pytest.raises(ValueError, match="empty"):
        ece([], [])
    with pytest.raises(ValueError):
        ece([0, 1], [0.1])
    with pytest.raises(ValueError):
        ece([0, 2], [0.1, 0.9])
    with pytest.raises(ValueError):
        ece([0, 1], [0.1, 1.2])


def test_inputs_may_be_lists_arrays_or_series():
    y = [0, 1, 1, 1]
    p = [0.1, 0.1, 0.9, 0.9]
    expected = 0.25
    assert ece(np.array(y), np.array(p)) == pytest.approx(expected)
    assert ece(pd.Series(y), pd.Series(p, index=[9, 8, 7, 6])) == pytest.approx(expected)


# y and score for the lift tests. N = 10, positives = 3 (rows 1, 2, 5), base rate 0.3.
# Ties: rows 0 and 1 at 0.9 and rows 3, 4, 5 at 0.5; a stable sort keeps them in input order.
LIFT_Y = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0]
LIFT_SCORE = [0.9, 0.9, 0.8, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1]


def test_lift_at_hand_example_with_ties():
    table = lift_at(LIFT_Y, LIFT_SCORE, fractions=(0.1, 0.2, 0.25, 0.5, 1.0))
    assert list(table.columns) == ["fraction", "k", "positives", "precision", "lift", "capture"]
    # k = ceil(f * 10): 1, 2, ceil(2.5) = 3, 5, 10
    assert table["k"].tolist() == [1, 2, 3, 5, 10]
    # top 1 = row 0 (tie with row 1 kept in input order) -> 0 positives
    # top 2 = rows 0,1 -> 1; top 3 = rows 0,1,2 -> 2; top 5 = rows 0..4 (row 5 loses the 0.5 tie) -> 2
    assert table["positives"].tolist() == [0, 1, 2, 2, 3]
    # precision = positives / k: 0/1, 1/2, 2/3, 2/5, 3/10
    assert table["precision"].tolist() == pytest.approx([0.0, 0.5, 2 / 3, 0.4, 0.3])
    # lift = precision / 0.3: 0, 1.6667, 2.2222, 1.3333, 1.0
    assert table["lift"].tolist() == pytest.approx([0.0, 0.5 / 0.3, (2 / 3) / 0.3, 0.4 / 0.3, 1.0])
    # capture = positives / 3
    assert table["capture"].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 2 / 3, 1.0])


def test_lift_at_k_ignores_float_noise():
    # 0.07 * 100 is 7.000000000000001 in floating point; the top 7 % of 100 rows is still 7 rows.
    table = lift_at([1] * 100, list(range(100)), fractions=(0.07, 0.055))
    assert table["k"].tolist() == [7, 6]  # ceil(5.5) = 6


def test_lift_at_many_ties_keep_input_order():
    # 999 rows, score i % 3, so 333 rows tie at the top score 2 (i = 2, 5, 8, ...). Positives: i < 300.
    # Top ceil(0.1 * 999) = 100 rows = the first 100 top-score rows in input order, i = 2 .. 299,
    # all positive -> precision 1, lift 1 / 0.3003 = 3.33, capture 100 / 300. (An unstable sort would
    # mix in later tied rows, which are negative.)
    n = 999
    score = [float(i % 3) for i in range(n)]
    y = [int(i < 300) for i in range(n)]
    row = lift_at(y, score, fractions=(0.1,)).iloc[0]
    assert row["k"] == 100
    assert row["positives"] == 100
    assert row["lift"] == pytest.approx(1.0 / (300 / 999))
    assert row["capture"] == pytest.approx(100 / 300)


def test_lift_at_no_positives():
    table = lift_at([0, 0, 0, 0], [0.4, 0.3, 0.2, 0.1], fractions=(0.5,))
    row = table.iloc[0]
    assert row["k"] == 2
    assert row["positives"] == 0
    assert row["precision"] == 0.0
    assert math.isnan(row["lift"])  # base rate 0
    assert row["capture"] == 0.0


def test_lift_at_rejects_bad_fraction():
    with pytest.raises(ValueError):
        lift_at([0, 1], [0.1, 0.9], fractions=(0.0,))
    with pytest.raises(ValueError):
        lift_at([0, 1], [0.1, 0.9], fractions=(1.5,))


def test_lift_at_scores_need_not_be_probabilities():
    table = lift_at([0, 1, 0, 1], [-3.0, 12.0, 5.0, 7.0], fractions=(0.5,))
    # top 2 by score: rows 1 (12) and 3 (7), both positive -> precision 1, lift 1 / 0.5 = 2, capture 1
    assert table.loc[0, ["positives", "precision", "lift", "capture"]].tolist() == [2, 1.0, 2.0, 1.0]


def test_classification_metrics_hand_values():
    m = classification_metrics([0, 1], [0.25, 0.75])
    assert tuple(m) == METRIC_KEYS
    assert m["n"] == 2
    assert m["positives"] == 1
    assert m["base_rate"] == 0.5
    assert m["roc_auc"] == 1.0
    assert m["pr_auc"] == 1.0
    # brier = ((0.25 - 0)^2 + (0.75 - 1)^2) / 2 = 0.0625
    assert m["brier"] == 0.0625
    # log loss = -(ln(1 - 0.25) + ln(0.75)) / 2 = -ln 0.75 = 0.287682
    assert m["log_loss"] == round(-math.log(0.75), 6)
    # width bins 2 and 7, one row each: (0.25 + 0.25) / 2 = 0.25; mass bins: each row alone, same.
    assert m["ece_width"] == 0.25
    assert m["ece_mass"] == 0.25
    # k = ceil(0.05 * 2) = 1 for all three fractions: the top row is the positive -> lift 1 / 0.5 = 2
    assert [m["lift_5"], m["lift_10"], m["lift_20"]] == [2.0, 2.0, 2.0]
    assert [m["capture_5"], m["capture_10"], m["capture_20"]] == [1.0, 1.0, 1.0]


def test_classification_metrics_clips_log_loss():
    # Confidently wrong: p clipped to 1e-6 / 1 - 1e-6, so log loss = -ln(1e-6) = 13.815511, not inf.
    m = classification_metrics([1, 0], [0.0, 1.0])
    assert m["log_loss"] == pytest.approx(-math.log(1e-6), abs=1e-6)


def test_classification_metrics_agrees_with_sklearn():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 1, 500)
    y = rng.binomial(1, p)
    m = classification_metrics(y, p)
    assert m["pr_auc"] == round(average_precision_score(y, p), 6)
    assert m["roc_auc"] == round(roc_auc_score(y, p), 6)
    assert m["n"] == 500
    assert m["positives"] == int(y.sum())
    assert m["ece_width"] == round(ece(y, p), 6)
    assert m["ece_mass"] == round(ece(y, p, strategy="mass"), 6)
    table = lift_at(y, p)
    assert m["lift_10"] == round(table.loc[1, "lift"], 6)
    assert m["capture_20"] == round(table.loc[2, "capture"], 6)


def test_classification_metrics_one_class_is_json_safe():
    only_negatives = classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert only_negatives["roc_auc"] is None
    assert only_negatives["pr_auc"] is None  # no positives: precision-recall is undefined
    assert only_negatives["lift_10"] is None  # base rate 0
    assert only_negatives["capture_10"] == 0.0
    only_positives = classification_metrics([1, 1], [0.6, 0.9])
    assert only_positives["roc_auc"] is None
    assert only_positives["pr_auc"] == 1.0
    for m in (only_negatives, only_positives):
        json.dumps(m, allow_nan=False)
        assert all(v is None or type(v) in (int, float) for v in m.values())


def test_compare_rows_in_input_order():
    y = LIFT_Y
    scores = {
        "model": np.array(LIFT_SCORE),
        "campaign_rate": [0.3] * 10,
        "random": list(np.linspace(0.05, 0.95, 10)),
    }
    table = compare(y, scores)
    assert list(table.columns) == ["name", *METRIC_KEYS]
    assert table["name"].tolist() == ["model", "campaign_rate", "random"]
    assert table.iloc[0].drop("name").to_dict() == classification_metrics(y, LIFT_SCORE)
    # A constant score ranks nothing: ROC AUC 0.5, and it is perfectly calibrated here
    # (one bin, |0.3 - 0.3| = 0).
    assert table.loc[1, "roc_auc"] == 0.5
    assert table.loc[1, "ece_width"] == 0.0
