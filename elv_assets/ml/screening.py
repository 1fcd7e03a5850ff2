"""The leakage guard: lead columns filled in after contact are found and left out, never served.

A CRM export is a snapshot taken today, so a column the sales team fills in after talking to a lead (a
stage, a status, a quality rating, the last activity) describes the outcome, not the lead as it arrived.
A model that reads it looks brilliant on history and is useless (or harmful) on a new lead, whose field is
still blank. The guard screens every lead attribute (the ad features and calendar are built by the
pipeline under its own lag rule and are not screened) and leaves a column out when any of these holds:

- **its name reads like an outcome, a latest state or an assessment**: a word such as status, stage, result,
  outcome, converted, won, lost, closed, qualified, disposition, deal, opportunity, last, latest, quality or
  rating;
- **alone it separates too well**: its own ROC-AUC on the train split is at least `max_single_auc` (0.9)
  (categories scored by their positive rate cross-fitted over five folds, so a column with many levels does
  not score itself; numbers by their value); honest fields known at creation rarely pass 0.8;
- **it is filled for the leads that qualified far more often than for those that did not**: at least
  `min_fill_ratio` (2) times as often and by at least 0.2 (a field the team fills in once it is talking to
  a lead);
- **old and young leads see different fields**: filled for mature leads much more often than for leads of
  the last label window (by `min_fill_gap`, 0.3: the team has had time to fill it in), or, where both are
  filled, its values differ sharply between them (PSI of at least `max_age_psi`, 1.0, e.g. "New" for every
  young lead and "Contacted" or "SQL" for the old; the mix drifts far less than that). A field filled more
  often for young leads is a new form field, not a leak. Needs enough young leads to judge.

A person decides last: `include` keeps a column the guard would leave out, `exclude` leaves one out that it
would keep, and `strict` stops the run instead of leaving columns out silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from elv_assets.ml.drift import psi_categorical, psi_numeric

# Words of an outcome, a latest state, or an assessment of the lead (what the model predicts, so a column named
# like it was written by someone who knew: a "lead quality" or "rating" set by the sales team).
OUTCOME_WORDS = ("status", "stage", "result", "outcome", "outcomes", "converted", "conversion", "won", "lost",
                 "closed", "qualified", "disqualified", "qualification", "disposition", "deal", "opportunity",
                 "last", "latest", "quality", "rating")
BLANK = "(blank)"
MIN_YOUNG = 100  # fewer young (or mature) leads than this: the age rules do not judge
ENCODING_PRIOR = 20.0  # pseudo-leads pulling a rare category's rate to the overall rate


@dataclass(frozen=True)
class ScreenLimits:
    max_single_auc: float = 0.9
    min_fill_ratio: float = 2.0
    min_fill_difference: float = 0.2
    min_fill_gap: float = 0.3
    max_age_psi: float = 1.0


@dataclass
class FeatureScreen:
    """What the guard decided: the columns left out with their reasons, and the measurements behind them."""

    screened: list[str]
    excluded: dict[str, list[str]] = field(default_factory=dict)
    included_by_setting: list[str] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> str:
        if not self.excluded:
            return f"{len(self.screened)} lead column(s) screened; none looks filled in after contact."
        return "Left out: " + "; ".join(f"{c} ({', '.join(r)})" for c, r in self.excluded.items()) + "."


def name_words(column: str) -> list[str]:
    """lead_status -> [lead, status]; LastActivity -> [last, activity]; 'Lead Stage' -> [lead, stage]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


def _filled(values: pd.Series) -> pd.Series:
    s = values.astype(object)
    return s.notna() & (s.astype(str).str.strip() != "")


def _categories(values: pd.Series) -> pd.Series:
    return values.astype(object).where(_filled(values), BLANK).astype(str)


