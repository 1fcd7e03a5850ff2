"""Age-aware scores: the chance a lead qualifies within the window, given what is known about it today.

`p_qualified_14d` is the chance at creation. A lead that is already 12 days old and has not qualified is less
likely to qualify than that; one that qualified yesterday is certain. For a lead of age `a` (days since
creation, at the end of the as-of day) whose window is still open:

- qualified already (within the window): 1;
- not qualified yet: P(qualifies within the window | not by age a) = p (1 - F(a)) / (1 - p F(a)),
  where F(a) = P(delay <= a | it qualifies within the window) is the qualification-delay distribution;
- window closed: the label itself (1 or 0): nothing is left to predict.

F is the empirical distribution of the delays of the mature positives (the newest `RECENT_DAYS` of them when
there are enough, since delays drift), per segment when one lead column splits the delays clearly: for each
categorical lead column with few values, the distance (Kolmogorov-Smirnov) of each value's delays from the
pooled ones, less its sampling noise, weighted by positives; the column with the largest clear split is used,
values with fewer than `MIN_POSITIVES` positives (and values never seen) use the pooled curve. The demo world's
delays differ by platform and company size; a real CRM's may differ by channel or form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_POSITIVES = 200  # delays of fewer positives than this are not a curve of their own
RECENT_DAYS = 120  # the newest mature positives (by created_at) that teach the curve, when enough
MAX_LEVELS = 12  # a segment column has at most this many values
MIN_SPLIT = 0.02  # weighted KS distance beyond noise a column must reach to segment the delays
POOLED = "(pooled)"


@dataclass
class DelayModel:
    """The qualification-delay distribution: sorted delays (days) per segment value, and pooled."""

    window_days: int
    pooled: np.ndarray
    column: str | None = None
    by_value: dict[str, np.ndarray] = field(default_factory=dict)
    split: float = 0.0  # the chosen column's weighted KS distance beyond noise
    positives: int = 0

    def cdf(self, ages: np.ndarray, segments: pd.Series | None = None) -> np.ndarray:
        """F(age) per lead: the share of qualifying leads that had qualified by that age."""
        ages = np.asarray(ages, dtype=float)
        out = _ecdf(self.pooled, ages)
        if self.column is not None and segments is not None:
            values = segments.astype("string").fillna("").to_numpy()
            for value, delays in self.by_value.items():
                hit = values == value
                if hit.any():
                    out[hit] = _ecdf(delays, ages[hit])
        return np.where(ages >= self.window_days, 1.0, out)

    def medians(self) -> dict[str, float]:
        """Median delay (days) per segment value and pooled, for the metadata and the docs."""
        out = {POOLED: round(float(np.median(self.pooled)), 2) if len(self.pooled) else None}
        out.update({v: round(float(np.median(d)), 2) for v, d in self.by_value.items()})
        return out

    def describe(self) -> str:
        if not self.positives:
            return "no qualified leads with a known delay yet: scores of young leads stay at their creation value"
        med = self.medians()
        if self.column is None:
            return (f"one delay curve for all leads (median {med[POOLED]} days, from {self.positives:,} qualified "
                    "leads; no lead column splits the delays clearly)")
        parts = ", ".join(f"{v} {m}" for v, m in med.items() if v != POOLED)
        return (f"delay curves by {self.column} (median days: {parts}; pooled {med[POOLED]}), from "
                f"{self.positives:,} qualified leads")


def _ecdf(sorted_delays: np.ndarray, ages: np.ndarray) -> np.ndarray:
    if not len(sorted_delays):
        return np.zeros(len(ages))
    return np.searchsorted(sorted_delays, ages, side="right") / len(sorted_delays)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    grid = np.union1d(a, b)
    return float(np.max(np.abs(_ecdf(a, grid) - _ecdf(b, grid)))) if len(grid) else 0.0


def candidate_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Those of `columns` (the model's categorical inputs) that are text with 2..MAX_LEVELS values: where delays may
    differ."""
    out = []
    for col in columns:
        if col not in frame.columns:
            continue
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        if 2 <= s.nunique(dropna=True) <= MAX_LEVELS:
            out.append(col)
    return sorted(out)


def fit_delays(positives: pd.DataFrame, window_days: int, columns: list[str] | None = None) -> DelayModel:
    """The delay model from mature positives: `days_to_qualify`, `created_at` and the lead columns it may segment
    by (`columns`: the serving model's categorical inputs, so a column the leakage guard left out is never used;
    None: every text column of the frame)."""
    positives = positives[positives["days_to_qualify"].between(0, window_days)]
    if len(positives):
        newest = positives["created_at"].max()
        recent = positives[positives["created_at"] > newest - pd.Timedelta(days=RECENT_DAYS)]
        if len(recent) >= MIN_POSITIVES:
            positives = recent
    pooled = np.sort(positives["days_to_qualify"].to_numpy(dtype=float))
    model = DelayModel(window_days, pooled, positives=len(pooled))
    if len(pooled) < 2 * MIN_POSITIVES:
        return model
    best = (MIN_SPLIT, None, {})
    if columns is None:
        columns = [c for c in positives.columns if c not in ("lead_id", "days_to_qualify", "created_at")]
    for col in candidate_columns(positives, columns):
        values = positives[col].astype("string").fillna("")
        curves, score = {}, 0.0
        for value, idx in values.groupby(values).groups.items():
            if len(idx) < MIN_POSITIVES:
                continue
            delays = np.sort(positives.loc[idx, "days_to_qualify"].to_numpy(dtype=float))
            beyond_noise = _ks(delays, pooled) - 1.36 / np.sqrt(len(delays))
            score += max(beyond_noise, 0.0) * len(delays) / len(pooled)
            curves[str(value)] = delays
        if len(curves) >= 2 and score > best[0]:
            best = (score, col, curves)
    if best[1] is not None:
        model.split, model.column, model.by_value = round(best[0], 4), best[1], best[2]
    return model


def p_given_age(p: np.ndarray, label: pd.Series, mature: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """P(qualified within the window | what is known at the as-of): 1 once qualified, the label once the window has
    closed, else p (1 - F) / (1 - p F)."""
    p = np.asarray(p, dtype=float)
    qualified = label.fillna(0).to_numpy(dtype=float) == 1
    mature = np.asarray(mature, dtype=bool)
    denominator = 1.0 - p * cdf
    waiting = np.divide(p * (1.0 - cdf), denominator, out=np.zeros_like(p), where=denominator > 0)
    return np.where(qualified, 1.0, np.where(mature, 0.0, np.clip(waiting, 0.0, 1.0)))
