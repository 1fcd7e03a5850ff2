"""Evaluation metrics for a binary classifier that outputs probabilities, on a held-out split.

Why these: an Expected Lead Value is a probability times a value, so the probability must be
*calibrated* (ECE, Brier, log loss, reliability curve), not only well *ranked* (PR AUC, ROC AUC).
Marketers act on the top of the list, so lift and capture at the top 5/10/20 % say what ranking buys
over picking at random. `compare` puts the model next to simple baselines (e.g. a campaign's
historical qualification rate) on the same rows.

Everything is deterministic: sorts are stable, so ties keep their input order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

STRATEGIES = ("width", "mass")
DEFAULT_FRACTIONS = (0.05, 0.10, 0.20)
LOG_LOSS_CLIP = 1e-6
ROUND = 6
METRIC_KEYS = (
    "n",
    "positives",
    "base_rate",
    "pr_auc",
    "roc_auc",
    "brier",
    "log_loss",
    "ece_width",
    "ece_mass",
    "lift_5",
    "lift_10",
    "lift_20",
    "capture_5",
    "capture_10",
    "capture_20",
)


def _as_float(values: Any, name: str) -> np.ndarray:
    """1-D float array from a list, numpy array or pandas Series; NaN is rejected."""
    arr = np.asarray(values, dtype=float).reshape(-1)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _labels_and_scores(y: Any, p: Any, *, probabilities: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validated (y, p): same non-zero length, y in {0, 1}, p in [0, 1] when it must be a probability."""
    y_arr = _as_float(y, "y")
    p_arr = _as_float(p, "p")
    if y_arr.size == 0:
        raise ValueError("empty input")
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"y and p differ in length: {y_arr.size} != {p_arr.size}")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("y must hold only 0 and 1")
    if probabilities and ((p_arr < 0.0) | (p_arr > 1.0)).any():
        raise ValueError("p must lie in [0, 1]")
    return y_arr, p_arr


def _bin_ids(p: np.ndarray, bins: int, strategy: str) -> np.ndarray:
    """Bin number (0 .. bins-1) of every row; the one binning shared by `ece` and `reliability_curve`.

    "width": bin i covers [i/bins, (i+1)/bins); p == 1.0 goes in the last bin. Edges are i/bins
    (correctly rounded), so a p written as a decimal edge, e.g. 0.3, lands in the bin it starts.
    "mass": rows ordered by p (stable sort) and cut into `bins` nearly equal groups
    (np.array_split); tied p may straddle two groups, split by input order.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    bins = int(bins)
    if strategy == "width":
        edges = np.arange(bins + 1) / bins
        return np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    ids = np.empty(p.size, dtype=int)
    order = np.argsort(p, kind="stable")
    for i, group in enumerate(np.array_split(order, bins)):
        ids[group] = i
    return ids


def _binned(y: np.ndarray, p: np.ndarray, bins: int, strategy: str) -> pd.DataFrame:
    """Per non-empty bin: bin, p_mean, y_rate, n."""
    ids = _bin_ids(p, bins, strategy)
    n = np.bincount(ids, minlength=int(bins))
    p_sum = np.bincount(ids, weights=p, minlength=int(bins))
    y_sum = np.bincount(ids, weights=y, minlength=int(bins))
    keep = n > 0
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(keep).astype(int),
            "p_mean": p_sum[keep] / n[keep],
            "y_rate": y_sum[keep] / n[keep],
            "n": n[keep].astype(int),
        }
    )


def reliability_curve(y: Any, p: Any, bins: int = 10, strategy: str = "width") -> pd.DataFrame:
    """Mean predicted probability against observed positive rate per non-empty bin.

    Columns: bin (int), p_mean, y_rate, n. Same binning as `ece`, so the curve explains the number.
    """
    y_arr, p_arr = _labels_and_scores(y, p, probabilities=True)
    return _binned(y_arr, p_arr, bins, strategy)


def ece(y: Any, p: Any, bins: int = 10, strategy: str = "width") -> float:
    """Expected calibration error: sum over non-empty bins of (n_bin / N) * |y_rate - p_mean|.

    0 means that, bin by bin, predicted probabilities match observed rates.
    """
    curve = reliability_curve(y, p, bins=bins, strategy=strategy)
    weights = curve["n"].to_numpy() / curve["n"].sum()
    return float(np.sum(weights * np.abs(curve["y_rate"] - curve["p_mean"]).to_numpy()))


def _top_k(fraction: float, n: int) -> int:
    """ceil(fraction * n), ignoring float noise (0.07 * 100 is 7.000000000000001, which must give 7)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
    return min(n, max(1, math.ceil(round(fraction * n, 9))))


