"""Population Stability Index (PSI): how far a feature's current distribution moved from a reference.

Definition. Split values into buckets; let r_i and c_i be the shares of the reference and current
samples in bucket i. Each share is floored at epsilon (default 1e-4) before the formula, so an empty
bucket gives a large but finite term instead of an infinity:

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i)

Every term is >= 0, and PSI is 0 when the shares match. Bands (the usual credit-scoring rule of
thumb): PSI < 0.1 "stable"; 0.1 <= PSI <= 0.25 "moderate"; PSI > 0.25 "major".

Buckets. Numeric features: cut points at the reference's deciles (quantiles 1/bins .. (bins-1)/bins,
linear interpolation, de-duplicated), buckets open-ended (-inf, e1], (e1, e2], ..., (ek, +inf); a
value equal to a cut point falls in the lower bucket. Categorical features: the reference's
categories (as strings). Missing values get their own "missing" bucket and, for categorical
features, current values never seen in the reference share an "unseen" bucket. These two buckets
appear only when some row falls in them (an empty-in-both bucket would add exactly 0).

Why: the model was fitted on the reference; a feature whose PSI is "major" means the inputs no
longer look like the training data, so predicted probabilities deserve less trust.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4
STABLE_BELOW = 0.1
MAJOR_ABOVE = 0.25
MISSING = "missing"
UNSEEN = "unseen"
REPORT_COLUMNS = ["feature", "kind", "psi", "band", "biggest_shift", "n_reference", "n_current"]


@dataclass(frozen=True)
class PsiResult:
    """PSI of one feature.

    buckets has columns bucket (label), reference_share, current_share (raw shares, before the eps
    floor) and contribution (the bucket's PSI term, after the floor; they sum to psi).
    biggest_shift is the label of the bucket with the largest absolute contribution (first on ties),
    or None when every contribution is 0 (no shift at all).
    """

    psi: float
    band: str
    buckets: pd.DataFrame
    biggest_shift: str | None


def psi_band(value: float) -> str:
    """'stable' below 0.1, 'moderate' from 0.1 to 0.25 inclusive, 'major' above 0.25."""
    if value is None or np.isnan(value):
        raise ValueError(f"PSI must be a number, got {value!r}")
    if value < STABLE_BELOW:
        return "stable"
    if value <= MAJOR_ABOVE:
        return "moderate"
    return "major"


def _as_numeric(values: Any) -> np.ndarray:
    """1-D float array with NaN for missing values (also pd.NA/None in nullable or object columns)."""
    return pd.to_numeric(pd.Series(values)).to_numpy(dtype=float, na_value=np.nan)


def numeric_edges(reference: Any, bins: int = 10) -> np.ndarray:
    """Interior cut points: the reference's quantiles at 1/bins .. (bins-1)/bins, de-duplicated.

    Missing reference values are ignored; an all-missing reference gives no cut points.
    """
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    ref = _as_numeric(reference)
    ref = ref[~np.isnan(ref)]
    if ref.size == 0 or bins == 1:
        return np.array([], dtype=float)
    qs = np.arange(1, int(bins)) / int(bins)
    return np.unique(np.quantile(ref, qs, method="linear"))


def _edge_labels(edges: np.ndarray) -> list[str]:
    """'(-inf, e1]', '(e1, e2]', ..., '(ek, +inf)' for the open-ended buckets around the cut points."""
    bounds = ["-inf", *(f"{e:.10g}" for e in edges), "+inf"]
    labels = [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    labels[-1] = labels[-1][:-1] + ")"
    return labels


def _psi_from_counts(
    labels: Sequence[str], ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float
) -> PsiResult:
    """PsiResult from per-bucket counts of both samples (same bucket order)."""
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        raise ValueError("reference and current samples must both be non-empty")
    ref_share = ref_counts / ref_counts.sum()
    cur_share = cur_counts / cur_counts.sum()
    r = np.maximum(ref_share, eps)
    c = np.maximum(cur_share, eps)
    contribution = (c - r) * np.log(c / r)
    buckets = pd.DataFrame(
        {
            "bucket": list(labels),
            "reference_share": ref_share,
            "current_share": cur_share,
            "contribution": contribution,
        }
    )
    psi = float(contribution.sum())
    biggest = str(labels[int(np.argmax(np.abs(contribution)))]) if np.any(contribution != 0) else None
    return PsiResult(psi=psi, band=psi_band(psi), buckets=buckets, biggest_shift=biggest)


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts per open-ended bucket (value equal to an edge goes in the lower bucket) and missing count."""
    missing = np.isnan(values)
    idx = np.searchsorted(edges, values[~missing], side="left")
    return np.bincount(idx, minlength=edges.size + 1), int(missing.sum())


def psi_numeric(reference: Any, current: Any, bins: int = 10, eps: float = EPS) -> PsiResult:
    """PSI of a numeric feature over buckets cut at the reference's quantiles (see module docstring)."""
    ref = _as_numeric(reference)
    cur = _as_numeric(current)
    edges = numeric_edges(ref, bins)
    labels = _edge_labels(edges)
    ref_counts, ref_missing = _numeric_counts(ref, edges)
    cur_counts, cur_missing = _numeric_counts(cur, edges)
    if ref_missing or cur_missing:
        labels.append(MISSING)
        ref_counts = np.append(ref_counts, ref_missing)
        cur_counts = np.append(cur_counts, cur_missing)
    return _psi_from_counts(labels, ref_counts, cur_counts, eps)


def _category_labels(values: Any) -> pd.Series:
    """Values as strings, missing (None/NaN/pd.NA) as 'missing'."""
    series = pd.Series(values, dtype=object)
    return series.map(lambda v: MISSING if pd.isna(v) else str(v))


def psi_categorical(reference: Any, current: Any, eps: float = EPS) -> PsiResult:
    """PSI of a categorical feature over the reference's categories (sorted), then missing, then unseen.

    A real category spelled "missing" or "unseen" would share that bucket; such names are not expected.
    """
    ref = _category_labels(reference)
    cur = _category_labels(current)
    known = sorted(set(ref) - {MISSING})
    cur = cur.where(cur.isin(known) | (cur == MISSING), UNSEEN)
    labels = list(known)
    labels += [extra for extra in (MISSING, UNSEEN) if (ref == extra).any() or (cur == extra).any()]
    ref_counts = ref.value_counts().reindex(labels, fill_value=0).to_numpy(dtype=float)
    cur_counts = cur.value_counts().reindex(labels, fill_value=0).to_numpy(dtype=float)
    return _psi_from_counts(labels, ref_counts, cur_counts, eps)


def feature_kind(column: pd.Series) -> str:
    """'numeric' for a numeric, non-bool dtype; everything else (bool, text, category) is 'categorical'."""
    dtype = column.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    return "numeric" if numeric else "categorical"


def drift_report(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str], bins: int = 10
) -> pd.DataFrame:
    """One row per feature (input order): feature, kind, psi (6 decimals), band, biggest_shift, row counts.

    The kind follows the reference column's dtype. n_reference / n_current count all rows, missing too.
    """
    absent = [f for f in features if f not in reference.columns or f not in current.columns]
    if absent:
        raise ValueError(f"features missing from reference or current: {absent}")
    rows = []
    for feature in features:
        kind = feature_kind(reference[feature])
        if kind == "numeric":
            result = psi_numeric(reference[feature], current[feature], bins=bins)
        else:
            result = psi_categorical(reference[feature], current[feature])
        rows.append(
            {
                "feature": feature,
                "kind": kind,
                "psi": round(result.psi, 6),
                "band": result.band,
                "biggest_shift": result.biggest_shift,
                "n_reference": int(len(reference)),
                "n_current": int(len(current)),
            }
        )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)
