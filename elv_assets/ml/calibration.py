"""Calibration: the model's own probabilities mapped to probabilities that come true.

A `Calibrator` is fitted on probabilities the model gave to leads it did not learn from, against what
happened: a sigmoid on the logit by default (two parameters: safe with few positives, and strictly monotone, so
the ranking is untouched), or isotonic when configured. Isotonic steps put many leads on one value (on the demo
worlds, tens of thousands of probabilities fell onto 50 to 80 values, costing 1 to 6 points of PR-AUC), so it is
not the default.
Two ways to get such probabilities:

- the held-out model (fitted on the train split) on the calib split: what the evaluation and the gate use;
- **time-ordered cross-fitting**, for the model that serves: the mature leads are cut into consecutive blocks
  by created_at; for each block after the first, the recipe is fitted on every earlier block and scores that
  block. Those out-of-sample probabilities (each a forecast of leads newer than its model had seen, as in
  production) fit the calibrator of the recipe refitted on all mature leads, and, calibrated, are the scores
  those mature leads are shown with: no lead is scored by a model that learned from it (but the oldest block's,
  which have no earlier leads to learn from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

EDGE = 1e-6


METHODS = ("sigmoid", "isotonic")
RECENCY_HALF_LIFE_DAYS = 28.0  # the calibration's default: a lead four weeks older than the newest weighs half


@dataclass
class Calibrator:
    method: str  # "sigmoid" or "isotonic"
    slope: float = 1.0
    intercept: float = 0.0
    isotonic: IsotonicRegression | None = None

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray, method: str = "sigmoid",
            weight: np.ndarray | None = None) -> Calibrator:
        raw = np.clip(np.asarray(raw, dtype=float), EDGE, 1 - EDGE)
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y, sample_weight=weight)
            return cls("isotonic", isotonic=iso)
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(logit(raw)[:, None], y, sample_weight=weight)
        return cls("sigmoid", float(lr.coef_[0, 0]), float(lr.intercept_[0]))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.clip(np.asarray(raw, dtype=float), EDGE, 1 - EDGE)
        if self.method == "isotonic":
            return self.isotonic.predict(raw)
        return expit(self.slope * logit(raw) + self.intercept)


def recency_weights(created_at: pd.Series, half_life_days: float | None) -> np.ndarray | None:
    """Weights that halve every `half_life_days` back from the newest lead (None: every lead counts the same).
    The funnel drifts (a placement goes bad, qualification slows): weighting the calibration towards the newest
    mature leads lets the probabilities follow the current rate instead of the average over the whole history."""
    if not half_life_days:
        return None
    t = pd.to_datetime(created_at)
    age = (t.max() - t).dt.total_seconds().to_numpy() / 86400.0
    return np.power(0.5, age / float(half_life_days))


def time_blocks(n: int, blocks: int) -> list[np.ndarray]:
    """Row positions of `blocks` consecutive, near-equal blocks of n time-ordered rows."""
    return [b for b in np.array_split(np.arange(n), blocks) if len(b)]


def cross_fitted(frame: pd.DataFrame, y: np.ndarray, fit: Callable, predict: Callable,
                 blocks: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, out-of-sample probabilities) for every block after the first, each from a model fitted on
    the blocks before it. `frame` is sorted by created_at; fit(frame, y) -> model; predict(model, frame) -> p."""
    parts = time_blocks(len(frame), blocks)
    rows, preds = [], []
    for k in range(1, len(parts)):
        seen = np.concatenate(parts[:k])
        model = fit(frame.iloc[seen], y[seen])
        rows.append(parts[k])
        preds.append(predict(model, frame.iloc[parts[k]]))
    return np.concatenate(rows), np.concatenate(preds)
