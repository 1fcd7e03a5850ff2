"""Population Stability Index of elv_assets.ml.drift against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from elv_assets.ml.drift import (
    PsiResult,
    drift_report,
    numeric_edges,
    psi_band,
    psi_categorical,
    psi_numeric,
)


def test_numeric_edges_linear_quantiles():
    # [1, 1, 2, 2] at q = 0.1 .. 0.9, linear: position 3q between sorted values
    # q 0.1..0.3 -> position <= 1 -> 1; 0.4 -> 1.2 -> 1.2; 0.5 -> 1.5; 0.6 -> 1.8; 0.7..0.9 -> 2
    assert numeric_edges([1, 1, 2, 2]).tolist() == pytest.approx([1.0, 1.2, 1.5, 1.8, 2.0])
    assert numeric_edges([1, 1, 2, 2], bins=2).tolist() == [1.5]


def test_numeric_edges_deduplicated_and_ignore_missing():
    # quantiles 0.25, 0.5, 0.75 of [0, 0, 0, 0, 0, 1] are all 0 -> one cut point
    assert numeric_edges([0, 0, 0, 0, 0, 1, np.nan], bins=4).tolist() == [0.0]
    assert numeric_edges([np.nan, np.nan]).size == 0
    assert numeric_edges([1, 2, 3], bins=1).size == 0


def test_psi_numeric_two_buckets_hand_example():
    # edge 1.5: (-inf, 1.5] holds r = 2/4 = 0.5, c = 1/4 = 0.25; (1.5, +inf) holds r = 0.5, c = 0.75
    # PSI = (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5 = 0.25 ln 3
    #     = 0.274653 -> "major"
    result = psi_numeric([1, 1, 2, 2], [1, 2, 2, 2], bins=2)
    assert isinstance(result, PsiResult)
    assert result.psi == pytest.approx(0.25 * math.log(3))
    assert result.band == "major"
    b = result.buckets
    assert list(b.columns) == ["bucket", "reference_share", "current_share", "contribution"]
    assert b["bucket"].tolist() == ["(-inf, 1.5]", "(1.5, +inf)"]
    assert b["reference_share"].tolist() == [0.5, 0.5]
    assert b["current_share"].tolist() == [0.25, 0.75]
    assert b["contribution"].tolist() == pytest.approx([0.25 * math.log(2), 0.25 * math.log(1.5)])
    assert result.biggest_shift == "(-inf, 1.5]"  # 0.173 > 0.101


def test_psi_numeric_default_bins_value_on_edge_falls_low():
    # Edges [1, 1.2, 1.5, 1.8, 2]: 1 sits on edge 1 -> (-inf, 1]; 2 sits on edge 2 -> (1.8, 2].
    # Same shares as the two-bucket example (0.5/0.25 and 0.5/0.75), the four empty-in-both buckets add
    # (1e-4 - 1e-4) ln 1 = 0, so PSI is again 0.25 ln 3.
    result = psi_numeric([1, 1, 2, 2], [1, 2, 2, 2])
    assert result.psi == pytest.approx(0.25 * math.log(3))
    by_bucket = result.buckets.set_index("bucket")
    assert by_bucket.loc["(-inf, 1]", "current_share"] == 0.25
    assert by_bucket.loc["(1.8, 2]", "current_share"] == 0.75
    assert by_bucket.loc["(2, +inf)", "reference_share"] == 0.0


def test_identical_samples_give_zero():
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    result = psi_numeric(values, list(reversed(values)))
    assert result.psi == 0.0
    assert result.band == "stable"
    assert result.biggest_shift is None
    assert psi_categorical(["a", "b", "b"], ["b", "a", "b"]).psi == 0.0


def test_empty_bucket_floored_at_eps():
    # reference [0, 1, 2], bins=2 -> edge 1 (the median). Current [1, 1, 1]: all on the edge -> low bucket.
    # r = (2/3, 1/3), c = (1, 0 -> floored to 1e-4)
    # PSI = (1 - 2/3) ln(1 / (2/3)) + (1e-4 - 1/3) ln(1e-4 / (1/3)) = 0.135155 + 2.703098 = 2.838253
    expected = (1 - 2 / 3) * math.log(1.5) + (1e-4 - 1 / 3) * math.log(1e-4 * 3)
    result = psi_numeric([0, 1, 2], [1, 1, 1], bins=2)
    assert np.isfinite(result.psi)
    assert result.psi == pytest.approx(expected)
    assert result.buckets["current_share"].tolist() == [1.0, 0.0]  # raw share, floor only in the formula
    # A larger floor gives a smaller term: (1e-2 - 1/3) ln(3e-2) instead.
    looser = psi_numeric([0, 1, 2], [1, 1, 1], bins=2, eps=1e-2)
    assert looser.psi == pytest.approx((1 - 2 / 3) * math.log(1.5) + (1e-2 - 1 / 3) * math.log(3e-2))


def test_psi_numeric_missing_bucket():
    # Reference [1, 2, NaN, NaN] (edge 1.5 from [1, 2]) and current [1, 2, 2, NaN]:
    # (-inf, 1.5]: r .25 c .25 -> 0; (1.5, +inf): r .25 c .5 -> .25 ln 2; missing: r .5 c .25 -> .25 ln 2
    # PSI = 0.5 ln 2 = 0.346574; the tie for the biggest shift goes to the first bucket.
    result = psi_numeric([1, 2, np.nan, np.nan], pd.Series([1, 2, 2, None], dtype="Int64"), bins=2)
    assert result.buckets["bucket"].tolist() == ["(-inf, 1.5]", "(1.5, +inf)", "missing"]
    assert result.buckets["reference_share"].tolist() == [0.25, 0.25, 0.5]
    assert result.psi == pytest.approx(0.5 * math.log(2))
    assert result.biggest_shift == "(1.5, +inf)"


def test_no_missing_bucket_without_missing_values():
    assert "missing" not in psi_numeric([1, 2, 3], [1, 2, 3]).buckets["bucket"].tolist()


def test_psi_categorical_unseen_bucket():
    # Reference a, a, b, b; current a, b, c, c: "c" was never seen -> "unseen" bucket, r = 0 -> 1e-4.
    # a: (.25 - .5) ln(.5) = .25 ln 2; b: same; unseen: (.5 - 1e-4) ln(.5 / 1e-4) = .4999 ln 5000
    # PSI = 0.5 ln 2 + 0.4999 ln 5000 = 0.346574 + 4.257825 = 4.604398
    result = psi_categorical(["a", "a", "b", "b"], ["a", "b", "c", "c"])
    assert result.buckets["bucket"].tolist() == ["a", "b", "unseen"]
    assert result.buckets["current_share"].tolist() == [0.25, 0.25, 0.5]
    assert result.psi == pytest.approx(0.5 * math.log(2) + (0.5 - 1e-4) * math.log(5000))
    assert result.biggest_shift == "unseen"
    assert result.band == "major"


def test_psi_categorical_missing_and_strings():
    # None and NaN are both "missing"; 1 and "1" are the same category once turned into strings.
    # Reference 1, "1", None, "x" -> "1": .5, "x": .25, missing: .25
    # Current  "1", NaN, NaN, NaN -> "1": .25, "x": 0 (1e-4), missing: .75
    # PSI = (.25-.5) ln(.5) + (1e-4-.25) ln(1e-4/.25) + (.75-.25) ln 3
    result = psi_categorical([1, "1", None, "x"], ["1", np.nan, np.nan, np.nan])
    assert result.buckets["bucket"].tolist() == ["1", "x", "missing"]
    expected = 0.25 * math.log(2) + (1e-4 - 0.25) * math.log(1e-4 / 0.25) + 0.5 * math.log(3)
    assert result.psi == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, "stable"),
        (0.0999999, "stable"),
        (0.1, "moderate"),
        (0.2, "moderate"),
        (0.25, "moderate"),
        (0.2500001, "major"),
        (3.0, "major"),
    ],
)
def test_psi_band_boundaries(value, band):
    assert psi_band(value) == band


def test_psi_band_rejects_nan():
    with pytest.raises(ValueError):
        psi_band(float("nan"))


def test_empty_sample_rejected():
    with pytest.raises(ValueError):
        psi_numeric([1.0, 2.0], [])
    with pytest.raises(ValueError):
        psi_categorical([], ["a"])


def test_drift_report_rows_kinds_and_values():
    reference = pd.DataFrame(
        {
            "spend": [1.0, 1.0, 2.0, 2.0],
            "campaign": ["a", "a", "b", "b"],
            "is_mobile": [True, False, True, False],
            "clicks": [1, 1, 2, 2],
        }
    )
    current = pd.DataFrame(
        {
            "spend": [1.0, 2.0, 2.0, 2.0],
            "campaign": ["a", "b", "c", "c"],
            "is_mobile": [True, False, True, False],
            "clicks": [1, 1, 2, 2],
        }
    )
    report = drift_report(reference, current, ["is_mobile", "spend", "campaign", "clicks"], bins=2)
    assert list(report.columns) == [
        "feature",
        "kind",
        "psi",
        "band",
        "biggest_shift",
        "n_reference",
        "n_current",
    ]
    assert report["feature"].tolist() == ["is_mobile", "spend", "campaign", "clicks"]
    # bool is categorical even though numpy counts it as numeric
    assert report["kind"].tolist() == ["categorical", "numeric", "categorical", "numeric"]
    # spend: 0.25 ln 3 = 0.274653 (two-bucket example); campaign: unseen example = 4.604398
    assert report["psi"].tolist() == [
        0.0,
        round(0.25 * math.log(3), 6),
        round(0.5 * math.log(2) + (0.5 - 1e-4) * math.log(5000), 6),
        0.0,
    ]
    assert report["band"].tolist() == ["stable", "major", "major", "stable"]
    assert report["biggest_shift"].tolist() == [None, "(-inf, 1.5]", "unseen", None]
    assert report["n_reference"].tolist() == [4, 4, 4, 4]
    assert report["n_current"].tolist() == [4, 4, 4, 4]


def test_drift_report_unknown_feature():
    frame = pd.DataFrame({"spend": [1.0, 2.0]})
    with pytest.raises(ValueError, match="nope"):
        drift_report(frame, frame, ["spend", "nope"])