def lift_at(y: Any, score: Any, fractions: Iterable[float] = DEFAULT_FRACTIONS) -> pd.DataFrame:
    """Precision, lift and capture among the top ceil(fraction * N) rows by score, per fraction.

    Ranking is by score descending with a stable sort, so ties keep input order. lift = precision /
    base rate (NaN when there are no positives); capture = share of all positives found in the top k
    (0 when there are no positives). Columns: fraction, k, positives, precision, lift, capture.
    """
    y_arr, s_arr = _labels_and_scores(y, score, probabilities=False)
    order = np.argsort(-s_arr, kind="stable")
    hits = np.cumsum(y_arr[order])
    total = float(y_arr.sum())
    base_rate = total / y_arr.size
    rows = []
    for fraction in fractions:
        k = _top_k(float(fraction), y_arr.size)
        positives = int(hits[k - 1])
        precision = positives / k
        rows.append(
            {
                "fraction": float(fraction),
                "k": k,
                "positives": positives,
                "precision": precision,
                "lift": precision / base_rate if base_rate > 0 else float("nan"),
                "capture": positives / total if total > 0 else 0.0,
            }
        )
    columns = ["fraction", "k", "positives", "precision", "lift", "capture"]
    return pd.DataFrame(rows, columns=columns)


def _plain(value: Any) -> float | None:
    """Rounded plain float, or None for a missing/NaN value, so the dict is strict-JSON serialisable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), ROUND)


def _lift_keys(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """lift_5/10/20 then capture_5/10/20, from `lift_at` at the default fractions."""
    table = lift_at(y, p, DEFAULT_FRACTIONS)
    pcts = [round(f * 100) for f in table["fraction"]]
    lifts = {f"lift_{pct}": _plain(v) for pct, v in zip(pcts, table["lift"], strict=True)}
    captures = {f"capture_{pct}": _plain(v) for pct, v in zip(pcts, table["capture"], strict=True)}
    return {**lifts, **captures}


def classification_metrics(y: Any, p: Any) -> dict[str, Any]:
    """Ranking, calibration and top-of-list metrics of probabilities p against 0/1 labels y.

    Keys (METRIC_KEYS): n, positives, base_rate, pr_auc, roc_auc, brier, log_loss, ece_width,
    ece_mass, lift_5, lift_10, lift_20, capture_5, capture_10, capture_20. Values are plain ints/floats rounded
    to 6 decimals; a metric undefined on these labels is None (roc_auc with one class, pr_auc and
    lift_* with no positives).
    """
    y_arr, p_arr = _labels_and_scores(y, p, probabilities=True)
    positives = int(y_arr.sum())
    both_classes = 0 < positives < y_arr.size
    clipped = np.clip(p_arr, LOG_LOSS_CLIP, 1.0 - LOG_LOSS_CLIP)
    return {
        "n": int(y_arr.size),
        "positives": positives,
        "base_rate": _plain(positives / y_arr.size),
        "pr_auc": _plain(average_precision_score(y_arr, p_arr)) if positives > 0 else None,
        "roc_auc": _plain(roc_auc_score(y_arr, p_arr)) if both_classes else None,
        "brier": _plain(brier_score_loss(y_arr, p_arr, pos_label=1)),
        "log_loss": _plain(log_loss(y_arr, clipped, labels=[0, 1])),
        "ece_width": _plain(ece(y_arr, p_arr, bins=10, strategy="width")),
        "ece_mass": _plain(ece(y_arr, p_arr, bins=10, strategy="mass")),
        **_lift_keys(y_arr, p_arr),
    }


def compare(y: Any, scores: Mapping[str, Any]) -> pd.DataFrame:
    """One row of `classification_metrics` per named score (the model and its baselines), input order.

    Baselines such as a campaign's historical qualification rate are probabilities too, so every
    metric applies; they are scored on exactly the same rows as the model.
    """
    rows = [{"name": name, **classification_metrics(y, score)} for name, score in scores.items()]
    return pd.DataFrame(rows, columns=["name", *METRIC_KEYS])