def single_auc(values: pd.Series, y: np.ndarray, numeric: bool, seed: int = 0) -> float | None:
    """max(AUC, 1 - AUC) of one column alone: numbers by their value, categories by their cross-fitted rate."""
    if len(set(y)) < 2:
        return None
    if numeric:
        x = pd.to_numeric(values, errors="coerce")
        x = x.fillna(x.median() if x.notna().any() else 0).to_numpy(float)
    else:
        cats = _categories(values).to_numpy()
        x = np.empty(len(cats))
        prior = float(np.mean(y))
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        for fit, score in folds.split(cats, y):
            stats = pd.DataFrame({"c": cats[fit], "y": y[fit]}).groupby("c")["y"].agg(["sum", "count"])
            rate = (stats["sum"] + ENCODING_PRIOR * prior) / (stats["count"] + ENCODING_PRIOR)
            x[score] = pd.Series(cats[score]).map(rate).fillna(prior).to_numpy(float)
    auc = roc_auc_score(y, x)
    return float(max(auc, 1 - auc))


def _psi(mature: pd.Series, young: pd.Series, numeric: bool) -> float | None:
    """PSI of the filled values of old against young leads (None with too few filled values to compare)."""
    mature, young = mature[_filled(mature)], young[_filled(young)]
    if len(mature) < MIN_YOUNG or len(young) < MIN_YOUNG:
        return None
    if numeric:
        return psi_numeric(pd.to_numeric(mature, errors="coerce"), pd.to_numeric(young, errors="coerce")).psi
    return psi_categorical(_categories(mature), _categories(young)).psi


def screen(train: pd.DataFrame, y: np.ndarray, columns: list[str], numeric: list[str],
           mature: pd.DataFrame | None = None, young: pd.DataFrame | None = None,
           limits: ScreenLimits = ScreenLimits(), include: list[str] = (), exclude: list[str] = ()) -> FeatureScreen:
    """Screen `columns` (lead attributes) of the train split (`y` its labels); `mature`/`young` are the lead-features
    rows of leads whose window has closed and of those still inside it."""
    rows, excluded = [], {}
    judge_age = mature is not None and young is not None and len(mature) >= MIN_YOUNG and len(young) >= MIN_YOUNG
    positive = y == 1
    for col in columns:
        is_num = col in numeric
        reasons = []
        words = [w for w in name_words(col) if w in OUTCOME_WORDS]
        if words:
            reasons.append(f"its name reads like an outcome ('{words[0]}')")
        auc = single_auc(train[col], y, is_num)
        if auc is not None and auc >= limits.max_single_auc:
            reasons.append(f"alone it separates qualified leads with ROC-AUC {auc:.2f} on the train split")
        filled = _filled(train[col])
        fill_pos = float(filled[positive].mean()) if positive.any() else 0.0
        fill_neg = float(filled[~positive].mean()) if (~positive).any() else 0.0
        if fill_pos - fill_neg >= limits.min_fill_difference and fill_pos >= limits.min_fill_ratio * fill_neg:
            reasons.append(f"filled for {fill_pos:.0%} of qualified leads but {fill_neg:.0%} of the others")
        fill_mature = fill_young = psi = None
        if judge_age:
            fill_mature, fill_young = float(_filled(mature[col]).mean()), float(_filled(young[col]).mean())
            psi = _psi(mature[col], young[col], is_num)
            if fill_mature - fill_young >= limits.min_fill_gap:
                reasons.append(f"filled for {fill_mature:.0%} of older leads but {fill_young:.0%} of the last "
                               "window's")
            elif psi is not None and psi >= limits.max_age_psi:
                reasons.append(f"its values differ sharply between older and the last window's leads (PSI {psi:.1f})")
        if col in exclude:
            reasons.append("excluded by the features.exclude setting")
        if reasons and col not in include:
            excluded[col] = reasons
        rows.append({"column": col, "kind": "numeric" if is_num else "categorical",
                     "single_auc": None if auc is None else round(auc, 4), "fill_qualified": round(fill_pos, 4),
                     "fill_others": round(fill_neg, 4), "fill_mature": fill_mature, "fill_young": fill_young,
                     "psi_mature_young": None if psi is None else round(psi, 3),
                     "decision": "left out" if col in excluded else ("kept (features.include)" if reasons else "kept"),
                     "why": "; ".join(reasons)})
    kept_by_setting = [c for c in include if c in columns]
    return FeatureScreen(list(columns), excluded, kept_by_setting, pd.DataFrame(rows))
