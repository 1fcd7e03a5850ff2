"""Choosing between models by what the data can tell apart.

Two models scored on the same leads differ partly by chance: a few hundred qualified leads make PR-AUC and log
loss move by more than the gap between two good models. So every comparison here is **paired** (both models on the
same resampled leads, so what the leads have in common cancels) and its tolerance is the noise itself:

- choosing a candidate: the best PR-AUC on the calib split wins, unless a simpler candidate is within one
  standard error of the difference (the one-standard-error rule): then the simpler one wins;
- the promotion gate (bundle.promotion_decision): a challenger is refused only when it is worse beyond that noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score

from elv_assets.ml.models import COMPLEXITY, MODEL_KINDS, Candidate

BOOTSTRAP_SAMPLES = 300
EDGE = 1e-6


def _log_loss_terms(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EDGE, 1 - EDGE)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@dataclass(frozen=True)
class PairedDifference:
    """a - b on the same leads: the observed difference, its bootstrap standard error and 5th/95th percentiles."""

    observed: float
    se: float
    p05: float
    p95: float


def weighted_average_precision(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (as sklearn's: sum over distinct thresholds of recall gained x precision there) of one
    score under each row of `weights` (resamples x leads, integer counts). The leads are sorted once; each resample
    only reweights them, which is what makes a bootstrap of it cheap. The running sums are int32: exact (counts of
    at most n draws) and half the memory traffic of floats."""
    order = np.argsort(-score, kind="mergesort")
    ys, ss, w = y[order].astype(np.int32), score[order], weights[:, order]
    ends = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True])  # the last lead of each group of equal scores
    tp = np.cumsum(w * ys, axis=1, dtype=np.int32)[:, ends]
    seen = np.cumsum(w, axis=1, dtype=np.int32)[:, ends]
    gained = np.diff(tp, axis=1, prepend=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(gained * (tp / seen), axis=1) / tp[:, -1]


def _resample_weights(n: int, samples: int, rng: np.random.Generator, chunk: int = 25):
    """Bootstrap resamples as counts per lead (n draws with replacement, counted; int32), a chunk of resamples at
    a time (bounded memory). Counting drawn positions costs O(n) a resample; a multinomial draw over n equal
    categories, which gives the same counts in distribution, took most of a minute at a million leads."""
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        drawn = rng.integers(0, n, size=(k, n)) + (np.arange(k) * n)[:, None]
        yield np.bincount(drawn.ravel(), minlength=k * n).reshape(k, n).astype(np.int32)


def bootstrap_draws(y: np.ndarray, scores: list[np.ndarray], metric: str, samples: int = BOOTSTRAP_SAMPLES,
                    seed: int = 0) -> np.ndarray:
    """`metric` ("pr_auc" or "log_loss") of each score under the same bootstrap resamples of the leads
    (len(scores) x samples): any two rows are a paired comparison. One set of resamples serves every model, so
    comparing k models draws once and scores each once per resample (not twice per pair)."""
    if metric not in ("pr_auc", "log_loss"):
        raise ValueError(f"metric must be pr_auc or log_loss, not {metric!r}")
    y = np.asarray(y, dtype=int)
    scores = [np.asarray(s, dtype=float) for s in scores]
    terms = [_log_loss_terms(y, s) for s in scores] if metric == "log_loss" else None
    rng = np.random.default_rng(seed)
    chunks = []
    for w in _resample_weights(len(y), samples, rng):
        if terms is not None:
            chunks.append(np.stack([w @ t / len(y) for t in terms]))
        else:
            chunks.append(np.stack([weighted_average_precision(y, s, w) for s in scores]))
    return np.concatenate(chunks, axis=1)


def _difference(observed: float, draws: np.ndarray) -> PairedDifference:
    draws = draws[np.isfinite(draws)]  # a resample without a positive has no PR-AUC
    return PairedDifference(observed, float(draws.std(ddof=1)), float(np.quantile(draws, 0.05)),
                            float(np.quantile(draws, 0.95)))


def _observed(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    if metric == "log_loss":
        return float(_log_loss_terms(np.asarray(y, dtype=int), np.asarray(p, dtype=float)).mean())
    return float(average_precision_score(y, p))


def paired_bootstrap(y: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str, samples: int = BOOTSTRAP_SAMPLES,
                     seed: int = 0) -> PairedDifference:
    """The difference a - b of `metric` ("pr_auc" or "log_loss") over bootstrap resamples of the leads."""
    draws = bootstrap_draws(y, [a, b], metric, samples, seed)
    return _difference(_observed(y, a, metric) - _observed(y, b, metric), draws[0] - draws[1])


@dataclass(frozen=True)
class Choice:
    chosen: Candidate
    best: Candidate
    table: list[dict]  # per candidate: PR-AUC, log loss on calib, difference from the best and its standard error
    reason: str


def choose(candidates: list[Candidate], y_calib: np.ndarray, seed: int = 0) -> Choice:
    """The simplest candidate within one standard error (paired bootstrap of calib PR-AUC) of the best; among
    equally simple ones (the two boosters), the better."""
    order = {k: i for i, k in enumerate(MODEL_KINDS)}
    best = max(candidates, key=lambda c: (c.pr_auc_calib, -order[c.kind]))
    draws = bootstrap_draws(y_calib, [c.calib_raw for c in candidates], "pr_auc", seed=seed)
    drawn = {id(c): row for c, row in zip(candidates, draws, strict=True)}
    rows, eligible = [], []
    for c in sorted(candidates, key=lambda c: order[c.kind]):
        diff = (PairedDifference(0.0, 0.0, 0.0, 0.0) if c is best
                else _difference(c.pr_auc_calib - best.pr_auc_calib, drawn[id(c)] - drawn[id(best)]))
        within = c is best or diff.observed >= -diff.se
        if within:
            eligible.append(c)
        rows.append({"model": c.kind, "pr_auc_calib": round(c.pr_auc_calib, 4),
                     "log_loss_calib": round(c.log_loss_calib, 4), "pr_auc_vs_best": round(diff.observed, 4),
                     "se": round(diff.se, 4), "within_one_se": within})
    chosen = min(eligible, key=lambda c: (COMPLEXITY[c.kind], -c.pr_auc_calib, order[c.kind]))
    if chosen is best:
        reason = f"{best.kind} has the best calib PR-AUC ({best.pr_auc_calib:.4f}) and no simpler model is within " \
                 "one standard error of it"
    else:
        gap = next(r for r in rows if r["model"] == chosen.kind)
        reason = (f"{chosen.kind} is within one standard error of the best ({best.kind}, PR-AUC "
                  f"{best.pr_auc_calib:.4f}): {gap['pr_auc_vs_best']:+.4f} with a standard error of {gap['se']:.4f}, "
                  "so the simpler model wins")
    return Choice(chosen, best, rows, reason)
